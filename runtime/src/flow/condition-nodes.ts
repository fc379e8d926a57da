import { executeFilter, isFilterValue, type FilterOptionsValue, type FilterValue, type INodeParameters } from 'n8n-workflow';
import type { NodeItem } from '@campaignos/sdk';
import type { N8nNode } from './workflow-json.js';
import { continuesOnFail, invalid, validateParameterType, type ParameterResolver } from './control-common.js';

// If (v2.x), Filter (v2.x) and Switch (v3.x) as n8n-nodes-base implements them: the
// `conditions` filter parameter is resolved for the item and handed to n8n-workflow's own
// `executeFilter`, which is what n8n-core's `extractValue` does for `filter` parameters.

const LESS_STRICT_HINT = "Try changing the type of comparison. Alternatively you can enable 'Convert types where required'.";

interface ConditionNodeVersions {
  /** From this version the "convert types" toggle is a top-level parameter, before it sat in options. */
  toggleMovedIn: number;
  /** From these versions the filter uses evaluation version 2, then 3. */
  filterV2From: number;
  filterV3From: number;
}

const IF_FILTER: ConditionNodeVersions = { toggleMovedIn: 2.1, filterV2From: 2.2, filterV3From: 2.3 };
const SWITCH: ConditionNodeVersions = { toggleMovedIn: 3.1, filterV2From: 3.2, filterV3From: 3.4 };

type Options = { ignoreCase?: unknown; looseTypeValidation?: unknown; fallbackOutput?: unknown; allMatchingOutputs?: unknown };

function looseTypes(node: N8nNode, params: INodeParameters, options: Options, versions: ConditionNodeVersions, resolve: ParameterResolver, i: number): boolean {
  return Boolean(node.typeVersion < versions.toggleMovedIn ? options.looseTypeValidation : resolve(params.looseTypeValidation, i));
}

/**
 * What n8n's editor writes into `conditions.options` from the node's `typeOptions.filter`.
 * Exported workflows always carry it; hand-written ones may not, and n8n would then crash.
 */
function editorFilterOptions(node: N8nNode, loose: boolean, options: Options, versions: ConditionNodeVersions): FilterOptionsValue {
  return {
    caseSensitive: !options.ignoreCase,
    leftValue: '',
    typeValidation: loose ? 'loose' : 'strict',
    version: node.typeVersion >= versions.filterV3From ? 3 : node.typeVersion >= versions.filterV2From ? 2 : 1,
  };
}

function evaluateConditions(
  node: N8nNode,
  rawConditions: unknown,
  i: number,
  ctx: { params: INodeParameters; options: Options; versions: ConditionNodeVersions; resolve: ParameterResolver },
): boolean {
  const resolved = ctx.resolve(rawConditions, i);
  // n8n hands a non-filter value (e.g. the `{}` default of a node without conditions) back
  // unchanged and the node reads it as a boolean: `{}` passes.
  if (!isFilterValue(resolved)) return Boolean(resolved);
  const loose = looseTypes(node, ctx.params, ctx.options, ctx.versions, ctx.resolve, i);
  const value = resolved as FilterValue;
  const filter: FilterValue = value.options ? value : { ...value, options: editorFilterOptions(node, loose, ctx.options, ctx.versions) };
  try {
    return executeFilter(filter, { itemIndex: i });
  } catch (error) {
    const described = (error as { description?: unknown }).description;
    const description = typeof described === 'string' && described !== '' ? described : loose ? undefined : LESS_STRICT_HINT;
    throw invalid(node, (error as Error).message, i, description);
  }
}

function options(params: INodeParameters, resolve: ParameterResolver, i: number): Options {
  const resolved = resolve(params.options ?? {}, i);
  return typeof resolved === 'object' && resolved !== null ? (resolved as Options) : {};
}

const paired = (item: NodeItem, i: number): NodeItem => ({ json: item.json, pairedItem: { item: i } });

export function runIf(node: N8nNode, params: INodeParameters, items: NodeItem[], resolve: ParameterResolver): NodeItem[][] {
  const trueItems: NodeItem[] = [];
  const falseItems: NodeItem[] = [];
  items.forEach((item, i) => {
    try {
      const pass = evaluateConditions(node, params.conditions, i, { params, options: options(params, resolve, i), versions: IF_FILTER, resolve });
      (pass ? trueItems : falseItems).push(paired(item, i));
    } catch (error) {
      if (!continuesOnFail(node)) throw error;
      falseItems.push(paired(item, i));
    }
  });
  return [trueItems, falseItems];
}

export function runFilter(node: N8nNode, params: INodeParameters, items: NodeItem[], resolve: ParameterResolver): NodeItem[][] {
  const kept: NodeItem[] = [];
  items.forEach((item, i) => {
    try {
      if (evaluateConditions(node, params.conditions, i, { params, options: options(params, resolve, i), versions: IF_FILTER, resolve })) kept.push(paired(item, i));
    } catch (error) {
      // n8n sends a failing item to the discarded side, which journeys do not follow.
      if (!continuesOnFail(node)) throw error;
    }
  });
  return [kept];
}

type Rule = { conditions?: unknown; output?: unknown };

function checkIndexRange(node: N8nNode, outputCount: number, index: unknown, i: number): void {
  if (Number(index) === outputCount) {
    throw invalid(node, `the output ${String(index)} is not allowed [item ${i}]`, i, `Output indexes are zero based, if you want to use the extra output use ${Number(index) - 1}`);
  }
  if ((index as number) < 0 || (index as number) > outputCount) {
    throw invalid(node, `the output ${String(index)} is not allowed [item ${i}]`, i, `It has to be between 0 and ${outputCount - 1}`);
  }
}

/** How many outputs a Switch has with these (defaulted) parameters; null when an expression decides. */
export function switchOutputCount(params: INodeParameters): number | null {
  if (params.mode === 'expression') return typeof params.numberOutputs === 'number' ? params.numberOutputs : null;
  const rules = ((params.rules as { values?: unknown[] } | undefined)?.values ?? []).length;
  const fallback = (params.options as Options | undefined)?.fallbackOutput;
  return rules + (fallback === 'extra' ? 1 : 0);
}

export function runSwitch(node: N8nNode, params: INodeParameters, items: NodeItem[], resolve: ParameterResolver): NodeItem[][] {
  if (params.mode === 'expression') return runSwitchExpression(node, params, items, resolve);
  const rules = ((params.rules as { values?: Rule[] } | undefined)?.values ?? []) as Rule[];
  if (rules.length === 0) return [[]];
  const fallbackOnFirst = items.length > 0 ? options(params, resolve, 0).fallbackOutput : (params.options as Options | undefined)?.fallbackOutput;
  const outputs: NodeItem[][] = Array.from({ length: rules.length + (fallbackOnFirst === 'extra' ? 1 : 0) }, () => []);
  items.forEach((item, i) => {
    try {
      const opts = options(params, resolve, i);
      let matched = false;
      for (const [ruleIndex, rule] of rules.entries()) {
        const pass = evaluateConditions(node, rule.conditions, i, { params, options: opts, versions: SWITCH, resolve });
        if (!pass) continue;
        matched = true;
        checkIndexRange(node, outputs.length, rule.output, i);
        outputs[ruleIndex]!.push(paired(item, i));
        if (!opts.allMatchingOutputs) return;
      }
      const fallback = opts.fallbackOutput;
      if (matched || fallback === undefined || fallback === 'none') return;
      if (fallback === 'extra') {
        outputs[outputs.length - 1]!.push(paired(item, i));
        return;
      }
      checkIndexRange(node, outputs.length, fallback, i);
      const target = outputs[Number(fallback)];
      if (!target) throw invalid(node, `fallback output ${JSON.stringify(fallback)} does not exist [item ${i}]`, i);
      target.push(paired(item, i));
    } catch (error) {
      if (!continuesOnFail(node)) throw error;
      outputs[0]!.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
    }
  });
  return outputs;
}

function runSwitchExpression(node: N8nNode, params: INodeParameters, items: NodeItem[], resolve: ParameterResolver): NodeItem[][] {
  let outputs: NodeItem[][] = [];
  items.forEach((item, i) => {
    try {
      const numberOutputs = Number(resolve(params.numberOutputs, i));
      if (i === 0) outputs = Array.from({ length: Number.isInteger(numberOutputs) && numberOutputs > 0 ? numberOutputs : 0 }, () => []);
      const index = validateParameterType(node, { name: 'output', validateType: 'number' }, resolve(params.output, i), i);
      checkIndexRange(node, outputs.length, index, i);
      const target = typeof index === 'number' ? outputs[index] : undefined;
      if (!target) throw invalid(node, `the output index must be a number between 0 and ${outputs.length - 1}, got ${JSON.stringify(index)} [item ${i}]`, i);
      target.push(paired(item, i));
    } catch (error) {
      if (!continuesOnFail(node)) throw error;
      (outputs[0] ??= []).push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
    }
  });
  return outputs.length > 0 ? outputs : [[]];
}
