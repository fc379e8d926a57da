import type { Db } from './db.js';

export interface WorkflowVersion {
  id: string;
  workflowId: string;
  workspaceId: string;
  version: number;
  definition: unknown;
  plan: unknown;
  triggerEvent: string;
  /** Properties a triggering event must contain (e.g. `{ segmentId }`). */
  triggerFilter: Record<string, unknown>;
  allowReentry: boolean;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  active: boolean;
  activeVersionId: string | null;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

interface VersionRow {
  id: string;
  workflow_id: string;
  workspace_id: string;
  version: number;
  definition: unknown;
  plan: unknown;
  trigger_event: string;
  trigger_filter: Record<string, unknown>;
  allow_reentry: boolean;
}

const toVersion = (row: VersionRow): WorkflowVersion => ({
  id: row.id,
  workflowId: row.workflow_id,
  workspaceId: row.workspace_id,
  version: row.version,
  definition: row.definition,
  plan: row.plan,
  triggerEvent: row.trigger_event,
  triggerFilter: row.trigger_filter,
  allowReentry: row.allow_reentry,
});

const toSummary = (row: Record<string, unknown>): WorkflowSummary => ({
  id: row.id as string,
  name: row.name as string,
  active: row.active as boolean,
  activeVersionId: (row.active_version_id as string | null) ?? null,
  latestVersion: row.latest_version as number,
  createdAt: (row.created_at as Date).toISOString(),
  updatedAt: (row.updated_at as Date).toISOString(),
});

export interface NewVersion {
  name: string;
  definition: unknown;
  plan: unknown;
  triggerEvent: string;
  triggerFilter: Record<string, unknown>;
  allowReentry: boolean;
}

export function workflowsStore(db: Db) {
  return {
    /** Stores a new immutable version; with `workflowId` it adds a version to an existing workflow. */
    async addVersion(workspaceId: string, input: NewVersion, workflowId?: string): Promise<{ workflow: WorkflowSummary; version: WorkflowVersion } | null> {
      return db.transaction(async (tx) => {
        let workflow: Record<string, unknown> | undefined;
        if (workflowId) {
          workflow = await tx('workflows').where({ workspace_id: workspaceId, id: workflowId }).forUpdate().first();
          if (!workflow) return null;
        } else {
          [workflow] = await tx('workflows').insert({ workspace_id: workspaceId, name: input.name }).returning('*');
        }
        const next = (workflow!.latest_version as number) + 1;
        const [versionRow] = await tx<VersionRow>('workflow_versions')
          .insert({
            workflow_id: workflow!.id as string,
            workspace_id: workspaceId,
            version: next,
            definition: JSON.stringify(input.definition),
            plan: JSON.stringify(input.plan),
            trigger_event: input.triggerEvent,
            trigger_filter: JSON.stringify(input.triggerFilter) as never,
            allow_reentry: input.allowReentry,
          })
          .returning('*');
        // An active workflow moves to the new version for new entries; running journeys keep theirs.
        const [updated] = await tx('workflows')
          .where({ id: workflow!.id })
          .update({
            name: input.name,
            latest_version: next,
            active_version_id: workflow!.active ? versionRow!.id : workflow!.active_version_id,
            updated_at: tx.fn.now(),
          })
          .returning('*');
        return { workflow: toSummary(updated), version: toVersion(versionRow!) };
      });
    },

    async setActive(workspaceId: string, workflowId: string, active: boolean): Promise<WorkflowSummary | null> {
      const latest = db('workflow_versions').where({ workflow_id: workflowId }).orderBy('version', 'desc').limit(1).select('id');
      const [row] = await db('workflows')
        .where({ workspace_id: workspaceId, id: workflowId })
        .update({ active, active_version_id: active ? latest : null, updated_at: db.fn.now() })
        .returning('*');
      return row ? toSummary(row) : null;
    },

    async list(workspaceId: string): Promise<WorkflowSummary[]> {
      const rows = await db('workflows').where({ workspace_id: workspaceId }).orderBy('created_at');
      return rows.map(toSummary);
    },

    async get(workspaceId: string, workflowId: string): Promise<WorkflowSummary | null> {
      if (!/^[0-9a-f-]{36}$/i.test(workflowId)) return null;
      const row = await db('workflows').where({ workspace_id: workspaceId, id: workflowId }).first();
      return row ? toSummary(row) : null;
    },

    async version(versionId: string): Promise<WorkflowVersion | null> {
      const row = await db<VersionRow>('workflow_versions').where({ id: versionId }).first();
      return row ? toVersion(row) : null;
    },

    /** Active versions whose trigger listens to one of these event names, per workspace. */
    async activeTriggers(pairs: Array<{ workspaceId: string; eventName: string }>): Promise<WorkflowVersion[]> {
      if (pairs.length === 0) return [];
      const rows = await db<VersionRow>('workflow_versions as v')
        .join('workflows as w', 'w.active_version_id', 'v.id')
        .where('w.active', true)
        .whereIn(['v.workspace_id', 'v.trigger_event'], pairs.map((p) => [p.workspaceId, p.eventName]))
        .select('v.*');
      return rows.map(toVersion);
    },
  };
}
