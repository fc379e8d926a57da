// The worker's workflowsPath: every workflow type the runtime registers.
export { journey } from './journey.workflow.js';
export { scheduleTick } from './schedule-tick.workflow.js';
