import { createHash } from 'node:crypto';
import { Telegraf } from 'telegraf';
import { NodeError, type NodeErrorCode } from '@campaignos/sdk';

/** The `campaignOsTelegramApi` credential, checked once when it is read. */
export interface TelegramCredentials {
  token: string;
  /** Always ends with `/`, so a path prefix (`https://proxy.example/tg/`) survives URL resolution. */
  apiRoot: string;
}

export const DEFAULT_API_ROOT = 'https://api.telegram.org';

/** What Telegram answers for a message it refuses: `error_code`, `description`, `parameters`. */
interface TelegramErrorResponse {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export interface BotProfile {
  id: number;
  username: string;
  firstName: string;
}

const MAX_CLIENTS = 50;

interface CachedClient {
  bot: Telegraf;
  profile?: Promise<BotProfile>;
}

const clients = new Map<string, CachedClient>();

// Errors that mean "this chat will never take a message again": the node forgets the address.
const goneChats = new WeakSet<NodeError>();

/**
 * Validates raw credential data. Throws `INVALID_CREDENTIALS` naming the field, never its value.
 */
export function parseTelegramCredentials(raw: Record<string, unknown>): TelegramCredentials {
  const token = typeof raw.token === 'string' ? raw.token.trim() : '';
  if (!token) throw new NodeError('INVALID_CREDENTIALS', 'Telegram credentials have no bot token');
  // A token is "<bot id>:<secret>"; anything else would also change the request path.
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(token)) {
    throw new NodeError('INVALID_CREDENTIALS', 'The Telegram bot token is malformed: expected "<digits>:<letters, digits, _ or ->" as @BotFather gives it');
  }
  const rawRoot = typeof raw.apiRoot === 'string' && raw.apiRoot.trim() ? raw.apiRoot.trim() : DEFAULT_API_ROOT;
  let url: URL;
  try {
    url = new URL(rawRoot);
  } catch {
    throw new NodeError('INVALID_CREDENTIALS', `Telegram API root "${rawRoot.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new NodeError('INVALID_CREDENTIALS', `Telegram API root must be an http(s) URL, got "${url.protocol}"`);
  }
  url.search = '';
  url.hash = '';
  const apiRoot = url.toString().endsWith('/') ? url.toString() : `${url.toString()}/`;
  return { token, apiRoot };
}

/**
 * The Telegraf instance for these credentials, created once and reused: one client (and one
 * keep-alive agent for https) per bot, not per message.
 */
export function telegramClient(credentials: TelegramCredentials): Telegraf {
  return cached(credentials).bot;
}

/** A fresh Telegraf instance (for update handling, where handlers are attached to it). */
export function createTelegramBot(credentials: TelegramCredentials): Telegraf {
  return new Telegraf(credentials.token, { telegram: { apiRoot: credentials.apiRoot } });
}

/**
 * The bot's own profile from `getMe`, cached per bot. A failed call is not cached.
 * Failures are thrown as NodeErrors (see `toTelegramNodeError`).
 */
export function botProfile(credentials: TelegramCredentials): Promise<BotProfile> {
  const entry = cached(credentials);
  if (!entry.profile) {
    const loading = entry.bot.telegram.getMe().then(
      (me) => ({ id: me.id, username: me.username, firstName: me.first_name }),
      (error: unknown) => {
        throw toTelegramNodeError(error, credentials.token);
      },
    );
    entry.profile = loading;
    loading.catch(() => {
      if (entry.profile === loading) entry.profile = undefined;
    });
  }
  return entry.profile;
}

/** Forgets every cached client (tests, shutdown). */
export function closeTelegramClients(): void {
  clients.clear();
}

/** How many clients are cached; one per distinct bot. */
export function telegramClientCount(): number {
  return clients.size;
}

function cached(credentials: TelegramCredentials): CachedClient {
  // The key is a hash: the token is a secret and must not sit in memory dumps as a map key twice.
  const key = createHash('sha256').update(`${credentials.apiRoot}\u0000${credentials.token}`).digest('hex');
  const existing = clients.get(key);
  if (existing) {
    clients.delete(key);
    clients.set(key, existing);
    return existing;
  }
  if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
  const entry: CachedClient = { bot: createTelegramBot(credentials) };
  clients.set(key, entry);
  return entry;
}

/** Replaces the bot token (and its path form) wherever it appears in a text. */
export function scrubToken(text: string, token?: string): string {
  let out = text;
  if (token) {
    out = out.split(token).join('[bot token]');
    const encoded = encodeURIComponent(token);
    if (encoded !== token) out = out.split(encoded).join('[bot token]');
  }
  // Any other token-shaped path segment (a URL in a nested error), whatever the token.
  return out.replace(/\/(bot|user)\d+:[A-Za-z0-9_-]+/g, '/$1[bot token]');
}

/** True when the error says the chat will never accept a message again (blocked, deactivated, kicked). */
export function isChatGone(error: unknown): boolean {
  return error instanceof Error && goneChats.has(error as NodeError);
}

/**
 * Maps what telegraf throws to a NodeError. `TelegramError` carries Telegram's answer
 * (`error_code`, `description`, `parameters.retry_after`); network failures come from
 * node-fetch. The bot token never reaches the message.
 */
export function toTelegramNodeError(error: unknown, token?: string): NodeError {
  const telegram = telegramResponse(error);
  if (telegram) {
    const { error_code: code, description } = telegram;
    const text = scrubToken(`Telegram answered ${code}: ${description}`, token);
    // The original error is not kept as the cause: its message may hold the request URL.
    const make = (nodeCode: NodeErrorCode, message = text, extra: { description?: string; retryable?: boolean; retryAfterMs?: number } = {}) =>
      new NodeError(nodeCode, message, extra);
    if (code === 401 || code === 404) {
      return make('INVALID_CREDENTIALS', `Telegram rejected the bot token (${code} ${scrubToken(description, token)}); check the credential's token and API root`);
    }
    if (code === 429) {
      const retryAfter = telegram.parameters?.retry_after;
      return make('RATE_LIMITED', retryAfter === undefined ? text : `${text} (retry after ${retryAfter} s)`, {
        description: retryAfter === undefined ? undefined : `retry_after=${retryAfter}`,
        ...(retryAfter !== undefined && { retryAfterMs: retryAfter * 1000 }),
      });
    }
    if (code >= 500) return make('PROVIDER_UNAVAILABLE');
    if (code === 403) {
      const gone = make('RECIPIENT_INVALID', `${text}: the chat no longer accepts messages from this bot`);
      goneChats.add(gone);
      return gone;
    }
    if (code === 400) {
      if (/message is too long|text is too long/i.test(description)) return make('MESSAGE_TOO_LARGE');
      if (/chat not found|user not found|chat_id is empty|peer_id_invalid|group chat was upgraded/i.test(description)) return make('RECIPIENT_INVALID');
      if (/can't parse entities|can't find end of/i.test(description)) {
        return make('TEMPLATE_INVALID', `${text}; escape the text for the chosen parse mode`);
      }
      if (/message text is empty/i.test(description)) return make('INVALID_PARAMETER');
    }
    return make('PROVIDER_REJECTED');
  }

  const e = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; type?: unknown; code?: unknown; message?: unknown };
  const message = scrubToken(typeof e.message === 'string' ? e.message : String(error), token);
  if (e.name === 'FetchError' || e.name === 'AbortError' || typeof e.code === 'string') {
    // A 4xx answer that is not JSON: the API root points at something that is not a Bot API.
    if (e.type === 'invalid-json') {
      return new NodeError('PROVIDER_REJECTED', `The Telegram API root did not answer like a Bot API: ${message}`);
    }
    return new NodeError('PROVIDER_UNAVAILABLE', `Telegram could not be reached: ${message}`);
  }
  return new NodeError('INTERNAL', message);
}

function telegramResponse(error: unknown): TelegramErrorResponse | null {
  if (typeof error !== 'object' || error === null) return null;
  const response = (error as { response?: unknown }).response;
  if (typeof response !== 'object' || response === null) return null;
  const r = response as Partial<TelegramErrorResponse>;
  if (typeof r.error_code !== 'number') return null;
  return { error_code: r.error_code, description: typeof r.description === 'string' ? r.description : '', parameters: r.parameters };
}
