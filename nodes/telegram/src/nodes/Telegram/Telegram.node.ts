import {
  defineNode,
  eachItem,
  NodeError,
  toNodeError,
  type CampaignServices,
  type NodeContext,
  type NodeItem,
} from '@campaignos/sdk';
import { telegramDescription } from './telegram.description.js';
import { isChatGone, parseTelegramCredentials, telegramClient, toTelegramNodeError, type TelegramCredentials } from './client.js';
import { PARSE_MODES, renderText, templateVariables, type ParseMode } from './render.js';

/** Telegram's limit for one text message, in characters. */
export const MAX_TEXT_LENGTH = 4096;

export const TELEGRAM_CHANNEL = 'telegram';

/** What happened for one chat. */
export type TelegramChatResult =
  | { chatId: string; status: 'sent'; messageId: string; telegramMessageId: number }
  | { chatId: string; status: 'skipped'; messageId: string | null; reason: 'suppressed' | 'duplicate' | 'no-recipient' }
  /** The chat blocked the bot (or the account is gone): CampaignOS forgot it, the journey goes on. */
  | { chatId: string; status: 'removed'; reason: string };

/** Added to each item as `telegram`. `sent` when at least one chat got the message. */
export interface TelegramStatus {
  status: 'sent' | 'skipped';
  reason?: 'no-recipient' | 'suppressed' | 'duplicate' | 'chat-removed';
  chats: TelegramChatResult[];
}

interface TelegramParameters {
  chatId: string;
  text: string;
  parseMode: ParseMode;
  disableLinkPreview: boolean;
}

/**
 * Sends one personalised Telegram message per item. In a CampaignOS journey it goes to every
 * chat the contact linked with the bot (`/start <token>`), each through the send gate; in plain
 * n8n it goes to the `Chat ID` parameter.
 */
export const Telegram = defineNode({
  group: 'channel',
  channel: TELEGRAM_CHANNEL,
  description: telegramDescription,
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      try {
        const params = readParameters(ctx, i);
        const credentials = parseTelegramCredentials(await ctx.getCredentials<Record<string, unknown>>('campaignOsTelegramApi', i));
        const telegram = ctx.campaign
          ? await sendThroughGate(ctx, ctx.campaign, item, i, params, credentials)
          : await sendDirectly(item, params, credentials);
        return { json: { ...item.json, telegram } };
      } catch (error) {
        throw toNodeError(error, i);
      }
    }),
});

async function sendThroughGate(
  ctx: NodeContext,
  campaign: CampaignServices,
  item: NodeItem,
  i: number,
  params: TelegramParameters,
  credentials: TelegramCredentials,
): Promise<TelegramStatus> {
  const contact = await campaign.contact(i);
  // Rendered and measured before the gate, so a broken or oversized text never shows up as a logged message.
  const text = render(params, templateVariables({ contact, event: item.json.event, item: item.json }));
  const chatIds = params.chatId ? [checkChatId(params.chatId)] : (await campaign.addresses(i, TELEGRAM_CHANNEL)).map((a) => a.address);
  if (chatIds.length === 0) return { status: 'skipped', reason: 'no-recipient', chats: [] };

  const chats: TelegramChatResult[] = [];
  for (const chatId of chatIds) {
    try {
      const outcome = await campaign.deliver({ channel: TELEGRAM_CHANNEL, recipient: chatId, itemIndex: i, summary: summaryOf(text) }, () =>
        sendMessage(credentials, chatId, text, params),
      );
      chats.push(
        outcome.status === 'sent'
          ? { chatId, status: 'sent', messageId: outcome.messageId, telegramMessageId: outcome.result.telegramMessageId }
          : { chatId, status: 'skipped', messageId: outcome.messageId, reason: outcome.reason },
      );
    } catch (error) {
      if (!isChatGone(error)) throw error;
      await campaign.removeAddress(i, TELEGRAM_CHANNEL, chatId);
      ctx.logger.info('Telegram chat removed: it no longer accepts messages from the bot', { chatId });
      chats.push({ chatId, status: 'removed', reason: (error as Error).message });
    }
  }
  return summarise(chats);
}

async function sendDirectly(item: NodeItem, params: TelegramParameters, credentials: TelegramCredentials): Promise<TelegramStatus> {
  if (!params.chatId) throw new NodeError('RECIPIENT_INVALID', 'No chat: "Chat ID" is empty (it is required without a CampaignOS API credential)');
  const chatId = checkChatId(params.chatId);
  const text = render(params, templateVariables({ contact: item.json.contact as Record<string, unknown> | undefined, event: item.json.event, item: item.json }));
  const sent = await sendMessage(credentials, chatId, text, params);
  return { status: 'sent', chats: [{ chatId, status: 'sent', messageId: String(sent.telegramMessageId), telegramMessageId: sent.telegramMessageId }] };
}

async function sendMessage(credentials: TelegramCredentials, chatId: string, text: string, params: TelegramParameters): Promise<{ telegramMessageId: number }> {
  const bot = telegramClient(credentials);
  try {
    const message = await bot.telegram.sendMessage(chatId, text, {
      parse_mode: params.parseMode === 'none' ? undefined : params.parseMode,
      link_preview_options: params.disableLinkPreview ? { is_disabled: true } : undefined,
    });
    return { telegramMessageId: message.message_id };
  } catch (error) {
    throw toTelegramNodeError(error, credentials.token);
  }
}

function render(params: TelegramParameters, variables: Record<string, unknown>): string {
  const text = renderText(params.text, params.parseMode, variables);
  if (!text.trim()) throw new NodeError('INVALID_PARAMETER', 'The rendered text is empty; Telegram does not send empty messages');
  if (text.length > MAX_TEXT_LENGTH) {
    throw new NodeError('MESSAGE_TOO_LARGE', `The rendered text is ${text.length} characters; Telegram accepts at most ${MAX_TEXT_LENGTH}`);
  }
  return text;
}

function summarise(chats: TelegramChatResult[]): TelegramStatus {
  if (chats.some((c) => c.status === 'sent')) return { status: 'sent', chats };
  const skipped = chats.find((c): c is Extract<TelegramChatResult, { status: 'skipped' }> => c.status === 'skipped');
  return { status: 'skipped', reason: skipped ? skipped.reason : 'chat-removed', chats };
}

function readParameters(ctx: NodeContext, i: number): TelegramParameters {
  const text = (name: string) => {
    const value = ctx.getParameter<unknown>(name, i, '');
    if (value === null || value === undefined) return '';
    if (typeof value === 'number') return String(value); // a chat id typed as a number in an expression
    if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Parameter "${name}" must be text`);
    return value;
  };
  const parseMode = ctx.getParameter<unknown>('parseMode', i, 'none');
  if (!PARSE_MODES.includes(parseMode as ParseMode)) {
    throw new NodeError('INVALID_PARAMETER', `Parameter "parseMode" must be one of ${PARSE_MODES.join(', ')}, got "${String(parseMode).slice(0, 50)}"`);
  }
  const params = {
    chatId: text('chatId').trim(),
    text: text('text'),
    parseMode: parseMode as ParseMode,
    disableLinkPreview: ctx.getParameter<unknown>('disableLinkPreview', i, false) === true,
  };
  if (!params.text.trim()) throw new NodeError('INVALID_PARAMETER', 'Parameter "text" is empty');
  return params;
}

/** A numeric chat id (negative for groups) or a public channel's `@username`. */
function checkChatId(value: string): string {
  if (/^-?\d{1,20}$/.test(value) || /^@[A-Za-z][A-Za-z0-9_]{3,31}$/.test(value)) return value;
  throw new NodeError('RECIPIENT_INVALID', `"${value.slice(0, 100)}" is not a Telegram chat id (a number, or @channelname)`);
}

/** The message log's summary: the first words, on one line. */
function summaryOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}
