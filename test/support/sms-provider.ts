import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message the provider accepted. */
export interface ReceivedSms {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  receivedAt: number;
}

/** One request to the Messages endpoint, accepted or not. */
export interface SmsAttempt {
  at: number;
  status: number;
  to: string | null;
}

/** One status callback the provider posted, with the answer it got. */
export interface StatusCallbackDelivery {
  url: string;
  messageSid: string;
  status: string;
  /** HTTP status of the answer, or 0 when the callback URL could not be reached. */
  answer: number;
}

export interface SmsProvider {
  /** Base URL for the credential: `http://127.0.0.1:<port>`. */
  url: string;
  accountSid: string;
  authToken: string;
  messages: ReceivedSms[];
  attempts: SmsAttempt[];
  callbacks: StatusCallbackDelivery[];
  /** Answer the next `count` message requests with 429 (Twilio error 20429). */
  rateLimit(count: number, retryAfterSeconds?: number): void;
  /** While down, every request gets 503. */
  setDown(down: boolean): void;
  /** Resolves once `count` messages were accepted. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedSms[]>;
  close(): Promise<void>;
}

const API_VERSION = '2010-04-01';
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * A real HTTP server speaking Twilio's Messages API: `POST /2010-04-01/Accounts/{sid}/Messages.json`
 * (form-encoded To, From or MessagingServiceSid, Body, StatusCallback; HTTP Basic auth with the
 * account SID and auth token) and `GET /2010-04-01/Accounts/{sid}.json` (n8n's credential
 * test). Answers and errors are Twilio-shaped. After accepting a message with a StatusCallback
 * it posts `sent`, then `delivered`, form-encoded and signed (`X-Twilio-Signature`) as Twilio does.
 */
export async function startSmsProvider(options: { accountSid?: string; authToken?: string; callbackDelayMs?: number } = {}): Promise<SmsProvider> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const callbackDelayMs = options.callbackDelayMs ?? 50;
  const messages: ReceivedSms[] = [];
  const attempts: SmsAttempt[] = [];
  const callbacks: StatusCallbackDelivery[] = [];
  const waiters: Array<() => void> = [];
  const pendingCallbacks = new Set<Promise<void>>();
  let rateLimited = 0;
  let retryAfter = 1;
  let down = false;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, 500, twilioError(500, 20500, `Internal error: ${error.message}`)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://provider').pathname;
    const account = new RegExp(`^/${API_VERSION}/Accounts/([^/]+)\\.json$`).exec(path);
    const messagesPath = new RegExp(`^/${API_VERSION}/Accounts/([^/]+)/Messages\\.json$`).exec(path);
    const raw = await readBody(req);
    if (down) return send(res, 503, twilioError(503, 20503, 'Service Unavailable'));
    if (!account && !messagesPath) return send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
    const pathSid = decodeURIComponent((account ?? messagesPath)![1]!);

    if (!authorised(req.headers.authorization, pathSid)) {
      if (messagesPath) attempts.push({ at: Date.now(), status: 401, to: null });
      res.setHeader('www-authenticate', 'Basic realm="Twilio API"');
      return send(res, 401, twilioError(401, 20003, 'Authenticate'));
    }
    if (account) {
      if (req.method !== 'GET') return send(res, 405, twilioError(405, 20004, 'Method not allowed'));
      return send(res, 200, { sid: accountSid, friendly_name: 'Local test account', status: 'active', type: 'Full' });
    }
    if (req.method !== 'POST') return send(res, 405, twilioError(405, 20004, 'Method not allowed'));

    const form = new URLSearchParams(raw);
    const to = form.get('To');
    const attempt: SmsAttempt = { at: Date.now(), status: 0, to };
    attempts.push(attempt);
    const answer = (status: number, body: unknown) => {
      attempt.status = status;
      send(res, status, body);
    };
    if (rateLimited > 0) {
      rateLimited--;
      res.setHeader('retry-after', String(retryAfter));
      return answer(429, twilioError(429, 20429, 'Too Many Requests'));
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return answer(400, twilioError(400, 20001, 'Parameters must be form-encoded (application/x-www-form-urlencoded)'));
    }
    const from = form.get('From');
    const service = form.get('MessagingServiceSid');
    const body = form.get('Body') ?? '';
    const statusCallback = form.get('StatusCallback');
    if (!to) return answer(400, twilioError(400, 21604, "A 'To' phone number is required."));
    if (!E164.test(to)) return answer(400, twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`));
    if (!from && !service) return answer(400, twilioError(400, 21603, "A 'From' phone number is required."));
    if (service && !/^MG[0-9a-fA-F]{32}$/.test(service)) return answer(400, twilioError(400, 21701, 'The Messaging Service Sid is invalid.'));
    if (from && !E164.test(from) && !/^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(from)) {
      return answer(400, twilioError(400, 21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`));
    }
    if (!body.trim()) return answer(400, twilioError(400, 21602, 'Message body is required.'));
    if (body.length > 1600) return answer(400, twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.'));
    if (statusCallback && !/^https?:\/\//.test(statusCallback)) return answer(400, twilioError(400, 21609, 'Invalid StatusCallback URL.'));

    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date().toUTCString().replace('GMT', '+0000');
    messages.push({ sid, to, from, messagingServiceSid: service, body, statusCallback, receivedAt: Date.now() });
    for (const wake of waiters.splice(0)) wake();
    answer(201, {
      sid,
      account_sid: accountSid,
      api_version: API_VERSION,
      to,
      from: service ? null : from,
      messaging_service_sid: service,
      body,
      status: service ? 'accepted' : 'queued',
      direction: 'outbound-api',
      num_segments: String(segments(body)),
      num_media: '0',
      price: null,
      price_unit: 'USD',
      error_code: null,
      error_message: null,
      date_created: now,
      date_updated: now,
      date_sent: null,
      uri: `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}.json`,
    });
    if (statusCallback) {
      const reporting = reportStatuses(statusCallback, { sid, to, from: from ?? service ?? '' });
      pendingCallbacks.add(reporting);
      void reporting.finally(() => pendingCallbacks.delete(reporting));
    }
  }

  function authorised(header: string | undefined, pathSid: string): boolean {
    const match = /^Basic (.+)$/i.exec(header ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 && decoded.slice(0, colon) === accountSid && decoded.slice(colon + 1) === authToken && pathSid === accountSid;
  }

  async function reportStatuses(url: string, message: { sid: string; to: string; from: string }): Promise<void> {
    for (const status of ['sent', 'delivered']) {
      await new Promise((r) => setTimeout(r, callbackDelayMs));
      const params = new URLSearchParams({
        AccountSid: accountSid,
        ApiVersion: API_VERSION,
        From: message.from,
        To: message.to,
        MessageSid: message.sid,
        SmsSid: message.sid,
        MessageStatus: status,
        SmsStatus: status,
      });
      let answer = 0;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature(url, params) },
          body: params.toString(),
        });
        answer = response.status;
        await response.arrayBuffer();
      } catch {
        answer = 0;
      }
      callbacks.push({ url, messageSid: message.sid, status, answer });
    }
  }

  // Twilio's request signature: HMAC-SHA1 over the URL and the sorted POST parameters.
  function signature(url: string, params: URLSearchParams): string {
    const data = url + [...params.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => k + v).join('');
    return createHmac('sha1', authToken).update(data).digest('base64');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    attempts,
    callbacks,
    rateLimit(count, seconds = 1) {
      rateLimited = count;
      retryAfter = seconds;
    },
    setDown(value) {
      down = value;
    },
    async waitFor(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`SMS provider: expected ${count} messages, got ${messages.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return messages.slice(0, count);
    },
    async close() {
      await Promise.allSettled([...pendingCallbacks]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('request body over 64 KB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Segments as a carrier counts them, roughly: 160/153 characters for plain text, 70/67 otherwise. */
function segments(body: string): number {
  const gsm = /^[\x20-\x7e\n\r]*$/.test(body);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return body.length <= single ? 1 : Math.ceil(body.length / part);
}
