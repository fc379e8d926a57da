import { Context } from '@temporalio/activity';
import { SCHEDULE_TICK_EVENT } from '@campaignos/sdk';
import type { ScheduleTickRequest, ScheduleTickResult } from '../journey/schedule-tick.types.js';
import type { Logger } from '../logger.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { Store } from '../store/index.js';
import { scheduleOf } from './workflow-schedules.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ScheduleActivityDeps {
  store: Store;
  registry: NodeRegistry;
  logger: Logger;
  /** Members enrolled per transaction. */
  pageSize?: number;
}

/**
 * A tick enrols through the ordinary path: it writes one `$schedule_tick` event per segment
 * member (page by page, each page its own short transaction, with the outbox rows), and the
 * trigger router starts the journeys. The event's idempotency key is (tick, contact), so a
 * retried page enrols nobody twice, and the journey id includes the event, so each tick is a
 * new entry. The events carry the version's `scheduleId`, which only that version's trigger
 * filter matches.
 */
export function createScheduleActivities({ store, registry, logger, pageSize = 1000 }: ScheduleActivityDeps) {
  return {
    async enrolScheduleTick(request: ScheduleTickRequest): Promise<ScheduleTickResult> {
      const { workspaceId, workflowId, versionId, tickId } = request;
      const workflow = await store.workflows.get(workspaceId, workflowId);
      const version = await store.workflows.version(versionId);
      // A tick that fires while the workflow is being redeployed or deactivated does nothing.
      if (!workflow?.active || workflow.activeVersionId !== versionId || !version) return { enrolled: 0, members: 0, skipped: 'the workflow is no longer active on this version' };
      const schedule = scheduleOf(version, registry);
      if (!schedule) return { enrolled: 0, members: 0, skipped: 'the version has no schedule trigger' };
      const segment = await store
        .db('segments')
        .where({ workspace_id: workspaceId })
        .andWhere((q) => (UUID.test(schedule.segment) ? q.where({ id: schedule.segment }) : q.where({ name: schedule.segment })))
        .first('id', 'name');
      if (!segment) {
        logger.warn('schedule tick skipped: segment not found', { workflowId, segment: schedule.segment });
        return { enrolled: 0, members: 0, skipped: `segment "${schedule.segment}" does not exist` };
      }
      const properties = JSON.stringify({ ...version.triggerFilter, segmentId: segment.id, segmentName: segment.name });

      const context = Context.current();
      // A retried activity resumes after the last page it finished.
      let after = (context.info.heartbeatDetails as string | undefined) ?? null;
      let enrolled = 0;
      let members = 0;
      for (;;) {
        const result = await store.db.raw(
          `WITH page AS (
             SELECT contact_id FROM segment_members
              WHERE segment_id = ? AND (?::uuid IS NULL OR contact_id > ?::uuid)
              ORDER BY contact_id LIMIT ?
           ), ins AS (
             INSERT INTO events (id, workspace_id, contact_id, name, properties, idempotency_key, occurred_at)
             SELECT gen_random_uuid(), ?::uuid, p.contact_id, ?, ?::jsonb, ? || p.contact_id::text, now() FROM page p
             ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING id, workspace_id
           ), queued AS (
             INSERT INTO outbox (workspace_id, event_id) SELECT workspace_id, id FROM ins
           )
           SELECT (SELECT contact_id FROM page ORDER BY contact_id DESC LIMIT 1) AS last,
                  (SELECT count(*) FROM page)::int AS members,
                  (SELECT count(*) FROM ins)::int AS inserted`,
          [segment.id, after, after, pageSize, workspaceId, SCHEDULE_TICK_EVENT, properties, `schedule:${tickId}:`],
        );
        const row = result.rows[0] as { last: string | null; members: number; inserted: number };
        if (row.inserted > 0) await store.db.raw(`SELECT pg_notify('campaignos_outbox', '')`);
        enrolled += row.inserted;
        members += row.members;
        if (!row.last || row.members < pageSize) break;
        after = row.last;
        context.heartbeat(after);
      }
      logger.info('schedule tick enrolled the segment', { workflowId, tickId, segmentId: segment.id, members, enrolled });
      return { enrolled, members };
    },
  };
}

export type ScheduleActivities = ReturnType<typeof createScheduleActivities>;
