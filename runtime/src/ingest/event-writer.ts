import { randomUUID } from 'node:crypto';
import type { Db } from '../store/index.js';

/** How an event names its contact: by CampaignOS id, or by an identity that creates the contact if new. */
export type ContactRef = { id: string } | { externalId: string } | { email: string };

export interface EventInput {
  workspaceId: string;
  contact: ContactRef;
  name: string;
  properties: Record<string, unknown>;
  occurredAt: Date;
  idempotencyKey?: string;
}

export interface EventAccepted {
  id: string;
  contactId: string;
  /** True when an event with the same idempotency key was already stored; nothing new was written. */
  duplicate: boolean;
}

export class UnknownContactError extends Error {
  readonly code = 'CONTACT_NOT_FOUND';
  constructor(readonly contactIds: string[]) {
    super(`no contact with id ${contactIds.join(', ')} in this workspace (deleted, or never created)`);
  }
}

interface Pending {
  events: EventInput[];
  resolve(accepted: EventAccepted[]): void;
  reject(error: unknown): void;
}

/**
 * Writes events durably with group commit: calls that arrive while a transaction is in flight
 * are committed together in the next one, so throughput grows with load while every caller
 * still gets its answer only after its events (and their outbox rows) are committed.
 * Each call is all-or-nothing.
 */
export class EventWriter {
  private queue: Pending[] = [];
  private flushing = 0;

  constructor(
    private readonly db: Db,
    private readonly options: { maxBatchEvents?: number; maxConcurrentFlushes?: number } = {},
  ) {}

  write(events: EventInput[]): Promise<EventAccepted[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    const maxBatch = this.options.maxBatchEvents ?? 2000;
    while (this.flushing < (this.options.maxConcurrentFlushes ?? 3) && this.queue.length > 0) {
      const batch: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && (batch.length === 0 || size + this.queue[0]!.events.length <= maxBatch)) {
        const next = this.queue.shift()!;
        size += next.events.length;
        batch.push(next);
      }
      this.flushing++;
      this.flush(batch)
        .catch((error: unknown) => batch.forEach((p) => p.reject(error)))
        .finally(() => {
          this.flushing--;
          this.kick();
        });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    const results = await this.db.transaction(async (tx) => {
      const byId = await existingContactIds(tx, batch.flatMap((p) => p.events));
      const live: Pending[] = [];
      const failed = new Map<Pending, Error>();
      for (const pending of batch) {
        const missing = pending.events.flatMap((e) => ('id' in e.contact && !byId.has(`${e.workspaceId}:${e.contact.id}`) ? [e.contact.id] : []));
        if (missing.length > 0) failed.set(pending, new UnknownContactError([...new Set(missing)]));
        else live.push(pending);
      }
      const events = live.flatMap((p) => p.events);
      const identities = await resolveIdentities(tx, events);
      const rows = events.map((e) => ({
        id: randomUUID(),
        workspaceId: e.workspaceId,
        contactId: 'id' in e.contact ? e.contact.id : identities.get(identityKey(e.workspaceId, e.contact))!,
        event: e,
      }));
      const inserted = new Set<string>();
      if (rows.length > 0) {
        const result = await tx.raw(
          `WITH ins AS (
             INSERT INTO events (id, workspace_id, contact_id, name, properties, idempotency_key, occurred_at)
             SELECT * FROM unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::jsonb[], ?::text[], ?::timestamptz[])
             ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING id, workspace_id
           ), outbox_rows AS (
             INSERT INTO outbox (workspace_id, event_id) SELECT workspace_id, id FROM ins
           )
           SELECT id FROM ins`,
          [
            rows.map((r) => r.id),
            rows.map((r) => r.workspaceId),
            rows.map((r) => r.contactId),
            rows.map((r) => r.event.name),
            rows.map((r) => JSON.stringify(r.event.properties)),
            rows.map((r) => r.event.idempotencyKey ?? null),
            rows.map((r) => r.event.occurredAt.toISOString()),
          ] as never,
        );
        for (const row of result.rows as Array<{ id: string }>) inserted.add(row.id);
        await tx.raw(`SELECT pg_notify('campaignos_outbox', '')`);
      }
      const duplicates = await existingByKey(tx, rows.filter((r) => !inserted.has(r.id)).map((r) => r.event));
      const accepted = new Map<EventInput, EventAccepted>();
      for (const row of rows) {
        if (inserted.has(row.id)) accepted.set(row.event, { id: row.id, contactId: row.contactId, duplicate: false });
        else {
          const existing = duplicates.get(`${row.workspaceId}:${row.event.idempotencyKey}`)!;
          accepted.set(row.event, { ...existing, duplicate: true });
        }
      }
      return { accepted, failed };
    });
    for (const pending of batch) {
      const error = results.failed.get(pending);
      if (error) pending.reject(error);
      else pending.resolve(pending.events.map((e) => results.accepted.get(e)!));
    }
  }
}

function identityKey(workspaceId: string, ref: ContactRef): string {
  if ('externalId' in ref) return `${workspaceId}:x:${ref.externalId}`;
  if ('email' in ref) return `${workspaceId}:e:${ref.email.toLowerCase()}`;
  return `${workspaceId}:i:${ref.id}`;
}

async function existingContactIds(tx: Db, events: EventInput[]): Promise<Set<string>> {
  const refs = events.flatMap((e) => ('id' in e.contact ? [{ ws: e.workspaceId, id: e.contact.id }] : []));
  if (refs.length === 0) return new Set();
  const valid = refs.filter((r) => /^[0-9a-f-]{36}$/i.test(r.id));
  if (valid.length === 0) return new Set();
  const result = await tx.raw(
    `SELECT c.workspace_id, c.id FROM contacts c JOIN unnest(?::uuid[], ?::uuid[]) AS k(ws, id) ON c.workspace_id = k.ws AND c.id = k.id`,
    [valid.map((r) => r.ws), valid.map((r) => r.id)],
  );
  return new Set((result.rows as Array<{ workspace_id: string; id: string }>).map((r) => `${r.workspace_id}:${r.id}`));
}

/** Finds or creates the contacts named by external id or email; returns identity key → contact id. */
async function resolveIdentities(tx: Db, events: EventInput[]): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const column of ['external_id', 'email'] as const) {
    const refs = new Map<string, { ws: string; value: string }>();
    for (const e of events) {
      if (column === 'external_id' && 'externalId' in e.contact) refs.set(identityKey(e.workspaceId, e.contact), { ws: e.workspaceId, value: e.contact.externalId });
      if (column === 'email' && 'email' in e.contact) refs.set(identityKey(e.workspaceId, e.contact), { ws: e.workspaceId, value: e.contact.email.toLowerCase() });
    }
    if (refs.size === 0) continue;
    const list = [...refs.values()];
    await tx.raw(
      `INSERT INTO contacts (workspace_id, ${column}) SELECT * FROM unnest(?::uuid[], ?::text[])
       ON CONFLICT (workspace_id, ${column}) WHERE ${column} IS NOT NULL DO NOTHING`,
      [list.map((r) => r.ws), list.map((r) => r.value)],
    );
    const result = await tx.raw(
      `SELECT c.id, c.workspace_id, c.${column} AS value FROM contacts c JOIN unnest(?::uuid[], ?::text[]) AS k(ws, v) ON c.workspace_id = k.ws AND c.${column} = k.v`,
      [list.map((r) => r.ws), list.map((r) => r.value)],
    );
    for (const row of result.rows as Array<{ id: string; workspace_id: string; value: string }>) {
      const ref: ContactRef = column === 'external_id' ? { externalId: row.value } : { email: row.value };
      map.set(identityKey(row.workspace_id, ref), row.id);
    }
  }
  return map;
}

async function existingByKey(tx: Db, events: EventInput[]): Promise<Map<string, { id: string; contactId: string }>> {
  const map = new Map<string, { id: string; contactId: string }>();
  if (events.length === 0) return map;
  const result = await tx.raw(
    `SELECT e.id, e.contact_id, e.workspace_id, e.idempotency_key FROM events e
     JOIN unnest(?::uuid[], ?::text[]) AS k(ws, key) ON e.workspace_id = k.ws AND e.idempotency_key = k.key`,
    [events.map((e) => e.workspaceId), events.map((e) => e.idempotencyKey!)],
  );
  for (const row of result.rows as Array<{ id: string; contact_id: string; workspace_id: string; idempotency_key: string }>) {
    map.set(`${row.workspace_id}:${row.idempotency_key}`, { id: row.id, contactId: row.contact_id });
  }
  return map;
}
