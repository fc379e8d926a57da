import type { Db } from './db.js';
import { recordContactChange } from './contacts.store.js';

/** What the provider last said about a message (SMS status callbacks); null until it reports. */
export interface MessageDelivery {
  /** The provider's status: `queued`, `sent`, `delivered`, `undelivered`, `failed`, ... */
  status: string;
  /** When that status was reported. */
  at: string;
  providerMessageId: string | null;
  /** The provider's error code for `undelivered` / `failed` (Twilio: `30003`, ...). */
  errorCode: string | null;
}

export interface DeliveryReport {
  status: string;
  providerMessageId: string | null;
  errorCode: string | null;
}

/** Reports kept per message: a provider reports a handful; more is noise (or abuse) and is dropped. */
const MAX_REPORTS_PER_MESSAGE = 20;

/**
 * Delivery statuses a provider may report (Twilio's message statuses), in order: a report
 * never moves a message back (a late "sent" after "delivered" is kept but does not count).
 */
export const DELIVERY_STATUS_RANK: Readonly<Record<string, number>> = {
  scheduled: 0,
  accepted: 1,
  queued: 1,
  sending: 2,
  sent: 3,
  delivered: 4,
  undelivered: 4,
  failed: 4,
  canceled: 4,
  partially_delivered: 4,
  read: 5,
};

/** The status a message's reports add up to: the highest rank, the latest among equals. */
function currentDeliveryStatus<T extends { status: string; receivedAt: Date }>(reports: T[]): T | null {
  const rank = (report: T) => DELIVERY_STATUS_RANK[report.status] ?? -1;
  let current: T | null = null;
  for (const report of reports) {
    if (!current || rank(report) > rank(current) || (rank(report) === rank(current) && report.receivedAt >= current.receivedAt)) current = report;
  }
  return current;
}

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
  delivery: MessageDelivery | null;
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
  delivery: null,
});

export function messagesStore(db: Db) {
  return {
    async list(workspaceId: string, filter: { contactId?: string; journeyId?: string; limit: number }): Promise<MessageRecord[]> {
      const query = db('messages').where({ workspace_id: workspaceId });
      if (filter.contactId) query.andWhere({ contact_id: filter.contactId });
      if (filter.journeyId) query.andWhere({ journey_id: filter.journeyId });
      const rows = await query.orderBy('created_at', 'desc').limit(filter.limit);
      const messages = rows.map(toMessage);
      if (messages.length === 0) return messages;
      const reports = await db('message_delivery_reports')
        .where({ workspace_id: workspaceId })
        .whereIn('message_id', messages.map((m) => m.id))
        .select('message_id', 'status', 'provider_message_id', 'error_code', 'received_at');
      const byMessage = new Map<string, Array<{ status: string; receivedAt: Date; providerMessageId: string | null; errorCode: string | null }>>();
      for (const r of reports) {
        const list = byMessage.get(r.message_id) ?? [];
        list.push({ status: r.status, receivedAt: r.received_at, providerMessageId: r.provider_message_id, errorCode: r.error_code });
        byMessage.set(r.message_id, list);
      }
      for (const message of messages) {
        const list = byMessage.get(message.id);
        const current = list && currentDeliveryStatus(list);
        if (!current) continue;
        message.delivery = {
          status: current.status,
          at: current.receivedAt.toISOString(),
          providerMessageId: current.providerMessageId ?? list.find((r) => r.providerMessageId)?.providerMessageId ?? null,
          errorCode: current.errorCode,
        };
      }
      return messages;
    },

    /**
     * Records a provider's delivery report for a message the send gate issued a signed
     * callback URL for. The message row may not be committed yet (the provider can answer
     * before the gate's transaction ends), so the report is stored on its own. `contact-gone`:
     * the contact was erased; `ignored`: the message has had too many reports already.
     */
    async recordDeliveryReport(
      workspaceId: string,
      contactId: string,
      messageId: string,
      report: DeliveryReport,
    ): Promise<'recorded' | 'contact-gone' | 'ignored'> {
      const contact = await db('contacts').where({ workspace_id: workspaceId, id: contactId }).first('id');
      if (!contact) return 'contact-gone';
      const counted = await db('message_delivery_reports').where({ message_id: messageId }).count<{ count: string }[]>('* as count');
      if (Number(counted[0]?.count ?? 0) >= MAX_REPORTS_PER_MESSAGE) return 'ignored';
      try {
        await db('message_delivery_reports').insert({
          workspace_id: workspaceId,
          contact_id: contactId,
          message_id: messageId,
          status: report.status,
          provider_message_id: report.providerMessageId,
          error_code: report.errorCode,
        });
      } catch (error) {
        // The contact was erased between the check and the insert.
        if ((error as { code?: string }).code === '23503') return 'contact-gone';
        throw error;
      }
      return 'recorded';
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
