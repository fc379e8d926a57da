import { deepCopy, validateFieldType, type FieldType, type IDataObject, type INodeParameters } from 'n8n-workflow';
import type { NodeItem } from '@campaignos/sdk';
import type { N8nNode } from './workflow-json.js';
import { continuesOnFail, invalid, type ParameterResolver } from './control-common.js';
import { getPath, setPath, unsetPath } from './object-path.js';

// Edit Fields (Set) v3.3/v3.4 as n8n-nodes-base/nodes/Set/v2 implements it: manual
// assignments with n8n's type conversion, or a raw JSON object; then the input fields are
// kept, dropped, selected or excepted.

type Include = 'all' | 'none' | 'selected' | 'except';

interface SetOptions {
  include: Include;
  dotNotation?: boolean;
  ignoreConversionErrors?: boolean;
}

interface Assignment {
  name?: unknown;
  value?: unknown;
  type?: unknown;
}

const FIELD_TYPES = new Set(['string', 'number', 'boolean', 'array', 'object']);

const CONVERSION_HINT = (name: string) =>
  `To fix the error try to change the type for the field "${name}" or activate the option “Ignore Type Conversion Errors” to apply a less strict type validation`;

export function runSet(node: N8nNode, params: INodeParameters, items: NodeItem[], resolve: ParameterResolver): NodeItem[][] {
  const mode = params.mode === 'raw' ? 'raw' : 'manual';
  // n8n resolves a raw JSON expression piece by piece ({{ }} by {{ }}) so the result can be
  // JSON text around the values, not a single value.
  const jsonOutput = params.jsonOutput;
  const rawJson = mode === 'raw' && typeof jsonOutput === 'string' && jsonOutput.startsWith('=') ? jsonOutput.replace(/^=+/, '') : undefined;

  return [
    items.map((item, i) => {
      try {
        const includeOtherFields = Boolean(resolve(params.includeOtherFields ?? false, i));
        const include = (resolve(params.include ?? 'all', i) ?? 'all') as Include;
        const resolvedOptions = resolve(params.options ?? {}, i);
        const options: SetOptions = {
          ...(typeof resolvedOptions === 'object' && resolvedOptions !== null ? (resolvedOptions as object) : {}),
          include: includeOtherFields ? include : 'none',
        };
        const newFields = mode === 'raw' ? rawFields(node, params, rawJson, resolve, i) : manualFields(node, params, options, resolve, i);
        return composeItem(node, params, item, newFields, options, resolve, i);
      } catch (error) {
        if (!continuesOnFail(node)) throw error;
        return { json: { error: (error as Error).message }, pairedItem: { item: i } };
      }
    }),
  ];
}

function manualFields(node: N8nNode, params: INodeParameters, options: SetOptions, resolve: ParameterResolver, i: number): IDataObject {
  const collection = resolve(params.assignments ?? {}, i) as { assignments?: Assignment[] } | null;
  const fields: Record<string, unknown> = {};
  for (const assignment of collection?.assignments ?? []) {
    const name = String(assignment.name ?? '');
    const type = typeof assignment.type === 'string' ? assignment.type : 'string';
    if (!FIELD_TYPES.has(type)) throw invalid(node, `field "${name}" has unknown type "${type}" [item ${i}]`, i);
    fields[name] = convertAssignment(node, name, type as FieldType, assignment.value, i, options.ignoreConversionErrors === true);
  }
  return fields as IDataObject;
}

/** n8n's `validateEntry` for Set ≥ 3.2: null stays null, strings stringify, the rest converts. */
function convertAssignment(node: N8nNode, name: string, type: FieldType, value: unknown, i: number, ignoreErrors: boolean): unknown {
  if (value === undefined || value === null) return null;
  if (type === 'string') value = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const result = validateFieldType(name, value, type);
  if (!result.valid) {
    if (ignoreErrors) return value;
    throw invalid(node, `${result.errorMessage} [item ${i}]`, i, CONVERSION_HINT(name));
  }
  return result.newValue ?? null;
}

function rawFields(node: N8nNode, params: INodeParameters, rawJson: string | undefined, resolve: ParameterResolver, i: number): IDataObject {
  if (rawJson === undefined) return parseJsonObject(node, resolve(params.jsonOutput, i), i);
  const text = rawJson.replace(/{{[\s\S]*?}}/g, (resolvable) => {
    const value = resolve(`=${resolvable}`, i);
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  });
  return parseJsonObject(node, text, i);
}

/** JSON.parse with n8n's repair of single quotes, bare keys and trailing commas. */
export function parseLenientJson(text: string): { ok: true; value: unknown } | { ok: false; recovered: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const recovered = text
      .replace(/'/g, '"')
      .replace(/(['"])?([a-zA-Z0-9_]+)(['"])?:/g, '"$2":')
      .replace(/,\s*([\]}])/g, '$1')
      .replace(/,+$/, '');
    try {
      return { ok: true, value: JSON.parse(recovered) };
    } catch {
      return { ok: false, recovered };
    }
  }
}

/** n8n's `parseJsonParameter`: a JSON object, given as text or already parsed. */
function parseJsonObject(node: N8nNode, data: unknown, i: number): IDataObject {
  let parsed: unknown = data;
  if (typeof data === 'string') {
    const result = parseLenientJson(data);
    if (!result.ok) {
      throw invalid(node, `the 'JSON Output' in item ${i} contains invalid JSON`, i, result.recovered === data ? data : `${result.recovered};\n Original input: ${data}`);
    }
    parsed = result.value;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid(node, `the 'JSON Output' in item ${i} does not contain a valid JSON object`, i);
  }
  return parsed as IDataObject;
}

function fieldHelper(dotNotation: boolean | undefined) {
  if (dotNotation !== false) return { get: getPath, set: setPath, unset: unsetPath };
  // Without dot notation a name is one key; n8n also accepts it wrapped as ['key'] or ["key"].
  const plainKey = (item: Record<string, unknown>, key: string): string => {
    if (item[key] !== undefined) return key;
    if ((key.startsWith("['") && key.endsWith("']")) || (key.startsWith('["') && key.endsWith('"]'))) return key.slice(2, -2);
    return key;
  };
  return {
    get: (item: unknown, key: string) => (item as Record<string, unknown>)[plainKey(item as Record<string, unknown>, key)],
    set: (item: Record<string, unknown>, key: string, value: unknown) => {
      const k = plainKey(item, key);
      if (k !== '__proto__') item[k] = value;
    },
    unset: (item: Record<string, unknown>, key: string) => {
      delete item[plainKey(item, key)];
    },
  };
}

function fieldList(value: unknown): string[] {
  return String(value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

function composeItem(
  node: N8nNode,
  params: INodeParameters,
  input: NodeItem,
  newFields: IDataObject,
  options: SetOptions,
  resolve: ParameterResolver,
  i: number,
): NodeItem {
  const helper = fieldHelper(options.dotNotation);
  let json: Record<string, unknown> = {};
  switch (options.include) {
    case 'all':
      json = deepCopy(input.json as IDataObject);
      break;
    case 'selected':
      for (const key of fieldList(resolve(params.includeFields, i))) {
        const keyToSet = options.dotNotation !== false && key.includes('.') ? key.split('.').pop()! : key;
        helper.set(json, keyToSet, helper.get(input.json, key));
      }
      break;
    case 'except':
      json = deepCopy(input.json as IDataObject);
      for (const key of fieldList(resolve(params.excludeFields, i))) helper.unset(json, key);
      break;
    case 'none':
      break;
    default:
      throw invalid(node, `the include option "${String(options.include)}" is not known`, i);
  }
  for (const [key, value] of Object.entries(newFields)) helper.set(json, key, value);
  return { json, pairedItem: { item: i } };
}
