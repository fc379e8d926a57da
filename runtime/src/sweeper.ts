import type { Logger } from './logger.js';
import type { ScoringEngine } from './scoring/index.js';
import type { SegmentEngine } from './segments/index.js';
import type { Db } from './store/index.js';

/** Any number of processes may run a sweeper; a PostgreSQL advisory lock lets one sweep at a time. */
const SWEEP_LOCK = 0x5_3eed;

/**
 * Moves what time moves: segments with conditions relative to now ("within the last 30 days")
 * and scores that decay below a threshold, without any new event.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly deps: { db: Db; segments: SegmentEngine; scoring: ScoringEngine; logger: Logger; intervalMs: number }) {}

  start(): void {
    const tick = () => {
      this.running = this.sweepOnce()
        .then(() => undefined)
        .catch((error: Error) => this.deps.logger.error('sweep failed', { error: error.message }))
        .finally(() => {
          this.running = null;
          if (this.timer) this.timer = setTimeout(tick, this.deps.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.deps.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One sweep, if no other process is sweeping; returns false when it was skipped. */
  async sweepOnce(): Promise<boolean> {
    const { db, segments, scoring, logger } = this.deps;
    const connection = await db.client.acquireConnection();
    try {
      const locked = await connection.query('SELECT pg_try_advisory_lock($1) AS ok', [SWEEP_LOCK]);
      if (!locked.rows[0].ok) return false;
      try {
        const started = Date.now();
        const recomputed = await segments.sweep();
        const { crossings } = await scoring.sweep();
        logger.debug('swept', { segments: recomputed.length, crossings, ms: Date.now() - started });
        return true;
      } finally {
        await connection.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK]);
      }
    } finally {
      await db.client.releaseConnection(connection);
    }
  }
}
