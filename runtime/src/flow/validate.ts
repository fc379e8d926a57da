import type { INodeTypeDescription } from 'n8n-workflow';
import type { NodeRegistry } from '../nodes/registry.js';
import type { N8nNode, N8nWorkflow } from './workflow-json.js';
import { CONTROL_NODE_TYPES, controlNodeParameters } from './control-nodes.js';
import { NATIVE_DESCRIPTIONS, STICKY_NOTE_TYPE } from './native-descriptions.js';
import { checkParameters } from './parameter-checks.js';
import { checkNativeNode } from './native-checks.js';
import { switchOutputCount } from './condition-nodes.js';

export type JourneyNodeKind = 'trigger' | 'wait' | 'if' | 'switch' | 'filter' | 'noop' | 'set' | 'action';

export interface JourneyEdge {
  node: string;
  inputIndex: number;
}

export interface JourneyPlanNode {
  kind: JourneyNodeKind;
  type: string;
  /** `outputs[i]` lists where output i's items go; a node with `onError: continueErrorOutput` has its error output last. */
  outputs: JourneyEdge[][];
  /** A disabled node passes its input to its first output, as in n8n. */
  disabled?: boolean;
}

/** The graph a journey walks: structure only, no parameters or expressions. Serialisable. */
export interface JourneyPlan {
  trigger: string;
  nodes: Record<string, JourneyPlanNode>;
}

// n8n types that start n8n workflows; journeys start from CampaignOS triggers instead.
const N8N_TRIGGER = /(Trigger|\.webhook|\.cron|\.start|\.interval)$/;

interface Classified {
  node: N8nNode;
  kind: JourneyNodeKind;
  description: INodeTypeDescription;
  label: string;
  /** False when the type version is not one this runtime implements (its parameters are then not checked). */
  supported: boolean;
}

/**
 * Checks an n8n workflow against what journeys support and, when it passes, returns its plan.
 * Every problem names the node (or connection) at fault.
 *
 * @example
 * const { problems, plan } = validateWorkflow(workflow, registry);
 * if (!plan) return res.status(422).json({ problems });
 */
export function validateWorkflow(workflow: N8nWorkflow, registry: NodeRegistry): { problems: string[]; plan: JourneyPlan | null } {
  const problems: string[] = [];
  const nodes = workflow.nodes.filter((node) => node.type !== STICKY_NOTE_TYPE);
  const byName = new Map<string, N8nNode>();
  const counts = new Map<string, number>();
  for (const node of nodes) {
    counts.set(node.name, (counts.get(node.name) ?? 0) + 1);
    if (!byName.has(node.name)) byName.set(node.name, node);
  }
  for (const [name, count] of counts) if (count > 1) problems.push(`Node name "${name}" is used by ${count} nodes; node names must be unique`);

  const triggerTypes = registry.list().filter((r) => r.definition.group === 'trigger').map((r) => r.type);
  const classified = new Map<string, Classified>();
  for (const node of byName.values()) {
    const found = classify(node, registry, triggerTypes, problems);
    if (found) classified.set(node.name, found);
  }

  for (const c of classified.values()) {
    if (c.node.disabled || !c.supported) continue;
    const own = checkParameters(c.node, c.description);
    const native = CONTROL_NODE_TYPES[c.node.type] ? checkNativeNode(c.node, controlNodeParameters(c.node)) : [];
    for (const problem of [...own, ...native]) problems.push(`${c.label}: ${problem}`);
  }

  const outputs = checkConnections(workflow, byName, classified, problems);

  const triggers = [...classified.values()].filter((c) => c.kind === 'trigger' && !c.node.disabled);
  if (triggers.length === 0) {
    const hint = triggerTypes.length > 0 ? `; add one of: ${triggerTypes.join(', ')}` : '';
    problems.push(`The workflow has no enabled CampaignOS trigger${hint}`);
  } else if (triggers.length > 1) {
    problems.push(`The workflow has ${triggers.length} triggers (${triggers.map((t) => `"${t.node.name}"`).join(', ')}); a journey starts from exactly one`);
  }

  if (problems.length > 0) return { problems, plan: null };
  const plan: JourneyPlan = { trigger: triggers[0]!.node.name, nodes: {} };
  for (const [name, c] of classified) {
    const edges = outputs.get(name) ?? [];
    const count = Math.max(declaredOutputs(c) ?? 1, edges.length);
    plan.nodes[name] = {
      kind: c.kind,
      type: c.node.type,
      outputs: Array.from({ length: count }, (_, i) => edges[i] ?? []),
      ...(c.node.disabled ? { disabled: true } : {}),
    };
  }
  return { problems, plan };
}

function classify(node: N8nNode, registry: NodeRegistry, triggerTypes: string[], problems: string[]): Classified | undefined {
  const control = CONTROL_NODE_TYPES[node.type];
  if (control) {
    const label = `${control.displayName} "${node.name}"`;
    const supported = control.typeVersions.includes(node.typeVersion);
    if (!node.disabled && !supported) {
      problems.push(`${label}: ${node.type} version ${node.typeVersion} is not supported (supported: ${control.typeVersions.join(', ')}); re-create the node in a current n8n`);
    }
    return { node, kind: control.kind, description: NATIVE_DESCRIPTIONS[node.type]!, label, supported };
  }
  const registered = registry.get(node.type);
  if (registered) {
    const label = `${registered.description.displayName} "${node.name}"`;
    const supported = registered.typeVersions.includes(node.typeVersion);
    if (!node.disabled && !supported) {
      problems.push(`${label}: ${node.type} version ${node.typeVersion} is not supported (this runtime has ${registered.typeVersions.join(', ')} from ${registered.packageName})`);
    }
    return { node, kind: registered.definition.group === 'trigger' ? 'trigger' : 'action', description: registered.description, label, supported };
  }
  // A disabled node never runs, so an unknown one is harmless: it just passes items through.
  if (node.disabled) return { node, kind: 'noop', description: NATIVE_DESCRIPTIONS['n8n-nodes-base.noOp']!, label: `Node "${node.name}"`, supported: false };
  problems.push(unknownTypeProblem(node, triggerTypes));
  return undefined;
}

function unknownTypeProblem(node: N8nNode, triggerTypes: string[]): string {
  const where = `Node "${node.name}"`;
  if (node.type.startsWith('n8n-nodes-base.') && N8N_TRIGGER.test(node.type)) {
    const use = triggerTypes.length > 0 ? ` such as ${triggerTypes.join(', ')}` : '';
    return `${where}: ${node.type} is an n8n trigger; a journey starts from a CampaignOS trigger${use}`;
  }
  if (node.type.startsWith('n8n-nodes-base.') || node.type.startsWith('@n8n/')) {
    const supported = Object.values(CONTROL_NODE_TYPES).map((s) => s.displayName).join(', ');
    return `${where}: unknown node type "${node.type}"; it may be an n8n node that CampaignOS journeys do not support (supported n8n nodes: ${supported})`;
  }
  const dot = node.type.lastIndexOf('.');
  const pkg = dot > 0 ? node.type.slice(0, dot) : node.type;
  return `${where}: unknown node type "${node.type}"; package "${pkg}" is not loaded in this runtime, or has no such node`;
}

/** How many outputs the node has, or null when an expression decides it. */
function declaredOutputs(c: Classified): number | null {
  const regular = c.kind === 'switch' ? switchOutputCount(controlNodeParameters(c.node)) : Array.isArray(c.description.outputs) ? c.description.outputs.length : null;
  if (regular === null) return null;
  return regular + (c.node.onError === 'continueErrorOutput' ? 1 : 0);
}

function checkConnections(
  workflow: N8nWorkflow,
  byName: Map<string, N8nNode>,
  classified: Map<string, Classified>,
  problems: string[],
): Map<string, Array<Array<{ node: string; inputIndex: number }>>> {
  const outputs = new Map<string, Array<Array<{ node: string; inputIndex: number }>>>();
  for (const [source, byType] of Object.entries(workflow.connections)) {
    if (!byName.has(source)) {
      problems.push(`connection from "${source}", which is not a node`);
      continue;
    }
    for (const type of Object.keys(byType)) {
      if (type !== 'main') problems.push(`connection of type "${type}" from "${source}" is not supported in journeys (only main connections are)`);
    }
    const edges = (byType.main ?? []).map((targets) =>
      (targets ?? []).flatMap((target) => {
        const to = classified.get(target.node);
        if (!byName.has(target.node)) {
          problems.push(`connection from "${source}" points to "${target.node}", which is not a node`);
          return [];
        }
        if (target.type !== 'main') problems.push(`connection from "${source}" to "${target.node}" has type "${target.type}"; journeys only follow main connections`);
        if (to?.kind === 'trigger') problems.push(`connection from "${source}" points to "${target.node}", a trigger, which cannot receive items`);
        else if (target.index > 0) problems.push(`connection from "${source}" goes to input ${target.index} of "${target.node}", which has one input`);
        return [{ node: target.node, inputIndex: target.index }];
      }),
    );
    const from = classified.get(source);
    if (from && !from.node.disabled) {
      const declared = declaredOutputs(from);
      const lastUsed = edges.reduce((last, targets, i) => (targets.length > 0 ? i : last), -1);
      if (declared !== null && lastUsed >= declared) {
        problems.push(`connection from output ${lastUsed} of "${source}" is invalid: "${source}" has ${declared} output${declared === 1 ? '' : 's'}`);
      }
    }
    outputs.set(source, edges);
  }
  return outputs;
}
