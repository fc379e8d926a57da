import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { getPath } from '../flow/object-path.js';
import { SegmentCondition } from '../segments/index.js';

// Scoring rules as JSON. A rule either reacts to an event (optionally filtered by its
// properties) or holds while a contact matches a segment condition over their attributes.
// Schema constants and their types share a name: defined once, validated at the edge.

const propertyPath = z.string().min(1).max(300);
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const FILTER_OPS = 'eq, neq, gt, gte, lt, lte, contains, exists, in';

/** One filter on an event's properties; `property` is a dot path (`order.items[0].sku`). */
export const ScoringEventFilter = z.discriminatedUnion(
  'op',
  [
    z
      .object({
        property: propertyPath,
        op: z.enum(['eq', 'neq']),
        value: z.unknown().refine((v) => v !== undefined, 'eq and neq need a value'),
      })
      .strict(),
    z.object({ property: propertyPath, op: z.enum(['gt', 'gte', 'lt', 'lte']), value: z.union([z.number(), z.string()]) }).strict(),
    z.object({ property: propertyPath, op: z.literal('contains'), value: scalar }).strict(),
    z.object({ property: propertyPath, op: z.literal('exists'), value: z.boolean().optional() }).strict(),
    z.object({ property: propertyPath, op: z.literal('in'), value: z.array(z.unknown()).min(1).max(1000) }).strict(),
  ],
  { error: () => `"op" must be one of ${FILTER_OPS}` },
);
export type ScoringEventFilter = z.infer<typeof ScoringEventFilter>;

export const EventRuleWhen = z
  .object({
    event: z.string().min(1).max(200),
    where: z.array(ScoringEventFilter).max(50).optional(),
  })
  .strict();
export type EventRuleWhen = z.infer<typeof EventRuleWhen>;

export const AttributeRuleWhen = z.object({ condition: SegmentCondition }).strict();
export type AttributeRuleWhen = z.infer<typeof AttributeRuleWhen>;

export type ScoringRuleWhen = EventRuleWhen | AttributeRuleWhen;

/**
 * `{ event, where? }` for an event rule, `{ condition }` for an attribute rule. Dispatched on the
 * key by hand so an error names the failing field instead of zod's "no union member matched".
 */
export const ScoringRuleWhen = z.custom<ScoringRuleWhen>().superRefine((value, ctx) => {
  const schema = typeof value !== 'object' || value === null || Array.isArray(value) ? null : 'event' in value ? EventRuleWhen : 'condition' in value ? AttributeRuleWhen : null;
  if (!schema) {
    ctx.addIssue({ code: 'custom', message: 'expected { "event": ..., "where"?: [...] } (an event rule) or { "condition": ... } (an attribute rule)' });
    return;
  }
  const result = schema.safeParse(value);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

export const ScoreCap = z
  .object({
    points: z.number().positive(),
    periodDays: z.number().positive().max(36_500),
  })
  .strict();
export type ScoreCap = z.infer<typeof ScoreCap>;

const ruleFields = {
  name: z.string().trim().min(1).max(200),
  when: ScoringRuleWhen,
  points: z.number().refine((p) => p !== 0, 'points must not be 0'),
  cap: ScoreCap.optional(),
  active: z.boolean().optional(),
};

const capOnlyOnEvents = (rule: { when?: ScoringRuleWhen; cap?: ScoreCap | null }) => !(rule.cap && rule.when && !isEventWhen(rule.when));
const capMessage = { message: 'cap applies to event rules only (an attribute rule awards its points once while it matches)', path: ['cap'] };

/**
 * A scoring rule as the API accepts it.
 *
 * @example { "name": "Viewed pricing", "when": { "event": "page_viewed", "where": [{ "property": "path", "op": "eq", "value": "/pricing" }] }, "points": 10, "cap": { "points": 30, "periodDays": 7 } }
 */
export const ScoringRuleInput = z.object(ruleFields).strict().refine(capOnlyOnEvents, capMessage);
export type ScoringRuleInput = z.infer<typeof ScoringRuleInput>;

/** A partial update; `cap: null` removes the cap. */
export const ScoringRulePatch = z
  .object({ ...ruleFields, cap: ScoreCap.nullable() })
  .partial()
  .strict()
  .refine(capOnlyOnEvents, capMessage);
export type ScoringRulePatch = z.infer<typeof ScoringRulePatch>;

/** A stored scoring rule. */
export interface ScoringRule {
  id: string;
  name: string;
  when: ScoringRuleWhen;
  points: number;
  cap: ScoreCap | null;
  active: boolean;
  createdAt: string;
}

export function isEventWhen(when: ScoringRuleWhen): when is EventRuleWhen {
  return 'event' in when;
}

/** Whether an event's properties pass every filter of a rule (no filters: always). */
export function matchesEventFilters(filters: ScoringEventFilter[] | undefined, properties: Record<string, unknown>): boolean {
  return (filters ?? []).every((filter) => matchesFilter(filter, getPath(properties, filter.property)));
}

function matchesFilter(filter: ScoringEventFilter, actual: unknown): boolean {
  switch (filter.op) {
    case 'eq':
      return isDeepStrictEqual(actual, filter.value);
    case 'neq':
      return !isDeepStrictEqual(actual, filter.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      // Numbers compare as numbers, strings (ISO dates included) as strings; mixed types never match.
      if (typeof actual !== typeof filter.value || (typeof actual !== 'number' && typeof actual !== 'string')) return false;
      const a = actual as number | string;
      const b = filter.value;
      if (filter.op === 'gt') return a > b;
      if (filter.op === 'gte') return a >= b;
      if (filter.op === 'lt') return a < b;
      return a <= b;
    }
    case 'contains':
      if (typeof actual === 'string') return typeof filter.value === 'string' && actual.includes(filter.value);
      if (Array.isArray(actual)) return actual.some((item) => isDeepStrictEqual(item, filter.value));
      return false;
    case 'exists':
      return (actual !== undefined && actual !== null) === (filter.value ?? true);
    case 'in':
      return filter.value.some((candidate) => isDeepStrictEqual(actual, candidate));
    default: {
      const unreachable: never = filter;
      throw new Error(`unknown filter ${JSON.stringify(unreachable)}`);
    }
  }
}
