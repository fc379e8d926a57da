import { Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/index.js';
import { ApiError, validationError } from '../errors.js';

const base64Url = (what: string, bytes: number, check: (decoded: Buffer) => boolean = () => true) =>
  z
    .string()
    .transform((value) => value.replace(/=+$/, ''))
    .refine((value) => /^[A-Za-z0-9_-]+$/.test(value), 'must be URL-safe base64')
    .refine((value) => {
      const decoded = Buffer.from(value, 'base64url');
      return decoded.length === bytes && check(decoded);
    }, `must decode to ${what}`);

/** A browser `PushSubscription` as `JSON.stringify(subscription)` gives it. */
export const WebPushSubscriptionInput = z
  .object({
    endpoint: z
      .url({ protocol: /^https$/, error: 'must be an https: URL (the push service endpoint)' })
      .max(2048),
    expirationTime: z.number().nullable().optional(),
    keys: z
      .object({
        p256dh: base64Url('an uncompressed P-256 public key (65 bytes starting 0x04)', 65, (key) => key[0] === 0x04),
        auth: base64Url('a 16-byte auth secret', 16),
      })
      .strict(),
  })
  .strict();
export type WebPushSubscriptionInput = z.infer<typeof WebPushSubscriptionInput>;

const Channel = z.string().regex(/^[a-z][a-z0-9_-]{0,49}$/, 'a channel name such as "webpush" or "telegram"');

/**
 * `/v1/contacts/:id/addresses`: where a contact can be reached beyond email and phone: web
 * push subscriptions registered by the site, chats registered by the Telegram bot helper.
 */
export function addressesRoutes(store: Store): Router {
  const router = Router({ mergeParams: true });

  const contactOf = async (workspaceId: string, id: string) => {
    const contact = await store.contacts.get(workspaceId, id);
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${id} in this workspace`);
    return contact;
  };

  router.get('/', async (req, res) => {
    const contact = await contactOf(req.workspaceId, (req.params as { id: string }).id);
    let channel: string | undefined;
    if (req.query.channel !== undefined) {
      const parsed = Channel.safeParse(req.query.channel);
      if (!parsed.success) throw validationError(parsed.error, 'Query parameter "channel"');
      channel = parsed.data;
    }
    res.json({ addresses: await store.addresses.list(req.workspaceId, contact.id, channel) });
  });

  router.put('/webpush', async (req, res) => {
    const contact = await contactOf(req.workspaceId, (req.params as { id: string }).id);
    const parsed = WebPushSubscriptionInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Push subscription');
    const { endpoint, keys } = parsed.data;
    const owner = await store.addresses.owner(req.workspaceId, 'webpush', endpoint);
    const address = { channel: 'webpush', address: endpoint, data: { keys: { p256dh: keys.p256dh, auth: keys.auth } } };
    await store.addresses.put(req.workspaceId, contact.id, address);
    res.status(owner === contact.id ? 200 : 201).json({ address, created: owner !== contact.id });
  });

  router.delete('/:channel', async (req, res) => {
    const params = req.params as { id: string; channel: string };
    const contact = await contactOf(req.workspaceId, params.id);
    const channel = Channel.safeParse(params.channel);
    if (!channel.success) throw validationError(channel.error, 'Channel');
    const address = req.query.address;
    if (typeof address !== 'string' || !address) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'Name the address to remove: ?address=<endpoint or chat id> (URL-encoded)');
    }
    if (!(await store.addresses.remove(req.workspaceId, contact.id, channel.data, address))) {
      throw new ApiError(404, 'NOT_FOUND', `Contact ${contact.id} has no ${channel.data} address like that`);
    }
    res.json({ removed: true });
  });

  return router;
}
