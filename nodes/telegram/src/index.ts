export { Telegram, MAX_TEXT_LENGTH, TELEGRAM_CHANNEL } from './nodes/Telegram/Telegram.node.js';
export type { TelegramChatResult, TelegramStatus } from './nodes/Telegram/Telegram.node.js';
export { CampaignOsTelegramApi } from './credentials/CampaignOsTelegramApi.credentials.js';
export {
  botProfile,
  closeTelegramClients,
  createTelegramBot,
  DEFAULT_API_ROOT,
  isChatGone,
  parseTelegramCredentials,
  scrubToken,
  telegramClient,
  telegramClientCount,
  toTelegramNodeError,
} from './nodes/Telegram/client.js';
export type { BotProfile, TelegramCredentials } from './nodes/Telegram/client.js';
export { renderText, templateVariables, PARSE_MODES } from './nodes/Telegram/render.js';
export type { ParseMode, TemplateVariables } from './nodes/Telegram/render.js';

/** The credential type name the node and the runtime's link flow read. */
export const TELEGRAM_CREDENTIAL_TYPE = 'campaignOsTelegramApi';
