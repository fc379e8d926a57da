export { defineNode, isDefinedNode, NODE_API_VERSION } from './define-node.js';
export type { DefinedNodeClass, NodeDefinition, NodeGroup, TriggerSpec, TriggerSubscription } from './define-node.js';
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
  NodeLogger,
  NodeOutput,
  ScoreChange,
  SegmentRef,
} from './context.js';
export { CampaignOsApi } from './campaign-api.credentials.js';
