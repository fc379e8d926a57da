import { defineNode, eachItem, NodeError, type CampaignServices, type NodeContext, type NodeItem } from '@campaignos/sdk';
import { smsDescription } from './sms.description.js';
import { renderSms, templateVariables } from './render.js';
import { normalisePhone, parseSmsCredentials, sendSms, type SentSms, type SmsCredentials } from './transport.js';

export type SmsStatus =
  | ({ status: 'sent'; messageId: string | null } & SentSms)
  | { status: 'skipped'; messageId: string | null; reason: 'suppressed' | 'duplicate' | 'no-recipient' };

interface SmsParameters {
  to: string;
  message: string;
  statusCallbackUrl: string;
}

/**
 * Sends one text message per item through a Twilio-style Messages API. In a CampaignOS
 * journey the runtime's send gate decides whether it goes out and gives the delivery-status
 * callback URL; in plain n8n it sends directly to `to`.
 */
export const Sms = defineNode({
  group: 'channel',
  channel: 'sms',
  description: smsDescription,
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      const params = readParameters(ctx, i);
      const credentials = parseSmsCredentials(await ctx.getCredentials<Record<string, unknown>>('campaignOsSmsApi', i));
      const sms = ctx.campaign
        ? await sendThroughGate(ctx, ctx.campaign, item, i, params, credentials)
        : await sendDirectly(ctx, item, params, credentials);
      return { json: { ...item.json, sms } };
    }),
});

async function sendThroughGate(
  ctx: NodeContext,
  campaign: CampaignServices,
  item: NodeItem,
  i: number,
  params: SmsParameters,
  credentials: SmsCredentials,
): Promise<SmsStatus> {
  const contact = await campaign.contact(i);
  const recipient = checkRecipient(params.to || contact.phone);
  // Render before asking the gate, so a broken template never shows up as a logged message.
  const body = renderBody(params.message, templateVariables({ contact, event: item.json.event, item: item.json }));
  const outcome = await campaign.deliver({ channel: 'sms', recipient, itemIndex: i, summary: summarise(body) }, (ticket) =>
    sendSms(ctx.http, credentials, { to: recipient, body, statusCallback: ticket.statusCallbackUrl ?? (params.statusCallbackUrl || undefined) }),
  );
  return outcome.status === 'sent'
    ? { status: 'sent', messageId: outcome.messageId, ...outcome.result }
    : { status: 'skipped', messageId: outcome.messageId, reason: outcome.reason };
}

async function sendDirectly(ctx: NodeContext, item: NodeItem, params: SmsParameters, credentials: SmsCredentials): Promise<SmsStatus> {
  const contact = item.json.contact as Record<string, unknown> | undefined;
  const recipient = checkRecipient(params.to || (typeof contact?.phone === 'string' ? contact.phone : null));
  const body = renderBody(params.message, templateVariables({ contact, event: item.json.event, item: item.json }));
  const sent = await sendSms(ctx.http, credentials, { to: recipient, body, statusCallback: params.statusCallbackUrl || undefined });
  return { status: 'sent', messageId: null, ...sent };
}

function readParameters(ctx: NodeContext, i: number): SmsParameters {
  const text = (name: string) => {
    const value = ctx.getParameter<unknown>(name, i, '');
    if (value === null || value === undefined) return '';
    // A number resolved into "To" is checked as a phone number (and refused without its "+").
    if (typeof value === 'number' && name === 'to') return String(value);
    if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Parameter "${name}" must be text`);
    return value;
  };
  const params = { to: text('to').trim(), message: text('message'), statusCallbackUrl: text('statusCallbackUrl').trim() };
  if (!params.message.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "message" is empty');
  if (params.statusCallbackUrl && !/^https?:\/\/\S+$/.test(params.statusCallbackUrl)) {
    throw new NodeError('INVALID_PARAMETER', 'Parameter "statusCallbackUrl" is not an http(s) URL');
  }
  return params;
}

function renderBody(source: string, variables: Record<string, unknown>): string {
  const body = renderSms(source, variables);
  if (!body) throw new NodeError('INVALID_PARAMETER', 'The message is empty once its placeholders are filled');
  return body;
}

function checkRecipient(phone: string | null | undefined): string {
  const value = phone?.trim() ?? '';
  if (!value) throw new NodeError('RECIPIENT_INVALID', 'No recipient: "to" is empty and the contact has no phone number');
  const normalised = normalisePhone(value);
  if (!normalised) throw new NodeError('RECIPIENT_INVALID', `"${value.slice(0, 40)}" is not a phone number in E.164 form (+<country code><number>)`);
  return normalised;
}

/** The message log's summary: the first words of the text, on one line. */
function summarise(body: string): string {
  const line = body.replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
