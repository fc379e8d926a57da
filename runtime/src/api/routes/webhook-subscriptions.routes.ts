import { Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/index.js';
import { webhooksStore } from '../../store/webhooks.store.js';
import { ApiError, validationError } from '../errors.js';

// System events a receiver may subscribe to; the rest of "$..." is internal (schedule ticks).
const SUBSCRIBABLE_SYSTEM_EVENTS = ['$segment_entered', '$segment_exited', '$score_crossed'];

const isHttpUrl = (value: string) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
};

export const WebhookSubscriptionInput = z.strictObject({
  url: z.string().max(2000).refine(isHttpUrl, 'must be an http:// or https:// URL without user info'),
  event: z
    .string()
    .min(1)
    .max(200)
    .refine((e) => !e.startsWith('$') || SUBSCRIBABLE_SYSTEM_EVENTS.includes(e), `system events you can subscribe to: ${SUBSCRIBABLE_SYSTEM_EVENTS.join(', ')}`),
  properties: z.record(z.string(), z.unknown()).default({}),
});
export type WebhookSubscriptionInput = z.infer<typeof WebhookSubscriptionInput>;

/**
 * `/v1/webhook-subscriptions`: POST a URL and an event (with an optional properties filter, JSON
 * containment as workflow triggers use); every matching committed event is then POSTed to the
 * URL, signed with the secret returned once in the creation answer.
 */
export function webhookSubscriptionsRoutes(store: Store, secret: string): Router {
  const router = Router();
  const webhooks = webhooksStore(store.db, secret);
  const notFound = (id: string) => new ApiError(404, 'NOT_FOUND', `No webhook subscription ${id} in this workspace`);

  router.post('/', async (req, res) => {
    const parsed = WebhookSubscriptionInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Webhook subscription');
    const { secret: signingSecret, ...subscription } = await webhooks.create(req.workspaceId, parsed.data);
    // The secret is shown once; afterwards only the subscription's public fields are.
    res.status(201).json({ id: subscription.id, secret: signingSecret, subscription });
  });

  router.get('/', async (req, res) => {
    res.json({ subscriptions: await webhooks.list(req.workspaceId) });
  });

  router.get('/:id', async (req, res) => {
    const subscription = await webhooks.get(req.workspaceId, req.params.id);
    if (!subscription) throw notFound(req.params.id);
    res.json({ subscription });
  });

  router.delete('/:id', async (req, res) => {
    if (!(await webhooks.delete(req.workspaceId, req.params.id))) throw notFound(req.params.id);
    res.json({ deleted: true });
  });

  return router;
}
