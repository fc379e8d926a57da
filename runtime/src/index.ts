export { startRuntime, type Runtime, type RuntimeOptions, type TemporalTarget } from './runtime.js';
export { loadConfig, secretFor, type Config } from './config.js';
export { createDb, createStore, migrate, type Store } from './store/index.js';
export { NodeRegistry, BUILTIN_NODE_PACKAGES, type RegisteredNode } from './nodes/registry.js';
export { createActivities, type JourneyActivities } from './activities/index.js';
export { SendGate } from './send-gate/send-gate.js';
export { SegmentEngine } from './segments/index.js';
export { ScoringEngine } from './scoring/index.js';
export { EventWriter } from './ingest/event-writer.js';
export { createJourneyWorker, journeyWorkflowBundle } from './temporal/worker.js';
export { JOURNEY_TASK_QUEUE, type JourneyInput } from './journey/journey.types.js';
export {
  resolveTemporalCli,
  resolveTemporalTestServer,
  startEmbeddedPostgres,
  startTemporalDevServer,
} from './embedded/index.js';
export { createLogger, type Logger } from './logger.js';
export { TriggerRouter } from './router/trigger-router.js';
export { createScheduleActivities, type ScheduleActivities } from './schedules/schedule-tick.activity.js';
