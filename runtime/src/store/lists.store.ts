import type { Db } from './db.js';

export interface StaticList {
  id: string;
  name: string;
  memberCount: number;
  createdAt: string;
}

/** Static lists: contacts added and removed by hand, by API, by CSV import or by a node. */
export function listsStore(db: Db) {
  const withCount = (query: ReturnType<Db>) =>
    query.select('l.id', 'l.name', 'l.created_at', db.raw('(SELECT count(*)::int FROM list_members m WHERE m.list_id = l.id) AS member_count'));
  const toList = (row: Record<string, unknown>): StaticList => ({
    id: row.id as string,
    name: row.name as string,
    memberCount: row.member_count as number,
    createdAt: (row.created_at as Date).toISOString(),
  });

  /** Writes membership changes and their outbox rows (segments on list membership follow). */
  const change = async (workspaceId: string, listId: string, contactIds: string[], add: boolean): Promise<number> => {
    if (contactIds.length === 0) return 0;
    return db.transaction(async (tx) => {
      const valid = await tx('contacts').where({ workspace_id: workspaceId }).whereIn('id', contactIds).pluck('id');
      if (valid.length === 0) return 0;
      const changed = add
        ? await tx('list_members').insert(valid.map((id: string) => ({ list_id: listId, contact_id: id }))).onConflict(['list_id', 'contact_id']).ignore().returning('contact_id')
        : await tx('list_members').where({ list_id: listId }).whereIn('contact_id', valid).delete().returning('contact_id');
      if (changed.length > 0) {
        await tx('outbox').insert(changed.map((r: { contact_id: string }) => ({ workspace_id: workspaceId, contact_id: r.contact_id, kind: 'contact.lists' })));
        await tx.raw(`SELECT pg_notify('campaignos_outbox', '')`);
      }
      return changed.length;
    });
  };

  return {
    async create(workspaceId: string, name: string): Promise<StaticList | null> {
      const [row] = await db('lists').insert({ workspace_id: workspaceId, name }).onConflict(['workspace_id', 'name']).ignore().returning('id');
      return row ? this.get(workspaceId, row.id as string) : null;
    },
    async list(workspaceId: string): Promise<StaticList[]> {
      return (await withCount(db('lists as l').where('l.workspace_id', workspaceId).orderBy('l.name'))).map(toList);
    },
    async get(workspaceId: string, id: string): Promise<StaticList | null> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
      const row = await withCount(db('lists as l').where({ 'l.workspace_id': workspaceId, 'l.id': id })).first();
      return row ? toList(row) : null;
    },
    async remove(workspaceId: string, id: string): Promise<boolean> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
      const members = await db('list_members').where({ list_id: id }).pluck('contact_id');
      const deleted = await db('lists').where({ workspace_id: workspaceId, id }).delete();
      if (deleted > 0 && members.length > 0) {
        await db('outbox').insert(members.map((contactId: string) => ({ workspace_id: workspaceId, contact_id: contactId, kind: 'contact.lists' })));
      }
      return deleted > 0;
    },
    addMembers: (workspaceId: string, listId: string, contactIds: string[]) => change(workspaceId, listId, contactIds, true),
    removeMembers: (workspaceId: string, listId: string, contactIds: string[]) => change(workspaceId, listId, contactIds, false),
    async members(listId: string, page: { limit: number; after?: string }): Promise<{ contactIds: string[]; next: string | null }> {
      const query = db('list_members').where({ list_id: listId }).orderBy('contact_id').limit(page.limit).pluck('contact_id');
      if (page.after) query.andWhere('contact_id', '>', page.after);
      const contactIds = (await query) as string[];
      return { contactIds, next: contactIds.length === page.limit ? contactIds[contactIds.length - 1]! : null };
    },
  };
}
