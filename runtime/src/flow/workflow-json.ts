import { z } from 'zod';

/** One end of a connection: `{ "node": "Send welcome", "type": "main", "index": 0 }`. */
export const N8nConnection = z.looseObject({
  node: z.string().min(1),
  type: z.string().default('main'),
  index: z.number().int().nonnegative().default(0),
});
export type N8nConnection = z.infer<typeof N8nConnection>;

/** A node's outgoing connections by connection type; `main[outputIndex]` lists the targets. */
export const N8nNodeConnections = z.looseObject({
  main: z.array(z.array(N8nConnection).nullable()).optional(),
});
export type N8nNodeConnections = z.infer<typeof N8nNodeConnections>;

export const N8nCredentialRef = z.looseObject({
  id: z.string().nullable().optional(),
  name: z.string(),
});

/** A node as n8n exports it. Unknown keys are kept: newer n8n versions add some. */
export const N8nNode = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  type: z.string().min(1),
  typeVersion: z.number().positive(),
  position: z.tuple([z.number(), z.number()]).optional(),
  parameters: z.record(z.string(), z.unknown()).default({}),
  credentials: z.record(z.string(), N8nCredentialRef).optional(),
  disabled: z.boolean().optional(),
  continueOnFail: z.boolean().optional(),
  onError: z.enum(['stopWorkflow', 'continueRegularOutput', 'continueErrorOutput']).optional(),
  retryOnFail: z.boolean().optional(),
  maxTries: z.number().optional(),
  waitBetweenTries: z.number().optional(),
  alwaysOutputData: z.boolean().optional(),
  executeOnce: z.boolean().optional(),
  notes: z.string().optional(),
  notesInFlow: z.boolean().optional(),
  webhookId: z.string().optional(),
});
export type N8nNode = z.infer<typeof N8nNode>;

export const N8nWorkflowSettings = z.looseObject({
  timezone: z.string().optional(),
  executionOrder: z.string().optional(),
});

/** n8n's workflow JSON, as downloaded from the editor or returned by its API. */
export const N8nWorkflow = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  nodes: z.array(N8nNode),
  connections: z.record(z.string(), N8nNodeConnections).default({}),
  settings: N8nWorkflowSettings.optional(),
  active: z.boolean().optional(),
  pinData: z.record(z.string(), z.unknown()).optional(),
  staticData: z.unknown().optional(),
  meta: z.unknown().optional(),
  tags: z.array(z.unknown()).optional(),
  versionId: z.string().optional(),
});
export type N8nWorkflow = z.infer<typeof N8nWorkflow>;

export type ParseWorkflowResult = { ok: true; workflow: N8nWorkflow } | { ok: false; problems: string[] };

/**
 * Validates the shape of n8n workflow JSON. Problems name the path that is wrong, e.g.
 * `nodes[2].type: expected a string, got number (node "Send welcome")`.
 *
 * @example
 * const parsed = parseWorkflowJson(JSON.parse(body));
 * if (!parsed.ok) return res.status(400).json({ problems: parsed.problems });
 */
export function parseWorkflowJson(input: unknown): ParseWorkflowResult {
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input) as unknown;
    } catch (error) {
      return { ok: false, problems: [`the workflow is not valid JSON: ${(error as Error).message}`] };
    }
  }
  const result = N8nWorkflow.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, workflow: result.data };
  return { ok: false, problems: result.error.issues.map((issue) => describeIssue(issue, input)) };
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = formatPath(issue.path);
  const nodeName = nodeNameAt(issue.path, input);
  const suffix = nodeName === undefined ? '' : ` (node "${nodeName}")`;
  return `${where || 'workflow'}: ${issueMessage(issue)}${suffix}`;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = withArticle(issue.expected);
      if (issue.input === undefined) return `is required (expected ${expected})`;
      return `expected ${expected}, got ${describeType(issue.input)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(issue.input)}`;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)}`;
    default:
      return issue.message;
  }
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function nodeNameAt(path: PropertyKey[], input: unknown): string | undefined {
  if (path[0] !== 'nodes' || typeof path[1] !== 'number' || path.length < 3) return undefined;
  const nodes = (input as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return undefined;
  const name = (nodes[path[1]] as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function withArticle(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
