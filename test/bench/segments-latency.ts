// The latency phase of `npm run bench:segments`: paced background events over HTTP, probe events
// spaced out among them, and a sampler of what the database is busy with meanwhile.
import type pg from 'pg';
import { log, sleep } from './harness.js';
import type { HttpClient } from './load.js';

export interface PacedResult {
  /** Requests sent and answered 2xx. */
  sent: number;
  ok: number;
  failures: Map<number, number>;
  firstFailure: string | null;
  /** From the first request to the last answer. */
  wallMs: number;
  /** Answered 2xx per second while the load ran. */
  achievedRate: number;
  /** Requests that could not go out on time because `maxInFlight` were already out. */
  deferred: number;
  latencies: number[];
}

/**
 * Sends `rate` requests per second for `seconds` (open loop: on a clock, not after answers),
 * with at most `maxInFlight` out at once; a request that cannot leave on time leaves as soon as
 * one comes back (and counts as deferred). Stops early when `stop()` says so.
 */
export async function paced(options: {
  client: HttpClient;
  rate: number;
  seconds: number;
  maxInFlight: number;
  body: (index: number) => string;
  stop?: () => boolean;
  onSecond?: (state: { second: number; ok: number; inFlight: number }) => void;
}): Promise<PacedResult> {
  const { client, rate, seconds, maxInFlight } = options;
  const total = Math.round(rate * seconds);
  const failures = new Map<number, number>();
  const latencies: number[] = [];
  let firstFailure: string | null = null;
  let issued = 0;
  let ok = 0;
  let inFlight = 0;
  let deferred = 0;
  let lastAnswer = 0;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let second = 0;
  while (issued < total && !options.stop?.()) {
    const elapsed = performance.now() - started;
    const due = Math.min(total, Math.floor((elapsed / 1000) * rate) + 1);
    if (due - issued > 0 && inFlight >= maxInFlight) deferred++;
    while (issued < due && inFlight < maxInFlight) {
      const index = issued++;
      inFlight++;
      const t = performance.now();
      const request: Promise<void> = client
        .request('POST', '/v1/events', options.body(index))
        .then(
          (result) => {
            if (result.status >= 200 && result.status < 300) {
              ok++;
              latencies.push(performance.now() - t);
            } else {
              failures.set(result.status, (failures.get(result.status) ?? 0) + 1);
              firstFailure ??= `${result.status} ${result.text.slice(0, 300)}`;
            }
          },
          (error: Error) => {
            failures.set(0, (failures.get(0) ?? 0) + 1);
            firstFailure ??= `network: ${error.message}`;
          },
        )
        .finally(() => {
          inFlight--;
          lastAnswer = performance.now();
          pending.delete(request);
        });
      pending.add(request);
    }
    if (Math.floor(elapsed / 1000) > second) {
      second = Math.floor(elapsed / 1000);
      options.onSecond?.({ second, ok, inFlight });
    }
    await sleep(4);
  }
  await Promise.all(pending);
  const wallMs = Math.max(1, lastAnswer - started);
  return { sent: issued, ok, failures, firstFailure, wallMs, achievedRate: (ok * 1000) / wallMs, deferred, latencies };
}

// ---------------------------------------------------------------------------------------------
// What the database is doing: pg_stat_activity sampled every few ms

export interface ActivitySample {
  label: string;
  wait: string;
  count: number;
}

/** A short name for a statement, so samples of the same work add up. */
export function labelStatement(query: string): string {
  const q = query.replace(/\s+/g, ' ').trim().replace(/\btrx\d+\b/g, 'trxN');
  if (q.startsWith('WITH target AS MATERIALIZED')) return q.includes('c.id = ANY(') ? 'segment membership, incremental (evaluateContacts)' : 'segment membership, full (recompute / sweep)';
  if (q.startsWith('WITH ins AS ( INSERT INTO events')) return 'event insert + outbox (EventWriter)';
  if (q.includes('FROM outbox o LEFT JOIN events e')) return 'outbox claim (router)';
  if (q.startsWith('delete from "outbox"')) return 'outbox delete (router)';
  if (q.includes('"scoring_rules"')) return 'scoring rules lookup (applyEvent)';
  if (q.includes('contact_scores')) return `scores: ${q.slice(0, 60)}`;
  if (q.includes('pg_advisory_xact_lock')) return 'segment advisory lock';
  if (q.startsWith('insert into "journeys"')) return 'journey claim (router)';
  if (q === 'COMMIT' || q === 'COMMIT;') return 'COMMIT';
  return q.slice(0, 70);
}

/**
 * Samples the database's active backends (other than its own) until stopped, and times a
 * `SELECT 1` before each sample: the round trip any sequential caller pays per statement.
 */
export function sampleActivity(client: pg.Client, intervalMs: number): { stop(): Promise<{ samples: number; rows: ActivitySample[]; pingsMs: number[] }> } {
  const counts = new Map<string, ActivitySample>();
  const pingsMs: number[] = [];
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const t = performance.now();
        await client.query('SELECT 1');
        pingsMs.push(performance.now() - t);
        const result = await client.query<{ query: string; wait: string | null }>(
          `SELECT query, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait
             FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        samples++;
        for (const row of result.rows) {
          const label = labelStatement(row.query);
          const wait = row.wait ?? 'CPU';
          const key = `${label}\u0000${wait}`;
          const entry = counts.get(key) ?? { label, wait, count: 0 };
          entry.count++;
          counts.set(key, entry);
        }
      } catch (error) {
        log(`activity sampler: ${(error as Error).message}`);
        return;
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, rows: [...counts.values()].sort((a, b) => b.count - a.count), pingsMs };
    },
  };
}
