import type {
  CampaignServices,
  ChannelAddress,
  ScoreChange,
  SegmentRef,
  ContactView,
  DeliveryOutcome,
  DeliveryTicket,
  Envelope,
  HttpRequest,
  HttpResponse,
  NodeContext,
  NodeBinary,
  NodeItem,
  NodeLogger,
  StoredTemplate,
} from '../context.js';
import type { DefinedNodeClass } from '../define-node.js';

export interface MockContextOptions {
  items?: NodeItem[];
  /** Parameter values as already-resolved values; a function gets the item index. */
  parameters?: Record<string, unknown | ((itemIndex: number) => unknown)>;
  credentials?: Record<string, Record<string, unknown>>;
  continueOnFail?: boolean;
  http?: (request: HttpRequest) => Promise<HttpResponse>;
  /** Give the node CampaignOS services; `deliveries` records what passed the (always open) gate. */
  campaign?: {
    contact?: Partial<ContactView>;
    suppressed?: boolean;
    /** The contact's channel addresses (`webpush`, `telegram`); `removeAddress` deletes from here. */
    addresses?: ChannelAddress[];
    /** Segment ids/names the contact is in; an inline condition is answered by `matches`. */
    segments?: string[];
    matches?: (condition: Record<string, unknown>) => boolean;
    /** Lists (ids or names) the contact is on; `setListMembership` edits this. */
    lists?: string[];
    score?: number;
    /** Stored email templates, found by id or name (the last version given of a name wins). */
    templates?: StoredTemplate[];
  };
  /** n8n binary data of the input items: `binary[itemIndex][property]`. */
  binary?: Array<Record<string, NodeBinary>>;
  node?: { name?: string; type?: string; typeVersion?: number };
}

export interface MockContext extends NodeContext {
  /** Envelopes the node asked the send gate about, with the gate's answer. */
  readonly deliveries: Array<{ envelope: Envelope; ticket: DeliveryTicket | null }>;
  readonly logs: Array<{ level: string; message: string }>;
  /** Score changes the node made, in order. */
  readonly scoreChanges: ScoreChange[];
  /** The mock runtime's view of the contact after the node ran. */
  readonly campaignState: { addresses: ChannelAddress[]; segments: Set<string>; lists: Set<string>; score: number };
}

/**
 * A node context for unit tests: parameters are given already resolved, and the CampaignOS
 * services record what the node asked for.
 *
 * @example
 * const ctx = createMockContext({ items: [{ json: {} }], parameters: { subject: 'Hi' } });
 * const [out] = await Email.campaignos.definition.execute(ctx);
 */
export function createMockContext(options: MockContextOptions = {}): MockContext {
  const items = options.items ?? [{ json: {} }];
  const deliveries: MockContext['deliveries'] = [];
  const logs: MockContext['logs'] = [];
  const log = (level: string) => (message: string) => void logs.push({ level, message });
  const logger: NodeLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const scoreChanges: ScoreChange[] = [];
  let sequence = 0;
  const state = {
    addresses: [...(options.campaign?.addresses ?? [])],
    segments: new Set(options.campaign?.segments ?? []),
    lists: new Set(options.campaign?.lists ?? []),
    score: options.campaign?.score ?? 0,
  };

  const campaign: CampaignServices | undefined = options.campaign && {
    contact: async () => ({
      id: 'contact-1',
      externalId: null,
      email: null,
      phone: null,
      timeZone: null,
      attributes: {},
      ...options.campaign?.contact,
    }),
    deliver: async <T>(envelope: Envelope, send: (ticket: DeliveryTicket) => Promise<T>): Promise<DeliveryOutcome<T>> => {
      if (options.campaign?.suppressed) {
        deliveries.push({ envelope, ticket: null });
        return { status: 'skipped', messageId: null, reason: 'suppressed' };
      }
      const messageId = `mock-message-${++sequence}`;
      const ticket: DeliveryTicket = {
        messageId,
        unsubscribeUrl: `https://campaignos.test/u/${messageId}`,
        oneClickUnsubscribeUrl: `https://campaignos.test/u/${messageId}/one-click`,
      };
      deliveries.push({ envelope, ticket });
      return { status: 'sent', messageId, result: await send(ticket) };
    },
    addresses: async (_itemIndex: number, channel: string) => state.addresses.filter((a) => a.channel === channel),
    removeAddress: async (_itemIndex: number, channel: string, address: string) => {
      state.addresses = state.addresses.filter((a) => a.channel !== channel || a.address !== address);
    },
    inSegment: async (_itemIndex: number, ref: SegmentRef) =>
      'segment' in ref ? state.segments.has(ref.segment) : (options.campaign?.matches?.(ref.condition) ?? false),
    setListMembership: async (_itemIndex: number, list: string, member: boolean) => {
      if (member) state.lists.add(list);
      else state.lists.delete(list);
    },
    changeScore: async (_itemIndex: number, change: ScoreChange) => {
      scoreChanges.push(change);
      const previous = state.score;
      state.score = change.operation === 'set' ? change.points : previous + (change.operation === 'add' ? change.points : -change.points);
      return { previous, score: state.score };
    },
    template: async (_itemIndex: number, ref: string) =>
      (options.campaign?.templates ?? []).filter((t) => t.id === ref || t.name === ref).sort((a, b) => b.version - a.version)[0] ?? null,
  };

  return {
    host: 'campaignos',
    node: { name: options.node?.name ?? 'Node', type: options.node?.type ?? 'test.node', typeVersion: options.node?.typeVersion ?? 1 },
    logger,
    campaign,
    deliveries,
    logs,
    scoreChanges,
    campaignState: state,
    getInputItems: () => items,
    getParameter: <T>(name: string, itemIndex: number, fallback?: T): T => {
      const value = options.parameters?.[name];
      if (value === undefined) {
        if (fallback !== undefined) return fallback;
        throw new Error(`mock context: parameter "${name}" was not given`);
      }
      return (typeof value === 'function' ? (value as (i: number) => unknown)(itemIndex) : value) as T;
    },
    getCredentials: async <T extends object>(type: string) => {
      const data = options.credentials?.[type];
      if (!data) throw new Error(`mock context: no credentials of type "${type}"`);
      return data as T;
    },
    continueOnFail: () => options.continueOnFail ?? false,
    http: options.http ?? (async () => { throw new Error('mock context: no http handler given'); }),
    getBinary: async (itemIndex: number, property: string) => options.binary?.[itemIndex]?.[property],
  };
}

/** Runs a defined node's `execute` against a mock context. */
export function runNode(node: DefinedNodeClass, ctx: NodeContext) {
  return node.campaignos.definition.execute(ctx);
}
