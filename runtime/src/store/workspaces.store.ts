import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export interface ApiKeyCreated {
  id: string;
  workspaceId: string;
  /** The key itself: shown once, stored only as a hash. */
  key: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function workspacesStore(db: Db) {
  return {
    async ensure(name: string): Promise<string> {
      await db('workspaces').insert({ name }).onConflict('name').ignore();
      const row = await db('workspaces').where({ name }).first('id');
      return row.id as string;
    },

    async createApiKey(workspaceId: string, name: string): Promise<ApiKeyCreated> {
      const key = `cos_${randomBytes(24).toString('base64url')}`;
      const [row] = await db('api_keys')
        .insert({ workspace_id: workspaceId, key_hash: hashApiKey(key), prefix: key.slice(0, 8), name })
        .returning('id');
      return { id: row.id as string, workspaceId, key };
    },

    /** The workspace a key belongs to, or null for an unknown or revoked key. */
    async workspaceForKey(key: string): Promise<string | null> {
      const row = await db('api_keys').where({ key_hash: hashApiKey(key) }).whereNull('revoked_at').first('workspace_id');
      return (row?.workspace_id as string | undefined) ?? null;
    },
  };
}
