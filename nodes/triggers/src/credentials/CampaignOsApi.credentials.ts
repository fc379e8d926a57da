// The shared "CampaignOS API" credential: n8n loads credential classes by file name, so every
// package whose nodes reach a runtime ships this re-export.
export { CampaignOsApi } from '@campaignos/sdk';
