// Shared test fixtures (no tests of its own; named *.test.ts so the build leaves it out):
// a registry with two small CampaignOS nodes, and builders for n8n workflow JSON in the
// shapes n8n's editor exports (parameters equal to their defaults are omitted).
import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';
import { defineNode, type NodeGroup } from '@campaignos/sdk';
import { NodeRegistry } from '../nodes/registry.js';
import { N8nWorkflow } from './workflow-json.js';

export const TRIGGER_TYPE = '@campaignos/n8n-nodes-triggers.eventTrigger';
export const EMAIL_TYPE = '@campaignos/n8n-nodes-email.email';

const triggerDescription: INodeTypeDescription = {
  displayName: 'CampaignOS Event Trigger',
  name: 'eventTrigger',
  group: ['trigger'],
  version: 1,
  description: 'Starts a journey when a contact event arrives',
  defaults: { name: 'Event' },
  inputs: [],
  outputs: [NodeConnectionTypes.Main],
  properties: [{ displayName: 'Event Name', name: 'eventName', type: 'string', default: '', required: true }],
};

const emailDescription: INodeTypeDescription = {
  displayName: 'Send Email',
  name: 'email',
  group: ['output'],
  version: [1, 2],
  description: 'Sends an email to the contact',
  defaults: { name: 'Send Email' },
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  properties: [
    { displayName: 'Subject', name: 'subject', type: 'string', default: '', required: true },
    {
      displayName: 'Format',
      name: 'format',
      type: 'options',
      options: [
        { name: 'HTML', value: 'html' },
        { name: 'Text', value: 'text' },
      ],
      default: 'html',
    },
    { displayName: 'HTML Body', name: 'bodyHtml', type: 'string', default: '', required: true, displayOptions: { show: { format: ['html'] } } },
    { displayName: 'Text Body', name: 'bodyText', type: 'string', default: '', required: true, displayOptions: { show: { format: ['text'] } } },
    { displayName: 'Priority', name: 'priority', type: 'number', default: 1, validateType: 'number' },
    { displayName: 'Track Opens', name: 'trackOpens', type: 'boolean', default: true },
    {
      displayName: 'Options',
      name: 'options',
      type: 'collection',
      default: {},
      options: [
        { displayName: 'Reply To', name: 'replyTo', type: 'string', default: '' },
        { displayName: 'Max Retries', name: 'maxRetries', type: 'number', default: 3 },
      ],
    },
  ],
};

function register(registry: NodeRegistry, packageName: string, description: INodeTypeDescription, group: NodeGroup): void {
  const nodeClass = defineNode({ description, group, execute: async (ctx) => [ctx.getInputItems()] });
  const definition = nodeClass.campaignos.definition;
  const versions = Array.isArray(description.version) ? description.version : [description.version];
  registry.register({ type: `${packageName}.${description.name}`, packageName, typeVersions: versions, description, definition });
}

export function testRegistry(): NodeRegistry {
  const registry = new NodeRegistry();
  register(registry, '@campaignos/n8n-nodes-triggers', triggerDescription, 'trigger');
  register(registry, '@campaignos/n8n-nodes-email', emailDescription, 'channel');
  return registry;
}

type NodeJson = { name: string; type: string; typeVersion: number; parameters?: Record<string, unknown> } & Record<string, unknown>;

let nextId = 0;
/** A node as n8n exports it. */
export function node(name: string, type: string, typeVersion: number, parameters: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): NodeJson {
  nextId += 1;
  return { parameters, id: `00000000-0000-4000-8000-${String(nextId).padStart(12, '0')}`, name, type, typeVersion, position: [nextId * 220, 300], ...extra };
}

/** `[from, to]` or `[from, to, outputIndex]` pairs, turned into n8n's connections object. */
export function workflow(nodes: NodeJson[], links: Array<[string, string, number?]>, extra: Record<string, unknown> = {}): N8nWorkflow {
  const connections: Record<string, { main: Array<Array<{ node: string; type: string; index: number }>> }> = {};
  for (const [from, to, output = 0] of links) {
    const main = (connections[from] ??= { main: [] }).main;
    while (main.length <= output) main.push([]);
    main[output]!.push({ node: to, type: 'main', index: 0 });
  }
  return N8nWorkflow.parse({ name: 'Test journey', nodes, connections, active: false, settings: { executionOrder: 'v1' }, pinData: {}, ...extra });
}

export const trigger = (name = 'Signup') => node(name, TRIGGER_TYPE, 1, { eventName: 'signed_up' });
