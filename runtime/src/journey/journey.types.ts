// Shared by the journey workflow (inside Temporal's sandbox) and the code that starts it:
// plain types only, nothing with runtime behaviour.

/** Versioned so a journey started by an older runtime keeps replaying after an upgrade. */
export interface JourneyInput {
  v: 1;
  journeyId: string;
  workspaceId: string;
  workflowId: string;
  versionId: string;
  contactId: string;
  entryEventId: string;
  /** Set when the journey continued as new: where it was. */
  resume?: JourneyCursor;
}

/** Where the next step reads its input: the output `output` of step `seq`. */
export interface StepInputRef {
  seq: number;
  output: number;
}

export interface PendingStep {
  node: string;
  input: StepInputRef | null;
}

export interface JourneyCursor {
  queue: PendingStep[];
  nextSeq: number;
}

/** What a step's activity returns: only which outputs carry items; the items stay in PostgreSQL. */
export interface StepResult {
  outputsWithItems: boolean[];
  /** The contact was deleted: the journey ends quietly. */
  contactGone?: boolean;
}

export interface WaitResult {
  sleepMs: number;
  contactGone?: boolean;
}

export interface JourneyResult {
  status: 'completed' | 'cancelled';
  steps: number;
}

/** The node structure a journey walks; parameters stay out of workflow history. */
export interface JourneyPlan {
  trigger: string;
  nodes: Record<string, PlanNode>;
}

export interface PlanNode {
  kind: 'trigger' | 'wait' | 'if' | 'switch' | 'filter' | 'noop' | 'set' | 'action';
  type: string;
  outputs: Array<Array<{ node: string; inputIndex: number }>>;
  disabled?: boolean;
}

export const JOURNEY_TASK_QUEUE = 'campaignos-journeys';
export const JOURNEY_WORKFLOW_TYPE = 'journey';
