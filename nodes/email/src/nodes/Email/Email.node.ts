import { randomUUID } from 'node:crypto';
import {
  defineNode,
  eachItem,
  NodeError,
  toNodeError,
  type CampaignServices,
  type DeliveryTicket,
  type NodeContext,
  type NodeItem,
} from '@campaignos/sdk';
import { emailDescription } from './email.description.js';
import { compileEmail, templateVariables, type EmailTemplate, type RenderedEmail } from './render.js';
import { isEmailAddress, parseSmtpCredentials, sendEmail, type OutgoingEmail, type SmtpCredentials } from './transport.js';

/** Largest message (HTML + text) the node sends; most providers refuse 10–25 MB. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export type EmailStatus =
  | { status: 'sent'; messageId: string }
  | { status: 'skipped'; messageId: string | null; reason: 'suppressed' | 'duplicate' | 'no-recipient' };

interface EmailParameters extends EmailTemplate {
  toEmail: string;
  replyTo: string;
}

/**
 * Sends one MJML email per item. In a CampaignOS journey the runtime's send gate decides
 * whether it goes out and provides the Message-ID and unsubscribe links; in plain n8n it sends
 * directly to `toEmail`.
 */
export const Email = defineNode({
  group: 'channel',
  channel: 'email',
  description: emailDescription,
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      try {
        const params = readParameters(ctx, i);
        const credentials = parseSmtpCredentials(await ctx.getCredentials<Record<string, unknown>>('campaignOsSmtp', i));
        const email = ctx.campaign
          ? await sendThroughGate(ctx, ctx.campaign, item, i, params, credentials)
          : await sendDirectly(ctx, item, params, credentials);
        return { json: { ...item.json, email } };
      } catch (error) {
        throw atItem(error, i);
      }
    }),
});

async function sendThroughGate(
  ctx: NodeContext,
  campaign: CampaignServices,
  item: NodeItem,
  i: number,
  params: EmailParameters,
  credentials: SmtpCredentials,
): Promise<EmailStatus> {
  const contact = await campaign.contact(i);
  const recipient = checkRecipient(params.toEmail || contact.email);
  const variables = templateVariables({ contact, event: item.json.event, item: item.json });
  // Compile before asking the gate, so a broken template never shows up as a logged message.
  const template = await compileEmail(params, { unsubscribeFooter: true });
  const subject = await template.renderSubject(variables);

  const outcome = await campaign.deliver({ channel: 'email', recipient, itemIndex: i, summary: subject }, async (ticket) => {
    // The unsubscribe link is per message, so Liquid runs here; the MJML compile stays cached.
    const compiled = ticket.unsubscribeUrl ? template : await compileEmail(params);
    const rendered = await compiled.render({ ...variables, unsubscribe_url: ticket.unsubscribeUrl ?? '' });
    return sendEmail(credentials, outgoing(recipient, rendered, params, ticket.messageId, ticket), ctx.logger);
  });
  return outcome.status === 'sent'
    ? { status: 'sent', messageId: outcome.messageId }
    : { status: 'skipped', messageId: outcome.messageId, reason: outcome.reason };
}

async function sendDirectly(ctx: NodeContext, item: NodeItem, params: EmailParameters, credentials: SmtpCredentials): Promise<EmailStatus> {
  const contact = item.json.contact as Record<string, unknown> | undefined;
  const recipient = checkRecipient(params.toEmail || (typeof contact?.email === 'string' ? contact.email : null));
  const rendered = await (await compileEmail(params)).render(templateVariables({ contact, event: item.json.event, item: item.json }));
  const messageId = randomUUID();
  await sendEmail(credentials, outgoing(recipient, rendered, params, messageId), ctx.logger);
  return { status: 'sent', messageId };
}

function outgoing(to: string, rendered: RenderedEmail, params: EmailParameters, messageId: string, ticket?: DeliveryTicket): OutgoingEmail {
  const size = Buffer.byteLength(rendered.html) + Buffer.byteLength(rendered.text);
  if (size > MAX_MESSAGE_BYTES) {
    throw new NodeError('MESSAGE_TOO_LARGE', `The rendered email is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
  }
  const oneClick = ticket?.oneClickUnsubscribeUrl;
  const page = ticket?.unsubscribeUrl;
  return {
    to,
    ...rendered,
    replyTo: params.replyTo || undefined,
    messageId,
    unsubscribe: oneClick ? { url: oneClick, oneClick: true } : page ? { url: page, oneClick: false } : undefined,
  };
}

function readParameters(ctx: NodeContext, i: number): EmailParameters {
  const text = (name: string) => {
    const value = ctx.getParameter<unknown>(name, i, '');
    if (value === null || value === undefined) return '';
    if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Parameter "${name}" must be text`);
    return value;
  };
  const params = { toEmail: text('toEmail').trim(), subject: text('subject'), mjml: text('mjml'), text: text('text'), replyTo: text('replyTo').trim() };
  if (!params.subject.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "subject" is empty');
  if (!params.mjml.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "mjml" is empty');
  if (params.replyTo && !isEmailAddress(params.replyTo)) throw new NodeError('INVALID_PARAMETER', 'Parameter "replyTo" is not an email address');
  return params;
}

function checkRecipient(address: string | null | undefined): string {
  const recipient = address?.trim() ?? '';
  if (!recipient) throw new NodeError('RECIPIENT_INVALID', 'No recipient: "toEmail" is empty and the contact has no email');
  if (!isEmailAddress(recipient)) throw new NodeError('RECIPIENT_INVALID', `"${recipient.slice(0, 100)}" is not an email address`);
  return recipient;
}

// Template errors are cached and shared between items, so they carry no item index of their own.
function atItem(error: unknown, itemIndex: number): NodeError {
  const nodeError = toNodeError(error, itemIndex);
  if (nodeError.itemIndex !== undefined) return nodeError;
  return new NodeError(nodeError.code, nodeError.message, {
    itemIndex,
    retryable: nodeError.retryable,
    cause: nodeError.cause,
    description: nodeError.description,
  });
}
