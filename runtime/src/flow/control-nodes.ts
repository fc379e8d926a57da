import { NodeHelpers, tryToParseDateTime, type INodeParameters } from 'n8n-workflow';
import type { NodeItem } from '@campaignos/sdk';
import type { N8nNode } from './workflow-json.js';
import { NATIVE_DESCRIPTIONS, NATIVE_TYPES } from './native-descriptions.js';
import { runFilter, runIf, runSwitch } from './condition-nodes.js';
import { runSet } from './set-node.js';
import { invalid, validateParameterType, type ParameterResolver } from './control-common.js';

export type { ParameterResolver } from './control-common.js';

export type ControlNodeKind = 'wait' | 'if' | 'switch' | 'filter' | 'noop' | 'set';

export interface ControlNodeSpec {
  kind: ControlNodeKind;
  displayName: string;
  typeVersions: readonly number[];
}

function spec(kind: ControlNodeKind, type: string): ControlNodeSpec {
  const description = NATIVE_DESCRIPTIONS[type]!;
  const versions = Array.isArray(description.version) ? description.version : [description.version];
  return { kind, displayName: description.displayName, typeVersions: versions };
}

/** The n8n core nodes CampaignOS runs itself, with the type versions it implements. */
export const CONTROL_NODE_TYPES: Readonly<Record<string, ControlNodeSpec>> = {
  [NATIVE_TYPES.wait]: spec('wait', NATIVE_TYPES.wait),
  [NATIVE_TYPES.if]: spec('if', NATIVE_TYPES.if),
  [NATIVE_TYPES.switch]: spec('switch', NATIVE_TYPES.switch),
  [NATIVE_TYPES.filter]: spec('filter', NATIVE_TYPES.filter),
  [NATIVE_TYPES.noop]: spec('noop', NATIVE_TYPES.noop),
  [NATIVE_TYPES.set]: spec('set', NATIVE_TYPES.set),
};

const withDefaults = new WeakMap<N8nNode, INodeParameters>();

/**
 * The node's parameters with n8n's defaults filled in and hidden ones dropped, exactly as n8n's
 * `Workflow` prepares them before execution (exported JSON omits values equal to defaults).
 */
export function controlNodeParameters(node: N8nNode): INodeParameters {
  let params = withDefaults.get(node);
  if (!params) {
    const description = NATIVE_DESCRIPTIONS[node.type];
    if (!description) throw new Error(`"${node.type}" is not a control node type`);
    params = NodeHelpers.getNodeParameters(description.properties, node.parameters as INodeParameters, true, false, node, description) ?? {};
    withDefaults.set(node, params);
  }
  return params;
}

function checkRunnable(node: N8nNode): ControlNodeSpec {
  const found = CONTROL_NODE_TYPES[node.type];
  if (!found) throw new Error(`"${node.type}" is not a control node type`);
  if (!found.typeVersions.includes(node.typeVersion)) {
    throw invalid(node, `version ${node.typeVersion} is not supported (supported: ${found.typeVersions.join(', ')})`);
  }
  return found;
}

/**
 * Runs one of n8n's control-flow nodes natively, as n8n would: one array of items per output
 * (If: true, false; Switch: one per rule, plus the fallback output; Filter: kept items).
 * A disabled node passes its input to its first output. Wait passes its items through: the
 * sleeping itself is the journey's business (see `resolveWait`).
 *
 * @example
 * const outputs = runControlNode({ node, items, resolve: (value, i) => expressions.resolveParameter({ nodeName: node.name, value, items, itemIndex: i, runData }) });
 */
export function runControlNode(opts: { node: N8nNode; items: NodeItem[]; resolve: ParameterResolver }): NodeItem[][] {
  const { node, items, resolve } = opts;
  const found = checkRunnable(node);
  if (node.disabled) return [items];
  const params = controlNodeParameters(node);
  let outputs: NodeItem[][];
  switch (found.kind) {
    case 'if':
      outputs = runIf(node, params, items, resolve);
      break;
    case 'filter':
      outputs = runFilter(node, params, items, resolve);
      break;
    case 'switch':
      outputs = runSwitch(node, params, items, resolve);
      break;
    case 'set':
      outputs = runSet(node, params, items, resolve);
      break;
    case 'noop':
    case 'wait':
      outputs = [items.map((item, i) => ({ json: item.json, pairedItem: { item: i } }))];
      break;
    default: {
      const unreachable: never = found.kind;
      throw new Error(`unhandled control node kind ${String(unreachable)}`);
    }
  }
  return node.onError === 'continueErrorOutput' ? routeErrorItems(outputs) : outputs;
}

// n8n's WorkflowExecute.handleNodeErrorOutput: items that carry only an error move to an
// extra, last output.
function routeErrorItems(outputs: NodeItem[][]): NodeItem[][] {
  const errors: NodeItem[] = [];
  const regular = outputs.map((items) =>
    items.filter((item) => {
      const keys = Object.keys(item.json);
      const isError = item.json.error !== undefined && (keys.length === 1 || (keys.length === 2 && item.json.message !== undefined));
      if (isError) errors.push(item);
      return !isError;
    }),
  );
  return [...regular, errors];
}

const UNIT_MS = { seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

export interface WaitDecision {
  kind: 'sleep';
  ms: number;
}

/**
 * What an n8n Wait node (v1, v1.1) asks for: a sleep of `ms` milliseconds. `resume` may be
 * `timeInterval` (amount × unit; v1 defaults to 1 hour, v1.1 to 5 seconds) or `specificTime`
 * (a time in the past means 0). A date without an offset is read in `timeZone` (the
 * workflow's `settings.timezone`, UTC when absent). Parameters are resolved for item 0, as n8n does.
 */
export function resolveWait(opts: { node: N8nNode; item?: NodeItem; resolve: ParameterResolver; now: Date; timeZone?: string }): WaitDecision {
  const { node, resolve, now } = opts;
  checkRunnable(node);
  if (node.type !== NATIVE_TYPES.wait) throw new Error(`"${node.name}" is a ${node.type}, not a Wait node`);
  const params = controlNodeParameters(node);
  const resume = resolve(params.resume, 0);
  if (resume === 'webhook' || resume === 'form') {
    throw invalid(node, `resume=${resume} is not supported by CampaignOS journeys; use timeInterval or specificTime`);
  }
  if (resume === 'timeInterval') {
    const unit = resolve(params.unit, 0);
    if (typeof unit !== 'string' || !(unit in UNIT_MS)) {
      throw invalid(node, `invalid wait unit ${JSON.stringify(unit)}; valid units are 'seconds', 'minutes', 'hours', or 'days'`);
    }
    const amount = validateParameterType(node, { name: 'amount', validateType: 'number' }, resolve(params.amount, 0), 0);
    if (typeof amount !== 'number' || Number.isNaN(amount) || amount < 0) {
      throw invalid(node, `invalid wait amount ${JSON.stringify(amount)}; enter a number that is 0 or greater`);
    }
    return { kind: 'sleep', ms: Math.round(amount * UNIT_MS[unit as keyof typeof UNIT_MS]) };
  }
  if (resume === 'specificTime') {
    const raw = resolve(params.dateTime, 0);
    let until: number;
    try {
      until = tryToParseDateTime(raw, opts.timeZone ?? 'UTC').toMillis();
    } catch {
      throw invalid(node, `dateTime ${JSON.stringify(raw)} is not a valid date; pick a specific date and time to wait until`);
    }
    return { kind: 'sleep', ms: Math.max(until - now.getTime(), 0) };
  }
  throw invalid(node, `unknown resume mode ${JSON.stringify(resume)}`);
}
