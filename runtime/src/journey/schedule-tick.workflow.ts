import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ScheduleActivities } from '../schedules/schedule-tick.activity.js';
import type { ScheduleTickInput, ScheduleTickResult } from './schedule-tick.types.js';

// Enrolling a large segment takes a while: the activity works in pages, heartbeats its cursor
// and resumes from it when retried; the event idempotency keys make a replayed page harmless.
const act = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 20 },
});

/** One tick of a workflow's Temporal Schedule: every member of the segment enters the journey. */
export async function scheduleTick(input: ScheduleTickInput): Promise<ScheduleTickResult> {
  return act.enrolScheduleTick({ ...input, tickId: workflowInfo().workflowId });
}
