/** One item flowing between nodes, as in n8n: a JSON object (binary data is not used by journeys). */
export interface NodeItem {
  json: Record<string, unknown>;
  /** Which input item this one came from; hosts use it for `$('Node').item` in expressions. */
  pairedItem?: { item: number };
}

/** What a node returns: one array of items per output (most nodes have one output). */
export type NodeOutput = NodeItem[][];

export interface NodeLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** Sent as JSON when an object, as is when a string. */
  body?: unknown;
  timeoutMs?: number;
  /** `binary`: the response body is returned as a Buffer, untouched (files, attachments). */
  responseType?: 'auto' | 'binary';
  /**
   * Largest response body accepted; a larger one fails with `MESSAGE_TOO_LARGE`. The runtime
   * stops reading at the limit; n8n checks it after the download.
   */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, text, or a Buffer when the request asked for `responseType: 'binary'`. */
  body: unknown;
}

/** A file attached to an incoming item (n8n binary data). */
export interface NodeBinary {
  data: Buffer;
  mimeType: string;
  fileName?: string;
}

/** A stored email template version, as the CampaignOS template API keeps it. */
export interface StoredTemplate {
  id: string;
  name: string;
  /** Starts at 1; every edit adds a version and leaves the old ones as they were. */
  version: number;
  subject: string;
  mjml: string;
  text?: string;
}

/** A contact as a node sees it. */
export interface ContactView {
  id: string;
  externalId: string | null;
  email: string | null;
  phone: string | null;
  timeZone: string | null;
  attributes: Record<string, unknown>;
}

/** What a channel node is about to send, so the host's send gate can decide. */
export interface Envelope {
  channel: string;
  /** The address on that channel: an email address, a phone number, a chat id. */
  recipient: string;
  itemIndex: number;
  /** A short human summary for the message log (a subject line, the first words). */
  summary?: string;
}

/** What the send gate hands to the node when a send may go ahead. */
export interface DeliveryTicket {
  /** Stable across retries of the same send: use it as the provider's idempotency key or Message-ID. */
  messageId: string;
  /** Page where the recipient can unsubscribe; present when the host manages consent. */
  unsubscribeUrl?: string;
  /** RFC 8058 one-click endpoint for the `List-Unsubscribe` header. */
  oneClickUnsubscribeUrl?: string;
  /**
   * Where the provider may report this message's delivery status (an SMS provider's status
   * callback); present when the host records delivery reports.
   */
  statusCallbackUrl?: string;
}

export type DeliveryOutcome<T> =
  | { status: 'sent'; messageId: string; result: T }
  | { status: 'skipped'; messageId: string | null; reason: 'suppressed' | 'duplicate' | 'no-recipient' };

/**
 * An address a contact has on a channel beyond its email and phone: a web push subscription
 * (address = endpoint, data = its keys) or a Telegram chat (address = chat id).
 */
export interface ChannelAddress {
  channel: string;
  address: string;
  data: Record<string, unknown>;
}

/** A saved segment (by id or name), or an inline condition in the segment grammar. */
export type SegmentRef = { segment: string } | { condition: Record<string, unknown> };

export interface ScoreChange {
  operation: 'add' | 'subtract' | 'set';
  points: number;
  /** Lands in the score ledger. */
  reason: string;
}

/** Services of a CampaignOS runtime, available to nodes when one is reachable. */
export interface CampaignServices {
  /** The contact the current item belongs to (in a journey: the journey's contact). */
  contact(itemIndex: number): Promise<ContactView>;
  /**
   * Runs `send` only if the send gate allows it (consent, suppression, idempotency) and
   * records the message. A retried step gets `duplicate` instead of a second send.
   */
  deliver<T>(envelope: Envelope, send: (ticket: DeliveryTicket) => Promise<T>): Promise<DeliveryOutcome<T>>;
  /** The contact's addresses on a channel (`webpush`, `telegram`), oldest first. */
  addresses(itemIndex: number, channel: string): Promise<ChannelAddress[]>;
  /** Forgets an address the provider says is gone for good (a push endpoint answering 404/410). */
  removeAddress(itemIndex: number, channel: string, address: string): Promise<void>;
  /** Whether the contact is in a saved segment now, or matches an inline condition. */
  inSegment(itemIndex: number, ref: SegmentRef): Promise<boolean>;
  /** Adds the contact to a static list (by id or name), or removes it. Idempotent. */
  setListMembership(itemIndex: number, list: string, member: boolean): Promise<void>;
  /** Changes the contact's score; the change and its reason land in the ledger. */
  changeScore(itemIndex: number, change: ScoreChange): Promise<{ previous: number; score: number }>;
  /**
   * A stored email template by id or exact name; null when the workspace has none. In a
   * journey the first version used is kept for the rest of that journey.
   */
  template(itemIndex: number, ref: string): Promise<StoredTemplate | null>;
}

export type HostKind = 'campaignos' | 'n8n';

/** Everything a node may use while it executes, whichever host runs it. */
export interface NodeContext {
  readonly host: HostKind;
  readonly node: { readonly name: string; readonly type: string; readonly typeVersion: number };
  readonly logger: NodeLogger;
  /** CampaignOS services, or undefined in a host that has none (n8n without a CampaignOS credential). */
  readonly campaign: CampaignServices | undefined;
  getInputItems(): NodeItem[];
  /** A parameter's value for one item, with `={{ }}` expressions already resolved. */
  getParameter<T = unknown>(name: string, itemIndex: number, fallback?: T): T;
  getCredentials<T extends object = Record<string, unknown>>(type: string, itemIndex: number): Promise<T>;
  continueOnFail(): boolean;
  http(request: HttpRequest): Promise<HttpResponse>;
  /**
   * A binary property of an input item (n8n binary data), or undefined when the item has none
   * or the host carries no binary data (the CampaignOS runtime).
   */
  getBinary?(itemIndex: number, property: string): Promise<NodeBinary | undefined>;
}
