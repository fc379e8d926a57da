import type { Knex } from 'knex';

// The one definition of score decay. A stored score `value` written at `asOf` is worth
//   value * 0.5 ^ (ageDays / halfLifeDays)
// at a later time; no decay when the workspace has no half-life. The TypeScript and SQL forms
// below are the same formula, and so is `decayedScoreSql` in ../segments (segment conditions on
// the score): change one, change all three.
// Age is clamped at zero so a clock that reads earlier than `asOf` never inflates a score.

const DAY_MS = 86_400_000;

/** The fraction of a score left after `ageMs`: 1 without a half-life. */
export function decayFactor(ageMs: number, halfLifeDays: number | null): number {
  if (halfLifeDays === null) return 1;
  return Math.pow(0.5, Math.max(0, ageMs) / DAY_MS / halfLifeDays);
}

/**
 * The score at `now` of a value stored at `asOf`.
 *
 * @example decayedScore(100, new Date('2025-01-01'), new Date('2025-01-31'), 30) // 50
 */
export function decayedScore(value: number, asOf: Date, now: Date, halfLifeDays: number | null): number {
  return value * decayFactor(now.getTime() - asOf.getTime(), halfLifeDays);
}

/**
 * The same formula as SQL, for set-based queries over `contact_scores`. Column references are
 * SQL expressions (identifiers or qualified names, e.g. `cs.value`, `ss.half_life_days`), never
 * user input; `now` is a binding.
 *
 * @example db.select(decayedScoreRaw(db, now, { value: 'cs.value', asOf: 'cs.as_of', halfLifeDays: 'ss.half_life_days' }).wrap('(', ') AS score'))
 */
export function decayedScoreRaw(
  db: Knex,
  now: Date,
  columns: { value: string; asOf: string; halfLifeDays: string } = { value: 'value', asOf: 'as_of', halfLifeDays: 'half_life_days' },
): Knex.Raw {
  return db.raw(decayedScoreSqlText(columns), [now.toISOString()]);
}

/**
 * The SQL text of the decay formula with one `?` placeholder, for `now` (a timestamptz). Each
 * column appears once, so a column may itself be a placeholder (e.g. `?::double precision` for the
 * half-life), bound after `now`.
 */
export function decayedScoreSqlText(columns: { value: string; asOf: string; halfLifeDays: string }): string {
  const { value, asOf, halfLifeDays } = columns;
  // A null half-life makes the exponent null, and coalesce turns that into "no decay".
  return `(${value} * power(0.5::double precision, coalesce(
    greatest(0::double precision, extract(epoch FROM (?::timestamptz - ${asOf}))::double precision) / 86400.0 / ${halfLifeDays}, 0)))`;
}
