/**
 * The fixed list of node error codes. A host decides what to do from the code alone:
 * the runtime retries retryable errors with backoff and fails the step for the others.
 */
export const NODE_ERROR_CODES = {
  INVALID_PARAMETER: { retryable: false, summary: 'a node parameter is missing or has a wrong value' },
  INVALID_CREDENTIALS: { retryable: false, summary: 'the credentials were rejected or are incomplete' },
  RECIPIENT_INVALID: { retryable: false, summary: 'the recipient address or id cannot be used' },
  MESSAGE_TOO_LARGE: { retryable: false, summary: 'the message exceeds what the channel accepts' },
  CONTACT_NOT_FOUND: { retryable: false, summary: 'the contact does not exist (or was deleted)' },
  TEMPLATE_INVALID: { retryable: false, summary: 'the template could not be compiled or rendered' },
  PROVIDER_REJECTED: { retryable: false, summary: 'the provider refused the request permanently' },
  PROVIDER_UNAVAILABLE: { retryable: true, summary: 'the provider could not be reached or failed temporarily' },
  RATE_LIMITED: { retryable: true, summary: 'the provider asked us to slow down' },
  TIMEOUT: { retryable: true, summary: 'the operation did not finish in time' },
  UNSUPPORTED_HOST: { retryable: false, summary: 'the host does not provide what the node needs' },
  INTERNAL: { retryable: false, summary: 'an unexpected error inside the node' },
} as const;

export type NodeErrorCode = keyof typeof NODE_ERROR_CODES;

// Two copies of the SDK can be loaded side by side (one per node package), so error
// identity is a registered symbol rather than `instanceof`.
const NODE_ERROR_BRAND = Symbol.for('campaignos.sdk.NodeError');

export interface NodeErrorOptions {
  itemIndex?: number;
  /** Overrides the code's default retryability, e.g. a 5xx that the provider documents as final. */
  retryable?: boolean;
  cause?: unknown;
  /** Extra detail for operators; never put secrets here. */
  description?: string;
  /**
   * For retryable errors: how long the provider asked us to wait (a 429's `Retry-After`). The
   * runtime waits that long before the next attempt instead of its usual backoff.
   */
  retryAfterMs?: number;
}

/**
 * The error a node throws. Hosts read `code` and `retryable`, never the message.
 *
 * @example
 * throw new NodeError('RATE_LIMITED', 'SMS provider answered 429', { itemIndex: i });
 */
export class NodeError extends Error {
  readonly code: NodeErrorCode;
  readonly retryable: boolean;
  readonly itemIndex: number | undefined;
  readonly description: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: NodeErrorCode, message: string, options: NodeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NodeError';
    this.code = code;
    this.retryable = options.retryable ?? NODE_ERROR_CODES[code].retryable;
    this.itemIndex = options.itemIndex;
    this.description = options.description;
    this.retryAfterMs = options.retryAfterMs !== undefined && Number.isFinite(options.retryAfterMs) && options.retryAfterMs >= 0 ? options.retryAfterMs : undefined;
    Object.defineProperty(this, NODE_ERROR_BRAND, { value: true });
  }
}

export function isNodeError(value: unknown): value is NodeError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[NODE_ERROR_BRAND] === true;
}

/** Normalises anything thrown into a NodeError; a NodeError without an item index gets this one. */
export function toNodeError(value: unknown, itemIndex?: number): NodeError {
  if (isNodeError(value)) {
    if (value.itemIndex !== undefined || itemIndex === undefined) return value;
    return new NodeError(value.code, value.message, {
      itemIndex,
      retryable: value.retryable,
      description: value.description,
      retryAfterMs: value.retryAfterMs,
      cause: value.cause,
    });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new NodeError('INTERNAL', message, { itemIndex, cause: value });
}
