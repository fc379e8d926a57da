import { rawSql, sql, type SqlFragment } from './sql-fragment.js';

/**
 * A contact's current score in SQL: the `contact_scores` row aliased `alias`, decayed from its
 * `as_of` to `now` with the workspace's half-life (no decay when `scoring_settings` has none).
 * The same formula as `decayedScore` / `decayedScoreSqlText` in ../scoring/decay.ts: change one,
 * change all. `now` is a binding (the engine's clock), never SQL `now()`.
 *
 * @example
 *   const score = decayedScoreSql({ workspaceId, now, alias: 's' });
 *   await db.raw(`SELECT s.contact_id, ${score.text} AS score FROM contact_scores s`, score.bindings);
 */
export function decayedScoreSql(opts: { workspaceId: string; now: Date; alias?: string }): SqlFragment {
  const alias = opts.alias ?? 's';
  if (!/^[a-z_][a-z0-9_]*$/.test(alias)) throw new Error(`not a table alias: ${alias}`);
  const value = rawSql(`${alias}.value`);
  const asOf = rawSql(`${alias}.as_of`);
  const halfLife = sql`(SELECT ss.half_life_days FROM scoring_settings ss WHERE ss.workspace_id = ${opts.workspaceId}::uuid)`;
  return sql`(CASE WHEN ${halfLife} IS NULL THEN ${value}
    ELSE ${value} * power(0.5::double precision,
      greatest(0::double precision, extract(epoch FROM (${opts.now.toISOString()}::timestamptz - ${asOf}))::double precision) / 86400.0 / ${halfLife}) END)`;
}
