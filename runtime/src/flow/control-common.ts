import { validateFieldType, type INodeProperties } from 'n8n-workflow';
import { NodeError } from '@campaignos/sdk';
import type { N8nNode } from './workflow-json.js';
import { NATIVE_DESCRIPTIONS } from './native-descriptions.js';

/** Resolves the `={{ }}` expressions of a raw parameter value for one input item. */
export type ParameterResolver = (value: unknown, itemIndex: number) => unknown;

export function nodeLabel(node: N8nNode): string {
  return `${NATIVE_DESCRIPTIONS[node.type]?.displayName ?? node.type} "${node.name}"`;
}

export function invalid(node: N8nNode, message: string, itemIndex?: number, description?: string): NodeError {
  return new NodeError('INVALID_PARAMETER', `${nodeLabel(node)}: ${message}`, { itemIndex, description });
}

/** n8n's `continueOnFail()`: the legacy flag, or either "continue" setting of `onError`. */
export function continuesOnFail(node: N8nNode): boolean {
  if (node.onError === undefined) return node.continueOnFail === true;
  return node.onError === 'continueRegularOutput' || node.onError === 'continueErrorOutput';
}

/**
 * Applies a property's `validateType` the way n8n-core does after resolving a parameter
 * (e.g. Wait's amount "5" becomes 5; "soon" is an error).
 */
export function validateParameterType(node: N8nNode, property: Pick<INodeProperties, 'name' | 'validateType'>, value: unknown, itemIndex: number): unknown {
  if (!property.validateType) return value;
  const result = validateFieldType(property.name, value, property.validateType);
  if (!result.valid) throw invalid(node, `invalid input for '${property.name}' [item ${itemIndex}]`, itemIndex, result.errorMessage);
  return result.newValue;
}

