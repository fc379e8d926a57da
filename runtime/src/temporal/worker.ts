import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { JOURNEY_TASK_QUEUE } from '../journey/journey.types.js';
import type { JourneyActivities } from '../activities/index.js';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The journey workflow code, bundled once per process (bundling takes a few seconds). */
export function journeyWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../journey/index'), logger: quietBundlerLogger });
  return bundle;
}

export interface JourneyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  activities: JourneyActivities;
  /** Activities (sends) in flight at once; bounded by the database pool, since each send holds a transaction. */
  maxConcurrentActivities?: number;
}

export async function createJourneyWorker(options: JourneyWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: JOURNEY_TASK_QUEUE,
    workflowBundle: await journeyWorkflowBundle(),
    activities: options.activities,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 20,
    maxConcurrentLocalActivityExecutions: 40,
    maxConcurrentWorkflowTaskExecutions: 40,
  });
}

const noop = () => undefined;
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };
