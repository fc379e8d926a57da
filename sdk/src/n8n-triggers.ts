import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
  CronExpression,
  IDataObject,
  IHookFunctions,
  IHttpRequestOptions,
  INodeExecutionData,
  INodeType,
  ITriggerFunctions,
  ITriggerResponse,
  IWebhookFunctions,
  IWebhookResponseData,
} from 'n8n-workflow';
import type { NodeItem } from './context.js';
import type { NodeDefinition, TriggerSubscription } from './define-node.js';

// How CampaignOS triggers behave inside n8n. Event-like triggers register a webhook
// subscription with a CampaignOS runtime (its `/v1/webhook-subscriptions` API) when n8n
// activates the workflow, keep the subscription id and signing secret in the node's static
// data, and check every call's HMAC signature. Schedule triggers register a cron with n8n and
// read the segment's members from the runtime at each tick.

/** The credential every CampaignOS trigger uses inside n8n (see campaign-api.credentials.ts). */
export const CAMPAIGN_API_CREDENTIAL = 'campaignOsApi';
/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body>` on the runtime's webhook calls. */
export const SIGNATURE_HEADER = 'x-campaignos-signature';

type Fns = IHookFunctions | ITriggerFunctions;
type ParamReader = (name: string) => unknown;

/** Every parameter of the node, read the way `trigger.subscribe` expects them (literal values). */
function readParameters(definition: NodeDefinition, read: ParamReader): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const property of definition.description.properties) {
    if (property.type === 'notice') continue;
    try {
      const value = read(property.name);
      if (value !== undefined) values[property.name] = value;
    } catch {
      // A parameter hidden by displayOptions has no value: subscribe() sees it as absent.
    }
  }
  return values;
}

async function subscriptionOf(fns: Fns, definition: NodeDefinition): Promise<TriggerSubscription> {
  const result = definition.trigger!.subscribe(readParameters(definition, (name) => fns.getNodeParameter(name, undefined)));
  if (typeof result === 'string') throw await operationError(fns, `The trigger's parameters are invalid: ${result}`);
  return result;
}

async function operationError(fns: Fns, message: string): Promise<Error> {
  // require, not import(): n8n hands community packages its n8n-workflow through NODE_PATH.
  const { NodeOperationError } = require('n8n-workflow') as typeof import('n8n-workflow');
  return new NodeOperationError(fns.getNode(), message);
}

interface ApiAnswer {
  status: number;
  body: unknown;
}

/** One call to the CampaignOS API with the node's `campaignOsApi` credential (n8n adds the key). */
async function callApi(fns: Fns, method: IHttpRequestOptions['method'], path: string, body?: IDataObject): Promise<ApiAnswer> {
  const credentials = await fns.getCredentials<{ baseUrl?: string }>(CAMPAIGN_API_CREDENTIAL);
  const baseUrl = String(credentials.baseUrl ?? '').replace(/\/+$/, '');
  const response = (await fns.helpers.httpRequestWithAuthentication.call(fns, CAMPAIGN_API_CREDENTIAL, {
    method,
    url: `${baseUrl}${path}`,
    body,
    json: true,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
  })) as { statusCode: number; body: unknown };
  return { status: response.statusCode, body: response.body };
}

async function expectOk(fns: Fns, answer: ApiAnswer, what: string): Promise<Record<string, unknown>> {
  if (answer.status >= 200 && answer.status < 300) return (answer.body ?? {}) as Record<string, unknown>;
  const error = (answer.body as { error?: { message?: string } } | null)?.error;
  const reason = answer.status === 401 ? 'the CampaignOS API key was refused' : (error?.message ?? `HTTP ${answer.status}`);
  throw await operationError(fns, `Could not ${what}: ${reason}`);
}

interface SubscriptionData {
  subscriptionId?: string;
  secret?: string;
}

/**
 * `webhookMethods.default` for an event-like trigger: n8n calls `checkExists` then `create` when
 * the workflow is activated (or listens for a test event) and `delete` when it is deactivated.
 */
export function campaignWebhookMethods(definition: NodeDefinition): NonNullable<INodeType['webhookMethods']> {
  return {
    default: {
      async checkExists(this: IHookFunctions): Promise<boolean> {
        const data = this.getWorkflowStaticData('node') as SubscriptionData;
        if (!data.subscriptionId || !data.secret) return false;
        const answer = await callApi(this, 'GET', `/v1/webhook-subscriptions/${encodeURIComponent(data.subscriptionId)}`);
        if (answer.status === 404) {
          delete data.subscriptionId;
          delete data.secret;
          return false;
        }
        const { subscription } = (await expectOk(this, answer, 'check the CampaignOS webhook subscription')) as {
          subscription?: { url?: string; event?: string; properties?: Record<string, unknown> };
        };
        const wanted = await subscriptionOf(this, definition);
        const same =
          subscription?.url === this.getNodeWebhookUrl('default') &&
          subscription?.event === wanted.event &&
          canonical(subscription?.properties ?? {}) === canonical(wanted.properties ?? {});
        if (same) return true;
        // The node's parameters (or n8n's URL) changed since: replace the stale subscription.
        await callApi(this, 'DELETE', `/v1/webhook-subscriptions/${encodeURIComponent(data.subscriptionId)}`);
        delete data.subscriptionId;
        delete data.secret;
        return false;
      },

      async create(this: IHookFunctions): Promise<boolean> {
        const url = this.getNodeWebhookUrl('default');
        if (!url) throw await operationError(this, 'n8n has no webhook URL for this node');
        const { event, properties } = await subscriptionOf(this, definition);
        const answer = await callApi(this, 'POST', '/v1/webhook-subscriptions', { url, event, ...(properties && { properties: properties as IDataObject }) });
        const body = await expectOk(this, answer, 'register the CampaignOS webhook subscription');
        if (typeof body.id !== 'string' || typeof body.secret !== 'string') {
          throw await operationError(this, 'The CampaignOS API answered without a subscription id and secret');
        }
        const data = this.getWorkflowStaticData('node') as SubscriptionData;
        data.subscriptionId = body.id;
        data.secret = body.secret;
        return true;
      },

      async delete(this: IHookFunctions): Promise<boolean> {
        const data = this.getWorkflowStaticData('node') as SubscriptionData;
        if (data.subscriptionId) {
          const answer = await callApi(this, 'DELETE', `/v1/webhook-subscriptions/${encodeURIComponent(data.subscriptionId)}`);
          if (answer.status >= 300 && answer.status !== 404) return false;
        }
        delete data.subscriptionId;
        delete data.secret;
        return true;
      },
    },
  };
}

/** True when `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`. */
export function verifyCampaignSignature(body: string | Buffer, signature: string | undefined, secret: string): boolean {
  if (!signature?.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(signature.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The node's `webhook()` inside n8n: refuses a call whose signature does not match the secret
 * the runtime returned at `create` (401, no execution), then lets the definition turn the body
 * into items.
 */
export async function handleCampaignWebhook(fns: IWebhookFunctions, definition: NodeDefinition): Promise<IWebhookResponseData> {
  const { secret } = fns.getWorkflowStaticData('node') as SubscriptionData;
  const request = fns.getRequestObject() as unknown as { rawBody?: Buffer | string; header(name: string): string | undefined };
  // n8n keeps the exact bytes it received as `rawBody`; re-serialising the parsed body is a
  // fallback that only matches when the sender's JSON was already canonical.
  const raw = request.rawBody ?? JSON.stringify(fns.getBodyData());
  if (!secret || !verifyCampaignSignature(raw, request.header(SIGNATURE_HEADER), secret)) {
    const response = fns.getResponseObject();
    response.status(401).json({ error: 'missing or invalid X-CampaignOS-Signature' });
    return { noWebhookResponse: true };
  }
  const items = definition.webhook!(fns.getBodyData(), (name) => {
    try {
      return fns.getNodeParameter(name, undefined);
    } catch {
      return undefined;
    }
  });
  if (!items) return { webhookResponse: { ignored: true } };
  return { workflowData: [toN8nItems(items)] };
}

/** JSON with sorted keys: PostgreSQL's jsonb does not keep the order the node wrote. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function toN8nItems(items: NodeItem[]): INodeExecutionData[] {
  return items.map((item) => ({ json: item.json as INodeExecutionData['json'] }));
}

/** The name journeys see on a schedule tick's event (`$json.event.name`). */
export const SCHEDULE_TICK_EVENT = '$schedule_tick';

interface MemberPage {
  members: Array<{ id: string }>;
  nextCursor: string | null;
}

/**
 * The node's `trigger()` inside n8n for a schedule trigger: registers the cron with n8n and, at
 * each tick, emits one item per member of the segment, read from the CampaignOS API page by page.
 * n8n runs crons in the workflow's time zone (workflow settings), so a different time zone on the
 * node is refused at activation rather than silently ignored.
 */
export async function campaignScheduleTrigger(fns: ITriggerFunctions, definition: NodeDefinition): Promise<ITriggerResponse> {
  const subscription = await subscriptionOf(fns, definition);
  const schedule = subscription.schedule;
  if (!schedule) throw await operationError(fns, 'This trigger has no schedule; it needs a CampaignOS webhook');
  const workflowZone = fns.getTimezone();
  if (schedule.timeZone && schedule.timeZone !== workflowZone) {
    throw await operationError(
      fns,
      `n8n runs schedules in the workflow's time zone (${workflowZone}); set the workflow's Timezone setting to ${schedule.timeZone} or clear the node's Time Zone`,
    );
  }

  const tick = async (): Promise<INodeExecutionData[]> => {
    const at = new Date().toISOString();
    const segment = await resolveSegment(fns, schedule.segment);
    const items: INodeExecutionData[] = [];
    let after: string | null = null;
    do {
      const query: string = `limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const page = (await expectOk(fns, await callApi(fns, 'GET', `/v1/segments/${segment.id}/members?${query}`), 'read the segment members')) as unknown as MemberPage;
      const contacts = await mapLimit(page.members, 5, async (member) => {
        const body = await expectOk(fns, await callApi(fns, 'GET', `/v1/contacts/${member.id}`), 'read a contact');
        return body.contact as Record<string, unknown> | undefined;
      });
      for (const contact of contacts) {
        if (!contact) continue;
        items.push({
          json: {
            event: { id: `${at}:${String(contact.id)}`, name: SCHEDULE_TICK_EVENT, properties: { segmentId: segment.id, segmentName: segment.name }, timestamp: at },
            contact: {
              id: contact.id,
              externalId: contact.externalId ?? null,
              email: contact.email ?? null,
              phone: contact.phone ?? null,
              timeZone: contact.timeZone ?? null,
              attributes: contact.attributes ?? {},
            },
          } as IDataObject,
        });
      }
      after = page.nextCursor;
    } while (after);
    return items;
  };

  if (fns.getMode() === 'manual') {
    return { manualTriggerFunction: async () => fns.emit([await tick()]) };
  }
  fns.helpers.registerCron({ expression: schedule.cron as CronExpression }, () => {
    tick().then(
      (items) => items.length > 0 && fns.emit([items]),
      (error: unknown) => fns.emitError(error instanceof Error ? error : new Error(String(error))),
    );
  });
  return {};
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function resolveSegment(fns: Fns, ref: string): Promise<{ id: string; name: string }> {
  if (UUID.test(ref)) {
    const body = await expectOk(fns, await callApi(fns, 'GET', `/v1/segments/${ref}`), `find segment ${ref}`);
    const segment = body.segment as { id: string; name: string };
    return { id: segment.id, name: segment.name };
  }
  const body = await expectOk(fns, await callApi(fns, 'GET', '/v1/segments'), 'list the segments');
  const found = (body.segments as Array<{ id: string; name: string }> | undefined)?.find((s) => s.name === ref);
  if (!found) throw await operationError(fns, `No segment named "${ref}" in this CampaignOS workspace`);
  return { id: found.id, name: found.name };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!);
      }
    }),
  );
  return results;
}
