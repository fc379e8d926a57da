import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { SCHEDULE_TICK_EVENT, type TriggerSchedule } from '@campaignos/sdk';
import type { N8nWorkflow } from '../flow/index.js';
import type { JourneyPlan } from '../journey/journey.types.js';
import { JOURNEY_TASK_QUEUE } from '../journey/journey.types.js';
import { SCHEDULE_TICK_WORKFLOW_TYPE, type ScheduleTickInput } from '../journey/schedule-tick.types.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { Store, WorkflowVersion } from '../store/index.js';

/** The schedule a version's trigger declares, recomputed from its immutable definition. */
export function scheduleOf(version: WorkflowVersion, registry: NodeRegistry): TriggerSchedule | null {
  const plan = version.plan as JourneyPlan;
  const trigger = (version.definition as N8nWorkflow).nodes.find((n) => n.name === plan.trigger);
  const spec = trigger ? registry.get(trigger.type)?.definition.trigger : undefined;
  const result = spec?.subscribe(trigger?.parameters ?? {});
  return typeof result === 'object' && result.schedule ? result.schedule : null;
}

/** Temporal refused the schedule (an impossible cron, an unknown time zone). */
export class ScheduleSpecError extends Error {}

/**
 * Keeps one Temporal Schedule per active workflow whose trigger is a schedule: created when the
 * workflow is activated, replaced when a new version is deployed, deleted when it is deactivated
 * or no longer has a schedule trigger. Each tick starts a `scheduleTick` workflow on the journey
 * task queue; Temporal owns the timing (cron, time zone, catch-up after an outage, no overlap).
 */
export class WorkflowSchedules {
  constructor(private readonly deps: { client: Client; store: Store; registry: NodeRegistry }) {}

  static scheduleId(workflowId: string): string {
    return `campaignos-schedule-${workflowId}`;
  }

  /** Brings the workflow's Temporal Schedule in line with its state in the store. */
  async sync(workspaceId: string, workflowId: string): Promise<void> {
    const { client, store, registry } = this.deps;
    const workflow = await store.workflows.get(workspaceId, workflowId);
    const version = workflow?.active && workflow.activeVersionId ? await store.workflows.version(workflow.activeVersionId) : null;
    const schedule = version ? scheduleOf(version, registry) : null;
    const scheduleId = WorkflowSchedules.scheduleId(workflowId);
    // Workflows that never had a schedule trigger never touch Temporal's schedule API (which
    // the time-skipping test server, for one, does not serve).
    if (!schedule) {
      const everScheduled = await store.db('workflow_versions').where({ workflow_id: workflowId, trigger_event: SCHEDULE_TICK_EVENT }).first('id');
      if (!everScheduled) return;
    }

    // A redeploy replaces the schedule outright: its action carries the version id.
    try {
      await client.schedule.getHandle(scheduleId).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    if (!schedule || !version) return;

    const input: ScheduleTickInput = { v: 1, workspaceId, workflowId, versionId: version.id };
    try {
      await client.schedule.create({
        scheduleId,
        spec: { cronExpressions: [schedule.cron], timezone: schedule.timeZone ?? 'UTC' },
        action: {
          type: 'startWorkflow',
          workflowType: SCHEDULE_TICK_WORKFLOW_TYPE,
          taskQueue: JOURNEY_TASK_QUEUE,
          // Temporal appends each tick's time, which makes the id (and the tick's key) unique.
          workflowId: `campaignos-tick-${workflowId}`,
          args: [input],
        },
        // A tick that is still enrolling when the next one is due makes it skip (the default);
        // ticks missed during an outage of up to an hour are caught up.
        policies: { catchupWindow: '1 hour' },
        memo: { workspaceId, workflowId, versionId: version.id },
      });
    } catch (error) {
      if (isInvalidArgument(error)) throw new ScheduleSpecError(`Temporal refused the schedule "${schedule.cron}" (${schedule.timeZone ?? 'UTC'}): ${(error as Error).message}`);
      throw error;
    }
  }
}

function isInvalidArgument(error: unknown): boolean {
  // The client turns the server's "Invalid schedule spec" into a TypeError carrying the reason;
  // other refusals arrive as gRPC status 3 (INVALID_ARGUMENT), on the error or its cause.
  if (error instanceof TypeError) return true;
  const codes = [(error as { code?: unknown })?.code, (error as { cause?: { code?: unknown } })?.cause?.code];
  return codes.includes(3);
}
