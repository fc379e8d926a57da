export { UpdateScore } from './nodes/UpdateScore/UpdateScore.node.js';
export { CampaignOsApi } from './credentials/CampaignOsApi.credentials.js';
