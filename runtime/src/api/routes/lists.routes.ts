import { parse } from 'csv-parse';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { ContactConflictError, type Store } from '../../store/index.js';
import { ApiError, validationError } from '../errors.js';
import { ContactInput } from '../schemas.js';

const ListInput = z.object({ name: z.string().min(1).max(200) }).strict();
const MembersInput = z.object({ contactIds: z.array(z.uuid()).min(1).max(10_000) }).strict();
const Page = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), after: z.uuid().optional() });

const IMPORT_BATCH = 500;
const MAX_REPORTED_ERRORS = 1000;

export function listsRoutes(store: Store): Router {
  const router = Router();

  const listOr404 = async (workspaceId: string, id: string) => {
    const list = await store.lists.get(workspaceId, id);
    if (!list) throw new ApiError(404, 'NOT_FOUND', `No list ${id} in this workspace`);
    return list;
  };

  router.post('/', async (req, res) => {
    const parsed = ListInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'List');
    const list = await store.lists.create(req.workspaceId, parsed.data.name);
    if (!list) throw new ApiError(409, 'CONFLICT', `A list named "${parsed.data.name}" already exists`);
    res.status(201).json({ list });
  });

  router.get('/', async (req, res) => {
    res.json({ lists: await store.lists.list(req.workspaceId) });
  });

  router.get('/:id', async (req, res) => {
    res.json({ list: await listOr404(req.workspaceId, req.params.id) });
  });

  router.delete('/:id', async (req, res) => {
    if (!(await store.lists.remove(req.workspaceId, req.params.id))) throw new ApiError(404, 'NOT_FOUND', `No list ${req.params.id} in this workspace`);
    res.json({ deleted: true });
  });

  router.get('/:id/members', async (req, res) => {
    const list = await listOr404(req.workspaceId, req.params.id);
    const page = Page.safeParse(req.query);
    if (!page.success) throw validationError(page.error, 'Query');
    res.json(await store.lists.members(list.id, page.data));
  });

  for (const [method, add] of [['post', true], ['delete', false]] as const) {
    router[method]('/:id/members', async (req, res) => {
      const list = await listOr404(req.workspaceId, req.params.id);
      const parsed = MembersInput.safeParse(req.body);
      if (!parsed.success) throw validationError(parsed.error, 'Members');
      const changed = add ? await store.lists.addMembers(req.workspaceId, list.id, parsed.data.contactIds) : await store.lists.removeMembers(req.workspaceId, list.id, parsed.data.contactIds);
      res.json(add ? { added: changed } : { removed: changed });
    });
  }

  /**
   * CSV import, streamed: a header row naming `externalId` and/or `email` (other columns become
   * attributes), each row upserts its contact and adds (or, with ?mode=remove, removes) it.
   * The answer is NDJSON: a progress line per batch, then a summary with a per-row error report.
   */
  router.post('/:id/import', async (req, res) => {
    const list = await listOr404(req.workspaceId, req.params.id);
    const remove = req.query.mode === 'remove';
    res.status(200).type('application/x-ndjson');
    const report = { rows: 0, changed: 0, failed: 0, errors: [] as Array<{ row: number; message: string }> };
    const fail = (row: number, message: string) => {
      report.failed++;
      if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push({ row, message });
    };
    let batch: Array<{ row: number; record: Record<string, string> }> = [];
    const flush = async () => {
      const ids: string[] = [];
      for (const { row, record } of batch) {
        const id = await contactForRow(store, req.workspaceId, record, !remove).catch((error: Error) => {
          fail(row, error.message);
          return null;
        });
        if (id) ids.push(id);
      }
      batch = [];
      report.changed += remove ? await store.lists.removeMembers(req.workspaceId, list.id, ids) : await store.lists.addMembers(req.workspaceId, list.id, ids);
      write(res, { progress: { rows: report.rows, changed: report.changed, failed: report.failed } });
    };

    const parser = req.pipe(parse({ columns: (header: string[]) => header.map((h) => h.trim()), skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }));
    try {
      for await (const record of parser as AsyncIterable<Record<string, string>>) {
        report.rows++;
        batch.push({ row: report.rows + 1, record }); // +1: the header is line 1
        if (batch.length >= IMPORT_BATCH) await flush();
      }
      await flush();
      write(res, { done: { list: list.id, mode: remove ? 'remove' : 'add', ...report } });
    } catch (error) {
      write(res, { error: { code: 'INVALID_CSV', message: `CSV could not be read after ${report.rows} rows: ${(error as Error).message}` }, ...report });
    }
    res.end();
  });

  return router;
}

function write(res: Response, line: unknown): void {
  res.write(`${JSON.stringify(line)}\n`);
}

/** The contact a CSV row names: upserted when adding (other columns become attributes), looked up when removing. */
async function contactForRow(store: Store, workspaceId: string, record: Record<string, string>, upsert: boolean): Promise<string> {
  const { externalId, email, ...rest } = record;
  const attributes = Object.fromEntries(Object.entries(rest).filter(([k, v]) => k !== '' && v !== ''));
  const parsed = ContactInput.safeParse({ externalId: externalId || undefined, email: email || undefined, attributes });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; '));
  if (upsert) {
    try {
      return (await store.contacts.upsert(workspaceId, parsed.data)).contact.id;
    } catch (error) {
      if (error instanceof ContactConflictError) throw new Error(error.message);
      throw error;
    }
  }
  const found = await store.db('contacts')
    .where({ workspace_id: workspaceId })
    .andWhere((q) => {
      if (parsed.data.externalId) q.orWhere({ external_id: parsed.data.externalId });
      if (parsed.data.email) q.orWhere({ email: parsed.data.email.toLowerCase() });
    })
    .first('id');
  if (!found) throw new Error('no such contact');
  return found.id as string;
}
