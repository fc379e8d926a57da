import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode, eachItem, NodeError, type ContactView, type NodeContext, type NodeItem } from '@campaignos/sdk';
import { checkLength, parseWebhookUrl, postToWebhook, type SlackMessage } from './webhook.js';

export type SlackStatus =
  | { status: 'sent'; messageId: string | null; channel: string }
  | { status: 'skipped'; messageId: string | null; reason: 'suppressed' | 'duplicate' | 'no-recipient' };

/**
 * Posts one message per item to a Slack incoming webhook, e.g. "new lead: Ada (ada@example.com)"
 * to the sales channel. In a CampaignOS journey the send goes through the runtime's send gate, so
 * a retried step never posts twice; in n8n it posts directly.
 */
export const SlackNotify = defineNode({
  group: 'channel',
  channel: 'slack',
  description: {
    displayName: 'Slack Notify',
    name: 'slackNotify',
    icon: 'file:slack.svg',
    group: ['output'],
    version: 1,
    subtitle: '={{ $parameter.options.channel || "webhook channel" }}',
    description: "Posts a message with the contact's data to a Slack incoming webhook",
    defaults: { name: 'Slack Notify' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'slackWebhookApi', required: true }],
    properties: [
      {
        displayName: 'Text',
        name: 'text',
        type: 'string',
        typeOptions: { rows: 4 },
        required: true,
        default: '',
        placeholder: 'New lead: {{ contact.firstName }} ({{ contact.email }})',
        description:
          'Message in Slack mrkdwn. Placeholders such as {{ contact.email }}, {{ contact.firstName }} or {{ event.properties.plan }} are filled per contact.',
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        options: [
          {
            displayName: 'Channel',
            name: 'channel',
            type: 'string',
            default: '',
            placeholder: '#sales',
            description: "Post to this channel instead of the webhook's own (legacy webhooks only; Slack app webhooks ignore it)",
          },
          {
            displayName: 'Icon Emoji',
            name: 'iconEmoji',
            type: 'string',
            default: '',
            placeholder: ':tada:',
            description: 'Emoji shown as the sender icon (legacy webhooks only)',
          },
          {
            displayName: 'Username',
            name: 'username',
            type: 'string',
            default: '',
            placeholder: 'CampaignOS',
            description: 'Sender name shown in Slack (legacy webhooks only)',
          },
        ],
      },
    ],
  },
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      const webhookUrl = parseWebhookUrl(await ctx.getCredentials<Record<string, unknown>>('slackWebhookApi', i));
      const message = await buildMessage(ctx, item, i);
      const recipient = message.channel ?? 'webhook';
      const campaign = ctx.campaign;
      if (!campaign) {
        await postToWebhook(ctx, webhookUrl, message);
        return { json: { ...item.json, slack: { status: 'sent', messageId: null, channel: recipient } satisfies SlackStatus } };
      }
      const outcome = await campaign.deliver({ channel: 'slack', recipient, itemIndex: i, summary: message.text.slice(0, 200) }, () =>
        postToWebhook(ctx, webhookUrl, message),
      );
      const slack: SlackStatus =
        outcome.status === 'sent'
          ? { status: 'sent', messageId: outcome.messageId, channel: recipient }
          : { status: 'skipped', messageId: outcome.messageId, reason: outcome.reason };
      return { json: { ...item.json, slack } };
    }),
});

/** Everything that can fail before Slack is asked fails here, so a bad message is never logged as sent. */
async function buildMessage(ctx: NodeContext, item: NodeItem, i: number): Promise<SlackMessage> {
  const template = text(ctx, 'text', i);
  if (!template.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "text" is empty');
  const options = ctx.getParameter<Record<string, unknown> | null>('options', i, {}) ?? {};
  // In CampaignOS the runtime's contact is current; in n8n the item carries it, as for the email node.
  const contact = ctx.campaign ? await ctx.campaign.contact(i) : asRecord(item.json.contact);
  const message: SlackMessage = { text: fillPlaceholders(template, { contact: contactVariables(contact), event: item.json.event, item: item.json }) };
  checkLength(message.text);
  const channel = option(options, 'channel');
  const username = option(options, 'username');
  const iconEmoji = option(options, 'iconEmoji');
  if (channel) message.channel = channel;
  if (username) message.username = username;
  if (iconEmoji) message.icon_emoji = iconEmoji;
  return message;
}

function text(ctx: NodeContext, name: string, i: number): string {
  const value = ctx.getParameter<unknown>(name, i, '');
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Parameter "${name}" must be text`);
  return value;
}

function option(options: Record<string, unknown>, name: string): string | undefined {
  const value = options[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Option "${name}" must be text`);
  return value.trim() || undefined;
}

/** The contact with its attributes also at top level, so `{{ contact.firstName }}` works. */
function contactVariables(contact: ContactView | Record<string, unknown> | undefined): Record<string, unknown> {
  if (!contact) return {};
  const attributes = asRecord((contact as Record<string, unknown>).attributes) ?? {};
  return { ...attributes, ...contact };
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_$][\w$]*(?:\.[\w$]+)*)\s*\}\}/g;

/**
 * Fills `{{ path.to.value }}` placeholders. Filled-in values are escaped for Slack mrkdwn, so a
 * contact named `<!channel>` cannot ping everyone; the template's own markup is left alone.
 */
export function fillPlaceholders(template: string, variables: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_match, path: string) => {
    let value: unknown = variables;
    for (const key of path.split('.')) value = asRecord(value)?.[key];
    if (value === undefined || value === null) return '';
    return escapeMrkdwn(typeof value === 'object' ? JSON.stringify(value) : String(value));
  });
}

function escapeMrkdwn(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
