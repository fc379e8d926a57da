export { Email, MAX_MESSAGE_BYTES } from './nodes/Email/Email.node.js';
export type { EmailStatus, TemplateUsed } from './nodes/Email/Email.node.js';
export type { EmailAttachment } from './nodes/Email/attachments.js';
export { SmtpCampaign } from './credentials/SmtpCampaign.credentials.js';
export {
  renderEmail,
  compileEmail,
  templateVariables,
  renderCacheStats,
  clearRenderCache,
  TEMPLATE_CACHE_SIZE,
} from './nodes/Email/render.js';
export type { CompiledEmail, EmailTemplate, RenderedEmail, RenderCacheStats, TemplateVariables } from './nodes/Email/render.js';
export { closeTransports, toSmtpNodeError } from './nodes/Email/transport.js';
export type { SmtpCredentials } from './nodes/Email/transport.js';
