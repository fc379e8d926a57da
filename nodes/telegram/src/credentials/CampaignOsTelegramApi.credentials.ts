import type { ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/** A Telegram bot the CampaignOS Telegram node sends as. n8n loads the class by the file's name. */
export class CampaignOsTelegramApi implements ICredentialType {
  name = 'campaignOsTelegramApi';

  displayName = 'CampaignOS Telegram Bot API';

  documentationUrl = 'https://github.com/campaignos/campaignos/tree/main/nodes/telegram#credentials';

  properties: INodeProperties[] = [
    {
      displayName: 'Bot Token',
      name: 'token',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      required: true,
      placeholder: '123456789:AAE...',
      description: 'The token @BotFather gave you for the bot',
    },
    {
      displayName: 'API Root',
      name: 'apiRoot',
      type: 'string',
      default: 'https://api.telegram.org',
      description: 'Base URL of the Bot API; change it for a self-hosted Bot API server or a test server',
    },
  ];

  // n8n's "Test" button: getMe answers 401 for a wrong token.
  test: ICredentialTestRequest = {
    request: {
      baseURL: '={{ $credentials.apiRoot.replace(/\\/+$/, "") }}/bot{{ $credentials.token }}',
      url: '/getMe',
    },
  };
}
