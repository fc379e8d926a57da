import { randomUUID } from 'node:crypto';
import type { PushSubscription, Urgency } from 'web-push';
import { defineNode, eachItem, NodeError, toNodeError, type CampaignServices, type NodeContext, type NodeItem } from '@campaignos/sdk';
import { webPushDescription } from './webpush.description.js';
import { checkPayloadSize, parseSubscription, parseVapidCredentials, sendPush, SubscriptionGoneError, type PushOptions, type VapidCredentials } from './push.js';
import { renderSnippet, templateVariables, type TemplateVariables } from './render.js';

/** What the browser's service worker receives (as JSON) in its `push` event. */
export interface WebPushPayload {
  title: string;
  body: string;
  url?: string;
  icon?: string;
}

/** One subscription's outcome. `removed`: the push service said it is gone, so it was forgotten. */
export type WebPushDelivery =
  | { endpoint: string; status: 'sent'; messageId: string; statusCode: number }
  | { endpoint: string; status: 'skipped'; messageId: string | null; reason: 'suppressed' | 'duplicate' }
  | { endpoint: string; status: 'removed' | 'gone'; statusCode: number };

/** Added to each item as `webpush`. `sent` counts subscriptions that accepted the notification. */
export interface WebPushStatus {
  status: 'sent' | 'skipped';
  /** Why nothing went out: no subscriptions left, the gate suppressed it, or a retried step already sent it. */
  reason?: 'no-recipient' | 'suppressed' | 'duplicate';
  sent: number;
  deliveries: WebPushDelivery[];
}

interface WebPushParameters extends PushOptions {
  title: string;
  body: string;
  url: string;
  icon: string;
}

const URGENCIES: readonly Urgency[] = ['very-low', 'low', 'normal', 'high'];

/**
 * Sends one notification per item to every push subscription of the contact. In a CampaignOS
 * journey the subscriptions are the contact's `webpush` addresses, each send passes the send
 * gate, and a subscription the push service calls gone (404/410) is removed from the contact.
 * In plain n8n it sends to the `subscription` parameter.
 */
export const WebPush = defineNode({
  group: 'channel',
  channel: 'webpush',
  description: webPushDescription,
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      try {
        const params = readParameters(ctx, i);
        const credentials = parseVapidCredentials(await ctx.getCredentials<Record<string, unknown>>('campaignOsVapid', i));
        const webpush = ctx.campaign
          ? await sendThroughGate(ctx.campaign, item, i, params, credentials)
          : await sendDirectly(ctx, item, i, params, credentials);
        return { json: { ...item.json, webpush } };
      } catch (error) {
        throw atItem(error, i);
      }
    }),
});

async function sendThroughGate(
  campaign: CampaignServices,
  item: NodeItem,
  i: number,
  params: WebPushParameters,
  credentials: VapidCredentials,
): Promise<WebPushStatus> {
  const contact = await campaign.contact(i);
  const payload = render(params, templateVariables({ contact, event: item.json.event, item: item.json }));
  const text = JSON.stringify(payload);
  // Before the gate: a notification that can never be sent must not show up as a message.
  checkPayloadSize(text);

  const deliveries: WebPushDelivery[] = [];
  for (const address of await campaign.addresses(i, 'webpush')) {
    const subscription = parseSubscription({ endpoint: address.address, keys: address.data.keys });
    try {
      const outcome = await campaign.deliver({ channel: 'webpush', recipient: subscription.endpoint, itemIndex: i, summary: payload.title }, () =>
        sendPush(subscription, text, credentials, params),
      );
      deliveries.push(
        outcome.status === 'sent'
          ? { endpoint: subscription.endpoint, status: 'sent', messageId: outcome.messageId, statusCode: outcome.result.statusCode }
          : { endpoint: subscription.endpoint, status: 'skipped', messageId: outcome.messageId, reason: outcome.reason === 'suppressed' ? 'suppressed' : 'duplicate' },
      );
      if (outcome.status === 'skipped' && outcome.reason === 'suppressed') break; // the gate answers the same for every subscription
    } catch (error) {
      // An expired subscription is routine (the browser dropped it): forget it and go on with the others.
      if (!(error instanceof SubscriptionGoneError)) throw error;
      await campaign.removeAddress(i, 'webpush', subscription.endpoint);
      deliveries.push({ endpoint: subscription.endpoint, status: 'removed', statusCode: error.statusCode });
    }
  }
  return summarise(deliveries);
}

async function sendDirectly(ctx: NodeContext, item: NodeItem, i: number, params: WebPushParameters, credentials: VapidCredentials): Promise<WebPushStatus> {
  const subscription = parseSubscription(readSubscriptionParameter(ctx, i));
  const contact = item.json.contact as Record<string, unknown> | undefined;
  const text = JSON.stringify(render(params, templateVariables({ contact, event: item.json.event, item: item.json })));
  try {
    const result = await sendPush(subscription, text, credentials, params);
    return summarise([{ endpoint: subscription.endpoint, status: 'sent', messageId: randomUUID(), statusCode: result.statusCode }]);
  } catch (error) {
    // Without a CampaignOS runtime there is nothing to remove: say so in the item, so the
    // workflow can delete the subscription from wherever it keeps them.
    if (!(error instanceof SubscriptionGoneError)) throw error;
    return summarise([{ endpoint: subscription.endpoint, status: 'gone', statusCode: error.statusCode }]);
  }
}

function summarise(deliveries: WebPushDelivery[]): WebPushStatus {
  const sent = deliveries.filter((d) => d.status === 'sent').length;
  if (sent > 0) return { status: 'sent', sent, deliveries };
  const skipped = deliveries.find((d): d is Extract<WebPushDelivery, { status: 'skipped' }> => d.status === 'skipped');
  return { status: 'skipped', reason: skipped?.reason ?? 'no-recipient', sent: 0, deliveries };
}

function render(params: WebPushParameters, variables: TemplateVariables): WebPushPayload {
  const title = oneLine(renderSnippet(params.title, variables, 'title'));
  if (!title) throw new NodeError('TEMPLATE_INVALID', 'The title is empty once rendered');
  const payload: WebPushPayload = { title, body: renderSnippet(params.body, variables, 'body').trim() };
  const url = renderSnippet(params.url, variables, 'click URL').trim();
  const icon = renderSnippet(params.icon, variables, 'icon URL').trim();
  if (url) payload.url = checkUrl(url, 'url');
  if (icon) payload.icon = checkUrl(icon, 'icon');
  return payload;
}

/** Absolute http(s) URLs, or a path on the site that registered the service worker. */
function checkUrl(value: string, name: string): string {
  if (value.startsWith('/') && !value.startsWith('//')) return value;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new NodeError('INVALID_PARAMETER', `Parameter "${name}" must be an http(s) URL or a path starting with "/", got "${value.slice(0, 100)}"`);
  }
  return value;
}

function readParameters(ctx: NodeContext, i: number): WebPushParameters {
  const text = (name: string) => {
    const value = ctx.getParameter<unknown>(name, i, '');
    if (value === null || value === undefined) return '';
    if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Parameter "${name}" must be text`);
    return value;
  };
  const title = text('title');
  if (!title.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "title" is empty');
  const ttl = Number(ctx.getParameter<unknown>('ttl', i, 86400));
  if (!Number.isInteger(ttl) || ttl < 0) throw new NodeError('INVALID_PARAMETER', 'Parameter "ttl" must be a whole number of seconds, 0 or more');
  const urgency = text('urgency') || 'normal';
  if (!URGENCIES.includes(urgency as Urgency)) {
    throw new NodeError('INVALID_PARAMETER', `Parameter "urgency" must be one of ${URGENCIES.join(', ')}, got "${urgency.slice(0, 40)}"`);
  }
  const topic = text('topic').trim();
  if (topic && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) {
    throw new NodeError('INVALID_PARAMETER', 'Parameter "topic" must be 1 to 32 URL-safe base64 characters (letters, digits, "-" and "_")');
  }
  return { title, body: text('body'), url: text('url'), icon: text('icon'), ttl, urgency: urgency as Urgency, ...(topic && { topic }) };
}

function readSubscriptionParameter(ctx: NodeContext, i: number): unknown {
  const value = ctx.getParameter<unknown>('subscription', i, '');
  if (value === '' || value === null || value === undefined) {
    throw new NodeError('INVALID_PARAMETER', 'Parameter "subscription" is empty: give the browser PushSubscription JSON (or select a CampaignOS API credential to use the contact\'s subscriptions)');
  }
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new NodeError('INVALID_PARAMETER', `Parameter "subscription" is not valid JSON: ${(error as Error).message}`);
  }
}

function oneLine(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function atItem(error: unknown, itemIndex: number): NodeError {
  const nodeError = toNodeError(error, itemIndex);
  if (nodeError.itemIndex !== undefined) return nodeError;
  return new NodeError(nodeError.code, nodeError.message, { itemIndex, retryable: nodeError.retryable, cause: nodeError.cause, description: nodeError.description });
}

export type { PushSubscription };
