import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { Telegraf } from 'telegraf';
import {
  botProfile,
  createTelegramBot,
  parseTelegramCredentials,
  toTelegramNodeError,
  TELEGRAM_CHANNEL,
  TELEGRAM_CREDENTIAL_TYPE,
  type TelegramCredentials,
} from '@campaignos/n8n-nodes-telegram';
import { isNodeError } from '@campaignos/sdk';
import type { Logger } from '../../logger.js';
import { isUuid, type CredentialInfo, type Store } from '../../store/index.js';
import { requireApiKey } from '../auth.js';
import { ApiError, validationError } from '../errors.js';

// Linking a Telegram chat to a contact: the API hands out a t.me link carrying a signed start
// token; the user opens it and presses Start; Telegram posts `/start <token>` to the webhook;
// the runtime verifies the token and stores the chat as the contact's `telegram` address.

/** How long a link stays valid. */
export const TELEGRAM_LINK_TTL_SECONDS = 7 * 24 * 3600;

const REPLIES = {
  subscribed: 'You are subscribed: our messages will arrive in this chat. Send /stop to unsubscribe.',
  invalid: 'Sorry, this link is invalid or has expired. Please ask for a new one.',
  noToken: 'Hello! To receive our messages here, please open the subscription link you were given.',
  stopped: 'You are unsubscribed: you will not get messages from us in this chat any more.',
  notSubscribed: 'This chat is not subscribed to any messages.',
} as const;

const LinkInput = z.object({ credential: z.string().min(1).max(200) }).strict();

export interface TelegramRoutesOptions {
  store: Store;
  secret: string;
  logger: Logger;
  /** The runtime's public base URL (PUBLIC_URL); unset: the URL the API was called on. */
  publicUrl?: () => string | undefined;
}

/**
 * The Telegram link flow. Registered on the app (not under the API-key router) because the
 * updates endpoint is called by Telegram, authenticated by the webhook's secret token instead.
 */
export function telegramRoutes(options: TelegramRoutesOptions): Router {
  const { store, secret, logger } = options;
  const router = Router();
  const auth = requireApiKey(store);
  const json = express.json({ limit: '1mb', strict: true });
  const bots = new UpdateBots(store, secret, logger);

  router.post('/v1/contacts/:id/telegram-link', auth, json, async (req, res) => {
    const parsed = LinkInput.safeParse(req.body ?? {});
    if (!parsed.success) throw validationError(parsed.error, 'Telegram link request');
    const contact = await store.contacts.get(req.workspaceId, String(req.params.id));
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${String(req.params.id)} in this workspace`);
    const { info, credentials } = await botCredential(store, req.workspaceId, parsed.data.credential);
    const profile = await callTelegram(() => botProfile(credentials), info);
    const expiresAt = Math.floor(Date.now() / 1000) + TELEGRAM_LINK_TTL_SECONDS;
    const token = signStartToken({ workspaceId: req.workspaceId, credentialId: info.id, contactId: contact.id, expiresAt }, secret);
    res.status(201).json({
      token,
      url: `https://t.me/${profile.username}?start=${token}`,
      bot: { username: profile.username },
      expiresAt: new Date(expiresAt * 1000).toISOString(),
    });
  });

  router.post('/v1/telegram/:credentialId/webhook', auth, async (req, res) => {
    const { info, credentials } = await botCredential(store, req.workspaceId, String(req.params.credentialId));
    const url = `${baseUrl(req, options.publicUrl)}/v1/telegram/${info.id}/updates`;
    const bot = createTelegramBot(credentials);
    await callTelegram(
      () => bot.telegram.setWebhook(url, { secret_token: webhookSecret(info.id, secret), allowed_updates: ['message'] }),
      info,
    );
    res.json({ webhook: { url, credential: { id: info.id, name: info.name } } });
  });

  router.delete('/v1/telegram/:credentialId/webhook', auth, async (req, res) => {
    const { info, credentials } = await botCredential(store, req.workspaceId, String(req.params.credentialId));
    await callTelegram(() => createTelegramBot(credentials).telegram.deleteWebhook(), info);
    res.json({ webhook: null });
  });

  router.post('/v1/telegram/:credentialId/updates', json, async (req, res) => {
    const credentialId = String(req.params.credentialId);
    const given = req.headers['x-telegram-bot-api-secret-token'];
    if (typeof given !== 'string' || !isUuid(credentialId) || !safeEqual(given, webhookSecret(credentialId, secret))) {
      throw new ApiError(401, 'UNAUTHORIZED', 'Missing or wrong X-Telegram-Bot-Api-Secret-Token');
    }
    const update = req.body as unknown;
    if (typeof update !== 'object' || update === null || typeof (update as { update_id?: unknown }).update_id !== 'number') {
      throw new ApiError(400, 'VALIDATION_FAILED', 'Not a Telegram update');
    }
    const bot = await bots.forCredential(credentialId);
    if (!bot) throw new ApiError(404, 'NOT_FOUND', 'No Telegram bot credential with this id');
    // An error here answers 500, so Telegram delivers the update again later.
    await bot.handleUpdate(update as Parameters<Telegraf['handleUpdate']>[0]);
    res.json({ ok: true });
  });

  return router;
}

/**
 * One Telegraf instance per bot credential for incoming updates, with the /start and /stop
 * handlers bound to that credential's workspace. Rebuilt when the credential's token changes.
 */
class UpdateBots {
  private readonly bots = new Map<string, { fingerprint: string; bot: Telegraf }>();

  constructor(
    private readonly store: Store,
    private readonly secret: string,
    private readonly logger: Logger,
  ) {}

  async forCredential(credentialId: string): Promise<Telegraf | null> {
    const row = await this.store.db('credentials').where({ id: credentialId, type: TELEGRAM_CREDENTIAL_TYPE }).first('workspace_id');
    if (!row) return null;
    const workspaceId = row.workspace_id as string;
    const data = await this.store.credentials.data(workspaceId, credentialId);
    if (!data) return null;
    let credentials: TelegramCredentials;
    try {
      credentials = parseTelegramCredentials(data);
    } catch {
      return null;
    }
    const fingerprint = createHmac('sha256', this.secret).update(`${credentials.apiRoot}\u0000${credentials.token}`).digest('base64url');
    const cached = this.bots.get(credentialId);
    if (cached?.fingerprint === fingerprint) return cached.bot;
    const bot = this.build(workspaceId, credentialId, credentials);
    // Telegraf needs its own profile to match `/start@bot_name`; the cached getMe saves it a call.
    // A failure throws: the update is answered 500 and Telegram delivers it again later.
    const me = await botProfile(credentials);
    bot.botInfo = { id: me.id, is_bot: true, first_name: me.firstName, username: me.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
    this.bots.set(credentialId, { fingerprint, bot });
    if (this.bots.size > 1000) this.bots.delete(this.bots.keys().next().value!);
    return bot;
  }

  private build(workspaceId: string, credentialId: string, credentials: TelegramCredentials): Telegraf {
    const { store, secret, logger } = this;
    const bot = createTelegramBot(credentials);

    bot.start(async (ctx) => {
      const payload = ctx.payload.trim();
      if (!payload) return void (await ctx.reply(REPLIES.noToken));
      const claims = verifyStartToken(payload, { workspaceId, credentialId }, secret);
      const contact = claims && (await store.contacts.get(workspaceId, claims.contactId));
      if (!contact) {
        logger.info('telegram: /start with an invalid or expired link token', { credentialId });
        return void (await ctx.reply(REPLIES.invalid));
      }
      const chat = ctx.chat;
      const from = ctx.from;
      const data: Record<string, unknown> = {};
      if (from?.username) data.username = from.username;
      if (from?.first_name) data.firstName = from.first_name;
      data.chatType = chat.type;
      await store.addresses.put(workspaceId, contact.id, { channel: TELEGRAM_CHANNEL, address: String(chat.id), data });
      logger.info('telegram: chat linked to a contact', { contactId: contact.id, credentialId });
      await ctx.reply(REPLIES.subscribed);
    });

    bot.command('stop', async (ctx) => {
      const chatId = String(ctx.chat.id);
      const owner = await store.addresses.owner(workspaceId, TELEGRAM_CHANNEL, chatId);
      if (!owner) return void (await ctx.reply(REPLIES.notSubscribed));
      await store.addresses.remove(workspaceId, owner, TELEGRAM_CHANNEL, chatId);
      logger.info('telegram: chat unlinked by /stop', { contactId: owner, credentialId });
      await ctx.reply(REPLIES.stopped);
    });

    // Telegraf's default handler sets process.exitCode and rethrows; log without the token and
    // rethrow so the route answers 500 and Telegram redelivers.
    bot.catch((error) => {
      const message = isNodeError(error) ? error.message : toTelegramNodeError(error, credentials.token).message;
      logger.warn('telegram: update handling failed', { credentialId, error: message });
      throw new Error(`Telegram update failed: ${message}`);
    });
    return bot;
  }
}

async function botCredential(store: Store, workspaceId: string, ref: string): Promise<{ info: CredentialInfo; credentials: TelegramCredentials }> {
  const info = await store.credentials.find(workspaceId, { id: ref, name: ref });
  if (!info) throw new ApiError(404, 'NOT_FOUND', `No credential "${ref}" in this workspace`);
  if (info.type !== TELEGRAM_CREDENTIAL_TYPE) {
    throw new ApiError(400, 'VALIDATION_FAILED', `Credential "${info.name}" is of type "${info.type}", not "${TELEGRAM_CREDENTIAL_TYPE}"`);
  }
  const data = await store.credentials.data(workspaceId, info.id);
  try {
    return { info, credentials: parseTelegramCredentials(data ?? {}) };
  } catch (error) {
    throw new ApiError(400, 'VALIDATION_FAILED', `Credential "${info.name}": ${(error as Error).message}`);
  }
}

/** Calls the Bot API, turning its refusals into API errors that name the credential, never the token. */
async function callTelegram<T>(call: () => Promise<T>, info: CredentialInfo): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const nodeError = isNodeError(error) ? error : toTelegramNodeError(error);
    if (nodeError.code === 'INVALID_CREDENTIALS') {
      throw new ApiError(400, 'VALIDATION_FAILED', `Credential "${info.name}": ${nodeError.message}`, { code: nodeError.code });
    }
    throw new ApiError(502, 'INTERNAL', `Telegram: ${nodeError.message}`, { code: nodeError.code, retryable: nodeError.retryable });
  }
}

function baseUrl(req: Request, publicUrl: TelegramRoutesOptions['publicUrl']): string {
  const configured = publicUrl?.();
  return (configured || `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`).replace(/\/+$/, '');
}

/** The webhook's secret token for one credential: Telegram echoes it in every update request. */
export function webhookSecret(credentialId: string, secret: string): string {
  return createHmac('sha256', secret).update(`campaignos-telegram-webhook:${credentialId}`).digest('base64url');
}

export interface StartTokenClaims {
  workspaceId: string;
  credentialId: string;
  contactId: string;
  /** Unix seconds. */
  expiresAt: number;
}

// Telegram's start parameter allows 64 characters of [A-Za-z0-9_-]. The token is base64url of
// 16 bytes of contact id, 4 bytes of expiry and a 16-byte HMAC over those and the workspace and
// credential ids (so a token only works with the bot it was made for): 48 characters.
const MAC_BYTES = 16;

export function signStartToken(claims: StartTokenClaims, secret: string): string {
  const payload = Buffer.alloc(20);
  Buffer.from(claims.contactId.replace(/-/g, ''), 'hex').copy(payload, 0);
  payload.writeUInt32BE(claims.expiresAt, 16);
  return Buffer.concat([payload, startMac(payload, claims, secret)]).toString('base64url');
}

/** The claims of a valid, unexpired token for this workspace and bot, else null. */
export function verifyStartToken(token: string, scope: { workspaceId: string; credentialId: string }, secret: string, now = Date.now()): StartTokenClaims | null {
  if (!/^[A-Za-z0-9_-]{48}$/.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length !== 20 + MAC_BYTES) return null;
  const payload = bytes.subarray(0, 20);
  const hex = payload.subarray(0, 16).toString('hex');
  const claims: StartTokenClaims = {
    ...scope,
    contactId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    expiresAt: payload.readUInt32BE(16),
  };
  if (!timingSafeEqual(startMac(payload, claims, secret), bytes.subarray(20))) return null;
  return claims.expiresAt * 1000 > now ? claims : null;
}

function startMac(payload: Buffer, scope: { workspaceId: string; credentialId: string }, secret: string): Buffer {
  return createHmac('sha256', secret)
    .update(`campaignos-telegram-start:${scope.workspaceId}:${scope.credentialId}:`)
    .update(payload)
    .digest()
    .subarray(0, MAC_BYTES);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
