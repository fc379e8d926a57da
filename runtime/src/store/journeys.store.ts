import type { NodeItem } from '@campaignos/sdk';
import type { Db } from './db.js';

export type JourneyStatus = 'starting' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JourneyRecord {
  id: string;
  workflowId: string;
  versionId: string;
  contactId: string;
  entryEventId: string | null;
  status: JourneyStatus;
  currentNode: string | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface JourneyStep {
  seq: number;
  nodeName: string;
  output: NodeItem[][];
}

const toRecord = (row: Record<string, unknown>): JourneyRecord => ({
  id: row.id as string,
  workflowId: row.workflow_id as string,
  versionId: row.version_id as string,
  contactId: row.contact_id as string,
  entryEventId: (row.entry_event_id as string | null) ?? null,
  status: row.status as JourneyStatus,
  currentNode: (row.current_node as string | null) ?? null,
  error: (row.error as string | null) ?? null,
  startedAt: (row.started_at as Date).toISOString(),
  finishedAt: row.finished_at ? (row.finished_at as Date).toISOString() : null,
});

export function journeysStore(db: Db) {
  return {
    /**
     * Claims a journey id. Returns false when the journey already exists past its start, so a
     * re-delivered trigger never enrols a contact twice (even after Temporal forgot the run).
     */
    async claim(j: { id: string; workspaceId: string; workflowId: string; versionId: string; contactId: string; entryEventId: string }): Promise<boolean> {
      const inserted = await db('journeys')
        .insert({
          id: j.id,
          workspace_id: j.workspaceId,
          workflow_id: j.workflowId,
          version_id: j.versionId,
          contact_id: j.contactId,
          entry_event_id: j.entryEventId,
          status: 'starting',
        })
        .onConflict('id')
        .ignore()
        .returning('id');
      if (inserted.length > 0) return true;
      const row = await db('journeys').where({ id: j.id }).first('status');
      return row?.status === 'starting';
    },

    async setStatus(id: string, status: JourneyStatus, fields: { currentNode?: string | null; error?: string | null } = {}): Promise<void> {
      const finished = status === 'completed' || status === 'failed' || status === 'cancelled';
      await db('journeys')
        .where({ id })
        .update({
          status,
          ...(fields.currentNode !== undefined && { current_node: fields.currentNode }),
          ...(fields.error !== undefined && { error: fields.error }),
          updated_at: db.fn.now(),
          ...(finished && { finished_at: db.fn.now() }),
        });
    },

    /** Marks a started journey as running unless it has already moved on. */
    async markStarted(id: string): Promise<void> {
      await db('journeys').where({ id, status: 'starting' }).update({ status: 'running', updated_at: db.fn.now() });
    },

    async forContact(workspaceId: string, contactId: string): Promise<JourneyRecord[]> {
      const rows = await db('journeys').where({ workspace_id: workspaceId, contact_id: contactId }).orderBy('started_at', 'desc').limit(500);
      return rows.map(toRecord);
    },

    async get(id: string): Promise<JourneyRecord | null> {
      const row = await db('journeys').where({ id }).first();
      return row ? toRecord(row) : null;
    },

    /** Records a step's output; a retried step overwrites its own row, never another's. */
    async saveStep(journeyId: string, step: JourneyStep): Promise<void> {
      await db('journey_steps')
        .insert({ journey_id: journeyId, seq: step.seq, node_name: step.nodeName, output: JSON.stringify(step.output) })
        .onConflict(['journey_id', 'seq'])
        .merge(['node_name', 'output']);
      await db('journeys').where({ id: journeyId }).update({ current_node: step.nodeName, updated_at: db.fn.now() });
    },

    async steps(journeyId: string): Promise<JourneyStep[]> {
      const rows = await db('journey_steps').where({ journey_id: journeyId }).orderBy('seq');
      return rows.map((r) => ({ seq: r.seq as number, nodeName: r.node_name as string, output: r.output as NodeItem[][] }));
    },
  };
}
