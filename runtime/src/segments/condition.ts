import { z } from 'zod';

// The segment condition language: a JSON tree of and/or/not over leaves. Leaf schemas are plain
// zod objects; the tree itself is walked by hand so an error names the exact node
// (`and.1.event.count: ...`) instead of zod's "no union member matched".

export const MAX_DEPTH = 8;
export const MAX_NODES = 200;
const MAX_DAYS = 36_500;

export const CHANNELS = ['email', 'sms', 'push', 'telegram'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Attribute or property path: `"plan"`, `"address.city"`, or segments `["a.b", "c"]` for keys with dots. */
const Path = z.union([
  z
    .string()
    .min(1)
    .max(500)
    .refine((p) => p.split('.').every((s) => s.length > 0), 'a path has no empty segments (write "address.city")'),
  z.array(z.string().min(1).max(200)).min(1).max(10),
]);
export type Path = z.infer<typeof Path>;

const Scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()], {
  error: 'expected a string, a number or a boolean',
});
const Days = z.number({ error: 'expected a number of days' }).positive().max(MAX_DAYS);
const IsoTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error: 'expected an ISO 8601 date or date-time, e.g. "2025-01-31" or "2025-01-31T12:00:00Z"',
});

/** Comparison operators shared by attributes and event properties, discriminated by `op`. */
function valueOps<K extends string, S extends z.ZodType>(key: K, subject: S) {
  const base = { [key]: subject } as { [P in K]: S };
  const op = <O extends string, X extends z.ZodRawShape>(name: O, extra: X) =>
    z.strictObject({ ...base, op: z.literal(name), ...extra });
  return [
    op('eq', { value: Scalar }),
    op('neq', { value: Scalar }),
    op('gt', { value: z.number().finite() }),
    op('gte', { value: z.number().finite() }),
    op('lt', { value: z.number().finite() }),
    op('lte', { value: z.number().finite() }),
    op('contains', { value: Scalar }),
    op('not_contains', { value: Scalar }),
    op('in', { value: z.array(Scalar).min(1).max(1000) }),
    op('not_in', { value: z.array(Scalar).min(1).max(1000) }),
    op('exists', {}),
    op('not_exists', {}),
    op('before', { value: IsoTime }),
    op('after', { value: IsoTime }),
    op('within_last', { days: Days }),
    op('not_within_last', { days: Days }),
    op('within_next', { days: Days }),
  ] as const;
}

const OPS_HINT =
  'eq, neq, gt, gte, lt, lte, contains, not_contains, in, not_in, exists, not_exists, before, after, within_last, not_within_last, within_next';

export const AttributeCondition = z.discriminatedUnion('op', valueOps('attribute', Path), {
  error: () => `"op" must be one of ${OPS_HINT}`,
});
export type AttributeCondition = z.infer<typeof AttributeCondition>;
export type ValueOp = AttributeCondition['op'];

export const EventPropertyFilter = z.discriminatedUnion('op', valueOps('property', Path), {
  error: () => `"op" must be one of ${OPS_HINT}`,
});
export type EventPropertyFilter = z.infer<typeof EventPropertyFilter>;

/** Built-in contact columns. Text fields take text operators, date fields date operators. */
export const TEXT_FIELDS = ['email', 'phone', 'externalId', 'timeZone'] as const;
export const DATE_FIELDS = ['createdAt', 'updatedAt'] as const;
const TEXT_OPS: readonly ValueOp[] = ['eq', 'neq', 'contains', 'not_contains', 'in', 'not_in', 'exists', 'not_exists'];
const DATE_OPS: readonly ValueOp[] = ['before', 'after', 'within_last', 'not_within_last', 'within_next'];

export const FieldCondition = z
  .discriminatedUnion('op', valueOps('field', z.enum([...TEXT_FIELDS, ...DATE_FIELDS])), {
    error: () => `"op" must be one of ${OPS_HINT}`,
  })
  .superRefine((c, ctx) => {
    const isDate = (DATE_FIELDS as readonly string[]).includes(c.field);
    const allowed = isDate ? DATE_OPS : TEXT_OPS;
    if (!allowed.includes(c.op)) {
      ctx.addIssue({ code: 'custom', path: ['op'], message: `${c.field} is a ${isDate ? 'date' : 'text'} field: use ${allowed.join(', ')}` });
    }
    if (!isDate && 'value' in c && [c.value].flat().some((v) => typeof v !== 'string')) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${c.field} is a text field: compare it with strings` });
    }
  });
export type FieldCondition = z.infer<typeof FieldCondition>;

const EventCount = z
  .strictObject({
    atLeast: z.int().min(0).max(1_000_000).optional(),
    atMost: z.int().min(0).max(1_000_000).optional(),
  })
  .refine((c) => c.atLeast !== undefined || c.atMost !== undefined, 'give atLeast, atMost or both')
  .refine((c) => c.atLeast === undefined || c.atMost === undefined || c.atLeast <= c.atMost, 'atLeast is more than atMost');

const Between = z
  .strictObject({ from: IsoTime.optional(), to: IsoTime.optional() })
  .refine((b) => b.from !== undefined || b.to !== undefined, 'give from, to or both')
  .refine((b) => b.from === undefined || b.to === undefined || Date.parse(b.from) < Date.parse(b.to), '"from" must be before "to"');

/**
 * The contact did an event: `count` of events named `event` that pass every `where` filter, in
 * the window (`withinDays` before now, or `between` from ≤ t < to; all time when neither).
 * Without `count` it means at least once. "Did not" is `{ "not": { "event": ... } }`
 * or `count: { atMost: 0 }`; contacts with no events match any `atMost`.
 */
export const EventCondition = z
  .strictObject({
    event: z.string().min(1).max(200),
    where: z.array(EventPropertyFilter).max(10).optional(),
    count: EventCount.optional(),
    withinDays: Days.optional(),
    between: Between.optional(),
  })
  .refine((c) => c.withinDays === undefined || c.between === undefined, 'use withinDays or between, not both');
export type EventCondition = z.infer<typeof EventCondition>;

const seenOps = [
  z.strictObject({ op: z.literal('within_last'), days: Days, event: z.string().min(1).max(200).optional() }),
  z.strictObject({ op: z.literal('not_within_last'), days: Days, event: z.string().min(1).max(200).optional() }),
  z.strictObject({ op: z.literal('before'), value: IsoTime, event: z.string().min(1).max(200).optional() }),
  z.strictObject({ op: z.literal('after'), value: IsoTime, event: z.string().min(1).max(200).optional() }),
] as const;
const Seen = z.discriminatedUnion('op', seenOps, { error: () => '"op" must be one of within_last, not_within_last, before, after' });
export type Seen = z.infer<typeof Seen>;

/**
 * The time of the contact's last (or first) event, of any name or of `event`. "Any name"
 * leaves out system events (names starting with `$`). A contact with no such event matches
 * none of the operators (wrap in `not` to include them).
 */
export const LastSeenCondition = z.strictObject({ lastSeen: Seen });
export type LastSeenCondition = z.infer<typeof LastSeenCondition>;
export const FirstSeenCondition = z.strictObject({ firstSeen: Seen });
export type FirstSeenCondition = z.infer<typeof FirstSeenCondition>;

/** The current (decayed) score; a contact without a score has 0. */
export const ScoreCondition = z.strictObject({
  score: z.strictObject({ op: z.enum(['gte', 'gt', 'lte', 'lt']), value: z.number().finite() }),
});
export type ScoreCondition = z.infer<typeof ScoreCondition>;

export const ListCondition = z.strictObject({ list: z.uuid({ error: 'expected a list id (a UUID)' }) });
export type ListCondition = z.infer<typeof ListCondition>;

const Channel = z.enum(CHANNELS, { error: () => `expected a channel: ${CHANNELS.join(', ')}` });

/** Has an address on the channel and is not suppressed there (nor on '*'), for any reason. */
export const ReachableCondition = z.strictObject({ reachable: Channel });
export type ReachableCondition = z.infer<typeof ReachableCondition>;

/** Has not unsubscribed from the channel (nor from '*'). */
export const ConsentCondition = z.strictObject({ consent: Channel });
export type ConsentCondition = z.infer<typeof ConsentCondition>;

export type LeafCondition =
  | AttributeCondition
  | FieldCondition
  | EventCondition
  | LastSeenCondition
  | FirstSeenCondition
  | ScoreCondition
  | ListCondition
  | ReachableCondition
  | ConsentCondition;

export type SegmentCondition = { and: SegmentCondition[] } | { or: SegmentCondition[] } | { not: SegmentCondition } | LeafCondition;

const LEAVES = {
  attribute: AttributeCondition,
  field: FieldCondition,
  event: EventCondition,
  lastSeen: LastSeenCondition,
  firstSeen: FirstSeenCondition,
  score: ScoreCondition,
  list: ListCondition,
  reachable: ReachableCondition,
  consent: ConsentCondition,
} as const;
export type ConditionKind = 'and' | 'or' | 'not' | keyof typeof LEAVES;
const KINDS = ['and', 'or', 'not', ...Object.keys(LEAVES)] as ConditionKind[];

/** Which kind of node this is (its one distinguishing key). */
export function conditionKind(c: SegmentCondition): ConditionKind {
  for (const kind of KINDS) if (kind in c) return kind;
  throw new Error('not a segment condition');
}

type Issue = { path: PropertyKey[]; message: string };

function check(value: unknown, path: PropertyKey[], depth: number, budget: { nodes: number }, issues: Issue[]): void {
  if (--budget.nodes < 0) {
    if (budget.nodes === -1) issues.push({ path, message: `a condition has at most ${MAX_NODES} nodes` });
    return;
  }
  if (depth > MAX_DEPTH) {
    issues.push({ path, message: `conditions nest at most ${MAX_DEPTH} levels deep` });
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path, message: `expected a condition object with one of: ${KINDS.join(', ')}` });
    return;
  }
  const found = KINDS.filter((k) => k in value);
  if (found.length === 0) {
    const keys = Object.keys(value);
    issues.push({ path, message: `expected a condition with one of: ${KINDS.join(', ')}${keys.length ? ` (got ${keys.map((k) => `"${k}"`).join(', ')})` : ''}` });
    return;
  }
  if (found.length > 1) {
    issues.push({ path, message: `a condition has exactly one of ${KINDS.join(', ')} (got ${found.join(' and ')}); combine them with "and"` });
    return;
  }
  const kind = found[0]!;
  const record = value as Record<string, unknown>;
  if (kind === 'and' || kind === 'or' || kind === 'not') {
    const extra = Object.keys(record).filter((k) => k !== kind);
    if (extra.length > 0) issues.push({ path, message: `unexpected key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')} beside "${kind}"` });
    const inner = record[kind];
    if (kind === 'not') return check(inner, [...path, 'not'], depth + 1, budget, issues);
    if (!Array.isArray(inner) || inner.length === 0 || inner.length > 50) {
      issues.push({ path: [...path, kind], message: `"${kind}" takes a list of 1 to 50 conditions` });
      return;
    }
    inner.forEach((item, i) => check(item, [...path, kind, i], depth + 1, budget, issues));
    return;
  }
  const result = LEAVES[kind].safeParse(value);
  if (!result.success) for (const issue of result.error.issues) issues.push({ path: [...path, ...issue.path], message: issue.message });
}

/**
 * A segment condition, validated with messages that name the failing node.
 *
 * @example SegmentCondition.parse({ and: [{ attribute: 'plan', op: 'eq', value: 'pro' }, { event: 'purchase', withinDays: 30 }] })
 */
export const SegmentCondition = z.custom<SegmentCondition>().superRefine((value, ctx) => {
  const issues: Issue[] = [];
  check(value, [], 1, { nodes: MAX_NODES }, issues);
  for (const issue of issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

export interface ConditionAnalysis {
  /** Membership can change with time alone (windows relative to now, or a decaying score). */
  timeRelative: boolean;
  /** Event names whose arrival can change membership. */
  eventNames: string[];
  /** Any event not named `$...` can change membership (lastSeen/firstSeen without an event name). */
  anyEvent: boolean;
  /** Contact attributes or built-in fields (email, phone, ...) are read. */
  attributes: boolean;
  score: boolean;
  lists: string[];
  suppressions: boolean;
}

const RELATIVE_OPS = new Set(['within_last', 'not_within_last', 'within_next']);

/** What a condition reads, so a change is only re-evaluated against segments it can affect. */
export function analyzeCondition(condition: SegmentCondition): ConditionAnalysis {
  const out: ConditionAnalysis = { timeRelative: false, eventNames: [], anyEvent: false, attributes: false, score: false, lists: [], suppressions: false };
  const events = new Set<string>();
  const lists = new Set<string>();
  const visit = (c: SegmentCondition): void => {
    if ('and' in c) return c.and.forEach(visit);
    if ('or' in c) return c.or.forEach(visit);
    if ('not' in c) return visit(c.not);
    if ('attribute' in c || 'field' in c) {
      out.attributes = true;
      if (RELATIVE_OPS.has(c.op)) out.timeRelative = true;
    } else if ('event' in c) {
      events.add(c.event);
      if (c.withinDays !== undefined || c.where?.some((w) => RELATIVE_OPS.has(w.op))) out.timeRelative = true;
    } else if ('lastSeen' in c || 'firstSeen' in c) {
      const seen = 'lastSeen' in c ? c.lastSeen : c.firstSeen;
      if (seen.event === undefined) out.anyEvent = true;
      else events.add(seen.event);
      if (RELATIVE_OPS.has(seen.op)) out.timeRelative = true;
    } else if ('score' in c) {
      // A decaying score crosses a threshold with time alone.
      out.score = true;
      out.timeRelative = true;
    } else if ('list' in c) {
      lists.add(c.list);
    } else if ('reachable' in c) {
      out.attributes = true;
      out.suppressions = true;
    } else if ('consent' in c) {
      out.suppressions = true;
    }
  };
  visit(condition);
  out.eventNames = [...events].sort();
  out.lists = [...lists].sort();
  return out;
}

/** Path segments of an attribute or property path. */
export function pathSegments(path: Path): string[] {
  return typeof path === 'string' ? path.split('.') : path;
}

export const SegmentInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  condition: SegmentCondition,
});
export type SegmentInput = z.infer<typeof SegmentInput>;

export const SegmentPatch = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    condition: SegmentCondition.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'nothing to change: give name, description or condition');
export type SegmentPatch = z.infer<typeof SegmentPatch>;
