import { isExpression, tryToParseDateTime, type INodeParameters } from 'n8n-workflow';
import type { N8nNode } from './workflow-json.js';
import { NATIVE_TYPES } from './native-descriptions.js';
import { switchOutputCount } from './condition-nodes.js';
import { parseLenientJson } from './set-node.js';

// What the generic description checks cannot see in the native nodes: journey-specific limits
// (a Wait must end by itself) and values n8n only checks when the node runs.

/** Problems with a native node's (defaulted) parameters, without the node's name. */
export function checkNativeNode(node: N8nNode, params: INodeParameters): string[] {
  switch (node.type) {
    case NATIVE_TYPES.wait:
      return checkWait(params);
    case NATIVE_TYPES.switch:
      return checkSwitch(params);
    case NATIVE_TYPES.set:
      return checkSet(params);
    default:
      return [];
  }
}

function checkWait(params: INodeParameters): string[] {
  const resume = params.resume;
  if (resume === 'webhook' || resume === 'form') {
    return [`resume=${resume} is not supported by CampaignOS journeys; use timeInterval or specificTime`];
  }
  if (resume === 'specificTime' && typeof params.dateTime === 'string' && params.dateTime !== '' && !isExpression(params.dateTime)) {
    try {
      tryToParseDateTime(params.dateTime);
    } catch {
      return [`dateTime ${JSON.stringify(params.dateTime)} is not a valid date`];
    }
  }
  return [];
}

function checkSwitch(params: INodeParameters): string[] {
  if (params.mode === 'expression') {
    const count = params.numberOutputs;
    if (typeof count === 'number' && (!Number.isInteger(count) || count < 1)) return [`numberOutputs must be a whole number of at least 1 (got ${count})`];
    return [];
  }
  const fallback = (params.options as { fallbackOutput?: unknown } | undefined)?.fallbackOutput;
  if (fallback === undefined || fallback === 'none' || fallback === 'extra' || isExpression(fallback)) return [];
  const rules = switchOutputCount(params) ?? 0;
  if (typeof fallback !== 'number' || !Number.isInteger(fallback) || fallback < 0 || fallback >= rules) {
    return [`options.fallbackOutput must be "none", "extra" or the index of a rule's output (0 to ${rules - 1}); got ${JSON.stringify(fallback)}`];
  }
  return [];
}

function checkSet(params: INodeParameters): string[] {
  if (params.mode !== 'raw') return [];
  const json = params.jsonOutput;
  if (typeof json !== 'string' || isExpression(json)) return [];
  const parsed = parseLenientJson(json);
  if (!parsed.ok) return ['jsonOutput is not valid JSON'];
  if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) return ['jsonOutput must be a JSON object'];
  return [];
}
