export { WebPush } from './nodes/WebPush/WebPush.node.js';
export type { WebPushDelivery, WebPushPayload, WebPushStatus } from './nodes/WebPush/WebPush.node.js';
export { VapidCampaign } from './credentials/VapidCampaign.credentials.js';
export { MAX_PAYLOAD_BYTES, parseSubscription, parseVapidCredentials, sendPush } from './nodes/WebPush/push.js';
export type { PushOptions, PushResult, VapidCredentials } from './nodes/WebPush/push.js';
