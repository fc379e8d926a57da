import {
  NodeHelpers,
  Workflow,
  createRunExecutionData,
  deepCopy,
  validateFieldType,
  type IConnections,
  type IExecuteData,
  type INode,
  type INodeExecutionData,
  type INodeParameters,
  type IRunData,
  type IRunExecutionData,
  type IWorkflowDataProxyAdditionalKeys,
  type NodeParameterValueType,
} from 'n8n-workflow';
import { NodeError, type NodeItem } from '@campaignos/sdk';
import type { NodeRegistry } from '../nodes/registry.js';
import type { N8nWorkflow } from './workflow-json.js';
import type { ParameterResolver } from './control-common.js';
import { JourneyNodeTypes } from './node-types.js';
import { STICKY_NOTE_TYPE } from './native-descriptions.js';
import { getPath } from './object-path.js';

/** Earlier nodes' latest outputs, by node name: `runData["Signup"][0]` is Signup's first output. */
export type JourneyRunData = Record<string, NodeItem[][]>;

/** Which output of which node fed a node's input, when the caller knows (it is inferred otherwise). */
export type JourneyInputSources = Record<string, { node: string; output: number }>;

export interface ResolveParameterOptions {
  nodeName: string;
  /** A raw parameter value: a literal, an `={{ }}` expression, or objects/arrays holding them. */
  value: unknown;
  /** The node's input items. */
  items: NodeItem[];
  itemIndex: number;
  runData: JourneyRunData;
  /** Extra `$` variables (`$vars`, `$execution`, ...) available to the expression. */
  additionalKeys?: Record<string, unknown>;
  /** Names the parameter in error messages. */
  parameterName?: string;
  inputFrom?: JourneyInputSources;
}

// Expressions are written by whoever deploys a workflow; they must not read the worker's
// environment (database URL, API secrets) through `$env` or `process.env`. n8n-workflow checks
// this variable at every evaluation; an operator who really wants env access sets it to 'false'.
const BLOCK_ENV = 'N8N_BLOCK_ENV_ACCESS_IN_NODE';

const MODE = 'trigger';

/**
 * Evaluates `={{ }}` parameters with n8n-workflow's own expression engine, so `$json`,
 * `$('Signup').item.json`, `$node["Signup"].json`, `$input`, `$now`, `$today`, Luxon's
 * `DateTime` and n8n's extension functions mean what they mean in n8n. Build one per workflow
 * version and reuse it. Treat a `runData` object as immutable once passed: the last one is
 * cached by identity.
 *
 * @example
 * const expressions = new WorkflowExpressions(workflow, registry);
 * const subject = expressions.getNodeParameter('Send welcome', 'subject', items, 0, runData);
 */
export class WorkflowExpressions {
  private readonly workflow: Workflow;
  private readonly nodeTypes: JourneyNodeTypes;
  /** For each node, the node outputs connected to its main input, in connection order. */
  private readonly parents = new Map<string, Array<{ node: string; output: number }>>();
  /** The zone expressions see (`$now`, `$today`, dates without offset): the workflow's, else the default. */
  readonly timeZone: string;
  private cached: { runData: JourneyRunData; inputFrom: JourneyInputSources | undefined; entries: Array<[string, NodeItem[][]]>; data: IRunExecutionData } | undefined;

  /**
   * @param options.defaultTimeZone used when the workflow's `settings.timezone` is absent
   *   (n8n would use its instance zone, America/New_York unless configured); defaults to UTC.
   */
  constructor(workflow: N8nWorkflow, registry: NodeRegistry, options: { defaultTimeZone?: string } = {}) {
    process.env[BLOCK_ENV] ??= 'true';
    this.timeZone = workflow.settings?.timezone ?? options.defaultTimeZone ?? 'UTC';
    this.nodeTypes = new JourneyNodeTypes(registry);
    const nodes: INode[] = workflow.nodes
      .filter((node) => node.type !== STICKY_NOTE_TYPE)
      .map((node) => ({
        ...(deepCopy(node) as unknown as INode),
        id: node.id ?? node.name,
        position: node.position ?? [0, 0],
        parameters: deepCopy(node.parameters) as INodeParameters,
      }));
    const connections: IConnections = {};
    for (const [source, byType] of Object.entries(workflow.connections)) {
      const main = (byType.main ?? []).map((targets) => (targets ?? []).map((t) => ({ node: t.node, type: 'main' as const, index: t.index })));
      connections[source] = { main };
      main.forEach((targets, output) => {
        for (const target of targets) {
          const list = this.parents.get(target.node) ?? [];
          list.push({ node: source, output });
          this.parents.set(target.node, list);
        }
      });
    }
    // The constructor fills every known node's parameters with its description's defaults.
    this.workflow = new Workflow({
      id: workflow.id,
      name: workflow.name,
      nodes,
      connections,
      active: false,
      nodeTypes: this.nodeTypes,
      settings: { ...(workflow.settings as Workflow['settings'] | undefined), timezone: this.timeZone },
    });
  }

  /** Resolves every expression inside a raw parameter value for one item. */
  resolveParameter(opts: ResolveParameterOptions): unknown {
    const { nodeName, value, itemIndex } = opts;
    // n8n would rebuild literal objects too; a copy is the same and skips the proxy set-up.
    if (!containsExpression(value)) return typeof value === 'object' && value !== null ? deepCopy(value) : value;
    const node = this.workflow.nodes[nodeName];
    if (!node) throw new NodeError('INVALID_PARAMETER', `Node "${nodeName}" is not in this workflow`);
    const runExecutionData = this.runExecutionData(opts.runData, opts.inputFrom);
    const source = this.sourceOf(nodeName, opts.runData, opts.inputFrom);
    const inputItems = withPairedItems(opts.items, source ? opts.runData[source.node]?.[source.output]?.length : undefined) as INodeExecutionData[];
    const executeData: IExecuteData = {
      node,
      data: { main: [inputItems] },
      source: source ? { main: [{ previousNode: source.node, previousNodeOutput: source.output, previousNodeRun: 0 }] } : null,
    };
    try {
      const result = this.workflow.expression.getParameterValue(
        value as NodeParameterValueType,
        runExecutionData,
        0,
        itemIndex,
        nodeName,
        inputItems,
        MODE,
        (opts.additionalKeys ?? {}) as IWorkflowDataProxyAdditionalKeys,
        executeData,
      );
      cleanupParameterData(result);
      return result;
    } catch (error) {
      throw expressionError(nodeName, opts.parameterName, itemIndex, error);
    }
  }

  /**
   * A parameter's value for one item as n8n-core's `getNodeParameter` gives it: the stored
   * value (description defaults applied), `fallback` when absent, expressions resolved, and
   * the property's `validateType` applied.
   */
  getNodeParameter(
    nodeName: string,
    parameterName: string,
    items: NodeItem[],
    itemIndex: number,
    runData: JourneyRunData,
    fallback?: unknown,
    options: { additionalKeys?: Record<string, unknown>; inputFrom?: JourneyInputSources } = {},
  ): unknown {
    const node = this.workflow.nodes[nodeName];
    if (!node) throw new NodeError('INVALID_PARAMETER', `Node "${nodeName}" is not in this workflow`);
    const stored = getPath(node.parameters, parameterName);
    const raw = stored === undefined ? fallback : stored;
    if (raw === undefined) throw new NodeError('INVALID_PARAMETER', `Node "${nodeName}" has no parameter "${parameterName}"`);
    const value = this.resolveParameter({ nodeName, value: raw, items, itemIndex, runData, parameterName, ...options });
    return this.validateType(node, parameterName, value, itemIndex);
  }

  /** A resolver bound to one node's input, as `runControlNode` and `resolveWait` take it. */
  resolverFor(nodeName: string, items: NodeItem[], runData: JourneyRunData, options: { additionalKeys?: Record<string, unknown>; inputFrom?: JourneyInputSources } = {}): ParameterResolver {
    return (value, itemIndex) => this.resolveParameter({ nodeName, value, items, itemIndex, runData, ...options });
  }

  private validateType(node: INode, parameterName: string, value: unknown, itemIndex: number): unknown {
    if (parameterName.includes('.')) return value;
    const description = this.nodeTypes.description(node.type);
    const property = description?.properties.find((p) => p.name === parameterName && NodeHelpers.displayParameter(node.parameters, p, node, description));
    if (!property?.validateType || property.ignoreValidationDuringExecution) return value;
    const result = validateFieldType(parameterName, value, property.validateType);
    if (!result.valid) {
      throw new NodeError('INVALID_PARAMETER', `Invalid input for '${parameterName}' in "${node.name}" [item ${itemIndex}]: ${result.errorMessage}`, { itemIndex });
    }
    return result.newValue;
  }

  /** Which node output fed `nodeName`: the caller's word, or the first connected parent that produced items. */
  private sourceOf(nodeName: string, runData: JourneyRunData, inputFrom: JourneyInputSources | undefined): { node: string; output: number } | undefined {
    const given = inputFrom?.[nodeName];
    if (given) return given;
    const parents = (this.parents.get(nodeName) ?? []).filter((p) => runData[p.node] !== undefined);
    return parents.find((p) => (runData[p.node]?.[p.output]?.length ?? 0) > 0) ?? parents[0];
  }

  private runExecutionData(runData: JourneyRunData, inputFrom: JourneyInputSources | undefined): IRunExecutionData {
    const entries = Object.entries(runData);
    const cached = this.cached;
    if (cached && cached.runData === runData && cached.inputFrom === inputFrom && sameEntries(cached.entries, entries)) return cached.data;
    const tasks: IRunData = {};
    entries.forEach(([name, outputs], executionIndex) => {
      const source = this.sourceOf(name, runData, inputFrom);
      const inputCount = source ? runData[source.node]?.[source.output]?.length : undefined;
      tasks[name] = [
        {
          startTime: 0,
          executionTime: 0,
          executionIndex,
          source: source ? [{ previousNode: source.node, previousNodeOutput: source.output, previousNodeRun: 0 }] : [],
          data: { main: outputs.map((items) => withPairedItems(items, inputCount) as INodeExecutionData[]) },
        },
      ];
    });
    const data = createRunExecutionData({ resultData: { runData: tasks } });
    this.cached = { runData, inputFrom, entries, data };
    return data;
  }
}

function containsExpression(value: unknown): boolean {
  if (typeof value === 'string') return value.startsWith('=');
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(containsExpression);
}

function sameEntries(a: Array<[string, NodeItem[][]]>, b: Array<[string, NodeItem[][]]>): boolean {
  return a.length === b.length && a.every(([name, outputs], i) => b[i]?.[0] === name && b[i]?.[1] === outputs);
}

/**
 * n8n's `assignPairedItems`: an item without `pairedItem` came from input item 0 when there was
 * one input item, or from the item at its own index when counts match. Trigger outputs (no
 * input) pair with themselves, so `$('Trigger').item` works from the next node.
 */
function withPairedItems(items: NodeItem[], inputCount: number | undefined): NodeItem[] {
  if (items.every((item) => item.pairedItem !== undefined)) return items;
  return items.map((item, i) => {
    if (item.pairedItem !== undefined) return item;
    if (inputCount === 1) return { ...item, pairedItem: { item: 0 } };
    if (inputCount === undefined || inputCount === items.length) return { ...item, pairedItem: { item: i } };
    return item;
  });
}

/** n8n-core's `cleanupParameterData`: Luxon DateTimes nested in a value become strings. */
function cleanupParameterData(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const child = record[key];
    if (typeof child !== 'object' || child === null) continue;
    if ((child as { isLuxonDateTime?: unknown }).isLuxonDateTime === true) record[key] = String(child);
    else cleanupParameterData(child);
  }
}

function expressionError(nodeName: string, parameterName: string | undefined, itemIndex: number, error: unknown): NodeError {
  const e = error as { message?: unknown; description?: unknown; context?: { nodeCause?: unknown } };
  let detail = typeof e.message === 'string' ? e.message : String(error);
  const cause = e.context?.nodeCause;
  if (typeof cause === 'string' && cause !== '' && !detail.includes(cause)) detail += `: "${cause}"`;
  const description = typeof e.description === 'string' ? e.description.replace(/<[^>]+>/g, '').trim() : '';
  if (description && !detail.includes(description)) detail += ` (${description})`;
  const where = parameterName === undefined ? `"${nodeName}"` : `"${nodeName}".${parameterName}`;
  return new NodeError('INVALID_PARAMETER', `Expression in ${where} failed: ${detail}`, { itemIndex, cause: error });
}
