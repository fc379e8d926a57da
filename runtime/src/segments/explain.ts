import type { Knex } from 'knex';
import { addressTest, compileConditionSql, eventFilterSql, eventWindow, parseIsoTime, type CompileContext } from './compile.js';
import { conditionKind, pathSegments, type ConditionKind, type LeafCondition, type SegmentCondition } from './condition.js';
import { decayedScoreSql } from './score-sql.js';
import { sql, type SqlFragment } from './sql-fragment.js';

/** One node of an explanation: the condition tree with the verdict and, on leaves, the evidence. */
export interface ExplainNode {
  kind: ConditionKind;
  matched: boolean;
  /** The leaf condition itself (leaves only). */
  condition?: LeafCondition;
  /** What the contact's data showed for this leaf: the attribute value, the event count, the score... */
  observed?: Record<string, unknown>;
  children?: ExplainNode[];
}

interface ContactRow {
  id: string;
  email: string | null;
  phone: string | null;
  external_id: string | null;
  time_zone: string | null;
  attributes: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

/**
 * Evaluates every leaf of `condition` for one contact with the same compiled SQL segments use
 * (one query for all verdicts), gathers what each leaf looked at, and folds and/or/not on top.
 */
export async function explainCondition(db: Knex, workspaceId: string, condition: SegmentCondition, contactId: string, now: Date): Promise<ExplainNode | null> {
  const contact = (await db('contacts').where({ workspace_id: workspaceId, id: contactId }).first()) as ContactRow | undefined;
  if (!contact) return null;
  const ctx: CompileContext = { workspaceId, now, contactIds: [contactId] };

  const leaves: LeafCondition[] = [];
  const collect = (c: SegmentCondition): void => {
    if ('and' in c) c.and.forEach(collect);
    else if ('or' in c) c.or.forEach(collect);
    else if ('not' in c) collect(c.not);
    else leaves.push(c);
  };
  collect(condition);

  const columns = leaves.map((leaf, i) => {
    const test = compileConditionSql(leaf, ctx);
    return { text: `((${test.text}) IS TRUE) AS m${i}`, bindings: test.bindings };
  });
  const verdicts = await db.raw(`SELECT ${columns.map((c) => c.text).join(', ')} FROM contacts c WHERE c.id = ?::uuid`, [
    ...columns.flatMap((c) => c.bindings),
    contactId,
  ] as never);
  const verdict = verdicts.rows[0] as Record<string, boolean>;
  const observed = await Promise.all(leaves.map((leaf) => observe(db, leaf, contact, ctx)));

  let next = 0;
  const build = (c: SegmentCondition): ExplainNode => {
    const kind = conditionKind(c);
    if ('and' in c || 'or' in c) {
      const children = ('and' in c ? c.and : c.or).map(build);
      return { kind, matched: 'and' in c ? children.every((n) => n.matched) : children.some((n) => n.matched), children };
    }
    if ('not' in c) {
      const child = build(c.not);
      return { kind, matched: !child.matched, children: [child] };
    }
    const i = next++;
    return { kind, matched: verdict[`m${i}`] === true, condition: c, observed: observed[i] };
  };
  return build(condition);
}

async function observe(db: Knex, leaf: LeafCondition, contact: ContactRow, ctx: CompileContext): Promise<Record<string, unknown>> {
  if ('attribute' in leaf) {
    let value: unknown = contact.attributes;
    for (const key of pathSegments(leaf.attribute)) {
      value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
    }
    return { value: value ?? null };
  }
  if ('field' in leaf) {
    const columns = { email: 'email', phone: 'phone', externalId: 'external_id', timeZone: 'time_zone', createdAt: 'created_at', updatedAt: 'updated_at' } as const;
    const value = contact[columns[leaf.field]];
    return { value: value instanceof Date ? value.toISOString() : value };
  }
  if ('event' in leaf) {
    const filter = eventFilterSql(eventWindow(leaf, ctx.now), ctx);
    const row = await one(db, sql`SELECT count(*)::int AS count, max(e.occurred_at) AS last FROM events e WHERE ${filter}`);
    return { count: row.count, lastOccurredAt: iso(row.last) };
  }
  if ('lastSeen' in leaf || 'firstSeen' in leaf) {
    const seen = 'lastSeen' in leaf ? leaf.lastSeen : leaf.firstSeen;
    const filter = eventFilterSql({ name: seen.event }, ctx);
    const row = await one(db, sql`SELECT min(e.occurred_at) AS first, max(e.occurred_at) AS last FROM events e WHERE ${filter}`);
    const bound = 'days' in seen ? new Date(ctx.now.getTime() - seen.days * 86_400_000) : parseIsoTime(seen.value);
    return { ['lastSeen' in leaf ? 'lastSeen' : 'firstSeen']: iso('lastSeen' in leaf ? row.last : row.first), comparedWith: bound.toISOString() };
  }
  if ('score' in leaf) {
    const score = decayedScoreSql({ workspaceId: ctx.workspaceId, now: ctx.now, alias: 's' });
    const row = await db.raw(`SELECT s.value, s.as_of, ${score.text} AS current FROM contact_scores s WHERE s.contact_id = ?::uuid`, [
      ...score.bindings,
      contact.id,
    ] as never);
    const found = row.rows[0] as { value: number; as_of: Date; current: number } | undefined;
    return found ? { score: found.current, storedValue: found.value, storedAt: found.as_of.toISOString() } : { score: 0, storedValue: null, storedAt: null };
  }
  if ('list' in leaf) {
    const member = await db('list_members as lm')
      .join('lists as l', 'l.id', 'lm.list_id')
      .where({ 'lm.list_id': leaf.list, 'lm.contact_id': contact.id, 'l.workspace_id': ctx.workspaceId })
      .first('lm.added_at');
    return { member: member !== undefined, addedAt: member ? iso(member.added_at) : null };
  }
  const channel = 'reachable' in leaf ? leaf.reachable : leaf.consent;
  const suppressions = (await db('suppressions')
    .where({ workspace_id: ctx.workspaceId, contact_id: contact.id })
    .whereIn('channel', [channel, '*'])
    .select('channel', 'reason')) as Array<{ channel: string; reason: string }>;
  if ('consent' in leaf) return { unsubscribed: suppressions.filter((s) => s.reason.startsWith('unsubscribed')) };
  const address = await one(db, sql`SELECT (${addressTest(channel)}) AS has FROM contacts c WHERE c.id = ${contact.id}::uuid`);
  return { hasAddress: address.has === true, suppressions };
}

async function one(db: Knex, statement: SqlFragment): Promise<Record<string, unknown>> {
  const result = await db.raw(statement.text, statement.bindings as never);
  return result.rows[0] as Record<string, unknown>;
}

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : null;
}
