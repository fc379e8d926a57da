import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

export const smsDescription: INodeTypeDescription = {
  displayName: 'CampaignOS SMS',
  name: 'sms',
  icon: 'file:sms.svg',
  group: ['output'],
  version: 1,
  description: 'Sends a personalised text message through a Twilio-style Messages API',
  defaults: { name: 'CampaignOS SMS' },
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  credentials: [
    { name: 'campaignOsSmsApi', required: true },
    { name: 'campaignOsApi', required: false },
  ],
  properties: [
    {
      displayName: 'To',
      name: 'to',
      type: 'string',
      default: '={{ $json.contact.phone }}',
      placeholder: '+15005550006',
      description: "Recipient phone number in E.164 form. In a CampaignOS journey, or with a CampaignOS API credential, an empty value means the contact's phone.",
    },
    {
      displayName: 'Message',
      name: 'message',
      type: 'string',
      typeOptions: { rows: 4 },
      required: true,
      default: '',
      placeholder: 'Hi {{ contact.firstName | default: "there" }}, your order has shipped.',
      description: 'Text of the message (at most 1600 characters); Liquid placeholders such as {{ contact.firstName }} are filled per contact',
    },
    {
      displayName: 'Status Callback URL',
      name: 'statusCallbackUrl',
      type: 'string',
      default: '',
      placeholder: 'https://example.com/webhook/sms-status',
      description: "Where the provider reports delivery statuses. In a CampaignOS journey, or with a CampaignOS API credential, the runtime's own URL is used instead.",
    },
  ],
};
