import type { ContactView } from '@campaignos/sdk';
import type { Db } from './db.js';

export type Contact = ContactView & { createdAt: string; updatedAt: string };

export interface ContactUpsert {
  externalId?: string;
  email?: string;
  phone?: string | null;
  timeZone?: string | null;
  attributes?: Record<string, unknown>;
}

export class ContactConflictError extends Error {
  readonly code = 'CONTACT_CONFLICT';
}

interface ContactRow {
  id: string;
  workspace_id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  time_zone: string | null;
  attributes: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    externalId: row.external_id,
    email: row.email,
    phone: row.phone,
    timeZone: row.time_zone,
    attributes: row.attributes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function contactsStore(db: Db) {
  return {
    async get(workspaceId: string, id: string): Promise<Contact | null> {
      if (!isUuid(id)) return null;
      const row = await db<ContactRow>('contacts').where({ workspace_id: workspaceId, id }).first();
      return row ? toContact(row) : null;
    },

    /**
     * Creates or updates a contact, found by external id first, then by email. Attributes are
     * merged (a key set to null is removed). Returns whether it was created.
     */
    async upsert(workspaceId: string, input: ContactUpsert): Promise<{ contact: Contact; created: boolean }> {
      return db.transaction(async (tx) => {
        const existing = await findByIdentity(tx, workspaceId, input);
        const email = input.email?.toLowerCase();
        const attributes = input.attributes ?? {};
        const nullKeys = Object.keys(attributes).filter((k) => attributes[k] === null);
        const setAttributes = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
        try {
          if (!existing) {
            const [row] = await tx<ContactRow>('contacts')
              .insert({
                workspace_id: workspaceId,
                external_id: input.externalId ?? null,
                email: email ?? null,
                phone: input.phone ?? null,
                time_zone: input.timeZone ?? null,
                attributes: JSON.stringify(setAttributes) as unknown as Record<string, unknown>,
              })
              .returning('*');
            await recordContactChange(tx, workspaceId, row!.id, 'attributes');
            return { contact: toContact(row!), created: true };
          }
          const [row] = await tx<ContactRow>('contacts')
            .where({ id: existing.id })
            .update({
              external_id: input.externalId ?? existing.external_id,
              email: email ?? existing.email,
              phone: input.phone === undefined ? existing.phone : input.phone,
              time_zone: input.timeZone === undefined ? existing.time_zone : input.timeZone,
              attributes: tx.raw('(attributes || ?::jsonb) - ?::text[]', [JSON.stringify(setAttributes), nullKeys]) as never,
              updated_at: tx.fn.now() as never,
            })
            .returning('*');
          await recordContactChange(tx, workspaceId, row!.id, 'attributes');
          return { contact: toContact(row!), created: false };
        } catch (error) {
          if ((error as { code?: string }).code === '23505') {
            throw new ContactConflictError('another contact already has this email or external id');
          }
          throw error;
        }
      });
    },

    /** GDPR erasure: the contact and everything keyed to it (events, journeys, messages) go. */
    async erase(workspaceId: string, id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      const count = await db('contacts').where({ workspace_id: workspaceId, id }).delete();
      return count > 0;
    },
  };
}

/**
 * Puts a contact change in the outbox, in the caller's transaction: segments and scores that
 * depend on attributes, suppressions or lists are re-evaluated from there.
 */
export async function recordContactChange(tx: Db, workspaceId: string, contactId: string, change: 'attributes' | 'suppressions' | 'lists'): Promise<void> {
  await tx('outbox').insert({ workspace_id: workspaceId, contact_id: contactId, kind: `contact.${change}` });
  await tx.raw(`SELECT pg_notify('campaignos_outbox', '')`);
}

async function findByIdentity(tx: Db, workspaceId: string, input: ContactUpsert): Promise<ContactRow | undefined> {
  if (input.externalId !== undefined) {
    const row = await tx<ContactRow>('contacts').where({ workspace_id: workspaceId, external_id: input.externalId }).forUpdate().first();
    if (row) return row;
  }
  if (input.email !== undefined) {
    const row = await tx<ContactRow>('contacts').where({ workspace_id: workspaceId, email: input.email.toLowerCase() }).forUpdate().first();
    if (row && input.externalId !== undefined && row.external_id !== null && row.external_id !== input.externalId) {
      throw new ContactConflictError(`email ${input.email} belongs to the contact with external id "${row.external_id}"`);
    }
    return row;
  }
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
