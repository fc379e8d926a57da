import { createHash } from 'node:crypto';
import type { DeliveryOutcome, DeliveryTicket, Envelope } from '@campaignos/sdk';
import type { Db } from '../store/index.js';
import { signDeliveryStatusToken } from './delivery-status.js';
import { signLink } from './tokens.js';

/** Who is sending: the journey step a message belongs to. */
export interface SendOrigin {
  workspaceId: string;
  contactId: string;
  journeyId: string;
  nodeName: string;
  stepSeq: number;
}

/** A send reserved by a sender outside the runtime, under its own idempotency key. */
export interface RemoteSend {
  workspaceId: string;
  contactId: string;
  channel: string;
  recipient: string;
  idempotencyKey: string;
  summary?: string;
  /** The node that sends, for the message log. */
  nodeName?: string;
}

export type RemoteReservation =
  | { status: 'allowed'; messageId: string; ticket: DeliveryTicket }
  | { status: 'skipped'; messageId: string; reason: 'suppressed' | 'duplicate' };

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

    if (await this.skipIfSuppressed(origin, envelope.channel, base)) return { status: 'skipped', messageId, reason: 'suppressed' };

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

  /**
   * The gate for a sender outside the runtime (a channel node inside n8n, through
   * `POST /v1/send-gate/deliveries`): the same suppression and idempotency decisions as
   * `deliver`, but the caller sends between this call and `settle`. The caller's key is scoped to
   * the workspace. A reservation never settled (the sender died mid-send) stays "sending" and a
   * retry with the same key is told "duplicate": over HTTP no transaction can roll it back, so
   * the gate errs on the side of not sending twice.
   */
  async reserve(request: RemoteSend): Promise<RemoteReservation> {
    const { db } = this.options;
    const idempotencyKey = `api:${request.workspaceId}:${request.idempotencyKey}`;
    const base = {
      id: uuidFromKey(idempotencyKey),
      workspace_id: request.workspaceId,
      contact_id: request.contactId,
      journey_id: null,
      node_name: request.nodeName?.slice(0, 200) ?? null,
      channel: request.channel,
      recipient: request.recipient,
      summary: request.summary?.slice(0, 500) ?? null,
      idempotency_key: idempotencyKey,
    };
    const messageId = base.id;
    if (await this.skipIfSuppressed(request, request.channel, base)) return { status: 'skipped', messageId, reason: 'suppressed' };
    return db.transaction(async (tx) => {
      const inserted = await tx('messages').insert({ ...base, status: 'sending' }).onConflict('idempotency_key').ignore().returning('id');
      if (inserted.length === 0) {
        const existing = await tx('messages').where({ idempotency_key: idempotencyKey }).forUpdate().first('status');
        if (existing?.status !== 'failed') return { status: 'skipped', messageId, reason: 'duplicate' };
        await tx('messages').where({ idempotency_key: idempotencyKey }).update({ status: 'sending', reason: null });
      }
      return { status: 'allowed', messageId, ticket: this.ticket(request, request.channel, messageId) };
    });
  }

  /**
   * Records how a reserved send ended: `sent`, or `failed` (a later reservation with the same key
   * may then try again). Settling twice the same way is harmless. Null when there is no such
   * message in the workspace; the message's status otherwise.
   */
  async settle(workspaceId: string, messageId: string, outcome: { status: 'sent' } | { status: 'failed'; reason: string }): Promise<string | null> {
    if (!/^[0-9a-f-]{36}$/i.test(messageId)) return null;
    const { db } = this.options;
    const changes =
      outcome.status === 'sent' ? { status: 'sent', sent_at: db.fn.now(), reason: null } : { status: 'failed', reason: outcome.reason.slice(0, 1000) };
    const [updated] = await db('messages')
      .where({ id: messageId, workspace_id: workspaceId, status: 'sending' })
      .update(changes)
      .returning('status');
    if (updated) return updated.status as string;
    const existing = await db('messages').where({ id: messageId, workspace_id: workspaceId }).first('status');
    return (existing?.status as string | undefined) ?? null;
  }

  /** Checks consent and suppression; a suppressed send is logged as skipped (once per key). */
  private async skipIfSuppressed(who: { workspaceId: string; contactId: string }, channel: string, row: Record<string, unknown> & { idempotency_key: string }): Promise<boolean> {
    const { db } = this.options;
    const suppression = await db('suppressions')
      .where({ workspace_id: who.workspaceId, contact_id: who.contactId })
      .whereIn('channel', [channel, '*'])
      .first('reason');
    if (!suppression) return false;
    await db('messages').insert({ ...row, status: 'skipped', reason: `suppressed: ${suppression.reason}` }).onConflict('idempotency_key').ignore();
    return true;
  }

  private ticket(origin: Pick<SendOrigin, 'workspaceId' | 'contactId'>, channel: string, messageId: string): DeliveryTicket {
    const claims = { w: origin.workspaceId, c: origin.contactId, ch: channel, m: messageId };
    const base = this.options.publicUrl.replace(/\/$/, '');
    const url = `${base}/u/${signLink(claims, this.options.secret)}`;
    const statusCallbackUrl = `${base}/v1/deliveries/${signDeliveryStatusToken(claims, this.options.secret)}/status`;
    return { messageId, unsubscribeUrl: url, oneClickUnsubscribeUrl: url, statusCallbackUrl };
  }
}

/**
 * The message log row of one send: one per journey step, item and recipient, whatever the
 * retries. The recipient is part of the key because one item may go to several addresses on a
 * channel (each push subscription, each Telegram chat of the contact).
 */
function messageRow(origin: SendOrigin, envelope: Envelope) {
  const recipientKey = createHash('sha256').update(envelope.recipient).digest('hex').slice(0, 16);
  const idempotencyKey = `${origin.journeyId}:${origin.stepSeq}:${origin.nodeName}:${envelope.itemIndex}:${recipientKey}`;
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
