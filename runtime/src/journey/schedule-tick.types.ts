// Shared by the schedule tick workflow (inside Temporal's sandbox) and the code that creates
// the Temporal Schedule: plain types and constants only.

/** What a Temporal Schedule's action hands the tick workflow. Versioned like journey inputs. */
export interface ScheduleTickInput {
  v: 1;
  workspaceId: string;
  workflowId: string;
  versionId: string;
}

/** What the tick activity gets: the input plus a key unique to this tick. */
export interface ScheduleTickRequest extends ScheduleTickInput {
  /** The tick workflow's id: the schedule appends the scheduled time, so it is unique per tick. */
  tickId: string;
}

export interface ScheduleTickResult {
  enrolled: number;
  members: number;
  /** Why nothing was enrolled, when nothing was (workflow no longer on this version, segment gone). */
  skipped?: string;
}

export const SCHEDULE_TICK_WORKFLOW_TYPE = 'scheduleTick';
