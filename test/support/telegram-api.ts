// A local Telegram Bot API: a real HTTP server answering `/bot<token>/<method>` the way
// api.telegram.org does, for the methods CampaignOS uses. Tests point a credential's API root
// at it, read what was sent, make it refuse, and make it deliver updates to a webhook.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BotAccount {
  token: string;
  id: number;
  username: string;
  firstName: string;
}

export interface SentMessage {
  chatId: string;
  text: string;
  parseMode?: string;
  /** `link_preview_options.is_disabled`, or the older `disable_web_page_preview`. */
  linkPreviewDisabled: boolean;
  messageId: number;
  botUsername: string;
}

export interface Webhook {
  url: string;
  secretToken?: string;
  allowedUpdates?: string[];
}

export interface TelegramUser {
  id: number;
  username?: string;
  firstName: string;
}

type Answer = { status: number; body: Record<string, unknown> };

const MESSAGE_LIMIT = 4096;

/** Starts the server on a random local port. */
export async function startTelegramApi(): Promise<TelegramApi> {
  const api = new TelegramApi();
  await api.listen();
  return api;
}

export class TelegramApi {
  /** Every request, method names only (`getMe`, `sendMessage`, ...), in order, including refused ones. */
  readonly calls: Array<{ method: string; token: string }> = [];
  private readonly bots = new Map<string, BotAccount>();
  private readonly sent: SentMessage[] = [];
  private readonly webhooks = new Map<string, Webhook>();
  private readonly blocked = new Set<string>();
  private readonly unknown = new Set<string>();
  private rateLimited = { remaining: 0, retryAfter: 1 };
  private failing = { remaining: 0, status: 502 };
  private nextMessageId = 1;
  private nextUpdateId = 1000;
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  port = 0;

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The API root to put in a credential. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Forgets sent messages, calls, blocked and unknown chats and pending refusals (bots and webhooks stay). */
  reset(): void {
    this.sent.length = 0;
    this.calls.length = 0;
    this.blocked.clear();
    this.unknown.clear();
    this.rateLimited = { remaining: 0, retryAfter: 1 };
    this.failing = { remaining: 0, status: 502 };
  }

  /** Registers a bot; only registered tokens are accepted. */
  addBot(bot: { id: number; username: string; firstName?: string; secret?: string }): BotAccount {
    const account = { token: `${bot.id}:${bot.secret ?? 'AAH-test_secret_part-0123456789'}`, id: bot.id, username: bot.username, firstName: bot.firstName ?? bot.username };
    this.bots.set(account.token, account);
    return account;
  }

  /** Messages sent so far, to one chat or to all. */
  messages(chatId?: string | number): SentMessage[] {
    return chatId === undefined ? [...this.sent] : this.sent.filter((m) => m.chatId === String(chatId));
  }

  /** The next `count` calls (any method) answer 429 with `parameters.retry_after`. */
  rateLimitNext(count: number, retryAfter = 1): void {
    this.rateLimited = { remaining: count, retryAfter };
  }

  /** The next `count` calls answer a bare HTTP error (502 by default), as a proxy in front of Telegram would. */
  failNext(count: number, status = 502): void {
    this.failing = { remaining: count, status };
  }

  /** The user of this chat blocked the bot: sends answer 403. */
  block(chatId: string | number): void {
    this.blocked.add(String(chatId));
  }

  /** Telegram does not know this chat: sends answer 400 "chat not found". */
  forget(chatId: string | number): void {
    this.unknown.add(String(chatId));
  }

  webhook(token: string): Webhook | undefined {
    return this.webhooks.get(token);
  }

  /**
   * A user writes `text` to the bot (a private chat whose id is the user's id). The update is
   * POSTed to the registered webhook with the secret token header, as Telegram does.
   * Returns the webhook's HTTP status.
   */
  async userSends(token: string, user: TelegramUser, text: string): Promise<number> {
    const hook = this.webhooks.get(token);
    if (!hook) throw new Error('local Telegram API: no webhook is set for this bot');
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text)?.[0];
    const from = { id: user.id, is_bot: false, first_name: user.firstName, ...(user.username && { username: user.username }) };
    const update = {
      update_id: this.nextUpdateId++,
      message: {
        message_id: this.nextMessageId++,
        from,
        chat: { id: user.id, type: 'private', first_name: user.firstName, ...(user.username && { username: user.username }) },
        date: Math.floor(Date.now() / 1000),
        text,
        ...(command && { entities: [{ type: 'bot_command', offset: 0, length: command.length }] }),
      },
    };
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(hook.secretToken && { 'x-telegram-bot-api-secret-token': hook.secretToken }) },
      body: JSON.stringify(update),
    });
    await response.arrayBuffer();
    return response.status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = (a: Answer) => {
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    };
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!match) return answer(fail(404, 'Not Found'));
    const token = decodeURIComponent(match[1]!);
    const method = match[2]!;
    this.calls.push({ method, token });
    let params: Record<string, unknown>;
    try {
      params = { ...Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams), ...(await readParams(req)) };
    } catch {
      return answer(fail(400, 'Bad Request: invalid request body'));
    }

    if (this.failing.remaining > 0) {
      this.failing.remaining--;
      res.writeHead(this.failing.status, { 'content-type': 'text/html' });
      return void res.end('<html><body>Bad Gateway</body></html>');
    }
    const bot = this.bots.get(token);
    if (!bot) return answer(fail(401, 'Unauthorized'));
    if (this.rateLimited.remaining > 0) {
      this.rateLimited.remaining--;
      const retryAfter = this.rateLimited.retryAfter;
      return answer({ status: 429, body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } } });
    }

    switch (method) {
      case 'getMe':
        return answer(ok({ id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }));
      case 'setWebhook': {
        const url = String(params.url ?? '');
        if (!url) {
          this.webhooks.delete(token);
          return answer(ok(true, 'Webhook was deleted'));
        }
        if (!/^https?:\/\//.test(url)) return answer(fail(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook'));
        const secretToken = params.secret_token === undefined ? undefined : String(params.secret_token);
        if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) return answer(fail(400, 'Bad Request: secret token contains unallowed characters'));
        const allowed = typeof params.allowed_updates === 'string' ? (JSON.parse(params.allowed_updates) as string[]) : (params.allowed_updates as string[] | undefined);
        this.webhooks.set(token, { url, secretToken, allowedUpdates: allowed });
        return answer(ok(true, 'Webhook was set'));
      }
      case 'deleteWebhook':
        this.webhooks.delete(token);
        return answer(ok(true, 'Webhook was deleted'));
      case 'sendMessage': {
        const chatId = params.chat_id === undefined ? '' : String(params.chat_id);
        const text = params.text === undefined ? '' : String(params.text);
        if (!chatId) return answer(fail(400, 'Bad Request: chat_id is empty'));
        if (!text) return answer(fail(400, 'Bad Request: message text is empty'));
        if (text.length > MESSAGE_LIMIT) return answer(fail(400, 'Bad Request: message is too long'));
        if (this.unknown.has(chatId)) return answer(fail(400, 'Bad Request: chat not found'));
        if (this.blocked.has(chatId)) return answer(fail(403, 'Forbidden: bot was blocked by the user'));
        const parseMode = params.parse_mode === undefined ? undefined : String(params.parse_mode);
        if (parseMode !== undefined && !['HTML', 'MarkdownV2', 'Markdown'].includes(parseMode)) return answer(fail(400, `Bad Request: unsupported parse_mode "${parseMode}"`));
        const preview = typeof params.link_preview_options === 'string' ? JSON.parse(params.link_preview_options) : params.link_preview_options;
        const linkPreviewDisabled = (preview as { is_disabled?: unknown } | undefined)?.is_disabled === true || params.disable_web_page_preview === true || params.disable_web_page_preview === 'true';
        const messageId = this.nextMessageId++;
        this.sent.push({ chatId, text, parseMode, linkPreviewDisabled, messageId, botUsername: bot.username });
        return answer(ok({ message_id: messageId, from: { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username }, chat: { id: Number(chatId) || chatId, type: 'private' }, date: Math.floor(Date.now() / 1000), text }));
      }
      default:
        return answer(fail(404, 'Not Found: method not found'));
    }
  }
}

function ok(result: unknown, description?: string): Answer {
  return { status: 200, body: { ok: true, result, ...(description && { description }) } };
}

function fail(code: number, description: string): Answer {
  return { status: code, body: { ok: false, error_code: code, description } };
}

/** JSON, urlencoded or multipart bodies (text fields), as telegraf and other clients send them. */
async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
  if (type.includes('multipart/form-data') && boundary) {
    const fields: Record<string, unknown> = {};
    for (const part of raw.split(`--${boundary}`)) {
      const [head, ...body] = part.split('\r\n\r\n');
      const name = /name="([^"]+)"/.exec(head ?? '')?.[1];
      if (name && !/filename=/.test(head ?? '')) fields[name] = body.join('\r\n\r\n').replace(/\r\n$/, '');
    }
    return fields;
  }
  throw new Error(`unsupported content type ${type}`);
}
