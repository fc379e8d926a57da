import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * How a node inside n8n reaches a CampaignOS runtime: its API base URL and a workspace API key
 * (`campaignos keys create`). Every package whose nodes use CampaignOS services ships this same
 * class as `dist/credentials/CampaignOsApi.credentials.js`, so any one of them installed is enough.
 */
export class CampaignOsApi implements ICredentialType {
  name = 'campaignOsApi';

  displayName = 'CampaignOS API';

  documentationUrl = 'https://github.com/campaignos/campaignos#use-the-nodes-in-n8n';

  properties: INodeProperties[] = [
    {
      displayName: 'Base URL',
      name: 'baseUrl',
      type: 'string',
      default: 'http://localhost:3000',
      required: true,
      description: 'Where the CampaignOS API answers, without a trailing /v1',
    },
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      required: true,
      description: 'A workspace API key, as printed by "campaignos keys create"',
    },
  ];

  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
  };

  test: ICredentialTestRequest = {
    request: { baseURL: '={{$credentials.baseUrl}}', url: '/v1/segments' },
  };
}
