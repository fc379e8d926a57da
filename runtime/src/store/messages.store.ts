import type { Db } from './db.js';
import { recordContactChange } from './contacts.store.js';

export interface MessageRecord {
  id: string;
  contactId: string | null;
  journeyId: string | null;
  nodeName: string | null;
  channel: string;
  recipient: string | null;
  summary: string | null;
  status: 'sent' | 'skipped' | 'failed';
  reason: string | null;
  createdAt: string;
  sentAt: string | null;
}

export const toMessage = (row: Record<string, unknown>): MessageRecord => ({
  id: row.id as string,
  contactId: (row.contact_id as string | null) ?? null,
  journeyId: (row.journey_id as string | null) ?? null,
  nodeName: (row.node_name as string | null) ?? null,
  channel: row.channel as string,
  recipient: (row.recipient as string | null) ?? null,
  summary: (row.summary as string | null) ?? null,
  status: row.status as MessageRecord['status'],
  reason: (row.reason as string | null) ?? null,
  createdAt: (row.created_at as Date).toISOString(),
  sentAt: row.sent_at ? (row.sent_at as Date).toISOString() : null,
});

export function messagesStore(db: Db) {
  return {
    async list(workspaceId: string, filter: { contactId?: string; journeyId?: string; limit: number }): Promise<MessageRecord[]> {
      const query = db('messages').where({ workspace_id: workspaceId });
      if (filter.contactId) query.andWhere({ contact_id: filter.contactId });
      if (filter.journeyId) query.andWhere({ journey_id: filter.journeyId });
      const rows = await query.orderBy('created_at', 'desc').limit(filter.limit);
      return rows.map(toMessage);
    },

    async suppress(workspaceId: string, contactId: string, channel: string, reason: string): Promise<void> {
      await db.transaction(async (tx) => {
        await tx('suppressions').insert({ workspace_id: workspaceId, contact_id: contactId, channel, reason }).onConflict(['workspace_id', 'contact_id', 'channel']).ignore();
        await recordContactChange(tx, workspaceId, contactId, 'suppressions');
      });
    },

    async suppressions(workspaceId: string, contactId: string): Promise<Array<{ channel: string; reason: string; createdAt: string }>> {
      const rows = await db('suppressions').where({ workspace_id: workspaceId, contact_id: contactId });
      return rows.map((r) => ({ channel: r.channel as string, reason: r.reason as string, createdAt: (r.created_at as Date).toISOString() }));
    },
  };
}
