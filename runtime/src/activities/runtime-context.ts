import type { CampaignServices, HttpRequest, HttpResponse, NodeContext, NodeItem } from '@campaignos/sdk';
import { isNodeError, NodeError, redactUrl } from '@campaignos/sdk';
import type { JourneyInputSources, JourneyRunData, N8nNode, WorkflowExpressions } from '../flow/index.js';
import type { RegisteredNode } from '../nodes/registry.js';
import { ScoreContactNotFoundError, type ScoringEngine } from '../scoring/index.js';
import { SegmentInputError, type SegmentEngine } from '../segments/index.js';
import type { SendGate, SendOrigin } from '../send-gate/send-gate.js';
import type { Contact, Store } from '../store/index.js';
import type { Logger } from '../logger.js';

export interface RuntimeContextInput {
  node: N8nNode;
  registered: RegisteredNode;
  items: NodeItem[];
  runData: JourneyRunData;
  inputFrom: JourneyInputSources | undefined;
  expressions: WorkflowExpressions;
  contact: Contact;
  origin: SendOrigin;
  /** The workflow's name, for the score ledger ("node X, workflow Y"). */
  workflowName: string;
  store: Store;
  sendGate: SendGate;
  segments: SegmentEngine;
  scoring: ScoringEngine;
  logger: Logger;
}

/** The node context the runtime gives a node: n8n's contract, backed by the store and the send gate. */
export function createRuntimeContext(input: RuntimeContextInput): NodeContext {
  const { node, items, runData, inputFrom, expressions, contact, origin, store, sendGate, segments, scoring } = input;
  const logger = input.logger;

  /** A "no" (not a member, nothing changed) may mean the contact was deleted meanwhile: say so. */
  const ensureContact = async (itemIndex: number): Promise<false> => {
    if (!(await store.contacts.get(origin.workspaceId, contact.id))) throw contactGone(contact.id, itemIndex);
    return false;
  };

  const campaign: CampaignServices = {
    contact: async () => contact,
    deliver: async (envelope, send) => {
      try {
        return await sendGate.deliver(origin, envelope, send);
      } catch (error) {
        if (isNodeError(error) && !error.retryable) await sendGate.recordFailure(origin, envelope, `${error.code}: ${error.message}`);
        throw error;
      }
    },
    addresses: (_itemIndex, channel) => store.addresses.list(origin.workspaceId, contact.id, channel),
    removeAddress: async (_itemIndex, channel, address) => {
      if (await store.addresses.remove(origin.workspaceId, contact.id, channel, address)) {
        logger.info('channel address removed: the provider says it is gone', { node: node.name, contactId: contact.id, channel });
      }
    },
    inSegment: async (itemIndex, ref) => {
      if ('segment' in ref) {
        const segment = await segments.find(origin.workspaceId, ref.segment);
        if (!segment) throw new NodeError('INVALID_PARAMETER', `No segment "${ref.segment}" in this workspace (give its id or exact name)`, { itemIndex });
        return (await segments.isMember(segment.id, contact.id)) || ensureContact(itemIndex);
      }
      try {
        return (await segments.matches(origin.workspaceId, contact.id, ref.condition)) || ensureContact(itemIndex);
      } catch (error) {
        if (error instanceof SegmentInputError) throw new NodeError('INVALID_PARAMETER', `Segment condition: ${error.message}`, { itemIndex });
        throw error;
      }
    },
    setListMembership: async (itemIndex, list, member) => {
      const found = await findList(store, origin.workspaceId, list);
      if (!found) throw new NodeError('INVALID_PARAMETER', `No list "${list}" in this workspace (give its id or exact name)`, { itemIndex });
      // Through the store: the change goes through the outbox, so list-based segments follow.
      const changed = member ? await store.lists.addMembers(origin.workspaceId, found.id, [contact.id]) : await store.lists.removeMembers(origin.workspaceId, found.id, [contact.id]);
      if (changed === 0) await ensureContact(itemIndex);
    },
    changeScore: async (itemIndex, change) => {
      const adjustment = change.operation === 'set' ? { set: change.points } : change.operation === 'add' ? { add: change.points } : { subtract: change.points };
      try {
        const result = await scoring.adjust(origin.workspaceId, contact.id, adjustment, {
          source: 'node',
          reason: change.reason,
          node: node.name,
          workflow: input.workflowName,
          // One change per journey step and item, however often the activity is retried.
          idempotencyKey: `${origin.journeyId}:${origin.stepSeq}:${origin.nodeName}:${itemIndex}`,
        });
        // Score segments follow now, so a segment filter right after this node sees the new score.
        await segments.evaluateContacts(origin.workspaceId, [contact.id], { score: true });
        return { previous: result.before, score: result.after };
      } catch (error) {
        if (error instanceof ScoreContactNotFoundError) throw contactGone(contact.id, itemIndex);
        throw error;
      }
    },
    // Pinned per journey: a retried step or a later email of this journey renders the version
    // it first used, whatever edits happen meanwhile.
    template: (_itemIndex, ref) => store.templates.forJourney(origin.workspaceId, origin.journeyId, ref),
  };

  return {
    host: 'campaignos',
    node: { name: node.name, type: node.type, typeVersion: node.typeVersion },
    logger: {
      debug: (m, meta) => logger.debug(m, { node: node.name, ...meta }),
      info: (m, meta) => logger.info(m, { node: node.name, ...meta }),
      warn: (m, meta) => logger.warn(m, { node: node.name, ...meta }),
      error: (m, meta) => logger.error(m, { node: node.name, ...meta }),
    },
    campaign,
    getInputItems: () => items,
    getParameter: <T>(name: string, itemIndex: number, fallback?: T): T => {
      try {
        const value = expressions.getNodeParameter(node.name, name, items, itemIndex, runData, fallback, { inputFrom });
        if (value === undefined && fallback === undefined) {
          throw new NodeError('INVALID_PARAMETER', `"${node.name}" has no parameter "${name}"`, { itemIndex });
        }
        return value as T;
      } catch (error) {
        if (isNodeError(error)) throw error;
        throw new NodeError('INVALID_PARAMETER', (error as Error).message, { itemIndex, cause: error });
      }
    },
    getCredentials: async <T extends object>(type: string, itemIndex: number): Promise<T> => {
      const ref = node.credentials?.[type];
      if (!ref) throw new NodeError('INVALID_CREDENTIALS', `"${node.name}" has no "${type}" credentials selected`, { itemIndex });
      const found = await store.credentials.find(origin.workspaceId, ref);
      const data = found && found.type === type ? await store.credentials.data(origin.workspaceId, found.id) : null;
      if (!data) throw new NodeError('INVALID_CREDENTIALS', `credentials "${ref.name}" of type "${type}" do not exist in this workspace`, { itemIndex });
      return data as T;
    },
    continueOnFail: () => node.continueOnFail === true || node.onError === 'continueRegularOutput' || node.onError === 'continueErrorOutput',
    http: (request) => httpRequest(request),
    // Journey items carry no binary data.
    getBinary: async () => undefined,
  };
}

function contactGone(contactId: string, itemIndex: number): NodeError {
  return new NodeError('CONTACT_NOT_FOUND', `Contact ${contactId} no longer exists (it was deleted while the journey ran)`, { itemIndex });
}

/** A static list by id or, failing that, by its exact name. */
async function findList(store: Store, workspaceId: string, idOrName: string): Promise<{ id: string } | null> {
  const byId = await store.lists.get(workspaceId, idOrName);
  if (byId) return byId;
  return (await store.db('lists').where({ workspace_id: workspaceId, name: idOrName }).first('id')) ?? null;
}

async function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const isJson = request.body !== undefined && typeof request.body !== 'string';
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method ?? 'GET',
      headers: { ...(isJson && { 'content-type': 'application/json' }), ...request.headers },
      body: request.body === undefined ? undefined : isJson ? JSON.stringify(request.body) : (request.body as string),
      signal: AbortSignal.timeout(request.timeoutMs ?? 15_000),
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new NodeError(timedOut ? 'TIMEOUT' : 'PROVIDER_UNAVAILABLE', `${request.method ?? 'GET'} ${request.url}: ${(error as Error).message}`, { cause: error });
  }
  if (request.responseType === 'binary' || request.maxBytes !== undefined) {
    const bytes = await readBody(response, request);
    if (request.responseType === 'binary') return { status: response.status, headers: Object.fromEntries(response.headers), body: bytes };
    return parseResponse(response, bytes.toString('utf8'));
  }
  return parseResponse(response, await response.text());
}

function parseResponse(response: Response, text: string): HttpResponse {
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body };
}

/** Reads a body, stopping at `maxBytes` so a huge download never fills the worker's memory. */
async function readBody(response: Response, request: HttpRequest): Promise<Buffer> {
  const limit = request.maxBytes ?? Infinity;
  const tooLarge = (size: number | string) =>
    new NodeError('MESSAGE_TOO_LARGE', `${request.method ?? 'GET'} ${redactUrl(request.url)} answered ${size} bytes; the limit is ${limit}`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(`more than ${limit}`); // leaving the loop cancels the stream
      chunks.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(chunks);
}
