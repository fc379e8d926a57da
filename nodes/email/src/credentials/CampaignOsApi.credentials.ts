// n8n loads `dist/credentials/CampaignOsApi.credentials.js` and instantiates its `CampaignOsApi`
// export. Every CampaignOS package ships the same class from the SDK, so installing any one of
// them gives n8n the credential type.
export { CampaignOsApi } from '@campaignos/sdk';
