import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * An account on a Twilio-style Messages API. n8n loads the class by the file's name. The base
 * URL is configurable so a Twilio-compatible provider (or a local one in tests) can be used.
 */
export class CampaignOsSmsApi implements ICredentialType {
  name = 'campaignOsSmsApi';

  displayName = 'CampaignOS SMS API';

  documentationUrl = 'https://github.com/campaignos/campaignos/tree/main/nodes/sms#credentials';

  properties: INodeProperties[] = [
    { displayName: 'Account SID', name: 'accountSid', type: 'string', default: '', required: true, placeholder: 'AC0123456789abcdef0123456789abcdef' },
    { displayName: 'Auth Token', name: 'authToken', type: 'string', typeOptions: { password: true }, default: '', required: true },
    {
      displayName: 'From',
      name: 'from',
      type: 'string',
      default: '',
      required: true,
      placeholder: '+15005550006',
      description: 'Sender: a phone number in E.164 form, an alphanumeric sender ID, or a Messaging Service SID (MG...)',
    },
    {
      displayName: 'Base URL',
      name: 'baseUrl',
      type: 'string',
      default: 'https://api.twilio.com',
      description: 'Root of the Messages API; change it for a Twilio-compatible provider',
    },
  ];

  // Lets n8n's "Test credential" button and HTTP Request node use the account; the node
  // itself builds its own Basic auth header so it runs the same way in the CampaignOS runtime.
  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: { auth: { username: '={{ $credentials.accountSid }}', password: '={{ $credentials.authToken }}' } },
  };

  test: ICredentialTestRequest = {
    request: {
      baseURL: '={{ $credentials.baseUrl.replace(/\\/+$/, "") }}',
      url: '=/2010-04-01/Accounts/{{ $credentials.accountSid }}.json',
    },
  };
}
