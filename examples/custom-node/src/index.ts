export { SlackNotify, fillPlaceholders } from './nodes/SlackNotify/SlackNotify.node.js';
export type { SlackStatus } from './nodes/SlackNotify/SlackNotify.node.js';
export { MAX_TEXT_LENGTH } from './nodes/SlackNotify/webhook.js';
export type { SlackMessage } from './nodes/SlackNotify/webhook.js';
export { SlackWebhookApi } from './credentials/SlackWebhookApi.credentials.js';
