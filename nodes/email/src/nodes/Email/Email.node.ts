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
  type StoredTemplate,
} from '@campaignos/sdk';
import { fetchAttachments, planAttachments, type AttachmentPlan, type EmailAttachment } from './attachments.js';
import { emailDescription } from './email.description.js';
import { compileEmail, templateVariables, type EmailTemplate, type RenderedEmail } from './render.js';
import { isEmailAddress, parseSmtpCredentials, sendEmail, type OutgoingEmail, type SmtpCredentials } from './transport.js';

/** Largest message (HTML + text + attachments) the node sends; most providers refuse 10–25 MB. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** The stored template version an email was rendered from. */
export interface TemplateUsed {
  id: string;
  name: string;
  version: number;
}

export type EmailStatus = (
  | { status: 'sent'; messageId: string }
  | { status: 'skipped'; messageId: string | null; reason: 'suppressed' | 'duplicate' | 'no-recipient' }
) & { template?: TemplateUsed };

interface EmailParameters {
  toEmail: string;
  replyTo: string;
  /** The template to render: written in the node, or a stored one (with which version). */
  template: EmailTemplate;
  stored?: TemplateUsed;
  attachments: AttachmentPlan;
}

/** Stored templates looked up once per execution and reference, however many items use them. */
type TemplateLookups = Map<string, Promise<StoredTemplate | null>>;

/**
 * Sends one MJML email per item. In a CampaignOS journey the runtime's send gate decides
 * whether it goes out and provides the Message-ID and unsubscribe links; in plain n8n it sends
 * directly to `toEmail`.
 */
export const Email = defineNode({
  group: 'channel',
  channel: 'email',
  description: emailDescription,
  execute: (ctx) => {
    const lookups: TemplateLookups = new Map();
    return eachItem(ctx, async (item, i) => {
      try {
        const params = await readParameters(ctx, i, lookups);
        const credentials = parseSmtpCredentials(await ctx.getCredentials<Record<string, unknown>>('campaignOsSmtp', i));
        const email = ctx.campaign
          ? await sendThroughGate(ctx, ctx.campaign, item, i, params, credentials)
          : await sendDirectly(ctx, item, params, credentials);
        return { json: { ...item.json, email: params.stored ? { ...email, template: params.stored } : email } };
      } catch (error) {
        throw atItem(error, i);
      }
    });
  },
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
  const template = await compileEmail(params.template, { unsubscribeFooter: true });
  const subject = await template.renderSubject(variables);
  // The message log shows which stored version went out.
  const summary = params.stored ? `${subject} (template ${params.stored.name} v${params.stored.version})` : subject;

  const outcome = await campaign.deliver({ channel: 'email', recipient, itemIndex: i, summary }, async (ticket) => {
    // The unsubscribe link is per message, so Liquid runs here; the MJML compile stays cached.
    const compiled = ticket.unsubscribeUrl ? template : await compileEmail(params.template);
    const rendered = await compiled.render({ ...variables, unsubscribe_url: ticket.unsubscribeUrl ?? '' });
    // Fetched at send time: a suppressed contact costs no download, and a retry fetches again.
    const attachments = await withFetched(ctx, rendered, params.attachments);
    return sendEmail(credentials, outgoing(recipient, rendered, params, ticket.messageId, attachments, ticket), ctx.logger);
  });
  return outcome.status === 'sent'
    ? { status: 'sent', messageId: outcome.messageId }
    : { status: 'skipped', messageId: outcome.messageId, reason: outcome.reason };
}

async function sendDirectly(ctx: NodeContext, item: NodeItem, params: EmailParameters, credentials: SmtpCredentials): Promise<EmailStatus> {
  const contact = item.json.contact as Record<string, unknown> | undefined;
  const recipient = checkRecipient(params.toEmail || (typeof contact?.email === 'string' ? contact.email : null));
  const rendered = await (await compileEmail(params.template)).render(templateVariables({ contact, event: item.json.event, item: item.json }));
  const attachments = await withFetched(ctx, rendered, params.attachments);
  const messageId = randomUUID();
  await sendEmail(credentials, outgoing(recipient, rendered, params, messageId, attachments), ctx.logger);
  return { status: 'sent', messageId };
}

/** The attachments ready now plus those fetched from URLs, within what the size limit leaves. */
async function withFetched(ctx: NodeContext, rendered: RenderedEmail, plan: AttachmentPlan): Promise<EmailAttachment[]> {
  if (plan.urls.length === 0) return plan.ready;
  const used = messageBytes(rendered, plan.ready);
  if (used > MAX_MESSAGE_BYTES) tooLarge(used);
  return [...plan.ready, ...(await fetchAttachments(ctx, plan, MAX_MESSAGE_BYTES - used))];
}

function messageBytes(rendered: RenderedEmail, attachments: EmailAttachment[]): number {
  return Buffer.byteLength(rendered.html) + Buffer.byteLength(rendered.text) + attachments.reduce((sum, a) => sum + a.content.length, 0);
}

function tooLarge(size: number): never {
  throw new NodeError('MESSAGE_TOO_LARGE', `The email with its attachments is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
}

function outgoing(
  to: string,
  rendered: RenderedEmail,
  params: EmailParameters,
  messageId: string,
  attachments: EmailAttachment[],
  ticket?: DeliveryTicket,
): OutgoingEmail {
  const size = messageBytes(rendered, attachments);
  if (size > MAX_MESSAGE_BYTES) tooLarge(size);
  const oneClick = ticket?.oneClickUnsubscribeUrl;
  const page = ticket?.unsubscribeUrl;
  return {
    to,
    ...rendered,
    replyTo: params.replyTo || undefined,
    messageId,
    attachments,
    unsubscribe: oneClick ? { url: oneClick, oneClick: true } : page ? { url: page, oneClick: false } : undefined,
  };
}

async function readParameters(ctx: NodeContext, i: number, lookups: TemplateLookups): Promise<EmailParameters> {
  const text = (name: string) => {
    const value = ctx.getParameter<unknown>(name, i, '');
    if (value === null || value === undefined) return '';
    if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Parameter "${name}" must be text`);
    return value;
  };
  const toEmail = text('toEmail').trim();
  const replyTo = text('replyTo').trim();
  if (replyTo && !isEmailAddress(replyTo)) throw new NodeError('INVALID_PARAMETER', 'Parameter "replyTo" is not an email address');
  const source = text('templateSource') || 'inline';
  const attachments = await planAttachments(ctx, i);

  if (source === 'stored') {
    const stored = await storedTemplate(ctx, i, text('template').trim(), lookups);
    return {
      toEmail,
      replyTo,
      template: { subject: stored.subject, mjml: stored.mjml, text: stored.text ?? '' },
      stored: { id: stored.id, name: stored.name, version: stored.version },
      attachments,
    };
  }
  if (source !== 'inline') throw new NodeError('INVALID_PARAMETER', `Parameter "templateSource" must be "inline" or "stored" (got "${source.slice(0, 50)}")`);
  const template = { subject: text('subject'), mjml: text('mjml'), text: text('text') };
  if (!template.subject.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "subject" is empty');
  if (!template.mjml.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "mjml" is empty');
  return { toEmail, replyTo, template, attachments };
}

/** A stored template through the CampaignOS services; n8n needs the CampaignOS API credential for it. */
async function storedTemplate(ctx: NodeContext, i: number, ref: string, lookups: TemplateLookups): Promise<StoredTemplate> {
  if (!ref) throw new NodeError('INVALID_PARAMETER', 'Parameter "template" is empty: give a stored template\'s id or name');
  const campaign = ctx.campaign;
  if (!campaign) {
    throw new NodeError('INVALID_PARAMETER', `"Stored Template" needs a CampaignOS API credential (campaignOsApi) to read template "${ref}"; select one, or use Inline MJML`);
  }
  let lookup = lookups.get(ref);
  if (!lookup) {
    lookup = campaign.template(i, ref);
    lookups.set(ref, lookup);
    lookup.catch(() => lookups.delete(ref));
  }
  const found = await lookup;
  if (!found) throw new NodeError('INVALID_PARAMETER', `No stored template "${ref}" in this workspace (give its id or exact name)`);
  return found;
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
