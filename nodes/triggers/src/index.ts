export { EventTrigger, parseCampaignEvent } from './nodes/EventTrigger/EventTrigger.node.js';
export type { CampaignEventItem } from './nodes/EventTrigger/EventTrigger.node.js';
