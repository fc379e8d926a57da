import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * A Slack incoming webhook. The URL itself is the secret (anyone holding it can post to the
 * channel), so it is a password field: n8n masks it and CampaignOS stores it encrypted.
 */
export class SlackWebhookApi implements ICredentialType {
  name = 'slackWebhookApi';

  displayName = 'Slack Webhook API';

  documentationUrl = 'https://api.slack.com/messaging/webhooks';

  properties: INodeProperties[] = [
    {
      displayName: 'Webhook URL',
      name: 'webhookUrl',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      required: true,
      placeholder: 'e.g. https://hooks.slack.com/services/T0000/B0000/XXXXXXXX',
      description: 'The incoming webhook URL Slack shows when you add the webhook to a channel',
    },
  ];
}
