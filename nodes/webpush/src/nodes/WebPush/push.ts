import { createECDH } from 'node:crypto';
import { sendNotification, type PushSubscription, type Urgency } from 'web-push';
import { NodeError } from '@campaignos/sdk';

/** The `campaignOsVapid` credential, checked once when the node reads it. */
export interface VapidCredentials {
  publicKey: string;
  privateKey: string;
  subject: string;
}

export interface PushOptions {
  /** Seconds the push service keeps the message for an offline device. */
  ttl: number;
  urgency: Urgency;
  /** Replaces an undelivered message with the same topic (≤ 32 base64url characters). */
  topic?: string;
}

export interface PushResult {
  /** The push service's status, usually 201 Created. */
  statusCode: number;
  /** The push service's id for the message (`Location` header), when it gives one. */
  location?: string;
}

/**
 * Largest payload before encryption. RFC 8030 obliges push services to accept bodies of up to
 * 4096 bytes; `aes128gcm` (RFC 8188/8291) adds an 86-byte header, a 1-byte padding delimiter
 * and a 16-byte tag, so 4096 − 103 = 3993 plaintext bytes always fit. (4078 is the older
 * `aesgcm` figure: 4096 − 16 − 2.)
 */
export const MAX_PAYLOAD_BYTES = 3993;

/** Push services answering these for an endpoint mean the subscription is gone for good (RFC 8030 §6.2, §8.1). */
export const GONE_STATUSES: readonly number[] = [404, 410];

/** A send refused because the subscription no longer exists; the caller forgets the address. */
export class SubscriptionGoneError extends NodeError {
  constructor(readonly statusCode: number) {
    super('RECIPIENT_INVALID', `The push service answered ${statusCode}: the subscription has expired or was unsubscribed`);
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SEND_TIMEOUT_MS = 15_000;

function decodeBase64Url(value: string): Buffer | null {
  return BASE64URL.test(value) ? Buffer.from(value, 'base64url') : null;
}

/**
 * Validates raw credential data: both keys decode to P-256 keys of the right length, the
 * private key belongs to the public key, the subject is a `mailto:` or `https:` URL.
 * Throws `INVALID_CREDENTIALS` naming the field (never its value).
 */
export function parseVapidCredentials(raw: Record<string, unknown>): VapidCredentials {
  const text = (name: string) => (typeof raw[name] === 'string' ? (raw[name] as string).trim() : '');
  const publicKey = text('publicKey').replace(/=+$/, '');
  const privateKey = text('privateKey').replace(/=+$/, '');
  const subject = text('subject');
  const fail = (message: string) => new NodeError('INVALID_CREDENTIALS', `VAPID credentials: ${message}`);

  const pub = decodeBase64Url(publicKey);
  if (!pub || pub.length !== 65 || pub[0] !== 0x04) {
    throw fail('the public key must be a URL-safe base64 uncompressed P-256 key (65 bytes, 87 characters)');
  }
  const priv = decodeBase64Url(privateKey);
  if (!priv || priv.length !== 32) throw fail('the private key must be a URL-safe base64 P-256 private key (32 bytes, 43 characters)');
  let derived: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(priv);
    derived = ecdh.getPublicKey();
  } catch {
    throw fail('the private key is not a valid P-256 private key');
  }
  if (!derived.equals(pub)) throw fail('the private key does not belong to the public key');

  let url: URL | null = null;
  try {
    url = new URL(subject);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'mailto:' && url.protocol !== 'https:')) {
    throw fail('the subject must be a "mailto:" address or an "https:" URL where the push service can reach you');
  }
  return { publicKey, privateKey, subject };
}

/**
 * Checks a browser `PushSubscription` (its JSON form: `{ endpoint, keys: { p256dh, auth } }`).
 * Throws `RECIPIENT_INVALID` saying what is wrong.
 */
export function parseSubscription(value: unknown): PushSubscription {
  const fail = (message: string) => new NodeError('RECIPIENT_INVALID', `Push subscription: ${message}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('expected an object { endpoint, keys: { p256dh, auth } } as the browser\'s PushSubscription.toJSON() gives it');
  }
  const { endpoint, keys } = value as { endpoint?: unknown; keys?: unknown };
  if (typeof endpoint !== 'string' || !endpoint) throw fail('"endpoint" is missing');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw fail('"endpoint" is not a URL');
  }
  if (url.protocol !== 'https:') throw fail('"endpoint" must be an https: URL');
  if (typeof keys !== 'object' || keys === null) throw fail('"keys" is missing');
  const { p256dh, auth } = keys as { p256dh?: unknown; auth?: unknown };
  const p256 = typeof p256dh === 'string' ? decodeBase64Url(p256dh.replace(/=+$/, '')) : null;
  if (!p256 || p256.length !== 65 || p256[0] !== 0x04) throw fail('"keys.p256dh" must be a URL-safe base64 uncompressed P-256 public key (65 bytes)');
  const secret = typeof auth === 'string' ? decodeBase64Url(auth.replace(/=+$/, '')) : null;
  if (!secret || secret.length !== 16) throw fail('"keys.auth" must be a URL-safe base64 16-byte secret');
  return { endpoint, keys: { p256dh: (p256dh as string).replace(/=+$/, ''), auth: (auth as string).replace(/=+$/, '') } };
}

/** Refuses a payload no push service is obliged to accept. */
export function checkPayloadSize(payload: string): void {
  const size = Buffer.byteLength(payload);
  if (size > MAX_PAYLOAD_BYTES) {
    throw new NodeError(
      'MESSAGE_TOO_LARGE',
      `The notification is ${size} bytes as JSON; web push carries at most ${MAX_PAYLOAD_BYTES} (4096 once encrypted). Shorten the title, body or URLs.`,
    );
  }
}

/**
 * Encrypts `payload` for the subscription (aes128gcm), signs a VAPID JWT for the endpoint's
 * origin and POSTs it. Failures come back as node errors; a 404/410 as `SubscriptionGoneError`.
 */
export async function sendPush(subscription: PushSubscription, payload: string, credentials: VapidCredentials, options: PushOptions): Promise<PushResult> {
  checkPayloadSize(payload);
  try {
    const response = await sendNotification(subscription, payload, {
      vapidDetails: credentials,
      TTL: options.ttl,
      urgency: options.urgency,
      ...(options.topic ? { topic: options.topic } : {}),
      contentEncoding: 'aes128gcm',
      timeout: SEND_TIMEOUT_MS,
    });
    const location = response.headers?.location;
    return { statusCode: response.statusCode, ...(typeof location === 'string' && { location }) };
  } catch (error) {
    throw toPushNodeError(error, subscription.endpoint);
  }
}

interface PushFailure {
  statusCode?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
  code?: unknown;
  message?: unknown;
}

/** Maps what `web-push` rejects with (a WebPushError with a status, a socket error, a validation error) to a node error. */
export function toPushNodeError(error: unknown, endpoint: string): NodeError {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as PushFailure;
  const origin = originOf(endpoint);
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  const status = typeof failure.statusCode === 'number' ? failure.statusCode : undefined;
  if (status === undefined) {
    const code = typeof failure.code === 'string' ? failure.code : undefined;
    if (message === 'Socket timeout' || code === 'ETIMEDOUT') {
      return new NodeError('TIMEOUT', `The push service at ${origin} did not answer within ${SEND_TIMEOUT_MS / 1000} s`, { cause: error });
    }
    if (code) {
      // Connection refused/reset, DNS, TLS (an untrusted certificate is a code too): try again later.
      return new NodeError('PROVIDER_UNAVAILABLE', `The push service at ${origin} could not be reached (${code}): ${message}`, { cause: error });
    }
    // web-push validates its input before sending; its messages name the field, never the key.
    if (/vapid/i.test(message)) return new NodeError('INVALID_CREDENTIALS', `VAPID credentials: ${message}`, { cause: error });
    return new NodeError('RECIPIENT_INVALID', `Push subscription: ${message}`, { cause: error });
  }

  const detail = describeBody(failure.body);
  const said = `The push service at ${origin} answered ${status}${detail ? ` (${detail})` : ''}`;
  if (GONE_STATUSES.includes(status)) return new SubscriptionGoneError(status);
  if (status === 413) return new NodeError('MESSAGE_TOO_LARGE', `${said}: the encrypted notification is too large for this push service`);
  if (status === 401 || status === 403) {
    return new NodeError('INVALID_CREDENTIALS', `${said}: the VAPID signature or key was rejected (is this the key pair the subscription was created with?)`);
  }
  if (status === 429) {
    const retryAfter = headerValue(failure.headers, 'retry-after');
    return new NodeError('RATE_LIMITED', `${said}: too many requests${retryAfter ? `; Retry-After ${retryAfter}` : ''}`, {
      description: retryAfter ? `The push service asked to wait ${retryAfter} before retrying` : undefined,
      retryAfterMs: retryAfterMs(retryAfter),
    });
  }
  if (status >= 500) return new NodeError('PROVIDER_UNAVAILABLE', `${said}: the push service failed temporarily`);
  return new NodeError('PROVIDER_REJECTED', `${said}: the push service refused the notification`);
}

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return 'the endpoint';
  }
}

function headerValue(headers: PushFailure['headers'], name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The first words of a push service's error body (they are JSON or text, never secrets of ours). */
function describeBody(body: unknown): string {
  if (typeof body !== 'string' || !body.trim()) return '';
  return body.trim().replace(/\s+/g, ' ').slice(0, 200);
}

/** `Retry-After` is either seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
