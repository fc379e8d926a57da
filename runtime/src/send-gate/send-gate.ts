import { createHash } from 'node:crypto';
import type { DeliveryOutcome, DeliveryTicket, Envelope } from '@campaignos/sdk';
import type { Db } from '../store/index.js';
import { signLink } from './tokens.js';

/** Who is sending: the journey step a message belongs to. */
export interface SendOrigin {
  workspaceId: string;
  contactId: string;
  journeyId: string;
  nodeName: string;
  stepSeq: number;
}

export interface SendGateOptions {
  db: Db;
  secret: string;
  /** Base URL of the public endpoints, e.g. https://mail.example.com */
  publicUrl: string;
}

/**
 * The runtime's send gate. Channel nodes never decide themselves whether a contact may be
 * messaged: they hand the gate an envelope and a send function, and the gate checks
 * suppression, then records the message under an idempotency key derived from the journey
 * step, so a retried or replayed step finds the message already sent and sends nothing.
 */
export class SendGate {
  constructor(private readonly options: SendGateOptions) {}

  async deliver<T>(origin: SendOrigin, envelope: Envelope, send: (ticket: DeliveryTicket) => Promise<T>): Promise<DeliveryOutcome<T>> {
    const { db } = this.options;
    const base = messageRow(origin, envelope);
    const { id: messageId, idempotency_key: idempotencyKey } = base;

    const suppression = await db('suppressions')
      .where({ workspace_id: origin.workspaceId, contact_id: origin.contactId })
      .whereIn('channel', [envelope.channel, '*'])
      .first('reason');
    if (suppression) {
      await db('messages').insert({ ...base, status: 'skipped', reason: `suppressed: ${suppression.reason}` }).onConflict('idempotency_key').ignore();
      return { status: 'skipped', messageId, reason: 'suppressed' };
    }

    // The message row is inserted and confirmed in one transaction around the send. A second
    // attempt of the same step blocks on the row until the first finishes, then sees "sent".
    // If the process dies mid-send the transaction rolls back and the retry sends again; the
    // only window for a duplicate is between the provider's acceptance and the commit.
    return db.transaction(async (tx) => {
      const inserted = await tx('messages').insert({ ...base, status: 'sending' }).onConflict('idempotency_key').ignore().returning('id');
      if (inserted.length === 0) {
        const existing = await tx('messages').where({ idempotency_key: idempotencyKey }).forUpdate().first('status');
        if (existing?.status !== 'failed') return { status: 'skipped', messageId, reason: 'duplicate' };
        await tx('messages').where({ idempotency_key: idempotencyKey }).update({ status: 'sending', reason: null });
      }
      const ticket = this.ticket(origin, envelope.channel, messageId);
      const result = await send(ticket);
      await tx('messages').where({ idempotency_key: idempotencyKey }).update({ status: 'sent', sent_at: tx.fn.now() });
      return { status: 'sent', messageId, result };
    });
  }

  /** Records a send that failed for good, so the message log shows it. */
  async recordFailure(origin: SendOrigin, envelope: Envelope, reason: string): Promise<void> {
    await this.options
      .db('messages')
      .insert({ ...messageRow(origin, envelope), status: 'failed', reason: reason.slice(0, 1000) })
      .onConflict('idempotency_key')
      .merge(['status', 'reason'])
      .where('messages.status', '<>', 'sent');
  }

  private ticket(origin: SendOrigin, channel: string, messageId: string): DeliveryTicket {
    const token = signLink({ w: origin.workspaceId, c: origin.contactId, ch: channel, m: messageId }, this.options.secret);
    const url = `${this.options.publicUrl.replace(/\/$/, '')}/u/${token}`;
    return { messageId, unsubscribeUrl: url, oneClickUnsubscribeUrl: url };
  }
}

/** The message log row of one send: one per journey step and item, whatever the retries. */
function messageRow(origin: SendOrigin, envelope: Envelope) {
  const idempotencyKey = `${origin.journeyId}:${origin.stepSeq}:${origin.nodeName}:${envelope.itemIndex}`;
  return {
    id: uuidFromKey(idempotencyKey),
    workspace_id: origin.workspaceId,
    contact_id: origin.contactId,
    journey_id: origin.journeyId,
    node_name: origin.nodeName,
    channel: envelope.channel,
    recipient: envelope.recipient,
    summary: envelope.summary?.slice(0, 500) ?? null,
    idempotency_key: idempotencyKey,
  };
}

/** A UUID-shaped id derived from the idempotency key, stable across retries. */
function uuidFromKey(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
