import type {
  IExecuteFunctions,
  INodeExecutionData,
  INodeType,
  INodeTypeDescription,
  ITriggerFunctions,
  ITriggerResponse,
  IWebhookFunctions,
  IWebhookResponseData,
} from 'n8n-workflow';
import type { NodeContext, NodeItem, NodeOutput } from './context.js';
import { createN8nContext } from './n8n-host.js';
import { toNodeError } from './errors.js';
import { campaignScheduleTrigger, campaignWebhookMethods, handleCampaignWebhook } from './n8n-triggers.js';

/** Bumped when the contract between nodes and hosts changes incompatibly. */
export const NODE_API_VERSION = 1;

export type NodeGroup = 'trigger' | 'segment' | 'score' | 'channel' | 'action';

/** Which committed events enrol a contact: a name, and properties the event must contain. */
export interface TriggerSubscription {
  event: string;
  /** The event's properties must contain these (JSON containment), e.g. `{ segmentId }`. */
  properties?: Record<string, unknown>;
  /** Whether a contact may walk the same workflow version again on a later event. */
  allowReentry?: boolean;
  /**
   * For schedule triggers: instead of waiting for events, the host enrols every member of the
   * segment at each tick of the cron (once per member per tick).
   */
  schedule?: TriggerSchedule;
}

/** When a schedule trigger fires and whom it enrols. */
export interface TriggerSchedule {
  /** A standard 5-field cron expression (minute hour day-of-month month day-of-week). */
  cron: string;
  /** IANA time zone the cron is read in; absent means the host's default (UTC in the runtime). */
  timeZone?: string;
  /** The segment whose members enter the journey, by id or by name. */
  segment: string;
}

/** What a trigger node tells a CampaignOS host: which events start a journey. */
export interface TriggerSpec {
  /**
   * Called at deploy with the node's parameters (literal values; expressions are refused).
   * Returns the subscription, or a sentence saying what is wrong with the parameters.
   */
  subscribe(parameters: Record<string, unknown>): TriggerSubscription | string;
}

export interface NodeDefinition {
  /** The n8n node description, used verbatim by n8n and by the runtime's deploy validation. */
  description: INodeTypeDescription;
  group: NodeGroup;
  /** Channel name for channel nodes (`email`, `sms`, ...): the send gate's unit of consent. */
  channel?: string;
  trigger?: TriggerSpec;
  execute(ctx: NodeContext): Promise<NodeOutput>;
  /**
   * For triggers inside n8n: turns the body of the CampaignOS webhook call into items,
   * or null to ignore the call. A trigger with this handler registers a webhook subscription
   * with the runtime (credential `campaignOsApi`) and only accepts signed calls; a trigger
   * without it whose subscription has a `schedule` runs as an n8n cron trigger instead.
   */
  webhook?(body: unknown, params: (name: string) => unknown): NodeItem[] | null;
}

/** The public shape of what defineNode returns: an n8n node class carrying its definition. */
export interface DefinedNodeClass {
  new (): INodeType;
  readonly campaignos: { apiVersion: number; definition: NodeDefinition };
}

const NODE_BRAND = Symbol.for('campaignos.sdk.node');

/**
 * Declares a node once. The result is an n8n `INodeType` class (export it from
 * `<Name>.node.ts` and n8n loads it as a community node); the CampaignOS runtime runs the
 * same class through its own context.
 *
 * @example
 * export class Hello = defineNode({
 *   group: 'action',
 *   description: { displayName: 'Hello', name: 'hello', ... },
 *   execute: (ctx) => eachItem(ctx, async (item) => ({ json: { ...item.json, hello: 'world' } })),
 * });
 */
export function defineNode(definition: NodeDefinition): DefinedNodeClass {
  const description = definition.description;

  class DefinedNode implements INodeType {
    static readonly campaignos = { apiVersion: NODE_API_VERSION, definition };
    description: INodeTypeDescription = description;

    // n8n calls this with `this` bound to its execute functions, not to the instance.
    async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
      const ctx = createN8nContext(this, description);
      try {
        const outputs = await definition.execute(ctx);
        return outputs.map((items) => items.map((item) => ({ json: item.json as INodeExecutionData['json'], pairedItem: item.pairedItem })));
      } catch (error) {
        throw await toN8nError(this, error);
      }
    }
  }

  const prototype = DefinedNode.prototype as INodeType;
  if (definition.trigger && definition.webhook) {
    description.webhooks ??= [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: description.name }];
    prototype.webhookMethods = campaignWebhookMethods(definition);
    prototype.webhook = async function (this: IWebhookFunctions): Promise<IWebhookResponseData> {
      return handleCampaignWebhook(this, definition);
    };
  } else if (definition.trigger) {
    prototype.trigger = async function (this: ITriggerFunctions): Promise<ITriggerResponse> {
      return campaignScheduleTrigger(this, definition);
    };
  }

  Object.defineProperty(DefinedNode, NODE_BRAND, { value: true });
  Object.defineProperty(DefinedNode, 'name', { value: description.displayName.replace(/[^A-Za-z0-9]/g, '') });
  return DefinedNode;
}

/** True for classes made by any copy of this SDK; hosts use it instead of `instanceof`. */
export function isDefinedNode(value: unknown): value is DefinedNodeClass {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[NODE_BRAND] === true;
}

async function toN8nError(fns: IExecuteFunctions, error: unknown): Promise<Error> {
  const nodeError = toNodeError(error);
  // n8n lets community packages reach its own n8n-workflow through NODE_PATH, which only
  // require() honours: a dynamic import() fails there with "Cannot find package 'n8n-workflow'".
  const { NodeOperationError } = require('n8n-workflow') as typeof import('n8n-workflow');
  return new NodeOperationError(fns.getNode(), `${nodeError.code}: ${nodeError.message}`, {
    itemIndex: nodeError.itemIndex,
    description: nodeError.retryable ? 'This error is temporary; retrying may succeed.' : nodeError.description,
  });
}
