import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { compileConditionSql } from './compile.js';
import { analyzeCondition, SegmentCondition, type ConditionAnalysis, type SegmentInput, type SegmentPatch } from './condition.js';
import { explainCondition, type ExplainNode } from './explain.js';
import { rawSql, sql, type SqlFragment } from './sql-fragment.js';

export const SEGMENT_ENTERED = '$segment_entered';
export const SEGMENT_EXITED = '$segment_exited';

export interface Transition {
  segmentId: string;
  segmentName: string;
  contactId: string;
  kind: 'entered' | 'exited';
  at: Date;
  /** The `$segment_entered` / `$segment_exited` event written with it (null when not emitted). */
  eventId: string | null;
}

export interface RecomputeResult {
  segmentId: string;
  entered: number;
  exited: number;
  members: number;
  ms: number;
}

/** What changed for the contacts handed to `evaluateContacts`. */
export interface ContactChange {
  eventNames?: string[];
  attributes?: boolean;
  score?: boolean;
  /** List ids whose membership changed, or true when unknown (any list condition is affected). */
  lists?: string[] | boolean;
  suppressions?: boolean;
}

export interface SegmentRecord {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  condition: SegmentCondition;
  timeRelative: boolean;
  memberCount: number;
  computedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SegmentMember {
  id: string;
  email: string | null;
  externalId: string | null;
  enteredAt: string;
}

export class SegmentConflictError extends Error {
  readonly code = 'CONFLICT';
}

/** The input names something that does not exist or is malformed (a list, a cursor). */
export class SegmentInputError extends Error {
  readonly code = 'VALIDATION_FAILED';
}

export interface SegmentEngineOptions {
  db: Knex;
  /** The engine's notion of now; tests move it to make time pass. */
  clock?: () => Date;
  /**
   * Called after commit with the transitions of an incremental evaluation, and of a full
   * recompute when set (a recompute then reads every transition back: keep it cheap).
   */
  onTransitions?: (transitions: Transition[]) => void | Promise<void>;
  /** work_mem for full computations: hash joins over a whole workspace stay in memory. */
  workMem?: string;
  /** Segments evaluated at once by `evaluateContacts` (each takes a pooled connection). */
  concurrency?: number;
}

interface SegmentRow {
  id: string;
  workspace_id: string;
  name: string;
  description: string | null;
  condition: SegmentCondition;
  time_relative: boolean;
  member_count: number;
  computed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface Compiled {
  json: string;
  condition: SegmentCondition;
  analysis: ConditionAnalysis;
}

/** Advisory lock namespace: one lock per segment serialises its full and incremental writes. */
const LOCK_SPACE = 0x5e6;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Dynamic segments: stored membership kept up to date incrementally (per contact, on each
 * change) and in full (on create/edit, and by `sweep` for conditions relative to now). Every
 * entry and exit is recorded in `segment_transitions` and emitted as a `$segment_entered` /
 * `$segment_exited` event with an outbox row, in the same transaction as the membership change.
 *
 * @example
 *   const segments = new SegmentEngine({ db });
 *   const vip = await segments.create(workspaceId, { name: 'VIP', condition: { score: { op: 'gte', value: 100 } } });
 *   await segments.evaluateContacts(workspaceId, [contactId], { score: true });
 */
export class SegmentEngine {
  private readonly db: Knex;
  private readonly clock: () => Date;
  private readonly cache = new Map<string, Compiled>();
  /** Counters, for metrics and tests. */
  readonly stats = { recomputes: 0, incrementalEvaluations: 0, transitions: 0 };

  constructor(private readonly options: SegmentEngineOptions) {
    this.db = options.db;
    this.clock = options.clock ?? (() => new Date());
  }

  // -------------------------------------------------------------------------------------------
  // Definitions

  /**
   * Stores a segment and (unless `compute: false`) computes its members before returning.
   * `emit: false` backfills the first members without `$segment_entered` events (transitions
   * are still recorded): each emitted entry costs ~0.2 ms, so a 100k-member segment takes ~20 s
   * to create with events and ~1 s without.
   */
  async create(workspaceId: string, input: SegmentInput, opts: { compute?: boolean; emit?: boolean } = {}): Promise<SegmentRecord> {
    await this.checkLists(workspaceId, input.condition);
    let id: string;
    try {
      const [row] = await this.db('segments')
        .insert({
          workspace_id: workspaceId,
          name: input.name,
          description: input.description ?? null,
          condition: JSON.stringify(input.condition),
          time_relative: analyzeCondition(input.condition).timeRelative,
        })
        .returning('id');
      id = (row as { id: string }).id;
    } catch (error) {
      throw conflict(error, input.name);
    }
    if (opts.compute !== false) await this.recompute(id, { emit: opts.emit });
    return (await this.get(workspaceId, id))!;
  }

  /** Changes a segment; a new condition is computed in full before returning. Null when not found. */
  async update(workspaceId: string, segmentId: string, patch: SegmentPatch, opts: { compute?: boolean; emit?: boolean } = {}): Promise<SegmentRecord | null> {
    if (!UUID.test(segmentId)) return null;
    if (patch.condition) await this.checkLists(workspaceId, patch.condition);
    const changes: Record<string, unknown> = { updated_at: this.db.fn.now() };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.description !== undefined) changes.description = patch.description;
    if (patch.condition !== undefined) {
      changes.condition = JSON.stringify(patch.condition);
      changes.time_relative = analyzeCondition(patch.condition).timeRelative;
    }
    let count: number;
    try {
      count = await this.db('segments').where({ workspace_id: workspaceId, id: segmentId }).update(changes);
    } catch (error) {
      throw conflict(error, patch.name ?? '');
    }
    if (count === 0) return null;
    if (patch.condition !== undefined && opts.compute !== false) await this.recompute(segmentId, { emit: opts.emit });
    return this.get(workspaceId, segmentId);
  }

  /** Deletes a segment with its members and transition history. */
  async delete(workspaceId: string, segmentId: string): Promise<boolean> {
    if (!UUID.test(segmentId)) return false;
    const count = await this.db('segments').where({ workspace_id: workspaceId, id: segmentId }).delete();
    this.cache.delete(segmentId);
    return count > 0;
  }

  async get(workspaceId: string, segmentId: string): Promise<SegmentRecord | null> {
    if (!UUID.test(segmentId)) return null;
    const row = await this.db<SegmentRow>('segments').where({ workspace_id: workspaceId, id: segmentId }).first();
    return row ? toRecord(row) : null;
  }

  async list(workspaceId: string): Promise<SegmentRecord[]> {
    const rows = await this.db<SegmentRow>('segments').where({ workspace_id: workspaceId }).orderBy('name');
    return rows.map(toRecord);
  }

  // -------------------------------------------------------------------------------------------
  // Computation

  /**
   * Computes a segment for every contact of its workspace and applies the difference to the
   * stored membership, set-wise in one statement. `emit: false` records transitions without
   * writing `$segment_*` events (e.g. to backfill a segment without starting journeys).
   */
  async recompute(segmentId: string, opts: { emit?: boolean } = {}): Promise<RecomputeResult> {
    const started = performance.now();
    const now = this.clock();
    const wantRows = this.options.onTransitions !== undefined;
    const outcome = await this.db.transaction(async (tx) => {
      await setLocalPlanning(tx, this.options.workMem);
      const row = await lockedSegment(tx, segmentId);
      if (!row) throw new SegmentInputError(`no segment with id ${segmentId}`);
      const compiled = this.compiled(row.id, row.condition);
      const applied = await applyMembership(tx, {
        segment: row,
        condition: compiled.condition,
        now,
        emit: opts.emit !== false,
        returnRows: wantRows,
      });
      await tx('segments').where({ id: segmentId }).update({ member_count: applied.members, computed_at: now });
      return { row, applied };
    });
    this.stats.recomputes++;
    this.stats.transitions += outcome.applied.entered + outcome.applied.exited;
    if (wantRows && outcome.applied.transitions.length > 0) await this.options.onTransitions!(outcome.applied.transitions);
    return {
      segmentId,
      entered: outcome.applied.entered,
      exited: outcome.applied.exited,
      members: outcome.applied.members,
      ms: Math.round(performance.now() - started),
    };
  }

  /**
   * Re-evaluates the given contacts against the segments `change` can affect, and only those.
   * Returns the transitions (each also written as an event + outbox row).
   */
  async evaluateContacts(workspaceId: string, contactIds: string[], change: ContactChange): Promise<Transition[]> {
    return (await this.evaluate(workspaceId, contactIds, change, true)).transitions;
  }

  /**
   * `evaluateContacts` that never waits for a segment whose lock another transaction holds (a
   * full recompute or sweep: seconds at a million contacts). Those segments come back as
   * `deferred`: the caller records them (`deferEvaluation`, in its own transaction) and
   * `evaluateDeferred` finishes them once the lock is free, so the router keeps routing.
   */
  async evaluateContactsOrDefer(workspaceId: string, contactIds: string[], change: ContactChange): Promise<{ transitions: Transition[]; deferred: string[] }> {
    return this.evaluate(workspaceId, contactIds, change, false);
  }

  /** Records contacts to re-evaluate against segments that were busy; durable with `tx`. */
  async deferEvaluation(tx: Knex.Transaction, segmentIds: string[], contactIds: string[]): Promise<void> {
    const ids = [...new Set(contactIds.filter((id) => UUID.test(id)))];
    if (segmentIds.length === 0 || ids.length === 0) return;
    await tx.raw(
      `INSERT INTO segment_deferred (segment_id, contact_id)
       SELECT s, c FROM unnest(?::uuid[]) AS s, unnest(?::uuid[]) AS c
       ON CONFLICT DO NOTHING`,
      [segmentIds, ids],
    );
  }

  /**
   * Evaluates deferred (segment, contact) pairs, waiting for each segment's lock; returns how
   * many pairs were done. Pairs are claimed with SKIP LOCKED and deleted in the same
   * transaction as the evaluation, so a crash leaves them for the next call.
   */
  async evaluateDeferred(limit = 2000): Promise<number> {
    const now = this.clock();
    const transitions: Transition[] = [];
    const done = await this.db.transaction(async (tx) => {
      const claimed = await tx.raw(
        `DELETE FROM segment_deferred d USING (
           SELECT segment_id, contact_id FROM segment_deferred ORDER BY segment_id LIMIT ? FOR UPDATE SKIP LOCKED
         ) c WHERE d.segment_id = c.segment_id AND d.contact_id = c.contact_id
         RETURNING d.segment_id, d.contact_id`,
        [limit],
      );
      const bySegment = new Map<string, string[]>();
      for (const row of claimed.rows as Array<{ segment_id: string; contact_id: string }>) {
        bySegment.set(row.segment_id, [...(bySegment.get(row.segment_id) ?? []), row.contact_id]);
      }
      // In segment id order: two callers take segment locks in the same order and never deadlock.
      for (const segmentId of [...bySegment.keys()].sort()) {
        const result = await this.evaluateSegment(tx, segmentId, bySegment.get(segmentId)!, now);
        if (result) transitions.push(...result.transitions);
      }
      return (claimed.rows as unknown[]).length;
    });
    this.stats.transitions += transitions.length;
    if (transitions.length > 0) await this.options.onTransitions?.(transitions);
    return done;
  }

  private async evaluate(workspaceId: string, contactIds: string[], change: ContactChange, wait: boolean): Promise<{ transitions: Transition[]; deferred: string[] }> {
    const ids = [...new Set(contactIds.filter((id) => UUID.test(id)))];
    if (ids.length === 0) return { transitions: [], deferred: [] };
    const segments = await this.affectedSegments(workspaceId, change);
    const now = this.clock();
    const deferred: string[] = [];
    // Segments are independent: a few at a time, each in its own short transaction.
    const results = await mapLimit(segments, this.options.concurrency ?? 4, (segment) =>
      this.db.transaction(async (tx) => {
        if (!wait && !(await tryLockSegment(tx, segment.id))) {
          deferred.push(segment.id);
          return null;
        }
        return this.evaluateSegment(tx, segment.id, ids, now, { locked: !wait });
      }),
    );
    const transitions = results.flatMap((applied) => applied?.transitions ?? []);
    this.stats.transitions += transitions.length;
    if (transitions.length > 0) await this.options.onTransitions?.(transitions);
    return { transitions, deferred };
  }

  /** One segment, these contacts, under the segment's lock (taken here unless already held). */
  private async evaluateSegment(tx: Knex.Transaction, segmentId: string, contactIds: string[], now: Date, opts: { locked?: boolean } = {}): Promise<Applied | null> {
    // Read under the lock: an edit may have landed since the segment list was read.
    const row = opts.locked ? await tx<SegmentRow>('segments').where({ id: segmentId }).first('id', 'workspace_id', 'name', 'condition') : await lockedSegment(tx, segmentId);
    if (!row) return null;
    const compiled = this.compiled(row.id, row.condition);
    const result = await applyMembership(tx, { segment: row, condition: compiled.condition, now, contactIds, emit: true, returnRows: true });
    if (result.entered + result.exited > 0) {
      await tx('segments')
        .where({ id: row.id })
        .update({ member_count: tx.raw('member_count + ?', [result.entered - result.exited]) });
    }
    this.stats.incrementalEvaluations++;
    return result;
  }

  /** The segments of a workspace whose membership `change` can affect. */
  async affectedSegments(workspaceId: string, change: ContactChange): Promise<Array<{ id: string; name: string }>> {
    const rows = await this.db<SegmentRow>('segments').where({ workspace_id: workspaceId }).orderBy('id').select('id', 'name', 'condition');
    const events = new Set(change.eventNames ?? []);
    const ownActivity = [...events].some((n) => !n.startsWith('$'));
    const lists = new Set(Array.isArray(change.lists) ? change.lists : []);
    return rows
      .filter((row) => {
        const a = this.compiled(row.id, row.condition).analysis;
        return (
          (a.anyEvent && ownActivity) || a.eventNames.some((n) => events.has(n)) ||
          (change.attributes === true && a.attributes) ||
          (change.score === true && a.score) ||
          (change.suppressions === true && a.suppressions) ||
          (change.lists === true ? a.lists.length > 0 : a.lists.some((l) => lists.has(l)))
        );
      })
      .map((row) => ({ id: row.id, name: row.name }));
  }

  /** Recomputes every segment whose membership moves with time (run periodically). */
  async sweep(workspaceId?: string): Promise<RecomputeResult[]> {
    const query = this.db<SegmentRow>('segments').select('id', 'condition').orderBy('id');
    if (workspaceId) query.where({ workspace_id: workspaceId });
    const rows = await query;
    const results: RecomputeResult[] = [];
    for (const row of rows) {
      if (!this.compiled(row.id, row.condition).analysis.timeRelative) continue;
      try {
        results.push(await this.recompute(row.id));
      } catch (error) {
        if (!(error instanceof SegmentInputError)) throw error; // deleted meanwhile
      }
    }
    return results;
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /** How many contacts match a condition now, and a few of them; nothing is written. */
  async preview(
    workspaceId: string,
    condition: SegmentCondition,
    opts: { sample?: number } = {},
  ): Promise<{ count: number; sample: Array<{ id: string; email: string | null; externalId: string | null }> }> {
    const where = compileConditionSql(condition, { workspaceId, now: this.clock() });
    const sampleSize = Math.max(0, Math.min(opts.sample ?? 10, 100));
    return this.db.transaction(async (tx) => {
      await setLocalPlanning(tx, this.options.workMem);
      const count = await tx.raw(`SELECT count(*)::int AS n FROM contacts c WHERE c.workspace_id = ?::uuid AND ${where.text}`, [workspaceId, ...where.bindings] as never);
      const sample =
        sampleSize === 0
          ? { rows: [] }
          : await tx.raw(`SELECT c.id, c.email, c.external_id FROM contacts c WHERE c.workspace_id = ?::uuid AND ${where.text} LIMIT ?`, [
              workspaceId,
              ...where.bindings,
              sampleSize,
            ] as never);
      return {
        count: (count.rows[0] as { n: number }).n,
        sample: (sample.rows as Array<{ id: string; email: string | null; external_id: string | null }>).map((r) => ({
          id: r.id,
          email: r.email,
          externalId: r.external_id,
        })),
      };
    });
  }

  /**
   * Members of a segment in contact-id order, `limit` at a time; pass `nextCursor` back as
   * `after` for the next page. Null when the segment does not exist in the workspace.
   */
  async members(
    workspaceId: string,
    segmentId: string,
    opts: { limit?: number; after?: string } = {},
  ): Promise<{ members: SegmentMember[]; nextCursor: string | null } | null> {
    if (!(await this.get(workspaceId, segmentId))) return null;
    const limit = Math.max(1, Math.min(opts.limit ?? 100, 1000));
    let after: string | null = null;
    if (opts.after !== undefined) {
      after = Buffer.from(opts.after, 'base64url').toString('utf8');
      if (!UUID.test(after)) throw new SegmentInputError('the cursor is not one this API returned');
    }
    const query = this.db('segment_members as m')
      .join('contacts as c', 'c.id', 'm.contact_id')
      .where('m.segment_id', segmentId)
      .orderBy('m.contact_id')
      .limit(limit + 1)
      .select('m.contact_id', 'm.entered_at', 'c.email', 'c.external_id');
    if (after) query.andWhere('m.contact_id', '>', after);
    const rows = (await query) as Array<{ contact_id: string; entered_at: Date; email: string | null; external_id: string | null }>;
    const page = rows.slice(0, limit);
    return {
      members: page.map((r) => ({ id: r.contact_id, email: r.email, externalId: r.external_id, enteredAt: r.entered_at.toISOString() })),
      nextCursor: rows.length > limit ? Buffer.from(page[page.length - 1]!.contact_id).toString('base64url') : null,
    };
  }

  /** The segments a contact is in now. */
  async membership(workspaceId: string, contactId: string): Promise<Array<{ segmentId: string; name: string; enteredAt: string }>> {
    if (!UUID.test(contactId)) return [];
    const rows = (await this.db('segment_members as m')
      .join('segments as s', 's.id', 'm.segment_id')
      .where({ 'm.workspace_id': workspaceId, 'm.contact_id': contactId })
      .orderBy('s.name')
      .select('m.segment_id', 's.name', 'm.entered_at')) as Array<{ segment_id: string; name: string; entered_at: Date }>;
    return rows.map((r) => ({ segmentId: r.segment_id, name: r.name, enteredAt: r.entered_at.toISOString() }));
  }

  /** A segment by id or, failing that, by name (names are unique per workspace). */
  async find(workspaceId: string, idOrName: string): Promise<{ id: string; name: string } | null> {
    const query = this.db('segments').where({ workspace_id: workspaceId });
    if (UUID.test(idOrName)) query.andWhere((q) => q.where({ id: idOrName }).orWhere({ name: idOrName }));
    else query.andWhere({ name: idOrName });
    // An id match wins over a segment that happens to be named like another's id.
    const rows = (await query.select('id', 'name')) as Array<{ id: string; name: string }>;
    return rows.find((r) => r.id === idOrName) ?? rows[0] ?? null;
  }

  /** Whether the contact is in the segment's stored membership now. */
  async isMember(segmentId: string, contactId: string): Promise<boolean> {
    if (!UUID.test(contactId) || !UUID.test(segmentId)) return false;
    return (await this.db('segment_members').where({ segment_id: segmentId, contact_id: contactId }).first('contact_id')) !== undefined;
  }

  /**
   * Whether one contact matches an inline condition now (nothing is stored). The condition is
   * validated here: a bad one throws a SegmentInputError that says what is wrong.
   */
  async matches(workspaceId: string, contactId: string, condition: unknown): Promise<boolean> {
    const parsed = SegmentCondition.safeParse(condition);
    if (!parsed.success) {
      throw new SegmentInputError(`the condition is invalid: ${parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(condition)'}: ${i.message}`).join('; ')}`);
    }
    await this.checkLists(workspaceId, parsed.data);
    return (await matchingContacts(this.db, workspaceId, parsed.data, [contactId], this.clock())).has(contactId);
  }

  /**
   * Why a contact does or does not match a condition: the condition tree with `matched` on
   * every node and, on leaves, what was observed. Null when the contact does not exist.
   */
  async explain(workspaceId: string, condition: SegmentCondition, contactId: string): Promise<ExplainNode | null> {
    if (!UUID.test(contactId)) return null;
    return explainCondition(this.db, workspaceId, condition, contactId, this.clock());
  }

  // -------------------------------------------------------------------------------------------

  private compiled(segmentId: string, stored: unknown): Compiled {
    const json = JSON.stringify(stored);
    const hit = this.cache.get(segmentId);
    if (hit?.json === json) return hit;
    // Stored conditions were validated on write; validating again costs little and keeps a
    // hand-edited row from reaching the compiler.
    const condition = SegmentCondition.parse(stored);
    const entry = { json, condition, analysis: analyzeCondition(condition) };
    this.cache.set(segmentId, entry);
    return entry;
  }

  private async checkLists(workspaceId: string, condition: SegmentCondition): Promise<void> {
    const lists = analyzeCondition(condition).lists;
    if (lists.length === 0) return;
    const found = new Set((await this.db('lists').where({ workspace_id: workspaceId }).whereIn('id', lists).pluck('id')) as string[]);
    const missing = lists.filter((id) => !found.has(id));
    if (missing.length > 0) throw new SegmentInputError(`no list with id ${missing.join(', ')} in this workspace`);
  }
}

/**
 * The contacts among `contactIds` that match `condition` at `now` (no writes).
 *
 * @example const hot = await matchingContacts(db, workspaceId, { score: { op: 'gte', value: 50 } }, ids, new Date());
 */
export async function matchingContacts(db: Knex, workspaceId: string, condition: SegmentCondition, contactIds: string[], now: Date): Promise<Set<string>> {
  const ids = [...new Set(contactIds.filter((id) => UUID.test(id)))];
  if (ids.length === 0) return new Set();
  const where = compileConditionSql(condition, { workspaceId, now, contactIds: ids });
  const result = await db.raw(`SELECT c.id FROM contacts c WHERE c.workspace_id = ?::uuid AND c.id = ANY(?::uuid[]) AND ${where.text}`, [
    workspaceId,
    ids,
    ...where.bindings,
  ] as never);
  return new Set((result.rows as Array<{ id: string }>).map((r) => r.id));
}

/**
 * Whole-workspace queries hash a lot of contact ids: give them memory for it. JIT compilation
 * costs more (~0.2 s) than it saves on these plans.
 */
async function setLocalPlanning(tx: Knex.Transaction, workMem = '128MB'): Promise<void> {
  if (!/^\d+(kB|MB|GB)$/.test(workMem)) throw new Error(`workMem is not a PostgreSQL size: ${workMem}`);
  await tx.raw(`SET LOCAL work_mem = '${workMem}'`);
  await tx.raw('SET LOCAL jit = off');
}

/** Takes the segment's lock (held to commit), then reads it. */
/** Takes the segment's lock if it is free; false when another transaction holds it. */
async function tryLockSegment(tx: Knex.Transaction, segmentId: string): Promise<boolean> {
  const result = await tx.raw('SELECT pg_try_advisory_xact_lock(?::int, hashtext(?::text)) AS ok', [LOCK_SPACE, segmentId]);
  return (result.rows[0] as { ok: boolean }).ok;
}

async function lockedSegment(tx: Knex.Transaction, segmentId: string): Promise<Pick<SegmentRow, 'id' | 'workspace_id' | 'name' | 'condition'> | undefined> {
  // Two statements: a lock taken inside the SELECT would not make that same SELECT's snapshot
  // see a commit that was waited for.
  await tx.raw('SELECT pg_advisory_xact_lock(?::int, hashtext(?::text))', [LOCK_SPACE, segmentId]);
  return tx<SegmentRow>('segments').where({ id: segmentId }).first('id', 'workspace_id', 'name', 'condition');
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

interface Applied {
  entered: number;
  exited: number;
  /** Members after the change (full computation), or -1 (incremental). */
  members: number;
  transitions: Transition[];
}

/**
 * Brings stored membership in line with the condition — for the whole workspace or for
 * `contactIds` — in one statement: insert new members, delete leavers, record transitions and
 * write their system events and outbox rows. The insert and the delete both arbitrate: a row
 * is a transition only if this statement actually inserted or deleted it.
 */
async function applyMembership(
  tx: Knex.Transaction,
  args: {
    segment: Pick<SegmentRow, 'id' | 'workspace_id' | 'name'>;
    condition: SegmentCondition;
    now: Date;
    contactIds?: string[];
    emit: boolean;
    returnRows: boolean;
  },
): Promise<Applied> {
  const { segment, now, contactIds } = args;
  const ws = segment.workspace_id;
  const at = now.toISOString();
  const where = compileConditionSql(args.condition, { workspaceId: ws, now, contactIds });
  const scope = contactIds ? sql` AND c.id = ANY(${contactIds}::uuid[])` : rawSql('');
  const memberScope = contactIds ? sql` AND m.contact_id = ANY(${contactIds}::uuid[])` : rawSql('');
  const properties = JSON.stringify({ segmentId: segment.id, segmentName: segment.name });
  const emit: SqlFragment = args.emit
    ? sql`,
      emitted AS (
        INSERT INTO events (id, workspace_id, contact_id, name, properties, occurred_at)
        SELECT event_id, ${ws}::uuid, contact_id, '$segment_' || kind, ${properties}::jsonb, ${at}::timestamptz FROM changes
      ),
      queued AS (
        INSERT INTO outbox (workspace_id, event_id, kind, contact_id)
        SELECT ${ws}::uuid, event_id, 'event', contact_id FROM changes
      )`
    : rawSql('');
  const tail = args.returnRows
    ? rawSql(`(SELECT coalesce(json_agg(json_build_array(contact_id, kind, event_id)), '[]'::json) FROM changes) AS rows`)
    : rawSql(`NULL::json AS rows`);
  const statement = sql`
    WITH target AS MATERIALIZED (
      SELECT c.id FROM contacts c WHERE c.workspace_id = ${ws}::uuid${scope} AND ${where}
    ),
    entered AS (
      INSERT INTO segment_members (segment_id, contact_id, workspace_id, entered_at)
      SELECT ${segment.id}::uuid, t.id, ${ws}::uuid, ${at}::timestamptz FROM target t
      WHERE NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = ${segment.id}::uuid AND m.contact_id = t.id)
      ON CONFLICT (segment_id, contact_id) DO NOTHING
      RETURNING contact_id
    ),
    exited AS (
      DELETE FROM segment_members m
      WHERE m.segment_id = ${segment.id}::uuid${memberScope}
        AND NOT EXISTS (SELECT 1 FROM target t WHERE t.id = m.contact_id)
      RETURNING m.contact_id
    ),
    changes AS MATERIALIZED (
      SELECT contact_id, 'entered'::text AS kind, ${rawSql(args.emit ? 'gen_random_uuid()' : 'NULL::uuid')} AS event_id FROM entered
      UNION ALL
      SELECT contact_id, 'exited'::text, ${rawSql(args.emit ? 'gen_random_uuid()' : 'NULL::uuid')} FROM exited
    ),
    recorded AS (
      INSERT INTO segment_transitions (workspace_id, segment_id, contact_id, kind, at)
      SELECT ${ws}::uuid, ${segment.id}::uuid, contact_id, kind, ${at}::timestamptz FROM changes
    )${emit}
    SELECT (SELECT count(*) FROM target)::int AS members,
           (SELECT count(*) FROM changes WHERE kind = 'entered')::int AS entered,
           (SELECT count(*) FROM changes WHERE kind = 'exited')::int AS exited,
           ${tail}`;
  const result = await tx.raw(statement.text, statement.bindings as never);
  const row = result.rows[0] as { members: number; entered: number; exited: number; rows: Array<[string, 'entered' | 'exited', string | null]> | null };
  if (args.emit && row.entered + row.exited > 0) await tx.raw(`SELECT pg_notify('campaignos_outbox', '')`);
  return {
    entered: row.entered,
    exited: row.exited,
    members: contactIds ? -1 : row.members,
    transitions: (row.rows ?? []).map(([contactId, kind, eventId]) => ({
      segmentId: segment.id,
      segmentName: segment.name,
      contactId,
      kind,
      at: now,
      eventId,
    })),
  };
}

function toRecord(row: SegmentRow): SegmentRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    description: row.description,
    condition: row.condition,
    timeRelative: row.time_relative,
    memberCount: row.member_count,
    computedAt: row.computed_at ? row.computed_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function conflict(error: unknown, name: string): unknown {
  if ((error as { code?: string }).code === '23505') return new SegmentConflictError(`a segment named "${name}" already exists in this workspace`);
  return error;
}
