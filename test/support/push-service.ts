import { createECDH, createPublicKey, randomBytes, randomUUID, verify, type ECDH } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';

// http_ece ships no types; this is the part of its API the push service uses.
const ece = require('http_ece') as { decrypt(buffer: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer };

/** A subscription as the browser's `PushSubscription.toJSON()` gives it. */
export interface BrowserSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  subscriptionId: string;
  endpoint: string;
  /** The decrypted payload. */
  payload: string;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  /** The VAPID public key (`k=`) the sender signed with, and the JWT's claims. */
  vapid: { publicKey: string; aud: string; sub: string; exp: number };
}

export interface RejectedPush {
  subscriptionId: string;
  status: number;
  reason: string;
}

interface Subscription {
  id: string;
  ecdh: ECDH;
  auth: string;
  applicationServerKey: string | undefined;
  gone: boolean;
}

export interface PushService {
  /** `https://127.0.0.1:<port>`: the `aud` a VAPID JWT for this service must carry. */
  origin: string;
  /** The self-signed certificate (PEM) the service presents. */
  certificate: string;
  /** An HTTPS agent that trusts the certificate (for clients that take an agent). */
  agent: https.Agent;
  /** Pushes accepted and decrypted, in arrival order. */
  received: ReceivedPush[];
  /** Requests refused, with the status and why (a failed VAPID check says which part failed). */
  rejected: RejectedPush[];
  /**
   * A browser subscribing: a P-256 key pair and a 16-byte auth secret kept here, the public
   * parts handed out. With `applicationServerKey`, pushes signed by any other VAPID key get 403.
   */
  subscribe(options?: { applicationServerKey?: string }): BrowserSubscription;
  /** From now on, answer 410 Gone for this subscription (the browser dropped it). */
  expire(endpoint: string): void;
  /** Answer the next `count` pushes with 429 Too Many Requests and `Retry-After`. */
  rateLimit(count: number, retryAfterSeconds?: number): void;
  /** Answer the next `count` pushes with `status` (a 500 or 503 outage, a 413). */
  failNext(count: number, status: number): void;
  /** Resolves once `count` pushes were accepted in total. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedPush[]>;
  /**
   * Writes the certificate as PEM, for a process that must trust it from its start:
   * `NODE_EXTRA_CA_CERTS=<path> n8n ...`. Returns the path.
   */
  writeCertificate(path: string): string;
  /**
   * Makes `https.globalAgent` (which web-push uses when given no agent) trust the certificate
   * besides the usual roots, in this process. Returns a function that undoes it.
   */
  trustInThisProcess(): () => void;
  close(): Promise<void>;
}

/**
 * A local web push service over real HTTPS (RFC 8030): `POST /push/<id>` checks the VAPID
 * `Authorization: vapid t=<jwt>, k=<key>` header (RFC 8292: ES256 signature, `aud` = this
 * origin, unexpired), decrypts the `aes128gcm` body (RFC 8291) with the subscription's private
 * key and auth secret, and records the payload.
 */
export async function startPushService(): Promise<PushService> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const subscriptions = new Map<string, Subscription>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  const waiters: Array<() => void> = [];
  let throttle = { remaining: 0, retryAfter: 1 };
  let outage = { remaining: 0, status: 503 };
  let origin = '';

  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, reason: string, headers: Record<string, string> = {}) => {
        if (status >= 300) rejected.push({ subscriptionId: id, status, reason });
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(status >= 300 ? JSON.stringify({ code: status, message: reason }) : '');
      };
      const match = /^\/push\/([\w-]+)$/.exec(req.url ?? '');
      const id = match?.[1] ?? '';
      if (req.method !== 'POST' || !match) return answer(404, 'no such endpoint');
      const subscription = subscriptions.get(id);
      if (!subscription) return answer(404, 'no such subscription');
      if (subscription.gone) return answer(410, 'subscription expired');
      if (outage.remaining > 0) {
        outage.remaining--;
        return answer(outage.status, 'failing on request of the test');
      }
      if (throttle.remaining > 0) {
        throttle.remaining--;
        return answer(429, 'too many requests', { 'retry-after': String(throttle.retryAfter) });
      }

      const vapid = checkVapid(req.headers.authorization, origin);
      if (typeof vapid === 'string') return answer(401, vapid);
      if (subscription.applicationServerKey && vapid.publicKey !== subscription.applicationServerKey) {
        return answer(403, 'VAPID key differs from the applicationServerKey of the subscription');
      }
      const ttl = Number(req.headers.ttl);
      if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return answer(400, 'missing or invalid TTL header');
      if (req.headers['content-encoding'] !== 'aes128gcm') return answer(415, `unsupported Content-Encoding ${req.headers['content-encoding']}`);
      const body = Buffer.concat(chunks);
      if (body.length > 4096) return answer(413, `payload of ${body.length} bytes exceeds 4096`);
      let payload: string;
      try {
        payload = ece.decrypt(body, { version: 'aes128gcm', privateKey: subscription.ecdh, authSecret: subscription.auth }).toString('utf8');
      } catch (error) {
        return answer(400, `cannot decrypt: ${(error as Error).message}`);
      }
      received.push({
        subscriptionId: id,
        endpoint: `${origin}/push/${id}`,
        payload,
        ttl,
        urgency: header(req.headers.urgency),
        topic: header(req.headers.topic),
        vapid,
      });
      answer(201, 'created', { location: `${origin}/message/${randomUUID()}` });
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new https.Agent({ ca: [...tls.rootCertificates, pems.cert] });

  return {
    origin,
    certificate: pems.cert,
    agent,
    received,
    rejected,
    subscribe(options = {}) {
      const id = randomBytes(12).toString('base64url');
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16).toString('base64url');
      subscriptions.set(id, { id, ecdh, auth, applicationServerKey: options.applicationServerKey, gone: false });
      return { endpoint: `${origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth } };
    },
    expire(endpoint) {
      const subscription = subscriptions.get(endpoint.slice(endpoint.lastIndexOf('/') + 1));
      if (!subscription) throw new Error(`push service: no subscription ${endpoint}`);
      subscription.gone = true;
    },
    rateLimit(count, retryAfterSeconds = 1) {
      throttle = { remaining: count, retryAfter: retryAfterSeconds };
    },
    failNext(count, status) {
      outage = { remaining: count, status };
    },
    async waitFor(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`push service: ${received.length} of ${count} pushes arrived; refused: ${JSON.stringify(rejected)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received.slice(0, count);
    },
    writeCertificate(path) {
      writeFileSync(path, pems.cert);
      return path;
    },
    trustInThisProcess() {
      const options = https.globalAgent.options;
      const previous = options.ca;
      options.ca = [...tls.rootCertificates, pems.cert];
      return () => {
        if (previous === undefined) delete options.ca;
        else options.ca = previous;
      };
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** RFC 8292: returns the key and claims, or a sentence saying what is wrong. */
function checkVapid(authorization: string | undefined, origin: string): ReceivedPush['vapid'] | string {
  const match = /^vapid\s+(.+)$/i.exec(authorization ?? '');
  if (!match) return 'missing "Authorization: vapid t=..., k=..." header';
  const params = new Map(match[1]!.split(',').map((part) => {
    const [name, ...value] = part.trim().split('=');
    return [name!.trim(), value.join('=').trim()] as const;
  }));
  const token = params.get('t');
  const k = params.get('k');
  if (!token || !k) return 'VAPID header lacks t= or k=';
  const key = Buffer.from(k, 'base64url');
  if (key.length !== 65 || key[0] !== 0x04) return 'VAPID k= is not an uncompressed P-256 public key';
  const [header, claims, signature] = token.split('.');
  if (!header || !claims || !signature) return 'VAPID t= is not a JWT';
  let parsedHeader: { alg?: string };
  let parsedClaims: { aud?: string; sub?: string; exp?: number };
  try {
    parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    parsedClaims = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
  } catch {
    return 'VAPID JWT is not JSON';
  }
  if (parsedHeader.alg !== 'ES256') return `VAPID JWT alg is ${parsedHeader.alg}, not ES256`;
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: key.subarray(1, 33).toString('base64url'), y: key.subarray(33).toString('base64url') },
    format: 'jwk',
  });
  const valid = verify('sha256', Buffer.from(`${header}.${claims}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!valid) return 'VAPID JWT signature does not verify against k=';
  if (parsedClaims.aud !== origin) return `VAPID JWT aud is ${parsedClaims.aud}, expected ${origin}`;
  const now = Math.floor(Date.now() / 1000);
  if (typeof parsedClaims.exp !== 'number' || parsedClaims.exp <= now || parsedClaims.exp > now + 24 * 3600) return 'VAPID JWT exp is missing, past or more than 24 h ahead';
  if (typeof parsedClaims.sub !== 'string' || !/^(mailto:|https:)/.test(parsedClaims.sub)) return 'VAPID JWT sub is not a mailto: or https: URI';
  return { publicKey: k, aud: parsedClaims.aud, sub: parsedClaims.sub, exp: parsedClaims.exp };
}
