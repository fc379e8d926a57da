import type { Knex } from 'knex';
import { matchingContacts } from '../segments/index.js';
import { decayedScore, decayedScoreSqlText, decayFactor } from './decay.js';
import {
  isEventWhen,
  matchesEventFilters,
  ScoringRuleInput,
  ScoringRulePatch,
  type AttributeRuleWhen,
  type EventRuleWhen,
  type ScoringRule,
  type ScoringRuleWhen,
} from './rules.js';
import { ScoreAdjustment, ScoringSettingsInput } from './schemas.js';
import { applyScoreChanges, capDelta, normaliseThresholds, type LedgerEntryInput } from './score-changes.js';
import {
  SCORE_CROSSED_EVENT,
  ScoreContactNotFoundError,
  ScoringRuleConflictError,
  type ScoreAdjustmentMeta,
  type ScoreChange,
  type ScoreExplanation,
  type ScoredEvent,
  type ScoringCallOptions,
  type ScoringSettings,
} from './types.js';

interface RuleRow {
  id: string;
  workspace_id: string;
  name: string;
  when: ScoringRuleWhen;
  points: number;
  cap_points: number | null;
  cap_period_days: number | null;
  active: boolean;
  created_at: Date;
}

const toRule = (row: RuleRow): ScoringRule => ({
  id: row.id,
  name: row.name,
  when: row.when,
  points: row.points,
  cap: row.cap_points !== null && row.cap_period_days !== null ? { points: row.cap_points, periodDays: row.cap_period_days } : null,
  active: row.active,
  createdAt: row.created_at.toISOString(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Lead scoring: rules award points for events and attribute matches, scores decay with a
 * per-workspace half-life, every change is written to a ledger, and crossing a threshold emits
 * a `$score_crossed` event (through the outbox, in the same transaction) that can start journeys.
 *
 * A contact's score is stored as (value, as_of) and decays from there, so nothing has to run for
 * scores to fall; `sweep` only finds the contacts whose decay crossed a threshold.
 *
 * @example
 * const scoring = new ScoringEngine({ db });
 * await scoring.createRule(workspaceId, { name: 'Demo request', when: { event: 'demo_requested' }, points: 50 });
 * await scoring.applyEvent(workspaceId, contactId, { id, name: 'demo_requested', properties: {}, occurredAt: new Date() });
 */
export class ScoringEngine {
  private readonly db: Knex;
  private readonly clock: () => Date;

  constructor(opts: { db: Knex; clock?: () => Date }) {
    this.db = opts.db;
    this.clock = opts.clock ?? (() => new Date());
  }

  // ---- settings ---------------------------------------------------------------------------

  async settings(workspaceId: string): Promise<ScoringSettings> {
    const row = await this.db('scoring_settings').where({ workspace_id: workspaceId }).first('half_life_days', 'thresholds');
    return { halfLifeDays: row?.half_life_days ?? null, thresholds: normaliseThresholds(row?.thresholds ?? []) };
  }

  /**
   * Changes the half-life and/or thresholds. Scores are continuous across a half-life change
   * (every stored score is rebased to its current value first). A new threshold does not count as
   * crossed by contacts already above it; a removed one is forgotten.
   */
  async updateSettings(workspaceId: string, input: ScoringSettingsInput): Promise<ScoringSettings> {
    const change = ScoringSettingsInput.parse(input);
    const now = this.clock();
    return this.db.transaction(async (tx) => {
      await tx('scoring_settings').insert({ workspace_id: workspaceId }).onConflict('workspace_id').ignore();
      const old = await tx('scoring_settings').where({ workspace_id: workspaceId }).forUpdate().first('half_life_days', 'thresholds');
      const oldHalfLife = (old.half_life_days as number | null) ?? null;
      const oldThresholds = normaliseThresholds(old.thresholds as number[]);
      const halfLifeDays = change.halfLifeDays === undefined ? oldHalfLife : change.halfLifeDays;
      const thresholds = change.thresholds === undefined ? oldThresholds : normaliseThresholds(change.thresholds);

      if (halfLifeDays !== oldHalfLife) {
        await tx.raw(
          `UPDATE contact_scores SET value = ${decayedScoreSqlText({ value: 'value', asOf: 'as_of', halfLifeDays: '?::double precision' })}, as_of = ?
            WHERE workspace_id = ?`,
          [now.toISOString(), oldHalfLife, now.toISOString(), workspaceId],
        );
      }
      if (change.thresholds !== undefined) {
        // Kept thresholds keep their state (a pending decay crossing is still found by sweep);
        // added ones take the contact's current standing without emitting anything.
        await tx.raw(
          `UPDATE contact_scores cs SET above = ARRAY(
              SELECT t FROM unnest(?::double precision[]) AS t
               WHERE CASE WHEN t = ANY(?::double precision[]) THEN t = ANY(cs.above)
                          ELSE ${decayedScoreSqlText({ value: 'cs.value', asOf: 'cs.as_of', halfLifeDays: '?::double precision' })} >= t END
               ORDER BY t)
            WHERE cs.workspace_id = ?`,
          [thresholds, oldThresholds, now.toISOString(), halfLifeDays, workspaceId],
        );
      }
      await tx('scoring_settings').where({ workspace_id: workspaceId }).update({ half_life_days: halfLifeDays, thresholds });
      return { halfLifeDays, thresholds };
    });
  }

  // ---- rules ------------------------------------------------------------------------------

  async listRules(workspaceId: string): Promise<ScoringRule[]> {
    const rows = await this.db<RuleRow>('scoring_rules').where({ workspace_id: workspaceId }).orderBy([{ column: 'created_at' }, { column: 'name' }]);
    return rows.map(toRule);
  }

  async getRule(workspaceId: string, id: string): Promise<ScoringRule | null> {
    if (!UUID.test(id)) return null;
    const row = await this.db<RuleRow>('scoring_rules').where({ workspace_id: workspaceId, id }).first();
    return row ? toRule(row) : null;
  }

  /** Validates (throws a ZodError on bad input) and stores a rule; the name is unique per workspace. */
  async createRule(workspaceId: string, input: ScoringRuleInput): Promise<ScoringRule> {
    const rule = ScoringRuleInput.parse(input);
    try {
      const [row] = await this.db<RuleRow>('scoring_rules')
        .insert({ workspace_id: workspaceId, ...ruleColumns(rule) } as never)
        .returning('*');
      return toRule(row as RuleRow);
    } catch (error) {
      throw conflict(error, rule.name);
    }
  }

  /**
   * Changes a rule; returns null when there is none with this id. Points already awarded stay
   * as they are (the ledger is history); a changed cap counts the rule's past awards.
   */
  async updateRule(workspaceId: string, id: string, patch: ScoringRulePatch): Promise<ScoringRule | null> {
    const change = ScoringRulePatch.parse(patch);
    const existing = await this.getRule(workspaceId, id);
    if (!existing) return null;
    const cap = change.cap === undefined ? existing.cap : change.cap;
    const merged = ScoringRuleInput.parse({
      name: change.name ?? existing.name,
      when: change.when ?? existing.when,
      points: change.points ?? existing.points,
      ...(cap && { cap }),
      active: change.active ?? existing.active,
    });
    try {
      const [row] = await this.db<RuleRow>('scoring_rules')
        .where({ workspace_id: workspaceId, id })
        .update(ruleColumns(merged) as never)
        .returning('*');
      return row ? toRule(row as RuleRow) : null;
    } catch (error) {
      throw conflict(error, merged.name);
    }
  }

  /** Deletes a rule. Points it awarded stay (and decay); its ledger entries keep the rule id. */
  async deleteRule(workspaceId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    return (await this.db('scoring_rules').where({ workspace_id: workspaceId, id }).delete()) > 0;
  }

  // ---- changes ----------------------------------------------------------------------------

  /**
   * Applies every active event rule that matches the event. Returns null when no rule matches
   * (or the contact is gone); a change with delta 0 when every matching rule is at its cap.
   */
  async applyEvent(workspaceId: string, contactId: string, event: ScoredEvent, opts: ScoringCallOptions = {}): Promise<ScoreChange | null> {
    const [change] = await this.applyEvents(workspaceId, [{ ...event, contactId }], opts);
    return change ?? null;
  }

  /**
   * `applyEvent` for a batch of events (the router's), in a fixed number of statements per batch
   * rather than per event: rules are read once, caps summed once, and every scored contact is
   * locked, charged and updated together. Events of one contact apply in order, thresholds
   * checked after each. Returns one change per contact some rule matched.
   */
  async applyEvents(workspaceId: string, events: Array<ScoredEvent & { contactId: string }>, opts: ScoringCallOptions = {}): Promise<ScoreChange[]> {
    if (events.length === 0) return [];
    const names = [...new Set(events.map((e) => e.name))];
    const rows = await (opts.tx ?? this.db)<RuleRow>('scoring_rules')
      .where({ workspace_id: workspaceId, active: true })
      .whereRaw(`"when"->>'event' = ANY(?::text[])`, [names])
      .orderBy([{ column: 'created_at' }, { column: 'name' }]);
    const eventRules = rows.filter((r) => isEventWhen(r.when));
    const byContact = new Map<string, Array<{ event: ScoredEvent; rules: RuleRow[] }>>();
    for (const event of events) {
      if (!UUID.test(event.contactId)) continue;
      const rules = eventRules.filter((r) => (r.when as EventRuleWhen).event === event.name && matchesEventFilters((r.when as EventRuleWhen).where, event.properties));
      if (rules.length === 0) continue;
      const list = byContact.get(event.contactId) ?? [];
      list.push({ event, rules });
      byContact.set(event.contactId, list);
    }
    if (byContact.size === 0) return [];
    const now = this.clock();
    const contactIds = [...byContact.keys()];
    return this.transaction(opts, async (tx) =>
      applyScoreChanges(tx, workspaceId, contactIds, now, async (contactId) => {
        const scored = byContact.get(contactId)!;
        const used = await this.capUsage(tx, scored.flatMap((s) => s.rules), contactId, now);
        return scored.map(({ event, rules }) =>
          rules.flatMap((rule): LedgerEntryInput[] => {
            let delta = rule.points;
            let note = '';
            if (rule.cap_points !== null && rule.cap_period_days !== null) {
              delta = capDelta(rule.points, rule.cap_points, used.get(rule.id) ?? 0);
              if (delta === 0) return [];
              used.set(rule.id, (used.get(rule.id) ?? 0) + delta);
              if (delta !== rule.points) note = ` (capped at ${rule.cap_points} per ${rule.cap_period_days} days)`;
            }
            return [{ delta, source: 'rule', ruleId: rule.id, reason: `${rule.name}: ${event.name}${note}` }];
          }),
        );
      }),
    );
  }

  /** What each capped rule awarded the contact in its rolling window (now - period, now]. */
  private async capUsage(tx: Knex.Transaction, rules: RuleRow[], contactId: string, now: Date): Promise<Map<string, number>> {
    const capped = [...new Map(rules.filter((r) => r.cap_points !== null && r.cap_period_days !== null).map((r) => [r.id, r])).values()];
    const used = new Map<string, number>();
    if (capped.length === 0) return used;
    // Once old awards age out of the window, the cap opens again.
    const result = await tx.raw(
      `SELECT k.rule_id, coalesce(sum(l.delta), 0)::double precision AS used
         FROM unnest(?::uuid[], ?::double precision[]) AS k(rule_id, days)
         LEFT JOIN score_ledger l ON l.rule_id = k.rule_id AND l.contact_id = ?
              AND l.at > ?::timestamptz - make_interval(secs => k.days * 86400)
        GROUP BY k.rule_id`,
      [capped.map((r) => r.id), capped.map((r) => r.cap_period_days), contactId, now.toISOString()] as never,
    );
    for (const row of result.rows as Array<{ rule_id: string; used: number }>) used.set(row.rule_id, row.used);
    return used;
  }

  /**
   * Re-evaluates the active attribute rules for these contacts: a rule awards its points when a
   * contact starts matching and takes back what is left of them (after decay) when it stops.
   * Returns the contacts whose score changed.
   */
  async applyAttributeRules(workspaceId: string, contactIds: string[], opts: ScoringCallOptions = {}): Promise<ScoreChange[]> {
    const ids = [...new Set(contactIds.filter((id) => UUID.test(id)))].sort();
    if (ids.length === 0) return [];
    const db = opts.tx ?? this.db;
    const rules = (
      await db<RuleRow>('scoring_rules')
        .where({ workspace_id: workspaceId, active: true })
        .whereRaw(`"when"->>'event' IS NULL`)
        .orderBy([{ column: 'created_at' }, { column: 'name' }])
    ).filter((r) => !isEventWhen(r.when));
    if (rules.length === 0) return [];
    const now = this.clock();
    const matching = new Map<string, Set<string>>();
    for (const rule of rules) matching.set(rule.id, await matchingContacts(db, workspaceId, (rule.when as AttributeRuleWhen).condition, ids, now));
    const recorded = await this.recordedMatches(db, rules, ids);
    const candidates = ids.filter((id) => rules.some((r) => matching.get(r.id)!.has(id) !== recorded.has(`${r.id}:${id}`)));
    if (candidates.length === 0) return [];

    return this.transaction(opts, async (tx) => {
      const changes: ScoreChange[] = [];
      // Sorted ids: two concurrent calls lock score rows in the same order and never deadlock.
      for (const contactId of candidates) {
        const change = await this.change(tx, workspaceId, contactId, now, async ({ halfLifeDays }) => {
          // Re-read under the contact's lock: a concurrent call may have recorded it already.
          const current = await this.recordedMatches(tx, rules, [contactId]);
          const entries: LedgerEntryInput[] = [];
          for (const rule of rules) {
            const matches = matching.get(rule.id)!.has(contactId);
            const wasMatching = current.has(`${rule.id}:${contactId}`);
            if (matches && !wasMatching) {
              await tx('score_rule_matches').insert({ rule_id: rule.id, contact_id: contactId });
              entries.push({ delta: rule.points, source: 'rule', ruleId: rule.id, reason: `${rule.name}: started matching` });
            } else if (!matches && wasMatching) {
              await tx('score_rule_matches').where({ rule_id: rule.id, contact_id: contactId }).delete();
              const award = await tx('score_ledger').where({ rule_id: rule.id, contact_id: contactId }).orderBy('id', 'desc').first('delta', 'at');
              const left = award ? (award.delta as number) * decayFactor(now.getTime() - (award.at as Date).getTime(), halfLifeDays) : 0;
              if (left !== 0) entries.push({ delta: -left, source: 'rule', ruleId: rule.id, reason: `${rule.name}: stopped matching` });
            }
          }
          return entries;
        });
        if (change && (change.delta !== 0 || change.crossings.length > 0)) changes.push(change);
      }
      return changes;
    });
  }

  /** Evaluates the attribute rules for every contact of the workspace, in batches (after creating or changing such a rule). */
  async reevaluateAttributeRules(workspaceId: string, opts: { batchSize?: number } = {}): Promise<{ contacts: number; changed: number }> {
    const batchSize = opts.batchSize ?? 1000;
    let after = '00000000-0000-0000-0000-000000000000';
    let contacts = 0;
    let changed = 0;
    for (;;) {
      const rows = await this.db('contacts').where({ workspace_id: workspaceId }).andWhere('id', '>', after).orderBy('id').limit(batchSize).pluck('id');
      if (rows.length === 0) break;
      contacts += rows.length;
      changed += (await this.applyAttributeRules(workspaceId, rows as string[])).length;
      after = rows[rows.length - 1] as string;
    }
    return { contacts, changed };
  }

  /**
   * A manual change, from the "update score" node or the API. `set` makes the score exactly that
   * value now; `add` and `subtract` may be combined.
   */
  async adjust(workspaceId: string, contactId: string, change: ScoreAdjustment, meta: ScoreAdjustmentMeta, opts: ScoringCallOptions = {}): Promise<ScoreChange> {
    ScoreAdjustment.parse(change);
    const now = this.clock();
    const key = meta.idempotencyKey;
    let earlier: { delta: number; score_after: number } | undefined;
    const result = await this.transaction(opts, async (tx) =>
      this.change(tx, workspaceId, contactId, now, async ({ before }) => {
        if (key) {
          // Read under the contact's lock: a concurrent attempt with the same key waits, then finds it.
          earlier = await tx('score_ledger').where({ workspace_id: workspaceId, idempotency_key: key }).first('delta', 'score_after');
          if (earlier) return [];
        }
        const delta = change.set !== undefined ? change.set - before : (change.add ?? 0) - (change.subtract ?? 0);
        return [{ delta, source: meta.source, ruleId: null, reason: adjustmentReason(meta), ...(key && { idempotencyKey: key }) }];
      }),
    );
    if (!result) throw new ScoreContactNotFoundError(contactId);
    if (earlier) {
      return { contactId, before: earlier.score_after - earlier.delta, after: earlier.score_after, delta: earlier.delta, crossings: [] };
    }
    return result;
  }

  // ---- reading ----------------------------------------------------------------------------

  /** Why a contact has its score; null when the workspace has no such contact. */
  async explain(workspaceId: string, contactId: string, opts: { limit?: number } = {}): Promise<ScoreExplanation | null> {
    if (!UUID.test(contactId)) return null;
    const contact = await this.db('contacts').where({ workspace_id: workspaceId, id: contactId }).first('id');
    if (!contact) return null;
    const now = this.clock();
    const { halfLifeDays, thresholds } = await this.settings(workspaceId);
    const row = await this.db('contact_scores').where({ contact_id: contactId, workspace_id: workspaceId }).first('value', 'as_of', 'above');
    const contribution = decayedScoreSqlText({ value: 'l.delta', asOf: 'l.at', halfLifeDays: '?::double precision' });
    const ledger = await this.db.raw(
      `SELECT * FROM (
         SELECT l.id, l.delta, l.score_after, l.source, l.rule_id, r.name AS rule_name, l.reason, l.at, ${contribution} AS current
           FROM score_ledger l LEFT JOIN scoring_rules r ON r.id = l.rule_id
          WHERE l.contact_id = ? AND l.workspace_id = ?
          ORDER BY l.id DESC LIMIT ?) recent
       ORDER BY id`,
      [now.toISOString(), halfLifeDays, contactId, workspaceId, opts.limit ?? 200],
    );
    const byRule = await this.db.raw(
      `SELECT l.source, l.rule_id, max(r.name) AS rule_name, sum(l.delta) AS total, sum(${contribution}) AS current, count(*)::int AS entries
         FROM score_ledger l LEFT JOIN scoring_rules r ON r.id = l.rule_id
        WHERE l.contact_id = ? AND l.workspace_id = ?
        GROUP BY l.source, l.rule_id
        ORDER BY sum(${contribution}) DESC`,
      [now.toISOString(), halfLifeDays, contactId, workspaceId, now.toISOString(), halfLifeDays],
    );
    return {
      contactId,
      score: row ? decayedScore(row.value as number, row.as_of as Date, now, halfLifeDays) : 0,
      storedValue: (row?.value as number | undefined) ?? 0,
      asOf: row ? (row.as_of as Date).toISOString() : null,
      halfLifeDays,
      thresholds,
      above: row ? normaliseThresholds(row.above as number[]).filter((t) => thresholds.includes(t)) : thresholds.filter((t) => t <= 0),
      ledger: (ledger.rows as Array<Record<string, unknown>>).map((l) => ({
        delta: l.delta as number,
        scoreAfter: l.score_after as number,
        current: l.current as number,
        source: l.source as string,
        ...(l.rule_id ? { rule: { id: l.rule_id as string, name: (l.rule_name as string | null) ?? null } } : {}),
        reason: (l.reason as string | null) ?? null,
        at: (l.at as Date).toISOString(),
      })),
      byRule: (byRule.rows as Array<Record<string, unknown>>).map((b) => ({
        rule: b.rule_id ? { id: b.rule_id as string, name: (b.rule_name as string | null) ?? null } : null,
        source: b.source as string,
        total: b.total as number,
        current: b.current as number,
        entries: b.entries as number,
      })),
    };
  }

  // ---- decay crossings --------------------------------------------------------------------

  /**
   * Emits the threshold crossings that decay alone produced since the last change (scores fall
   * toward zero with no event at all). Set-based: only contacts whose standing changed are
   * touched; rows being changed right now are skipped (that change reconciles them itself).
   */
  async sweep(workspaceId?: string, opts: { batchSize?: number } = {}): Promise<{ crossings: number }> {
    const batchSize = opts.batchSize ?? 5000;
    const now = this.clock().toISOString();
    const score = decayedScoreSqlText({ value: 'cs.value', asOf: 'cs.as_of', halfLifeDays: 's.half_life_days' });
    let crossings = 0;
    // Keyset pages over the primary key: the whole sweep reads each score row once.
    let cursor = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const result = await this.db.raw(
        `WITH s AS (
           SELECT workspace_id, half_life_days, ARRAY(SELECT DISTINCT t FROM unnest(thresholds) t ORDER BY t) AS thresholds
             FROM scoring_settings
            WHERE cardinality(thresholds) > 0 ${workspaceId ? 'AND workspace_id = ?' : ''}
         ), locked AS (
           -- Decay moves a score toward zero. A positive score can only fall below the highest
           -- threshold it is above (\`above\` is sorted); a negative one can rise through one.
           SELECT cs.contact_id, cs.workspace_id, cs.above, s.thresholds, ${score} AS score
             FROM contact_scores cs JOIN s ON s.workspace_id = cs.workspace_id
            WHERE cs.contact_id > ?::uuid
              AND ((cardinality(cs.above) > 0 AND ${score} < cs.above[cardinality(cs.above)])
                   OR (cs.value < 0 AND EXISTS (SELECT 1 FROM unnest(s.thresholds) t WHERE (${score} >= t) <> (t = ANY(cs.above)))))
            ORDER BY cs.contact_id
            LIMIT ?
              FOR UPDATE OF cs SKIP LOCKED
         ), next AS (
           SELECT l.*, ARRAY(SELECT t FROM unnest(l.thresholds) t WHERE l.score >= t ORDER BY t) AS new_above FROM locked l
         ), upd AS (
           UPDATE contact_scores cs SET above = n.new_above FROM next n WHERE cs.contact_id = n.contact_id
         ), crossed AS (
           SELECT n.workspace_id, n.contact_id, c.threshold, c.direction, n.score, c.ord
             FROM next n CROSS JOIN LATERAL (
               SELECT t AS threshold, 'down' AS direction, -t AS ord FROM unnest(n.above) t WHERE t = ANY(n.thresholds) AND NOT t = ANY(n.new_above)
               UNION ALL
               SELECT t, 'up', t FROM unnest(n.new_above) t WHERE NOT t = ANY(n.above)
             ) c
         ), ev AS (
           INSERT INTO events (id, workspace_id, contact_id, name, properties, occurred_at)
           SELECT gen_random_uuid(), workspace_id, contact_id, '${SCORE_CROSSED_EVENT}',
                  jsonb_build_object('threshold', threshold, 'direction', direction, 'score', score), ?::timestamptz
             FROM crossed ORDER BY contact_id, direction, ord
           RETURNING id, workspace_id
         ), ob AS (
           INSERT INTO outbox (workspace_id, event_id, kind) SELECT workspace_id, id, 'event' FROM ev
         )
         SELECT (SELECT count(*) FROM locked)::int AS contacts, (SELECT max(contact_id::text) FROM locked) AS last,
                (SELECT count(*) FROM ev)::int AS crossings`,
        [...(workspaceId ? [workspaceId] : []), now, cursor, now, now, batchSize, now] as never,
      );
      const row = result.rows[0] as { contacts: number; last: string | null; crossings: number };
      crossings += row.crossings;
      if (row.crossings > 0) await this.db.raw(`SELECT pg_notify('campaignos_outbox', '')`);
      if (row.contacts < batchSize || row.last === null) break;
      cursor = row.last;
    }
    return { crossings };
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * One contact's score change, under its lock: decay the stored score to now, emit the
   * crossings decay produced, apply the entries `plan` returns (computed under the lock), write
   * the ledger, store the new score and emit the crossings the change produced. Returns null
   * when the workspace has no such contact.
   */
  private async change(
    tx: Knex.Transaction,
    workspaceId: string,
    contactId: string,
    now: Date,
    plan: (state: { before: number; halfLifeDays: number | null }) => LedgerEntryInput[] | Promise<LedgerEntryInput[]>,
  ): Promise<ScoreChange | null> {
    if (!UUID.test(contactId)) return null;
    const [change] = await applyScoreChanges(tx, workspaceId, [contactId], now, async (_id, state) => [await plan(state)]);
    return change ?? null;
  }

  private transaction<T>(opts: ScoringCallOptions, work: (tx: Knex.Transaction) => Promise<T>): Promise<T> {
    return opts.tx ? opts.tx.transaction(work) : this.db.transaction(work);
  }

  private async recordedMatches(db: Knex, rules: RuleRow[], contactIds: string[]): Promise<Set<string>> {
    const rows = await db('score_rule_matches').whereIn('rule_id', rules.map((r) => r.id)).whereIn('contact_id', contactIds).select('rule_id', 'contact_id');
    return new Set(rows.map((r) => `${r.rule_id}:${r.contact_id}`));
  }
}

/** The ledger reason of a manual change: what the user wrote, and which node made it. */
function adjustmentReason(meta: ScoreAdjustmentMeta): string {
  if (!meta.node) return meta.reason;
  return `${meta.reason} (node ${meta.node}${meta.workflow ? `, workflow ${meta.workflow}` : ''})`;
}

function conflict(error: unknown, name: string): unknown {
  if ((error as { code?: string }).code === '23505') return new ScoringRuleConflictError(`a scoring rule named "${name}" already exists in this workspace`);
  return error;
}


/** A validated rule as its table columns. */
function ruleColumns(rule: ScoringRuleInput) {
  return {
    name: rule.name,
    when: JSON.stringify(rule.when),
    points: rule.points,
    cap_points: rule.cap?.points ?? null,
    cap_period_days: rule.cap?.periodDays ?? null,
    active: rule.active ?? true,
  };
}
