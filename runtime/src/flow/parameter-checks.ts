import {
  FilterError,
  NodeHelpers,
  executeFilterCondition,
  isExpression,
  isFilterValue,
  isINodePropertiesList,
  isINodePropertyCollectionList,
  isINodePropertyOptionsList,
  type FilterConditionValue,
  type FilterOptionsValue,
  type INodeParameters,
  type INodeProperties,
  type INodeTypeDescription,
} from 'n8n-workflow';
import type { N8nNode } from './workflow-json.js';

// Deploy-time checks of a node's parameters against its n8n description: what n8n's editor
// would flag (required values, allowed options, value types), read with n8n's own defaults
// and display rules so a hidden parameter is never demanded.

/** The operations n8n-workflow's `executeFilterCondition` implements, by operand type. */
const FILTER_OPERATIONS: Record<string, readonly string[]> = {
  string: ['empty', 'notEmpty', 'equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith', 'regex', 'notRegex'],
  number: ['empty', 'notEmpty', 'equals', 'notEquals', 'gt', 'lt', 'gte', 'lte'],
  dateTime: ['empty', 'notEmpty', 'equals', 'notEquals', 'after', 'before', 'afterOrEquals', 'beforeOrEquals'],
  boolean: ['empty', 'notEmpty', 'true', 'false', 'equals', 'notEquals'],
  array: ['contains', 'notContains', 'lengthEquals', 'lengthNotEquals', 'lengthGt', 'lengthLt', 'lengthGte', 'lengthLte', 'empty', 'notEmpty'],
  object: ['empty', 'notEmpty'],
};
const ANY_TYPE_OPERATIONS = ['exists', 'notExists'];

const ASSIGNMENT_TYPES = ['string', 'number', 'boolean', 'array', 'object'];

interface Context {
  node: N8nNode;
  description: INodeTypeDescription;
  root: INodeParameters;
  problems: string[];
}

/** The node's parameters with its description's defaults, as n8n prepares them for execution. */
export function parametersWithDefaults(node: N8nNode, description: INodeTypeDescription): INodeParameters {
  return NodeHelpers.getNodeParameters(description.properties, node.parameters as INodeParameters, true, false, node, description) ?? {};
}

/** Problems with a node's parameters, each a sentence without the node's name (the caller adds it). */
export function checkParameters(node: N8nNode, description: INodeTypeDescription): string[] {
  let root: INodeParameters;
  try {
    root = parametersWithDefaults(node, description);
  } catch (error) {
    return [`its parameters cannot be read: ${(error as Error).message}`];
  }
  const ctx: Context = { node, description, root, problems: [] };
  checkLevel(description.properties, root, '', ctx);
  return ctx.problems;
}

function checkLevel(properties: INodeProperties[], values: INodeParameters, path: string, ctx: Context): void {
  const seen = new Set<string>();
  for (const property of properties) {
    if (property.type === 'notice' || seen.has(property.name)) continue;
    if (!NodeHelpers.displayParameter(values, property, ctx.node, ctx.description, ctx.root)) continue;
    seen.add(property.name);
    const where = path ? `${path}.${property.name}` : property.name;
    const label = `parameter "${where}"${property.displayName && property.displayName !== property.name ? ` (${property.displayName})` : ''}`;
    const value = values[property.name];
    if (property.required && isMissing(value, property)) {
      ctx.problems.push(`${label} is required`);
      continue;
    }
    if (value === undefined || value === null || isExpression(value)) continue;
    checkValue(property, value, where, label, ctx);
  }
}

function isMissing(value: unknown, property: INodeProperties): boolean {
  if (value === undefined || value === null) return true;
  if (property.type === 'multiOptions') return Array.isArray(value) && value.length === 0;
  if (property.type === 'resourceLocator') return typeof value === 'object' && (value as { value?: unknown }).value === '';
  return value === '' && ['string', 'options', 'dateTime', 'json', 'color'].includes(property.type);
}

function quoteList(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function checkValue(property: INodeProperties, value: unknown, where: string, label: string, ctx: Context): void {
  const dynamicOptions = Boolean(property.typeOptions?.loadOptionsMethod || property.typeOptions?.loadOptions);
  const allowed = property.options && isINodePropertyOptionsList(property.options) ? property.options.map((o) => o.value) : [];
  switch (property.type) {
    case 'options':
      if (!dynamicOptions && !allowed.includes(value as never)) ctx.problems.push(`${label} must be one of ${quoteList(allowed)} (got ${JSON.stringify(value)})`);
      return;
    case 'multiOptions':
      if (!Array.isArray(value)) ctx.problems.push(`${label} must be a list of values`);
      else if (!dynamicOptions) {
        const bad = value.filter((v) => !isExpression(v) && !allowed.includes(v as never));
        if (bad.length > 0) ctx.problems.push(`${label} allows only ${quoteList(allowed)} (got ${quoteList(bad)})`);
      }
      return;
    case 'number':
      if (typeof value !== 'number' || Number.isNaN(value)) ctx.problems.push(`${label} must be a number (got ${JSON.stringify(value)})`);
      else if (typeof property.typeOptions?.minValue === 'number' && value < property.typeOptions.minValue) ctx.problems.push(`${label} must be at least ${property.typeOptions.minValue} (got ${value})`);
      else if (typeof property.typeOptions?.maxValue === 'number' && value > property.typeOptions.maxValue) ctx.problems.push(`${label} must be at most ${property.typeOptions.maxValue} (got ${value})`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') ctx.problems.push(`${label} must be true or false (got ${JSON.stringify(value)})`);
      return;
    case 'collection':
      if (!isRecord(value)) ctx.problems.push(`${label} must be an object`);
      else if (property.options && isINodePropertiesList(property.options)) checkLevel(property.options, value as INodeParameters, where, ctx);
      return;
    case 'fixedCollection':
      if (!isRecord(value)) ctx.problems.push(`${label} must be an object`);
      else if (property.options && isINodePropertyCollectionList(property.options)) {
        for (const group of property.options) {
          const groupValue = (value as INodeParameters)[group.name];
          if (groupValue === undefined) continue;
          const entries = property.typeOptions?.multipleValues ? groupValue : [groupValue];
          if (!Array.isArray(entries)) {
            ctx.problems.push(`parameter "${where}.${group.name}" must be a list`);
            continue;
          }
          entries.forEach((entry, i) => {
            const at = property.typeOptions?.multipleValues ? `${where}.${group.name}[${i}]` : `${where}.${group.name}`;
            if (isRecord(entry)) checkLevel(group.values, entry as INodeParameters, at, ctx);
            else ctx.problems.push(`parameter "${at}" must be an object`);
          });
        }
      }
      return;
    case 'filter':
      checkFilter(value, label, ctx);
      return;
    case 'assignmentCollection':
      checkAssignments(value, label, ctx);
      return;
    default:
      return;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFilter(value: unknown, label: string, ctx: Context): void {
  if (isRecord(value) && Object.keys(value).length === 0) return;
  if (!isFilterValue(value) || !Array.isArray(value.conditions)) {
    ctx.problems.push(`${label} must be a condition set ({ conditions: [...], combinator: "and" | "or" })`);
    return;
  }
  if (value.combinator !== 'and' && value.combinator !== 'or') ctx.problems.push(`${label}: combinator must be "and" or "or" (got ${JSON.stringify(value.combinator)})`);
  const defaults: FilterOptionsValue = { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 1 };
  const options: FilterOptionsValue = { ...defaults, ...((value.options ?? {}) as Partial<FilterOptionsValue>) };
  value.conditions.forEach((condition: FilterConditionValue, index) => {
    const operator = (condition as Partial<FilterConditionValue>).operator;
    const type = operator?.type;
    const operation = operator?.operation;
    const known = typeof type === 'string' && FILTER_OPERATIONS[type] !== undefined;
    if (!known || typeof operation !== 'string' || !(ANY_TYPE_OPERATIONS.includes(operation) || FILTER_OPERATIONS[type]!.includes(operation))) {
      ctx.problems.push(`${label}: condition ${index + 1} has an unknown operator ${JSON.stringify(type)}:${JSON.stringify(operation)}`);
      return;
    }
    try {
      // With unresolved expressions allowed, this only trips on literals of the wrong type.
      executeFilterCondition(condition, options, { index, unresolvedExpressions: true, errorFormat: 'inline' });
    } catch (error) {
      if (error instanceof FilterError) ctx.problems.push(`${label}: condition ${index + 1}: ${error.message.replace(/ \[item \d+\]$/, '')}`);
    }
  });
}

function checkAssignments(value: unknown, label: string, ctx: Context): void {
  if (isRecord(value) && Object.keys(value).length === 0) return;
  const assignments = isRecord(value) ? value.assignments : undefined;
  if (!Array.isArray(assignments)) {
    ctx.problems.push(`${label} must hold an "assignments" list`);
    return;
  }
  assignments.forEach((assignment: unknown, i) => {
    const a = isRecord(assignment) ? assignment : {};
    if (typeof a.name !== 'string' || a.name === '') ctx.problems.push(`${label}: assignment ${i + 1} has no field name`);
    if (a.type !== undefined && !ASSIGNMENT_TYPES.includes(a.type as string)) {
      ctx.problems.push(`${label}: assignment ${i + 1} ("${String(a.name)}") has type ${JSON.stringify(a.type)}; use one of ${quoteList(ASSIGNMENT_TYPES)}`);
    }
  });
}
