import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { decayedScore } from './decay.js';
import { SCORE_CROSSED_EVENT, type ScoreChange, type ScoreCrossing } from './types.js';

// The one path every score change takes (rules, attribute matches, nodes, the API): lock the
// contacts' score rows, decay them to now, apply the ledger entries, store the new scores and
// emit a `$score_crossed` event for every threshold crossed, in the caller's transaction.

export interface LedgerEntryInput {
  delta: number;
  source: 'rule' | 'node' | 'api';
  ruleId: string | null;
  reason: string;
  idempotencyKey?: string;
}

interface ScoreRow {
  value: number;
  as_of: Date;
  above: number[];
  half_life_days: number | null;
  thresholds: number[] | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `change` for many contacts in a fixed number of statements. `plan` is called per contact,
 * under the lock, and returns its entries in steps (one per event): thresholds are checked
 * after each step, so two events that cross a threshold up and back down emit both crossings.
 * Contacts are locked in id order, so concurrent callers never deadlock.
 */
export async function applyScoreChanges(
  tx: Knex.Transaction,
  workspaceId: string,
  contactIds: string[],
  now: Date,
  plan: (contactId: string, state: { before: number; halfLifeDays: number | null }) => Promise<LedgerEntryInput[][]>,
): Promise<ScoreChange[]> {
  const ids = [...new Set(contactIds.filter((id) => UUID.test(id)))].sort();
  if (ids.length === 0) return [];
  // A new row starts at 0, already "above" any threshold at or below 0 (no crossing for that).
  await tx.raw(
    `INSERT INTO contact_scores (contact_id, workspace_id, value, as_of, above)
     SELECT c.id, c.workspace_id, 0, ?,
            coalesce((SELECT ARRAY(SELECT DISTINCT t FROM unnest(ss.thresholds) t WHERE t <= 0 ORDER BY t) FROM scoring_settings ss WHERE ss.workspace_id = c.workspace_id), '{}')
       FROM contacts c WHERE c.id = ANY(?::uuid[]) AND c.workspace_id = ?
      ORDER BY c.id
     ON CONFLICT (contact_id) DO NOTHING`,
    [now.toISOString(), ids, workspaceId],
  );
  // Settings are read after the lock: a concurrent half-life change has then committed its rebase too.
  const locked = await tx.raw(
    `SELECT cs.contact_id, cs.value, cs.as_of, cs.above, ss.half_life_days, ss.thresholds
       FROM contact_scores cs LEFT JOIN scoring_settings ss ON ss.workspace_id = cs.workspace_id
      WHERE cs.contact_id = ANY(?::uuid[]) AND cs.workspace_id = ?
      ORDER BY cs.contact_id
        FOR UPDATE OF cs`,
    [ids, workspaceId],
  );

  const ledger: Array<Record<string, unknown>> = [];
  const updates: Array<{ contact_id: string; value: number; above: number[] }> = [];
  const crossed: Array<Record<string, unknown>> = [];
  const changes: ScoreChange[] = [];
  for (const row of locked.rows as Array<ScoreRow & { contact_id: string }>) {
    const contactId = row.contact_id;
    const halfLifeDays = row.half_life_days ?? null;
    const thresholds = normaliseThresholds(row.thresholds ?? []);
    const before = decayedScore(row.value, row.as_of, now, halfLifeDays);
    const decayed = crossThresholds(before, row.above, thresholds);
    const crossings = decayed.crossings.map((c) => ({ ...c, score: before }));
    let above = decayed.above;
    let after = before;
    let entries = 0;
    for (const step of await plan(contactId, { before, halfLifeDays })) {
      const valid = step.filter((e) => Number.isFinite(e.delta));
      if (valid.length === 0) continue;
      for (const entry of valid) {
        after += entry.delta;
        entries++;
        ledger.push({
          workspace_id: workspaceId,
          contact_id: contactId,
          delta: entry.delta,
          score_after: after,
          source: entry.source,
          rule_id: entry.ruleId,
          reason: entry.reason,
          at: now,
          ...(entry.idempotencyKey && { idempotency_key: entry.idempotencyKey }),
        });
      }
      const changed = crossThresholds(after, above, thresholds);
      above = changed.above;
      crossings.push(...changed.crossings.map((c) => ({ ...c, score: after })));
    }
    if (entries > 0 || crossings.length > 0 || !sameNumbers(row.above, above)) updates.push({ contact_id: contactId, value: after, above });
    for (const c of crossings) {
      crossed.push({
        id: randomUUID(),
        workspace_id: workspaceId,
        contact_id: contactId,
        name: SCORE_CROSSED_EVENT,
        properties: JSON.stringify({ threshold: c.threshold, direction: c.direction, score: c.score }),
        occurred_at: now,
      });
    }
    changes.push({ contactId, before, after, delta: after - before, crossings: crossings.map(({ threshold, direction }) => ({ threshold, direction })) });
  }

  // Chunked: PostgreSQL takes at most 65,535 parameters per statement.
  for (let i = 0; i < ledger.length; i += 1000) await tx('score_ledger').insert(ledger.slice(i, i + 1000));
  if (updates.length > 0) {
    await tx.raw(
      `UPDATE contact_scores cs SET value = u.value, as_of = ?, above = u.above
         FROM jsonb_to_recordset(?::jsonb) AS u(contact_id uuid, value double precision, above double precision[])
        WHERE cs.contact_id = u.contact_id`,
      [now.toISOString(), JSON.stringify(updates)],
    );
  }
  if (crossed.length > 0) {
    await tx('events').insert(crossed);
    await tx('outbox').insert(crossed.map((e) => ({ workspace_id: workspaceId, event_id: e.id, kind: 'event' })));
    await tx.raw(`SELECT pg_notify('campaignos_outbox', '')`);
  }
  // In the order the contacts were asked for.
  const byId = new Map(changes.map((c) => [c.contactId, c]));
  return [...new Set(contactIds)].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/** How much of `points` a capped rule may still award, given what it awarded in the period. */
export function capDelta(points: number, cap: number, used: number): number {
  // A negative rule is capped by magnitude: at most `cap` points taken in the period.
  if (points > 0) return Math.max(0, Math.min(points, cap - used));
  return Math.min(0, Math.max(points, -cap - used));
}

/** Which thresholds a score is at or above, and the crossings relative to the previous set. */
export function crossThresholds(score: number, above: number[], thresholds: number[]): { above: number[]; crossings: ScoreCrossing[] } {
  const was = new Set(above);
  const next = thresholds.filter((t) => score >= t);
  const up = next.filter((t) => !was.has(t)).map((threshold) => ({ threshold, direction: 'up' as const }));
  const down = thresholds
    .filter((t) => score < t && was.has(t))
    .reverse()
    .map((threshold) => ({ threshold, direction: 'down' as const }));
  return { above: next, crossings: [...down, ...up] };
}

export function normaliseThresholds(values: number[]): number[] {
  return [...new Set(values.map(Number))].sort((a, b) => a - b);
}

function sameNumbers(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
