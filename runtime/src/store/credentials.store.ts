import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export interface CredentialInfo {
  id: string;
  name: string;
  type: string;
  createdAt: string;
}

/** Credentials are encrypted at rest (AES-256-GCM) and never leave the runtime through the API. */
export function credentialsStore(db: Db, secret: string) {
  const key = createHash('sha256').update(`campaignos-credentials:${secret}`).digest();

  const encrypt = (data: Record<string, unknown>): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join('.');
  };
  const decrypt = (text: string): Record<string, unknown> => {
    const [iv, tag, body] = text.split('.').map((p) => Buffer.from(p, 'base64'));
    const decipher = createDecipheriv('aes-256-gcm', key, iv!);
    decipher.setAuthTag(tag!);
    return JSON.parse(Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8')) as Record<string, unknown>;
  };
  const info = (row: { id: string; name: string; type: string; created_at: Date }): CredentialInfo => ({
    id: row.id,
    name: row.name,
    type: row.type,
    createdAt: row.created_at.toISOString(),
  });

  return {
    /** Creates or replaces (by name) a credential. */
    async put(workspaceId: string, input: { name: string; type: string; data: Record<string, unknown> }): Promise<CredentialInfo> {
      const [row] = await db('credentials')
        .insert({ workspace_id: workspaceId, name: input.name, type: input.type, data_encrypted: encrypt(input.data) })
        .onConflict(['workspace_id', 'name'])
        .merge(['type', 'data_encrypted'])
        .returning(['id', 'name', 'type', 'created_at']);
      return info(row);
    },

    async list(workspaceId: string): Promise<CredentialInfo[]> {
      const rows = await db('credentials').where({ workspace_id: workspaceId }).orderBy('name').select('id', 'name', 'type', 'created_at');
      return rows.map(info);
    },

    /** Finds a credential the way n8n references one: by id when given, else by name. */
    async find(workspaceId: string, ref: { id?: string | null; name: string }): Promise<CredentialInfo | null> {
      const query = db('credentials').where({ workspace_id: workspaceId });
      const isUuid = ref.id && /^[0-9a-f-]{36}$/i.test(ref.id);
      const row = await (isUuid ? query.andWhere({ id: ref.id }) : query.andWhere({ name: ref.name })).first('id', 'name', 'type', 'created_at');
      return row ? info(row) : null;
    },

    async data(workspaceId: string, id: string): Promise<Record<string, unknown> | null> {
      const row = await db('credentials').where({ workspace_id: workspaceId, id }).first('data_encrypted');
      return row ? decrypt(row.data_encrypted as string) : null;
    },
  };
}
