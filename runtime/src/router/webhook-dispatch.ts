import { createHmac } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from '../logger.js';
import type { Db } from '../store/index.js';
import { webhooksStore, type WebhooksStore } from '../store/webhooks.store.js';

/**
 * Delivers committed events to webhook subscriptions, at least once.
 *
 * How it stays robust and out of the way of journeys:
 * - The trigger router calls `enqueue` inside its routing transaction: one INSERT ... SELECT of a
 *   (subscription, event) row per match into `webhook_deliveries`. It commits or rolls back with
 *   the outbox rows' deletion, so a crash neither loses a delivery nor queues it twice (unique
 *   key). No HTTP happens in that transaction.
 * - The dispatcher loop (in every router process) claims due rows with SKIP LOCKED and a lease:
 *   the claim pushes `next_attempt_at` past the HTTP timeout and counts the attempt, then commits
 *   before any request is sent. A process that dies mid-delivery leaves the row to be retried by
 *   anyone once the lease ends; receivers dedupe on `X-CampaignOS-Event-Id`.
 * - 2xx deletes the row; 410 Gone deletes the subscription (and its queue); anything else (other
 *   statuses, timeouts, refused connections) is retried with exponential backoff until
 *   `maxAttempts`, after which the row stays with `given_up_at` set for operators to inspect.
 * - The payload is built when it is sent, from the event and the contact as they are then (as
 *   journeys read the contact when a step runs); an erased contact's deliveries vanish with its
 *   events.
 */
export interface WebhookDispatcherOptions {
  db: Db;
  /** The runtime secret: it unseals each subscription's signing secret. */
  secret: string;
  logger: Logger;
  /** Deliveries claimed per round. */
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** First retry delay; doubles per attempt up to `maxDelayMs`. */
  retryBaseMs?: number;
  maxDelayMs?: number;
  maxAttempts?: number;
  /** How often to look for due retries when nothing new was routed. */
  pollIntervalMs?: number;
}

interface DueDelivery {
  id: string;
  attempts: number;
  subscription_id: string;
  url: string;
  secret_encrypted: string;
  event_id: string;
  name: string;
  properties: Record<string, unknown>;
  occurred_at: Date;
  contact_id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  time_zone: string | null;
  attributes: Record<string, unknown>;
}

export class WebhookDispatcher {
  private readonly webhooks: WebhooksStore;
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private pending = false;
  readonly stats = { delivered: 0, failedAttempts: 0, removedSubscriptions: 0 };

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.webhooks = webhooksStore(options.db, options.secret);
  }

  /** Queues a delivery for every subscription matching these events; call inside the routing transaction. */
  async enqueue(eventIds: string[], tx: Knex.Transaction): Promise<void> {
    if (eventIds.length === 0) return;
    await tx.raw(
      `INSERT INTO webhook_deliveries (subscription_id, event_id)
       SELECT s.id, e.id
         FROM events e
         JOIN webhook_subscriptions s ON s.workspace_id = e.workspace_id AND s.event = e.name AND e.properties @> s.properties
        WHERE e.id = ANY(?::uuid[])
       ON CONFLICT (subscription_id, event_id) DO NOTHING`,
      [eventIds],
    );
  }

  /** Something was just queued: deliver now rather than at the next poll. */
  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  /** Claims and sends the deliveries due now; returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const result = await this.options.db.raw(
      `WITH claimed AS (
         UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
          WHERE d.id IN (SELECT id FROM webhook_deliveries
                          WHERE given_up_at IS NULL AND next_attempt_at <= now()
                          ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
         RETURNING d.id, d.attempts, d.subscription_id, d.event_id)
       SELECT c.id, c.attempts, c.subscription_id, s.url, s.secret_encrypted,
              e.id AS event_id, e.name, e.properties, e.occurred_at,
              k.id AS contact_id, k.external_id, k.email, k.phone, k.time_zone, k.attributes
         FROM claimed c
         JOIN webhook_subscriptions s ON s.id = c.subscription_id
         JOIN events e ON e.id = c.event_id
         JOIN contacts k ON k.id = e.contact_id`,
      [(timeoutMs + 30_000) / 1000, this.options.batchSize ?? 100],
    );
    const due = result.rows as DueDelivery[];
    await mapLimit(due, this.options.concurrency ?? 16, (delivery) => this.deliver(delivery, timeoutMs));
    return due.length;
  }

  private async deliver(delivery: DueDelivery, timeoutMs: number): Promise<void> {
    const { db, logger } = this.options;
    // The same shape journeys see as `$json.event` / `$json.contact` (the n8n trigger renames
    // occurredAt to timestamp, as the runtime's enrolment item calls it).
    const body = JSON.stringify({
      event: { id: delivery.event_id, name: delivery.name, properties: delivery.properties, occurredAt: delivery.occurred_at.toISOString() },
      contact: {
        id: delivery.contact_id,
        externalId: delivery.external_id,
        email: delivery.email,
        phone: delivery.phone,
        timeZone: delivery.time_zone,
        attributes: delivery.attributes,
      },
    });
    let outcome: { status: number } | { error: string };
    try {
      const signature = createHmac('sha256', this.webhooks.secretOf(delivery.secret_encrypted)).update(body).digest('hex');
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CampaignOS-Webhooks/1',
          'x-campaignos-signature': `sha256=${signature}`,
          'x-campaignos-event-id': delivery.event_id,
          'x-campaignos-subscription-id': delivery.subscription_id,
        },
        body,
        // A redirect could point the signed payload anywhere: it counts as a failure.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      outcome = { status: response.status };
    } catch (error) {
      outcome = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }

    if ('status' in outcome && outcome.status >= 200 && outcome.status < 300) {
      await db('webhook_deliveries').where({ id: delivery.id }).delete();
      this.stats.delivered++;
      return;
    }
    if ('status' in outcome && outcome.status === 410) {
      // The receiver says it is gone for good (e.g. the n8n workflow was deleted).
      await db('webhook_subscriptions').where({ id: delivery.subscription_id }).delete();
      this.stats.removedSubscriptions++;
      logger.info('webhook subscription removed: its receiver answered 410', { subscriptionId: delivery.subscription_id });
      return;
    }
    this.stats.failedAttempts++;
    const lastError = 'status' in outcome ? `HTTP ${outcome.status}` : outcome.error;
    const maxAttempts = this.options.maxAttempts ?? 20;
    if (delivery.attempts >= maxAttempts) {
      await db('webhook_deliveries').where({ id: delivery.id }).update({ given_up_at: db.fn.now(), last_error: lastError });
      logger.warn('webhook delivery given up', { subscriptionId: delivery.subscription_id, eventId: delivery.event_id, attempts: delivery.attempts, lastError });
      return;
    }
    const base = this.options.retryBaseMs ?? 2_000;
    const delayMs = Math.min(this.options.maxDelayMs ?? 3_600_000, base * 2 ** (delivery.attempts - 1));
    await db('webhook_deliveries')
      .where({ id: delivery.id })
      .update({ next_attempt_at: db.raw('now() + make_interval(secs => ?)', [delayMs / 1000]), last_error: lastError });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let attempted = 0;
      this.pending = false;
      try {
        attempted = await this.deliverDue();
      } catch (error) {
        this.options.logger.error('webhook dispatch failed; will retry', { error: (error as Error).message });
      }
      if (attempted === 0 && this.running && !this.pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollIntervalMs ?? 1000);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = null;
      }
    }
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
