export { Sms } from './nodes/Sms/Sms.node.js';
export type { SmsStatus } from './nodes/Sms/Sms.node.js';
export { CampaignOsSmsApi } from './credentials/CampaignOsSmsApi.credentials.js';
export { renderSms, templateVariables, TEMPLATE_CACHE_SIZE } from './nodes/Sms/render.js';
export type { TemplateVariables } from './nodes/Sms/render.js';
export {
  sendSms,
  toSmsNodeError,
  parseSmsCredentials,
  normalisePhone,
  countSegments,
  MAX_BODY_LENGTH,
  DEFAULT_BASE_URL,
} from './nodes/Sms/transport.js';
export type { OutgoingSms, SentSms, SmsCredentials } from './nodes/Sms/transport.js';
