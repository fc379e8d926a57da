// A real HTTP server that answers like Slack's incoming webhooks, for tests and the n8n harness.
// Run it alone with `node --import tsx test/support/slack-webhook.ts [port]`: it prints the
// webhook URL, then one JSON line per message it accepts; GET /__messages lists them too.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface SlackPost {
  /** The webhook path it was posted to (`/services/T.../B.../<token>`). */
  path: string;
  body: { text?: string; channel?: string; username?: string; icon_emoji?: string; [key: string]: unknown };
  receivedAt: Date;
}

/** A canned answer for the next post, e.g. `{ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } }`. */
export interface SlackAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface SlackWebhook {
  /** The one webhook URL this server knows; any other path answers `404 no_service`, as Slack does. */
  webhookUrl: string;
  baseUrl: string;
  port: number;
  /** Posts Slack accepted (answered `200 ok`), in order. Refused posts are not here. */
  messages: SlackPost[];
  /** Every request and the status it got, accepted or not, whatever the path. */
  requests: Array<{ method: string; path: string; status: number }>;
  /** How many posts arrived at the known webhook, accepted or not. */
  attempts(): number;
  /** Queues answers for the next posts to the known webhook, before normal handling resumes. */
  answerNext(...answers: SlackAnswer[]): void;
  /** Resolves once `count` messages were accepted (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SlackPost[]>;
  close(): Promise<void>;
}

export const SLACK_MAX_TEXT = 40_000;

export async function startSlackWebhook(options: { port?: number; token?: string; channels?: string[] } = {}): Promise<SlackWebhook> {
  const path = `/services/T00000000/B00000000/${options.token ?? 'XXXXXXXXXXXXXXXXXXXXXXXX'}`;
  const messages: SlackPost[] = [];
  const queued: SlackAnswer[] = [];
  const waiters: Array<() => void> = [];
  const requests: SlackWebhook['requests'] = [];

  const answer = (res: ServerResponse, { status, body, headers }: SlackAnswer) => {
    requests.push({ method: res.req.method ?? '', path: res.req.url ?? '', status });
    res.writeHead(status, { 'content-type': 'text/html', ...headers });
    res.end(body);
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    if (req.method === 'GET' && req.url === '/__messages') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(messages));
    }
    if (req.method !== 'POST' || req.url !== path) return answer(res, { status: 404, body: 'no_service' });
    const next = queued.shift();
    if (next) return answer(res, next);
    let body: SlackPost['body'];
    try {
      body = JSON.parse(raw) as SlackPost['body'];
    } catch {
      return answer(res, { status: 400, body: 'invalid_payload' });
    }
    if (typeof body.text !== 'string' || body.text === '') return answer(res, { status: 400, body: 'no_text' });
    if ([...body.text].length > SLACK_MAX_TEXT) return answer(res, { status: 400, body: 'msg_too_long' });
    if (body.channel !== undefined && options.channels && !options.channels.includes(body.channel)) {
      return answer(res, { status: 404, body: 'channel_not_found' });
    }
    const post: SlackPost = { path, body, receivedAt: new Date() };
    messages.push(post);
    if (require.main === module) process.stdout.write(`${JSON.stringify(post)}\n`);
    answer(res, { status: 200, body: 'ok' });
    waiters.splice(0).forEach((w) => w());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    webhookUrl: `${baseUrl}${path}`,
    baseUrl,
    port,
    messages,
    requests,
    attempts: () => requests.filter((r) => r.method === 'POST' && r.path === path).length,
    answerNext: (...answers) => void queued.push(...answers),
    async waitFor(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`Slack stand-in: ${messages.length} of ${count} messages after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => (clearTimeout(timer), resolve()));
        });
      }
      return messages.slice(0, count);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

if (require.main === module) {
  const port = Number(process.argv[2] ?? 0);
  void startSlackWebhook({ port }).then((slack) => {
    process.stdout.write(`Slack stand-in listening; webhook URL: ${slack.webhookUrl}\n`);
  });
}
