import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { JOURNEY_TASK_QUEUE, JOURNEY_WORKFLOW_TYPE, type JourneyInput } from '../journey/journey.types.js';
import type { Logger } from '../logger.js';
import type { Store, WorkflowVersion } from '../store/index.js';

/** A committed event as the router hands it on. */
export interface RoutedEvent {
  id: string;
  workspaceId: string;
  contactId: string;
  name: string;
  properties: Record<string, unknown>;
  occurredAt: Date;
}

/** What changed about a contact without an event: attributes, suppressions or list memberships. */
export interface ContactChange {
  workspaceId: string;
  contactId: string;
  change: 'attributes' | 'suppressions' | 'lists';
}

/**
 * Keeps segments and scores current. Called with every committed batch before journeys start;
 * it may write new (system) events to the outbox. It must be idempotent: after a crash the
 * router hands it the same batch again.
 */
export interface AudienceUpdater {
  /** `tx` is the routing transaction: work done in it commits with the outbox rows' deletion. */
  update(batch: { events: RoutedEvent[]; contacts: ContactChange[] }, tx: Knex.Transaction): Promise<void>;
}

export interface TriggerRouterOptions {
  store: Store;
  audience?: AudienceUpdater;
  temporal: Client;
  logger: Logger;
  /** Outbox rows claimed per transaction. */
  batchSize?: number;
  /** Journey starts in flight at once. */
  startConcurrency?: number;
  /** How often to look at the outbox when no notification arrives. */
  pollIntervalMs?: number;
  /** Webhook subscriptions: queued in the routing transaction, delivered outside it (webhook-dispatch.ts). */
  webhooks?: { enqueue(eventIds: string[], tx: Knex.Transaction): Promise<void>; wake(): void };
}

/**
 * Drains the transactional outbox: for every committed event, starts a journey for each active
 * workflow whose trigger it matches. Rows are claimed with SKIP LOCKED (any number of routers can
 * run) and deleted only after their journeys are started, so a crash anywhere re-routes the
 * event, and the deterministic journey id keeps the retry from enrolling anyone twice.
 */
export class TriggerRouter {
  private running = false;
  private wake: (() => void) | null = null;
  private notified = false;
  private listener: { release(): void } | null = null;
  private loop: Promise<void> | null = null;
  readonly stats = { routedEvents: 0, startedJourneys: 0 };

  constructor(private readonly options: TriggerRouterOptions) {}

  async start(): Promise<void> {
    this.running = true;
    await this.listen();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.listener?.release();
  }

  /** Routes whatever is in the outbox now; returns how many events were routed. */
  async drainOnce(): Promise<number> {
    const { store } = this.options;
    return store.db.transaction(async (tx) => {
      const claimed = await tx.raw(
        `SELECT o.id AS outbox_id, o.kind, o.workspace_id AS outbox_workspace_id, o.contact_id AS changed_contact_id,
                e.id, e.workspace_id, e.contact_id, e.name, e.properties, e.occurred_at
           FROM outbox o LEFT JOIN events e ON e.id = o.event_id
          WHERE o.id IN (SELECT id FROM outbox ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
          ORDER BY o.id`,
        [this.options.batchSize ?? 500],
      );
      const rows = claimed.rows as OutboxRow[];
      if (rows.length === 0) return 0;
      const events = rows.filter((r): r is OutboxRow & { id: string } => r.kind === 'event' && r.id !== null);
      const contacts = rows.flatMap((r): ContactChange[] =>
        r.kind.startsWith('contact.') && r.changed_contact_id
          ? [{ workspaceId: r.outbox_workspace_id, contactId: r.changed_contact_id, change: r.kind.slice('contact.'.length) as ContactChange['change'] }]
          : [],
      );
      // System events ($segment_entered, ...) are results of audience updates, not inputs to them.
      const userEvents = events.filter((e) => !e.name.startsWith('$'));
      if (this.options.audience && (userEvents.length > 0 || contacts.length > 0)) {
        await this.options.audience.update({
          events: userEvents.map((e) => ({ id: e.id, workspaceId: e.workspace_id, contactId: e.contact_id, name: e.name, properties: e.properties, occurredAt: e.occurred_at })),
          contacts,
        }, tx);
      }
      // The audience update has just recorded segment entries and score crossings: their system
      // events are committed (segments) or in this transaction (scores). Route them now rather
      // than on a later pass behind whatever backlog the outbox holds; they are what triggers
      // "entered segment" journeys, the latency users see.
      const followUps = this.options.audience ? await claimSystemEvents(tx, rows.map((r) => r.outbox_id), this.options.batchSize ?? 500) : [];
      rows.push(...followUps);
      events.push(...followUps.filter((r): r is OutboxRow & { id: string } => r.id !== null));
      const versions = await store.workflows.activeTriggers(events.map((e) => ({ workspaceId: e.workspace_id, eventName: e.name })));
      const starts = events.flatMap((event) =>
        versions.filter((v) => v.workspaceId === event.workspace_id && v.triggerEvent === event.name && contains(event.properties, v.triggerFilter)).map((version) => ({ event, version })),
      );
      await mapLimit(starts, this.options.startConcurrency ?? 64, ({ event, version }) => this.enrol(event, version));
      await this.options.webhooks?.enqueue(events.map((e) => e.id), tx);
      await tx('outbox').whereIn('id', rows.map((r) => r.outbox_id)).delete();
      this.stats.routedEvents += events.length;
      return rows.length;
    });
  }

  private async enrol(event: { id: string; workspace_id: string; contact_id: string }, version: WorkflowVersion): Promise<void> {
    const { store, temporal, logger } = this.options;
    // Without re-entry a contact walks a version once, whatever the number of matching events.
    const journeyId = version.allowReentry ? `journey-${version.id}-${event.contact_id}-${event.id}` : `journey-${version.id}-${event.contact_id}`;
    const claimed = await store.journeys.claim({
      id: journeyId,
      workspaceId: event.workspace_id,
      workflowId: version.workflowId,
      versionId: version.id,
      contactId: event.contact_id,
      entryEventId: event.id,
    });
    if (!claimed) return;
    const input: JourneyInput = {
      v: 1,
      journeyId,
      workspaceId: event.workspace_id,
      workflowId: version.workflowId,
      versionId: version.id,
      contactId: event.contact_id,
      entryEventId: event.id,
    };
    try {
      await temporal.workflow.start(JOURNEY_WORKFLOW_TYPE, {
        taskQueue: JOURNEY_TASK_QUEUE,
        workflowId: journeyId,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      this.stats.startedJourneys++;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    logger.debug('journey started', { journeyId, eventId: event.id });
  }

  private async listen(): Promise<void> {
    // A dedicated connection LISTENs so a committed event is routed within milliseconds;
    // polling remains as the safety net (notifications are not durable).
    const db = this.options.store.db;
    const client = (await db.client.acquireConnection()) as Knex.Client & {
      query(sql: string): Promise<unknown>;
      on(event: 'notification', fn: () => void): void;
    };
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    await client.query('LISTEN campaignos_outbox');
    this.listener = { release: () => void db.client.releaseConnection(client) };
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    while (this.running) {
      let routed = 0;
      this.notified = false;
      try {
        routed = await this.drainOnce();
        if (routed > 0) this.options.webhooks?.wake();
      } catch (error) {
        logger.error('routing failed; will retry', { error: (error as Error).message });
        await delay(1000);
      }
      if (routed === 0 && this.running && !this.notified) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollIntervalMs ?? 1000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }
}

interface OutboxRow {
  outbox_id: string;
  kind: string;
  outbox_workspace_id: string;
  changed_contact_id: string | null;
  id: string | null;
  workspace_id: string;
  contact_id: string;
  name: string;
  properties: Record<string, unknown>;
  occurred_at: Date;
}

/**
 * Outbox rows of system events (`$segment_entered`, `$score_crossed`, ...) not claimed yet. The
 * outbox is drained continuously, so it is short and the join stays cheap.
 */
async function claimSystemEvents(tx: Knex.Transaction, claimed: string[], limit: number): Promise<OutboxRow[]> {
  const result = await tx.raw(
    `SELECT o.id AS outbox_id, o.kind, o.workspace_id AS outbox_workspace_id, o.contact_id AS changed_contact_id,
            e.id, e.workspace_id, e.contact_id, e.name, e.properties, e.occurred_at
       FROM outbox o JOIN events e ON e.id = o.event_id
      WHERE o.kind = 'event' AND e.name LIKE '$%' AND o.id <> ALL(?::bigint[])
      ORDER BY o.id
      LIMIT ?
        FOR UPDATE OF o SKIP LOCKED`,
    [claimed, limit],
  );
  return result.rows as OutboxRow[];
}

/** JSON containment, as PostgreSQL's `@>`: every key of `filter` is in `value` with an equal value. */
function contains(value: unknown, filter: unknown): boolean {
  if (filter === null || typeof filter !== 'object') return value === filter;
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(filter).every(([k, v]) => contains((value as Record<string, unknown>)[k], v));
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
