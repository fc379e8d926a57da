import { createHash, randomUUID } from 'node:crypto';
import type { IHttpRequestOptions, INode, INodeExecutionData } from 'n8n-workflow';
import type { CampaignServices, ChannelAddress, ContactView, DeliveryTicket, ScoreChange, StoredTemplate } from './context.js';
import { isNodeError, NodeError } from './errors.js';

/** The credential type name nodes declare to reach a CampaignOS runtime from inside n8n. */
export const CAMPAIGN_API_CREDENTIAL = 'campaignOsApi';

/**
 * The part of n8n's `IExecuteFunctions` the client uses (so tests can give a small fake).
 * `httpRequestWithAuthentication` applies the credential's `Authorization: Bearer` header.
 */
export interface CampaignApiHost {
  getNode(): INode;
  getExecutionId(): string;
  getInputData(): INodeExecutionData[];
  getCredentials(type: string, itemIndex?: number): Promise<object>;
  helpers: {
    httpRequestWithAuthentication(this: never, credentialsType: string, requestOptions: IHttpRequestOptions): Promise<unknown>;
  };
}

interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

type Method = 'GET' | 'POST' | 'DELETE';

/** What a 404 means: by default the contact is gone; `'answer'` hands the 404 back to the caller. */
type NotFound = ((message: string) => NodeError) | 'answer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * CampaignOS services inside n8n, over the runtime's HTTP API with a "CampaignOS API" credential.
 *
 * Which contact an item is about, in this order: `json.contact.id`, `json.contactId`, then
 * `json.contact.email` or `json.email` looked up through the API (`GET /v1/contacts?email=`).
 * Sends and score changes carry an idempotency key made of n8n's execution id, the node name
 * and the item index, so a retried node in the same execution neither sends nor scores twice.
 *
 * @example
 * const campaign = createCampaignApiClient(this); // `this`: n8n's IExecuteFunctions
 * const { score } = await campaign.changeScore(0, { operation: 'add', points: 10, reason: 'webinar' });
 */
export function createCampaignApiClient(host: CampaignApiHost): CampaignServices {
  const node = host.getNode();
  const contactIds = new Map<number, Promise<string>>();
  let executionId: string | undefined;
  let secret = '';

  /** Never let the key reach a message, even if a transport error echoes a header. */
  const scrub = (text: string) => (secret ? text.split(secret).join('***') : text);

  const idempotencyKey = (itemIndex: number, ...rest: string[]) => {
    executionId ??= safeExecutionId(host);
    return ['n8n', executionId, node.name, String(itemIndex), ...rest].join(':');
  };

  async function call(itemIndex: number, method: Method, path: string, body?: unknown, notFound?: NotFound): Promise<ApiAnswer> {
    const credentials = (await host.getCredentials(CAMPAIGN_API_CREDENTIAL, itemIndex)) as { baseUrl?: unknown; apiKey?: unknown };
    const baseUrl = typeof credentials.baseUrl === 'string' ? credentials.baseUrl.trim().replace(/\/+$/, '').replace(/\/v1$/, '') : '';
    if (typeof credentials.apiKey === 'string') secret = credentials.apiKey;
    if (!baseUrl) throw new NodeError('INVALID_CREDENTIALS', 'The CampaignOS API credential has no Base URL', { itemIndex });
    if (!secret) throw new NodeError('INVALID_CREDENTIALS', 'The CampaignOS API credential has no API key', { itemIndex });

    let response: { statusCode?: unknown; body?: unknown };
    try {
      response = (await host.helpers.httpRequestWithAuthentication.call(host as never, CAMPAIGN_API_CREDENTIAL, {
        method,
        url: `${baseUrl}${path}`,
        ...(body !== undefined && { body: body as IHttpRequestOptions['body'] }),
        json: true,
        returnFullResponse: true,
        ignoreHttpStatusErrors: true,
        timeout: 15_000,
      })) as { statusCode?: unknown; body?: unknown };
    } catch (error) {
      // Only the message, never the error itself: n8n's errors may carry the request options.
      const reason = scrub(error instanceof Error ? error.message : String(error));
      throw new NodeError('PROVIDER_UNAVAILABLE', `CampaignOS API at ${baseUrl} could not be reached: ${reason}`, { itemIndex });
    }
    const status = typeof response.statusCode === 'number' ? response.statusCode : 0;
    const answer = parseBody(response.body);
    if (status >= 200 && status < 300) return { status, body: answer };

    const apiMessage = scrub(errorMessage(answer) ?? `HTTP ${status}`);
    const where = `${method} ${path}`;
    if (status === 401 || status === 403) throw new NodeError('INVALID_CREDENTIALS', 'CampaignOS API key rejected', { itemIndex, description: `${where} answered ${status}` });
    if (status === 404) {
      if (notFound === 'answer') return { status, body: answer };
      throw (notFound ?? contactNotFound)(apiMessage);
    }
    if (status === 429) throw new NodeError('RATE_LIMITED', `CampaignOS API asked to slow down (${where})`, { itemIndex });
    if (status >= 500 || status === 0) throw new NodeError('PROVIDER_UNAVAILABLE', `CampaignOS API failed (${where}, HTTP ${status}): ${apiMessage}`, { itemIndex });
    if (status === 400 || status === 422) throw new NodeError('INVALID_PARAMETER', `CampaignOS API refused ${where}: ${apiMessage}`, { itemIndex });
    throw new NodeError('PROVIDER_REJECTED', `CampaignOS API refused ${where} (HTTP ${status}): ${apiMessage}`, { itemIndex });

    function contactNotFound(message: string): NodeError {
      return new NodeError('CONTACT_NOT_FOUND', `CampaignOS contact not found: ${message}`, { itemIndex });
    }
  }

  /** The contact id an item is about (see the function comment for the order), once per item. */
  function contactId(itemIndex: number): Promise<string> {
    let found = contactIds.get(itemIndex);
    if (!found) {
      found = resolveContact(itemIndex);
      found.catch(() => contactIds.delete(itemIndex));
      contactIds.set(itemIndex, found);
    }
    return found;
  }

  async function resolveContact(itemIndex: number): Promise<string> {
    const json = (host.getInputData()[itemIndex]?.json ?? {}) as Record<string, unknown>;
    const contact = isRecord(json.contact) ? json.contact : {};
    const id = nonEmpty(contact.id) ?? nonEmpty(json.contactId);
    if (id) return id;
    const email = nonEmpty(contact.email) ?? nonEmpty(json.email);
    if (!email) {
      throw new NodeError('INVALID_PARAMETER', 'The item names no CampaignOS contact: give json.contact.id, json.contactId, json.contact.email or json.email', { itemIndex });
    }
    const { body } = await call(itemIndex, 'GET', `/v1/contacts?email=${encodeURIComponent(email)}`);
    const first = Array.isArray(body.contacts) ? (body.contacts[0] as { id?: unknown } | undefined) : undefined;
    if (typeof first?.id !== 'string') throw new NodeError('CONTACT_NOT_FOUND', `No CampaignOS contact with email ${email}`, { itemIndex });
    return first.id;
  }

  const contactPath = async (itemIndex: number, rest = '') => `/v1/contacts/${encodeURIComponent(await contactId(itemIndex))}${rest}`;

  async function findList(itemIndex: number, list: string): Promise<string> {
    if (UUID.test(list) && (await call(itemIndex, 'GET', `/v1/lists/${list}`, undefined, 'answer')).status !== 404) return list;
    const { body } = await call(itemIndex, 'GET', '/v1/lists');
    const found = (Array.isArray(body.lists) ? (body.lists as Array<{ id: string; name: string }>) : []).find((l) => l.name === list);
    if (!found) throw new NodeError('INVALID_PARAMETER', `No list "${list}" in this workspace (give its id or exact name)`, { itemIndex });
    return found.id;
  }

  return {
    async contact(itemIndex): Promise<ContactView> {
      const { body } = await call(itemIndex, 'GET', await contactPath(itemIndex));
      const c = (body.contact ?? {}) as Record<string, unknown>;
      return {
        id: String(c.id),
        externalId: (c.externalId as string | null) ?? null,
        email: (c.email as string | null) ?? null,
        phone: (c.phone as string | null) ?? null,
        timeZone: (c.timeZone as string | null) ?? null,
        attributes: isRecord(c.attributes) ? c.attributes : {},
      };
    },

    async deliver(envelope, send) {
      const contact = await contactId(envelope.itemIndex);
      const recipientKey = createHash('sha256').update(envelope.recipient).digest('hex').slice(0, 16);
      const { body } = await call(envelope.itemIndex, 'POST', '/v1/send-gate/deliveries', {
        contactId: contact,
        channel: envelope.channel,
        recipient: envelope.recipient,
        idempotencyKey: idempotencyKey(envelope.itemIndex, recipientKey),
        ...(envelope.summary !== undefined && { summary: envelope.summary.slice(0, 500) }),
        node: node.name,
      });
      const messageId = String(body.messageId);
      if (body.status === 'skipped') {
        return { status: 'skipped', messageId, reason: body.reason === 'suppressed' ? 'suppressed' : 'duplicate' };
      }
      const outcome = (payload: unknown) => call(envelope.itemIndex, 'POST', `/v1/send-gate/deliveries/${messageId}/outcome`, payload);
      let result;
      try {
        result = await send(body.ticket as DeliveryTicket);
      } catch (error) {
        // Settled as failed, so a retry of this node may send again; the send's error wins.
        const reason = isNodeError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
        await outcome({ status: 'failed', reason: scrub(reason).slice(0, 1000) }).catch(() => undefined);
        throw error;
      }
      await outcome({ status: 'sent' });
      return { status: 'sent', messageId, result };
    },

    async addresses(itemIndex, channel): Promise<ChannelAddress[]> {
      const { body } = await call(itemIndex, 'GET', await contactPath(itemIndex, `/addresses?channel=${encodeURIComponent(channel)}`));
      return Array.isArray(body.addresses) ? (body.addresses as ChannelAddress[]) : [];
    },

    async removeAddress(itemIndex, channel, address) {
      const path = await contactPath(itemIndex, `/addresses/${encodeURIComponent(channel)}?address=${encodeURIComponent(address)}`);
      // Already gone is what we wanted.
      await call(itemIndex, 'DELETE', path, undefined, 'answer');
    },

    async inSegment(itemIndex, ref) {
      if ('condition' in ref) {
        const { body } = await call(itemIndex, 'POST', await contactPath(itemIndex, '/segment-check'), { condition: ref.condition });
        return body.matches === true;
      }
      const { body } = await call(itemIndex, 'GET', await contactPath(itemIndex, '/segments'));
      const membership = Array.isArray(body.segments) ? (body.segments as Array<{ segmentId: string; name: string }>) : [];
      if (membership.some((m) => m.segmentId === ref.segment || m.name === ref.segment)) return true;
      // Not a member, or no such segment: only the second is a mistake worth failing on.
      const all = await call(itemIndex, 'GET', '/v1/segments');
      const segments = Array.isArray(all.body.segments) ? (all.body.segments as Array<{ id: string; name: string }>) : [];
      if (!segments.some((s) => s.id === ref.segment || s.name === ref.segment)) {
        throw new NodeError('INVALID_PARAMETER', `No segment "${ref.segment}" in this workspace (give its id or exact name)`, { itemIndex });
      }
      return false;
    },

    async setListMembership(itemIndex, list, member) {
      const listId = await findList(itemIndex, list);
      const id = await contactId(itemIndex);
      const { body } = await call(itemIndex, member ? 'POST' : 'DELETE', `/v1/lists/${listId}/members`, { contactIds: [id] });
      // The API ignores unknown contacts: nothing changed may mean there is no such contact.
      if ((member ? body.added : body.removed) === 0) await call(itemIndex, 'GET', `/v1/contacts/${encodeURIComponent(id)}`);
    },

    async changeScore(itemIndex, change: ScoreChange) {
      const { body } = await call(itemIndex, 'POST', await contactPath(itemIndex, '/score'), {
        [change.operation]: change.points,
        reason: change.reason,
        idempotencyKey: idempotencyKey(itemIndex),
      });
      return { previous: Number(body.before), score: Number(body.after) };
    },

    async template(itemIndex, ref): Promise<StoredTemplate | null> {
      const { status, body } = await call(itemIndex, 'GET', `/v1/templates/${encodeURIComponent(ref)}`, undefined, 'answer');
      if (status === 404 || !isRecord(body.template)) return null;
      const t = body.template;
      return {
        id: String(t.id),
        name: String(t.name),
        version: Number(t.version),
        subject: String(t.subject),
        mjml: String(t.mjml),
        ...(typeof t.text === 'string' && t.text !== '' && { text: t.text }),
      };
    },
  };
}

function safeExecutionId(host: CampaignApiHost): string {
  try {
    const id = host.getExecutionId();
    if (typeof id === 'string' && id) return id;
  } catch {
    // Some n8n contexts have no execution id; fall through.
  }
  // Without one, retries inside this run are still recognised (same value), later runs are not.
  return `run-${randomUUID()}`;
}

function parseBody(body: unknown): Record<string, unknown> {
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return isRecord(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
  return isRecord(body) ? body : {};
}

function errorMessage(body: Record<string, unknown>): string | undefined {
  const error = body.error;
  return isRecord(error) && typeof error.message === 'string' ? error.message : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
