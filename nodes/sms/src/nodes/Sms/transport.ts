import { isNodeError, NodeError, type HttpRequest, type HttpResponse } from '@campaignos/sdk';

/** Twilio's limit for one message body, in characters (it splits longer texts into segments up to this). */
export const MAX_BODY_LENGTH = 1600;

export const DEFAULT_BASE_URL = 'https://api.twilio.com';

/** The `campaignOsSmsApi` credential, checked once when the node reads it. */
export interface SmsCredentials {
  accountSid: string;
  authToken: string;
  /** A phone number, an alphanumeric sender ID, or a Messaging Service SID (`MG...`). */
  from: string;
  /** Without a trailing slash. */
  baseUrl: string;
}

export interface OutgoingSms {
  to: string;
  body: string;
  /** Where the provider reports delivery statuses (`StatusCallback`). */
  statusCallback?: string;
}

export interface SentSms {
  /** The provider's message id (`SM...`). */
  sid: string;
  /** The provider's status on acceptance, usually `queued` (or `accepted` with a Messaging Service). */
  providerStatus: string;
  to: string;
  segments: number;
}

type Http = (request: HttpRequest) => Promise<HttpResponse>;

const E164 = /^\+[1-9]\d{6,14}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
// Alphanumeric sender IDs: up to 11 letters, digits and spaces, at least one letter.
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/**
 * Validates raw credential data. Throws `INVALID_CREDENTIALS` naming the field, never its value.
 */
export function parseSmsCredentials(raw: Record<string, unknown>): SmsCredentials {
  const text = (name: string) => (typeof raw[name] === 'string' ? (raw[name] as string).trim() : '');
  const accountSid = text('accountSid');
  const authToken = typeof raw.authToken === 'string' ? raw.authToken : '';
  const from = text('from');
  const baseUrl = (text('baseUrl') || DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(accountSid)) throw new NodeError('INVALID_CREDENTIALS', 'SMS credentials have no valid Account SID');
  if (!authToken) throw new NodeError('INVALID_CREDENTIALS', 'SMS credentials have no Auth Token');
  if (!E164.test(from) && !MESSAGING_SERVICE_SID.test(from) && !ALPHANUMERIC_SENDER.test(from)) {
    throw new NodeError('INVALID_CREDENTIALS', 'SMS credentials have no valid From: use an E.164 number (+15005550006), an alphanumeric sender ID or a Messaging Service SID (MG...)');
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new NodeError('INVALID_CREDENTIALS', 'SMS credentials have an invalid Base URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new NodeError('INVALID_CREDENTIALS', 'SMS credentials need an http(s) Base URL');
  return { accountSid, authToken, from, baseUrl };
}

/**
 * A phone number in E.164 form, or null. Spaces, dots, dashes and parentheses people type
 * are dropped; a number without its `+country` prefix is not guessed at.
 */
export function normalisePhone(value: string): string | null {
  const compact = value.trim().replace(/[\s().-]/g, '');
  return E164.test(compact) ? compact : null;
}

/**
 * How many SMS segments a body needs: 160 GSM-7 characters (153 per part when split), or 70
 * UCS-2 code units (67 per part) as soon as one character is outside GSM-7.
 */
export function countSegments(body: string): number {
  if (body.length === 0) return 0;
  let septets = 0;
  let gsm = true;
  for (const char of body) {
    if (GSM7_BASIC.includes(char)) septets += 1;
    else if (GSM7_EXTENDED.includes(char)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
}

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/**
 * Sends one message: `POST {baseUrl}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded,
 * HTTP Basic auth. Refuses a body over 1600 characters before any request. Provider
 * failures are thrown as NodeErrors (see `toSmsNodeError`).
 */
export async function sendSms(http: Http, credentials: SmsCredentials, sms: OutgoingSms): Promise<SentSms> {
  if (sms.body.length > MAX_BODY_LENGTH) {
    throw new NodeError('MESSAGE_TOO_LARGE', `The message is ${sms.body.length} characters; SMS allows at most ${MAX_BODY_LENGTH}`);
  }
  const form = new URLSearchParams({ To: sms.to });
  if (MESSAGING_SERVICE_SID.test(credentials.from)) form.set('MessagingServiceSid', credentials.from);
  else form.set('From', credentials.from);
  form.set('Body', sms.body);
  if (sms.statusCallback) form.set('StatusCallback', sms.statusCallback);

  const url = `${credentials.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(credentials.accountSid)}/Messages.json`;
  let response: HttpResponse;
  try {
    response = await http({
      url,
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      timeoutMs: 15_000,
    });
  } catch (error) {
    throw unreachable(credentials.baseUrl, error);
  }

  const json = jsonBody(response.body);
  if (response.status < 200 || response.status >= 300) throw toSmsNodeError(response.status, response.headers, json);
  const sid = typeof json.sid === 'string' ? json.sid : '';
  if (!sid) {
    // Accepted or not, we cannot tell: do not retry into a possible duplicate.
    throw new NodeError('PROVIDER_REJECTED', `SMS provider answered ${response.status} without a message sid`);
  }
  const reported = Number(json.num_segments);
  return {
    sid,
    providerStatus: typeof json.status === 'string' ? json.status : 'queued',
    to: typeof json.to === 'string' ? json.to : sms.to,
    segments: Number.isInteger(reported) && reported > 0 ? reported : countSegments(sms.body),
  };
}

/** Twilio error codes that say the recipient cannot be messaged. */
const RECIPIENT_CODES = new Set([
  21211, // invalid 'To' phone number
  21610, // the recipient replied STOP
  21612, // 'To' is not reachable from this sender
  21614, // 'To' is not a mobile number
]);

/**
 * Maps a non-2xx answer to a NodeError. Twilio's numeric `code` decides when it is specific;
 * the HTTP status otherwise. The provider's message is kept (it never contains the token).
 */
export function toSmsNodeError(status: number, headers: Record<string, string | string[] | undefined>, body: Record<string, unknown>): NodeError {
  const code = typeof body.code === 'number' || typeof body.code === 'string' ? Number(body.code) : NaN;
  const providerMessage = typeof body.message === 'string' && body.message ? body.message.slice(0, 300) : `HTTP ${status}`;
  const what = `SMS provider answered ${status}${Number.isFinite(code) ? ` (error ${code})` : ''}: ${providerMessage}`;
  const info = typeof body.more_info === 'string' ? body.more_info : undefined;

  if (status === 429 || code === 20429) {
    const retryAfter = retryAfterSeconds(header(headers, 'retry-after'));
    return new NodeError('RATE_LIMITED', retryAfter === null ? what : `${what}; retry after ${retryAfter} s`, {
      description: retryAfter === null ? info : `Retry-After: ${retryAfter} s`,
      ...(retryAfter !== null && { retryAfterMs: retryAfter * 1000 }),
    });
  }
  if (code === 21617) return new NodeError('MESSAGE_TOO_LARGE', what, { description: info });
  if (RECIPIENT_CODES.has(code)) return new NodeError('RECIPIENT_INVALID', what, { description: info });
  if (status === 401 || status === 403 || code === 20003) {
    return new NodeError('INVALID_CREDENTIALS', `${what} (check the Account SID and Auth Token)`, { description: info });
  }
  if (status >= 500) return new NodeError('PROVIDER_UNAVAILABLE', what, { description: info });
  return new NodeError('PROVIDER_REJECTED', what, { description: info });
}

function unreachable(baseUrl: string, error: unknown): NodeError {
  const reason = socketReason(error);
  const timedOut = isNodeError(error) ? error.code === 'TIMEOUT' : /TIMEDOUT|ECONNABORTED/.test(reason);
  return new NodeError(timedOut ? 'TIMEOUT' : 'PROVIDER_UNAVAILABLE', `SMS provider at ${baseUrl} could not be reached (${reason})`, { cause: error });
}

/** fetch and axios put the socket error code (ECONNREFUSED, ...) on the error or a cause of it. */
function socketReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !isNodeError(current)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.message : String(error);
}

function jsonBody(body: unknown): Record<string, unknown> {
  let value = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { message: (value as string).slice(0, 300) };
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/** `Retry-After` as seconds (delta or HTTP date), or null when absent or unreadable. */
function retryAfterSeconds(value: string | undefined): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
