import { Router } from 'express';
import { z } from 'zod';
import type { SendGate } from '../../send-gate/send-gate.js';
import type { Store } from '../../store/index.js';
import { ApiError, validationError } from '../errors.js';

const Reserve = z.strictObject({
  contactId: z.uuid(),
  channel: z.string().regex(/^[a-z][a-z0-9_-]{0,49}$/, 'a channel name such as "email", "sms" or "webpush"'),
  recipient: z.string().min(1).max(2048),
  /** Stable across retries of the same send, e.g. n8n's execution id + node name + item index. */
  idempotencyKey: z.string().min(1).max(300),
  summary: z.string().max(500).optional(),
  node: z.string().max(200).optional(),
});

const Outcome = z.discriminatedUnion(
  'status',
  [
    // The provider's answer stays with the caller (in n8n, the execution's output).
    z.strictObject({ status: z.literal('sent'), result: z.unknown().optional() }),
    z.strictObject({ status: z.literal('failed'), reason: z.string().min(1).max(1000) }),
  ],
  { error: () => 'status must be "sent" or "failed"' },
);

/**
 * `/v1/send-gate`: the send gate for channel nodes that run outside the runtime (inside n8n).
 * `POST /deliveries` asks whether a send may happen and reserves it under the caller's
 * idempotency key; `POST /deliveries/:messageId/outcome` says how it ended.
 */
export function sendGateRoutes(store: Store, gate: SendGate): Router {
  const router = Router();

  router.post('/deliveries', async (req, res) => {
    const parsed = Reserve.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Delivery');
    const { contactId, node, ...rest } = parsed.data;
    const contact = await store.contacts.get(req.workspaceId, contactId);
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${contactId} in this workspace`);
    res.json(await gate.reserve({ workspaceId: req.workspaceId, contactId: contact.id, nodeName: node, ...rest }));
  });

  router.post('/deliveries/:messageId/outcome', async (req, res) => {
    const parsed = Outcome.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Outcome');
    const outcome = parsed.data.status === 'sent' ? { status: 'sent' as const } : parsed.data;
    const status = await gate.settle(req.workspaceId, req.params.messageId, outcome);
    if (!status) throw new ApiError(404, 'NOT_FOUND', `No message ${req.params.messageId} in this workspace`);
    if (status !== outcome.status) {
      throw new ApiError(409, 'CONFLICT', `Message ${req.params.messageId} is already ${status}; it was not reserved for sending`);
    }
    res.json({ message: { id: req.params.messageId, status } });
  });

  return router;
}
