import type { Knex } from 'knex';
import {
  pathSegments,
  type AttributeCondition,
  type Channel,
  type EventCondition,
  type EventPropertyFilter,
  type FieldCondition,
  type ScoreCondition,
  type Seen,
  type SegmentCondition,
} from './condition.js';
import { decayedScoreSql } from './score-sql.js';
import { joinSql, rawSql, sql, type SqlFragment } from './sql-fragment.js';

// Conditions compile to one boolean SQL expression over `contacts AS c`. Every value, name and
// path is a binding. Negation is pushed down to the leaves first, so each leaf picks the plan that
// scales for its polarity: "in a set" is `c.id IN (subquery)` (a semi-join), "not in a set" is
// `NOT EXISTS (... = c.id)` (an anti-join) — never `NOT IN`, which PostgreSQL cannot turn into
// a join. Row-level tests are negated with `IS NOT TRUE`, so an absent attribute (NULL) is
// simply "not matched" and its negation "matched".

export interface CompileContext {
  workspaceId: string;
  /** The engine's clock: every "within the last N days" is relative to this, never SQL now(). */
  now: Date;
  /** Only these contacts are evaluated: set subqueries are narrowed to them as well. */
  contactIds?: readonly string[];
}

type Plan =
  | { kind: 'and' | 'or'; items: Plan[] }
  | { kind: 'not'; item: Plan }
  | { kind: 'const'; value: boolean }
  /** A boolean over the contact row; NULL counts as false. */
  | { kind: 'row'; test: SqlFragment }
  /** Membership in a set of contacts: a subquery returning `contact_id`. */
  | { kind: 'set'; select: SqlFragment };

const DAY_MS = 86_400_000;

/**
 * The condition as a WHERE clause for a query over `contacts AS c`.
 *
 * @example
 *   const where = compileCondition(condition, { workspaceId, now: new Date() });
 *   const rows = await db('contacts as c').where('c.workspace_id', workspaceId).modify(where).select('c.id');
 */
export function compileCondition(condition: SegmentCondition, ctx: CompileContext): (qb: Knex.QueryBuilder) => void {
  const where = compileConditionSql(condition, ctx);
  return (qb) => {
    qb.whereRaw(where.text, where.bindings as Knex.RawBinding[]);
  };
}

/** The condition as one SQL boolean expression over `contacts AS c`. */
export function compileConditionSql(condition: SegmentCondition, ctx: CompileContext): SqlFragment {
  return render(plan(condition, ctx), false);
}

function render(p: Plan, negated: boolean): SqlFragment {
  switch (p.kind) {
    case 'const':
      return rawSql(p.value !== negated ? 'TRUE' : 'FALSE');
    case 'not':
      return render(p.item, !negated);
    case 'and':
    case 'or': {
      const op = (p.kind === 'and') !== negated ? ' AND ' : ' OR ';
      return sql`(${joinSql(p.items.map((i) => render(i, negated)), op)})`;
    }
    case 'row':
      return negated ? sql`((${p.test}) IS NOT TRUE)` : sql`(${p.test})`;
    case 'set':
      return negated
        ? sql`NOT EXISTS (SELECT 1 FROM (${p.select}) AS x WHERE x.contact_id = c.id)`
        : sql`c.id IN (${p.select})`;
  }
}

function plan(c: SegmentCondition, ctx: CompileContext): Plan {
  if ('and' in c) return { kind: 'and', items: c.and.map((i) => plan(i, ctx)) };
  if ('or' in c) return { kind: 'or', items: c.or.map((i) => plan(i, ctx)) };
  if ('not' in c) return { kind: 'not', item: plan(c.not, ctx) };
  if ('attribute' in c) return { kind: 'row', test: valueTest(rawSql('c.attributes'), c, ctx.now) };
  if ('field' in c) return fieldPlan(c, ctx.now);
  if ('event' in c) return eventPlan(c, ctx);
  if ('lastSeen' in c) return seenPlan('last', c.lastSeen, ctx);
  if ('firstSeen' in c) return seenPlan('first', c.firstSeen, ctx);
  if ('score' in c) return scorePlan(c, ctx);
  if ('list' in c) {
    return {
      kind: 'set',
      select: sql`SELECT lm.contact_id FROM list_members lm JOIN lists l ON l.id = lm.list_id
        WHERE lm.list_id = ${c.list}::uuid AND l.workspace_id = ${ctx.workspaceId}::uuid${narrow('lm', ctx)}`,
    };
  }
  if ('reachable' in c) {
    return { kind: 'and', items: [{ kind: 'row', test: addressTest(c.reachable) }, { kind: 'not', item: suppressed(c.reachable, false, ctx) }] };
  }
  if ('consent' in c) return { kind: 'not', item: suppressed(c.consent, true, ctx) };
  const never: never = c;
  throw new Error(`unknown condition ${JSON.stringify(never)}`);
}

function narrow(alias: 'e' | 'lm' | 's' | 'sp', ctx: CompileContext): SqlFragment {
  return ctx.contactIds ? sql` AND ${rawSql(alias)}.contact_id = ANY(${ctx.contactIds}::uuid[])` : rawSql('');
}

// ---------------------------------------------------------------------------------------------
// Values in JSON (attributes, event properties)

const DATE_RE =
  '^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?$';
const OFFSET_RE = '[T ][0-9:.]+(Z|[+-][0-9]{2}(:?[0-9]{2})?)$';

/**
 * A JSON string as timestamptz, or NULL when it is not an ISO 8601 date / date-time (or names a
 * day that does not exist). Guarded so a bad value never aborts the query; a date or a
 * date-time without offset is UTC.
 */
function jsonTime(json: SqlFragment, text: SqlFragment): SqlFragment {
  return sql`(CASE WHEN jsonb_typeof(${json}) = 'string' AND ${text} ~ ${DATE_RE} THEN
    CASE WHEN substr(${text}, 9, 2)::int <= extract(day FROM make_date(substr(${text}, 1, 4)::int, substr(${text}, 6, 2)::int, 1) + interval '1 month - 1 day')
    THEN CASE WHEN ${text} ~ ${OFFSET_RE} THEN (${text})::timestamptz ELSE (${text})::timestamp AT TIME ZONE 'UTC' END END END)`;
}

function nestedJson(path: string[], value: unknown): string {
  return JSON.stringify(path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value));
}

type ValueTest = Pick<AttributeCondition, 'op'> & { value?: unknown; days?: number };

/** A never-NULL boolean testing the JSON value at `path` inside `column`. */
function valueTest(column: SqlFragment, c: ValueTest & ({ attribute: AttributeCondition['attribute'] } | { property: EventPropertyFilter['property'] }), now: Date): SqlFragment {
  const path = pathSegments('attribute' in c ? c.attribute : c.property);
  const json = sql`(${column} #> ${path}::text[])`;
  const text = sql`(${column} #>> ${path}::text[])`;
  switch (c.op) {
    case 'eq':
      // Containment is what the GIN index (jsonb_path_ops) answers; for a scalar under an
      // object key it is exact equality.
      return sql`${column} @> ${nestedJson(path, c.value)}::jsonb`;
    case 'neq':
      return sql`NOT (${column} @> ${nestedJson(path, c.value)}::jsonb)`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      // Only JSON numbers compare; the CASE keeps the cast away from anything else.
      return sql`(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json})::numeric ${rawSql(COMPARE[c.op])} ${c.value}::numeric ELSE false END)`;
    case 'contains':
    case 'not_contains': {
      const inArray = sql`${json} @> ${JSON.stringify([c.value])}::jsonb`;
      const test =
        typeof c.value === 'string'
          ? sql`(CASE jsonb_typeof(${json}) WHEN 'string' THEN strpos(lower(${text}), lower(${c.value}::text)) > 0 WHEN 'array' THEN ${inArray} ELSE false END)`
          : sql`(CASE jsonb_typeof(${json}) WHEN 'array' THEN ${inArray} ELSE false END)`;
      return c.op === 'contains' ? test : sql`NOT ${test}`;
    }
    case 'in':
    case 'not_in': {
      const test = sql`coalesce(${json} = ANY(${(c.value as unknown[]).map((v) => JSON.stringify(v))}::jsonb[]), false)`;
      return c.op === 'in' ? test : sql`NOT ${test}`;
    }
    case 'exists':
      return sql`coalesce(jsonb_typeof(${json}), 'null') <> 'null'`;
    case 'not_exists':
      return sql`coalesce(jsonb_typeof(${json}), 'null') = 'null'`;
    default:
      return sql`coalesce(${timeTest(jsonTime(json, text), c, now)}, false)`;
  }
}

const COMPARE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** before / after / within_last / not_within_last / within_next on a timestamptz expression (NULL when absent). */
function timeTest(time: SqlFragment, c: ValueTest, now: Date): SqlFragment {
  const iso = (d: Date) => d.toISOString();
  switch (c.op) {
    case 'before':
      return sql`${time} < ${iso(new Date(c.value as string))}::timestamptz`;
    case 'after':
      return sql`${time} > ${iso(new Date(c.value as string))}::timestamptz`;
    case 'within_last':
      return sql`tstzrange(${iso(new Date(now.getTime() - c.days! * DAY_MS))}::timestamptz, ${iso(now)}::timestamptz, '[]') @> ${time}`;
    case 'not_within_last':
      return sql`${time} < ${iso(new Date(now.getTime() - c.days! * DAY_MS))}::timestamptz`;
    case 'within_next':
      return sql`tstzrange(${iso(now)}::timestamptz, ${iso(new Date(now.getTime() + c.days! * DAY_MS))}::timestamptz, '[]') @> ${time}`;
    default:
      throw new Error(`not a time operator: ${c.op}`);
  }
}

/** ISO date-only values mean UTC midnight; the schema already guarantees the format. */
export function parseIsoTime(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}

// ---------------------------------------------------------------------------------------------
// Built-in fields

const FIELD_COLUMNS = {
  email: 'c.email',
  phone: 'c.phone',
  externalId: 'c.external_id',
  timeZone: 'c.time_zone',
  createdAt: 'c.created_at',
  updatedAt: 'c.updated_at',
} as const;

function fieldPlan(c: FieldCondition, now: Date): Plan {
  const column = rawSql(FIELD_COLUMNS[c.field]);
  // Emails are stored lower-cased.
  const norm = (v: unknown) => (c.field === 'email' && typeof v === 'string' ? v.toLowerCase() : v);
  const row = (test: SqlFragment): Plan => ({ kind: 'row', test });
  const not = (p: Plan): Plan => ({ kind: 'not', item: p });
  switch (c.op) {
    case 'eq':
      return row(sql`${column} = ${norm(c.value)}::text`);
    case 'neq':
      return not(row(sql`${column} = ${norm(c.value)}::text`));
    case 'contains':
      return row(sql`strpos(lower(${column}), lower(${c.value}::text)) > 0`);
    case 'not_contains':
      return not(row(sql`strpos(lower(${column}), lower(${c.value}::text)) > 0`));
    case 'in':
      return row(sql`${column} = ANY(${c.value.map(norm)}::text[])`);
    case 'not_in':
      return not(row(sql`${column} = ANY(${c.value.map(norm)}::text[])`));
    case 'exists':
      return row(sql`coalesce(${column}, '') <> ''`);
    case 'not_exists':
      return not(row(sql`coalesce(${column}, '') <> ''`));
    default:
      return row(timeTest(column, c, now));
  }
}

// ---------------------------------------------------------------------------------------------
// Events

export interface EventSet {
  name?: string;
  /** occurred_at >= from (or > when fromExclusive) */
  from?: Date;
  fromExclusive?: boolean;
  /** occurred_at < to (or <= when toInclusive) */
  to?: Date;
  toInclusive?: boolean;
  where?: EventPropertyFilter[];
  /** count(*) BETWEEN atLeast AND atMost, atLeast ≥ 1; absent: at least one. */
  count?: { atLeast: number; atMost?: number };
}

/** The events of a set as a WHERE condition over `events AS e` (shared with `explain`). */
export function eventFilterSql(s: Omit<EventSet, 'count'>, ctx: CompileContext): SqlFragment {
  const parts: SqlFragment[] = [sql`e.workspace_id = ${ctx.workspaceId}::uuid`];
  // "Any event" is the contact's own activity: system events ($segment_entered, ...) are not.
  parts.push(s.name !== undefined ? sql`e.name = ${s.name}::text` : rawSql(`left(e.name, 1) <> '$'`));
  if (s.from) parts.push(sql`e.occurred_at ${rawSql(s.fromExclusive ? '>' : '>=')} ${s.from.toISOString()}::timestamptz`);
  if (s.to) parts.push(sql`e.occurred_at ${rawSql(s.toInclusive ? '<=' : '<')} ${s.to.toISOString()}::timestamptz`);
  for (const filter of s.where ?? []) parts.push(valueTest(rawSql('e.properties'), filter, ctx.now));
  return sql`${joinSql(parts, ' AND ')}${narrow('e', ctx)}`;
}

function eventSet(s: EventSet, ctx: CompileContext): Plan {
  let select = sql`SELECT e.contact_id FROM events e WHERE ${eventFilterSql(s, ctx)}`;
  if (s.count && (s.count.atLeast > 1 || s.count.atMost !== undefined)) {
    const having =
      s.count.atMost === undefined
        ? sql`count(*) >= ${s.count.atLeast}::bigint`
        : sql`count(*) BETWEEN ${s.count.atLeast}::bigint AND ${s.count.atMost}::bigint`;
    select = sql`${select} GROUP BY e.contact_id HAVING ${having}`;
  }
  return { kind: 'set', select };
}

/** The window and filters of an event condition (shared with `explain`). */
export function eventWindow(c: EventCondition, now: Date): Pick<EventSet, 'name' | 'from' | 'to' | 'where'> {
  const window: Pick<EventSet, 'name' | 'from' | 'to' | 'where'> = { name: c.event, where: c.where };
  if (c.withinDays !== undefined) window.from = new Date(now.getTime() - c.withinDays * DAY_MS);
  if (c.between?.from) window.from = parseIsoTime(c.between.from);
  if (c.between?.to) window.to = parseIsoTime(c.between.to);
  return window;
}

function eventPlan(c: EventCondition, ctx: CompileContext): Plan {
  const window = eventWindow(c, ctx.now);
  const atLeast = c.count?.atLeast ?? (c.count?.atMost !== undefined ? 0 : 1);
  const atMost = c.count?.atMost;
  if (atLeast >= 1) return eventSet({ ...window, count: { atLeast, atMost } }, ctx);
  // "At most N" holds for contacts with no events at all: it is "not more than N".
  if (atMost === undefined) return { kind: 'const', value: true };
  return { kind: 'not', item: eventSet({ ...window, count: { atLeast: atMost + 1 } }, ctx) };
}

function seenPlan(which: 'first' | 'last', seen: Seen, ctx: CompileContext): Plan {
  const name = seen.event;
  const bound = 'days' in seen ? new Date(ctx.now.getTime() - seen.days * DAY_MS) : parseIsoTime(seen.value);
  // "Has any event and none since/before": an anti-join plus a semi-join that probes the
  // (contact_id, ...) index. Measured faster than one max()/min() aggregate over all events,
  // which has to read every event of the workspace.
  const any = eventSet({ name }, ctx);
  const and = (a: Plan, b: Plan): Plan => ({ kind: 'and', items: [a, b] });
  const not = (p: Plan): Plan => ({ kind: 'not', item: p });
  if (which === 'last') {
    switch (seen.op) {
      case 'within_last': // last >= bound: any event since
        return eventSet({ name, from: bound }, ctx);
      case 'after': // last > bound
        return eventSet({ name, from: bound, fromExclusive: true }, ctx);
      case 'not_within_last': // last < bound
      case 'before':
        return and(any, not(eventSet({ name, from: bound }, ctx)));
    }
  }
  switch (seen.op) {
    case 'within_last': // first >= bound
      return and(any, not(eventSet({ name, to: bound }, ctx)));
    case 'after': // first > bound
      return and(any, not(eventSet({ name, to: bound, toInclusive: true }, ctx)));
    case 'not_within_last': // first < bound: any event before
    case 'before':
      return eventSet({ name, to: bound }, ctx);
  }
}

// ---------------------------------------------------------------------------------------------
// Score, lists, channels

function scorePlan(c: ScoreCondition, ctx: CompileContext): Plan {
  const { op, value } = c.score;
  // A contact without a score row has 0. When 0 passes the test, match "no row that fails it";
  // either way the set is of rows where 0 fails its test.
  const zeroPasses = compare(0, op, value);
  const setOp = zeroPasses ? INVERSE[op] : op;
  const score = decayedScoreSql({ workspaceId: ctx.workspaceId, now: ctx.now, alias: 's' });
  const cmp = rawSql(COMPARE[setOp]);
  // Decay shrinks a score toward 0 without changing its sign, so a row whose stored value fails
  // a test that 0 fails cannot pass it decayed: the cheap test spares most of the power() calls.
  const select = sql`SELECT s.contact_id FROM contact_scores s WHERE s.workspace_id = ${ctx.workspaceId}::uuid${narrow('s', ctx)}
    AND s.value ${cmp} ${value}::double precision AND ${score} ${cmp} ${value}::double precision`;
  const set: Plan = { kind: 'set', select };
  return zeroPasses ? { kind: 'not', item: set } : set;
}

const INVERSE = { gt: 'lte', gte: 'lt', lt: 'gte', lte: 'gt' } as const;

export function compare(a: number, op: 'gt' | 'gte' | 'lt' | 'lte', b: number): boolean {
  return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
}

/** Has an address on the channel (a never-NULL row test). */
export function addressTest(channel: Channel): SqlFragment {
  switch (channel) {
    case 'email':
      return rawSql(`coalesce(c.email, '') <> ''`);
    case 'sms':
      return rawSql(`coalesce(c.phone, '') <> ''`);
    case 'push':
      return rawSql(
        `(CASE WHEN jsonb_typeof(c.attributes -> 'pushSubscriptions') = 'array' THEN jsonb_array_length(c.attributes -> 'pushSubscriptions') > 0 ELSE false END)`,
      );
    case 'telegram':
      return rawSql(`coalesce(c.attributes ->> 'telegramChatId', '') <> ''`);
  }
}

function suppressed(channel: Channel, unsubscribedOnly: boolean, ctx: CompileContext): Plan {
  return {
    kind: 'set',
    select: sql`SELECT sp.contact_id FROM suppressions sp WHERE sp.workspace_id = ${ctx.workspaceId}::uuid
      AND sp.channel IN (${channel}::text, '*')${rawSql(unsubscribedOnly ? ` AND sp.reason LIKE 'unsubscribed%'` : '')}${narrow('sp', ctx)}`,
  };
}
