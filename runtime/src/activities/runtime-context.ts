import type { CampaignServices, HttpRequest, HttpResponse, NodeContext, NodeItem } from '@campaignos/sdk';
import { isNodeError, NodeError } from '@campaignos/sdk';
import type { JourneyInputSources, JourneyRunData, N8nNode, WorkflowExpressions } from '../flow/index.js';
import type { RegisteredNode } from '../nodes/registry.js';
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
  store: Store;
  sendGate: SendGate;
  logger: Logger;
}

/** The node context the runtime gives a node: n8n's contract, backed by the store and the send gate. */
export function createRuntimeContext(input: RuntimeContextInput): NodeContext {
  const { node, items, runData, inputFrom, expressions, contact, origin, store, sendGate } = input;
  const logger = input.logger;

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
    // Segment, list and score services are wired by the node-ecosystem work (issue 3).
    inSegment: () => Promise.reject(new NodeError('UNSUPPORTED_HOST', 'inSegment is not wired yet')),
    setListMembership: () => Promise.reject(new NodeError('UNSUPPORTED_HOST', 'setListMembership is not wired yet')),
    changeScore: () => Promise.reject(new NodeError('UNSUPPORTED_HOST', 'changeScore is not wired yet')),
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
  };
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
  const text = await response.text();
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
