import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

export const telegramDescription: INodeTypeDescription = {
  displayName: 'CampaignOS Telegram',
  name: 'telegram',
  icon: 'file:telegram.svg',
  group: ['output'],
  version: 1,
  subtitle: '={{ $parameter.parseMode === "none" ? "Plain text" : $parameter.parseMode }}',
  description: 'Sends a personalised Telegram message from your bot',
  defaults: { name: 'CampaignOS Telegram' },
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  credentials: [
    { name: 'campaignOsTelegramApi', required: true },
    { name: 'campaignOsApi', required: false },
  ],
  properties: [
    {
      displayName: 'Chat ID',
      name: 'chatId',
      type: 'string',
      default: '',
      placeholder: '123456789',
      description:
        "Chat to send to. Required in n8n without a CampaignOS API credential. With the credential, and in a CampaignOS journey, leave it empty: the message goes to the chats the contact linked with the bot's /start link.",
    },
    {
      displayName: 'Text',
      name: 'text',
      type: 'string',
      typeOptions: { rows: 6 },
      required: true,
      default: '',
      placeholder: 'Hi {{ contact.firstName | default: "there" }}, your {{ event.properties.plan }} plan is ready.',
      description:
        'Message text (up to 4096 characters) with Liquid placeholders (contact, event, item); placeholder values are escaped for the parse mode',
    },
    {
      displayName: 'Parse Mode',
      name: 'parseMode',
      type: 'options',
      options: [
        { name: 'None (Plain Text)', value: 'none' },
        { name: 'HTML', value: 'HTML' },
        { name: 'MarkdownV2', value: 'MarkdownV2' },
      ],
      default: 'none',
      description: 'How Telegram formats the text',
    },
    {
      displayName: 'Disable Link Preview',
      name: 'disableLinkPreview',
      type: 'boolean',
      default: false,
      description: 'Whether to send the message without a preview of the first link in it',
    },
  ],
};
