import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export interface WebhookSubscription {
  id: string;
  url: string;
  event: string;
  properties: Record<string, unknown>;
  createdAt: string;
}

interface SubscriptionRow {
  id: string;
  workspace_id: string;
  url: string;
  event: string;
  properties: Record<string, unknown>;
  secret_encrypted: string;
  created_at: Date;
}

const toSubscription = (row: SubscriptionRow): WebhookSubscription => ({
  id: row.id,
  url: row.url,
  event: row.event,
  properties: row.properties,
  createdAt: row.created_at.toISOString(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Webhook subscriptions, workspace-scoped. The signing secret is generated here, returned once
 * at creation, and kept encrypted (AES-256-GCM under the runtime secret): the dispatcher needs
 * it in clear to sign, so a hash would not do.
 */
export function webhooksStore(db: Db, runtimeSecret: string) {
  const key = createHash('sha256').update(`campaignos-webhooks:${runtimeSecret}`).digest();
  const encrypt = (text: string): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join('.');
  };
  const decrypt = (sealed: string): string => {
    const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64'));
    const decipher = createDecipheriv('aes-256-gcm', key, iv!);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8');
  };

  return {
    async create(workspaceId: string, input: { url: string; event: string; properties: Record<string, unknown> }): Promise<WebhookSubscription & { secret: string }> {
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const [row] = await db<SubscriptionRow>('webhook_subscriptions')
        .insert({ workspace_id: workspaceId, url: input.url, event: input.event, properties: JSON.stringify(input.properties) as never, secret_encrypted: encrypt(secret) })
        .returning('*');
      return { ...toSubscription(row!), secret };
    },

    async get(workspaceId: string, id: string): Promise<WebhookSubscription | null> {
      if (!UUID.test(id)) return null;
      const row = await db<SubscriptionRow>('webhook_subscriptions').where({ workspace_id: workspaceId, id }).first();
      return row ? toSubscription(row) : null;
    },

    async list(workspaceId: string): Promise<WebhookSubscription[]> {
      const rows = await db<SubscriptionRow>('webhook_subscriptions').where({ workspace_id: workspaceId }).orderBy('created_at');
      return rows.map(toSubscription);
    },

    async delete(workspaceId: string, id: string): Promise<boolean> {
      if (!UUID.test(id)) return false;
      return (await db('webhook_subscriptions').where({ workspace_id: workspaceId, id }).delete()) > 0;
    },

    /** For the dispatcher only: the subscription's signing secret in clear. */
    secretOf(sealed: string): string {
      return decrypt(sealed);
    },
  };
}

export type WebhooksStore = ReturnType<typeof webhooksStore>;
