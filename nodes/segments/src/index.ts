export { SegmentFilter, parseCondition } from './nodes/SegmentFilter/SegmentFilter.node.js';
export { ListMembership } from './nodes/ListMembership/ListMembership.node.js';
export { CampaignOsApi } from './credentials/CampaignOsApi.credentials.js';
