import type { Knex } from 'knex';

// The scoring engine's public shapes.

/** The name of the system event emitted when a score crosses a threshold. */
export const SCORE_CROSSED_EVENT = '$score_crossed';

export interface ScoringSettings {
  /** Scores halve every this many days; null: scores never decay. */
  halfLifeDays: number | null;
  /** Sorted, distinct. Crossing one (up or down) emits a `$score_crossed` event. */
  thresholds: number[];
}

export interface ScoreCrossing {
  threshold: number;
  direction: 'up' | 'down';
}

export interface ScoreChange {
  contactId: string;
  /** The decayed score just before the change. */
  before: number;
  after: number;
  delta: number;
  /** In the order they happened: decay since the last change first, then the change itself. */
  crossings: ScoreCrossing[];
}

export interface ScoredEvent {
  id: string;
  name: string;
  properties: Record<string, unknown>;
  occurredAt: Date;
}

/**
 * Run inside the caller's transaction (as a savepoint), e.g. the outbox drain's, so scoring
 * commits or rolls back with it: a re-delivered event is then never scored twice.
 */
export interface ScoringCallOptions {
  tx?: Knex.Transaction;
}

export interface ScoreAdjustmentMeta {
  source: 'node' | 'api';
  reason: string;
  /** The workflow node that made the change, for `source: 'node'`. */
  node?: string;
  /** The workflow that node belongs to, for `source: 'node'`. */
  workflow?: string;
  /**
   * Makes the change happen once: a second call with the same key (a retried journey step, a
   * re-sent request) changes nothing and answers what the first call did.
   */
  idempotencyKey?: string;
}

export interface ScoreLedgerEntry {
  delta: number;
  scoreAfter: number;
  /** What is left of `delta` now, after decay. */
  current: number;
  source: string;
  rule?: { id: string; name: string | null };
  reason: string | null;
  at: string;
}

export interface ScoreExplanation {
  contactId: string;
  /** The score now: `storedValue` decayed from `asOf`; equals the sum of every ledger entry's `current`. */
  score: number;
  storedValue: number;
  asOf: string | null;
  halfLifeDays: number | null;
  thresholds: number[];
  /** The thresholds the contact is at or above. */
  above: number[];
  /** The most recent entries, oldest first. */
  ledger: ScoreLedgerEntry[];
  /** Every ledger entry ever, per rule (or per source for node/api changes): raw total and what is left now. */
  byRule: Array<{ rule: { id: string; name: string | null } | null; source: string; total: number; current: number; entries: number }>;
}

export class ScoringRuleConflictError extends Error {
  readonly code = 'SCORING_RULE_CONFLICT';
}

export class ScoreContactNotFoundError extends Error {
  readonly code = 'CONTACT_NOT_FOUND';
  constructor(readonly contactId: string) {
    super(`no contact with id ${contactId} in this workspace`);
  }
}
