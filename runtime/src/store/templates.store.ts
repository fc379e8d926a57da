import type { Db } from './db.js';
import { isUuid } from './contacts.store.js';

/** One version of a stored email template; versions never change once written. */
export interface EmailTemplateVersion {
  id: string;
  name: string;
  version: number;
  subject: string;
  mjml: string;
  text?: string;
  createdAt: string;
  updatedAt: string;
}

export interface EmailTemplateContent {
  subject: string;
  mjml: string;
  text?: string;
}

/** A template name already used in the workspace. */
export class TemplateNameTakenError extends Error {}

const toTemplate = (row: Record<string, unknown>): EmailTemplateVersion => ({
  id: row.id as string,
  name: row.name as string,
  version: row.version as number,
  subject: row.subject as string,
  mjml: row.mjml as string,
  ...(typeof row.text === 'string' && row.text !== '' && { text: row.text }),
  createdAt: (row.created_at as Date).toISOString(),
  updatedAt: (row.version_created_at as Date).toISOString(),
});

/**
 * Email templates by reference: a name unique per workspace, and numbered versions. An edit
 * adds a version; a journey keeps the version it first rendered (see `forJourney`).
 */
export function templatesStore(db: Db) {
  const versions = (query: ReturnType<Db>) =>
    query.select('t.id', 't.name', 't.created_at', 'v.version', 'v.subject', 'v.mjml', 'v.text', 'v.created_at as version_created_at');

  /** The template an id or exact name names (an id is tried first). */
  const find = async (workspaceId: string, idOrName: string): Promise<{ id: string; version: number } | null> => {
    const byId = isUuid(idOrName) ? await db('templates').where({ workspace_id: workspaceId, id: idOrName }).first('id', 'version') : undefined;
    const row = byId ?? (await db('templates').where({ workspace_id: workspaceId, name: idOrName }).first('id', 'version'));
    return row ? { id: row.id as string, version: row.version as number } : null;
  };

  const version = async (templateId: string, number: number): Promise<EmailTemplateVersion | null> => {
    const row = await versions(db('templates as t').join('template_versions as v', 'v.template_id', 't.id').where({ 't.id': templateId, 'v.version': number })).first();
    return row ? toTemplate(row) : null;
  };

  return {
    async create(workspaceId: string, name: string, content: EmailTemplateContent): Promise<EmailTemplateVersion> {
      const id = await db.transaction(async (tx) => {
        const [row] = await tx('templates').insert({ workspace_id: workspaceId, name, version: 1 }).onConflict(['workspace_id', 'name']).ignore().returning('id');
        if (!row) throw new TemplateNameTakenError(`A template named "${name}" already exists`);
        await tx('template_versions').insert({ template_id: row.id, version: 1, subject: content.subject, mjml: content.mjml, text: content.text ?? null });
        return row.id as string;
      });
      return (await version(id, 1))!;
    },

    /** Latest versions, by name. */
    async list(workspaceId: string): Promise<EmailTemplateVersion[]> {
      const rows = await versions(db('templates as t').join('template_versions as v', (j) => j.on('v.template_id', 't.id').andOn('v.version', 't.version')))
        .where('t.workspace_id', workspaceId)
        .orderBy('t.name');
      return rows.map(toTemplate);
    },

    /** The latest version, or a given one, of the template an id or name names. */
    async get(workspaceId: string, idOrName: string, number?: number): Promise<EmailTemplateVersion | null> {
      const found = await find(workspaceId, idOrName);
      return found ? version(found.id, number ?? found.version) : null;
    },

    /** Every version number with its date, newest first. */
    async history(workspaceId: string, id: string): Promise<Array<{ version: number; subject: string; createdAt: string }> | null> {
      const found = await find(workspaceId, id);
      if (!found) return null;
      const rows = await db('template_versions').where({ template_id: found.id }).orderBy('version', 'desc').select('version', 'subject', 'created_at');
      return rows.map((r) => ({ version: r.version as number, subject: r.subject as string, createdAt: (r.created_at as Date).toISOString() }));
    },

    /** Adds a version (and renames when `name` differs); null when there is no such template. */
    async update(workspaceId: string, id: string, content: EmailTemplateContent & { name?: string }): Promise<EmailTemplateVersion | null> {
      if (!isUuid(id)) return null;
      const next = await db.transaction(async (tx) => {
        // The row lock orders concurrent edits: each gets its own version number.
        const current = await tx('templates').where({ workspace_id: workspaceId, id }).forUpdate().first('version', 'name');
        if (!current) return null;
        if (content.name !== undefined && content.name !== current.name) {
          const taken = await tx('templates').where({ workspace_id: workspaceId, name: content.name }).first('id');
          if (taken) throw new TemplateNameTakenError(`A template named "${content.name}" already exists`);
        }
        const number = (current.version as number) + 1;
        await tx('template_versions').insert({ template_id: id, version: number, subject: content.subject, mjml: content.mjml, text: content.text ?? null });
        await tx('templates').where({ id }).update({ version: number, name: content.name ?? current.name });
        return number;
      });
      return next === null ? null : version(id, next);
    },

    /** Deletes a template with all its versions; journeys that use it fail on their next send. */
    async remove(workspaceId: string, id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      return (await db('templates').where({ workspace_id: workspaceId, id }).delete()) > 0;
    },

    /**
     * The version a journey renders: the one it used first, else the latest (which is then
     * kept for the journey). Null when the workspace has no such template.
     */
    async forJourney(workspaceId: string, journeyId: string, idOrName: string): Promise<EmailTemplateVersion | null> {
      const found = await find(workspaceId, idOrName);
      if (!found) return null;
      await db('journey_templates').insert({ journey_id: journeyId, template_id: found.id, version: found.version }).onConflict(['journey_id', 'template_id']).ignore();
      const pinned = await db('journey_templates').where({ journey_id: journeyId, template_id: found.id }).first('version');
      return version(found.id, (pinned?.version as number | undefined) ?? found.version);
    },
  };
}
