export { EventTrigger, parseCampaignEvent } from './nodes/EventTrigger/EventTrigger.node.js';
export type { CampaignEventItem } from './nodes/EventTrigger/EventTrigger.node.js';
export { SegmentTrigger } from './nodes/SegmentTrigger/SegmentTrigger.node.js';
export { ScoreTrigger } from './nodes/ScoreTrigger/ScoreTrigger.node.js';
export { ScheduleTrigger } from './nodes/ScheduleTrigger/ScheduleTrigger.node.js';
export { CampaignOsApi } from './credentials/CampaignOsApi.credentials.js';
