export { defineNode, isDefinedNode, NODE_API_VERSION } from './define-node.js';
export type { DefinedNodeClass, NodeDefinition, NodeGroup, TriggerSchedule, TriggerSpec, TriggerSubscription } from './define-node.js';
export { SCHEDULE_TICK_EVENT, SIGNATURE_HEADER, verifyCampaignSignature } from './n8n-triggers.js';
export { eachItem } from './each-item.js';
export { NodeError, isNodeError, toNodeError, NODE_ERROR_CODES } from './errors.js';
export type { NodeErrorCode, NodeErrorOptions } from './errors.js';
export type {
  CampaignServices,
  ChannelAddress,
  ContactView,
  DeliveryOutcome,
  DeliveryTicket,
  Envelope,
  HostKind,
  HttpRequest,
  HttpResponse,
  NodeContext,
  NodeItem,
  NodeBinary,
  NodeLogger,
  NodeOutput,
  ScoreChange,
  SegmentRef,
  StoredTemplate,
} from './context.js';
export { CampaignOsApi } from './campaign-api.credentials.js';
export { CAMPAIGN_API_CREDENTIAL, createCampaignApiClient } from './campaign-api-client.js';
export { redactUrl } from './n8n-host.js';
export type { CampaignApiHost } from './campaign-api-client.js';
export { templateVariables } from './template-variables.js';
export type { TemplateSources } from './template-variables.js';
