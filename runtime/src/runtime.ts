import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime as TemporalRuntime, type Worker } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { createApi } from './api/server.js';
import { EventWriter } from './ingest/event-writer.js';
import { createLogger, type Logger } from './logger.js';
import { BUILTIN_NODE_PACKAGES, NodeRegistry } from './nodes/registry.js';
import { TriggerRouter } from './router/trigger-router.js';
import { SendGate } from './send-gate/send-gate.js';
import { createDb, createStore, migrate, type Store } from './store/index.js';
import { createJourneyWorker } from './temporal/worker.js';
import { Audience } from './audience.js';
import { ScoringEngine } from './scoring/index.js';
import { SegmentEngine } from './segments/index.js';
import { Sweeper } from './sweeper.js';
import { WebhookDispatcher } from './router/webhook-dispatch.js';
import { createScheduleActivities } from './schedules/schedule-tick.activity.js';
import { WorkflowSchedules } from './schedules/workflow-schedules.js';

export type TemporalTarget =
  | { address: string; namespace: string }
  /** Already-open connections, e.g. from a test environment. */
  | { client: Client; connection: NativeConnection; namespace: string };

export interface RuntimeOptions {
  databaseUrl: string;
  temporal: TemporalTarget;
  secret: string;
  /** What this process does; at scale, API instances and workers run apart. */
  roles: { api?: boolean; worker?: boolean; router?: boolean };
  host?: string;
  port?: number;
  publicUrl?: string;
  nodePackages?: string[];
  logger?: Logger;
  /** Apply pending migrations at start (the dev command does; production runs `campaignos migrate`). */
  migrate?: boolean;
  /** How often time-relative segments and decaying scores are swept (router role); default 60 s. */
  sweepIntervalMs?: number;
  /** The engines' clock; tests move it to make time pass. */
  clock?: () => Date;
}

export interface Runtime {
  /** Base URL of the API, when this process serves it. */
  url: string | null;
  store: Store;
  registry: NodeRegistry;
  router: TriggerRouter | null;
  segments: SegmentEngine;
  scoring: ScoringEngine;
  sweeper: Sweeper | null;
  stop(): Promise<void>;
}

/** Starts the parts of CampaignOS this process should run, sharing one store and one Temporal connection. */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const logger = options.logger ?? createLogger('campaignos');
  const db = createDb(options.databaseUrl);
  if (options.migrate) await migrate(db);
  const store = createStore(db, options.secret);
  const registry = NodeRegistry.load([...BUILTIN_NODE_PACKAGES, ...(options.nodePackages ?? [])]);
  const segments = new SegmentEngine({ db, clock: options.clock });
  const scoring = new ScoringEngine({ db, clock: options.clock });
  const cleanups: Array<() => Promise<void>> = [];

  const temporal = options.temporal;
  let client: Client;
  let nativeConnection: NativeConnection | null = null;
  if ('client' in temporal) {
    client = temporal.client;
    nativeConnection = temporal.connection;
  } else {
    const connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace });
    cleanups.push(() => connection.close());
  }

  let url: string | null = null;
  const publicUrlHolder = { value: options.publicUrl ?? '' };

  if (options.roles.api) {
    const writer = new EventWriter(db);
    const app = createApi({
      store,
      segments,
      scoring,
      registry,
      writer,
      secret: options.secret,
      logger,
      publicUrl: () => publicUrlHolder.value,
      schedules: new WorkflowSchedules({ client, store, registry }),
      readiness: { temporal: async () => void (await client.workflowService.getSystemInfo({})) },
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    url = `http://${options.host ?? '127.0.0.1'}:${port}`;
    publicUrlHolder.value ||= url;
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    server.keepAliveTimeout = 65_000;
  }

  let worker: Worker | null = null;
  let workerRun: Promise<void> | null = null;
  if (options.roles.worker) {
    quietTemporalLogs();
    // n8n-workflow lets `$env` / `process.env` read the worker's environment unless told not to;
    // a workflow must never be able to put DATABASE_URL or a secret into an email.
    process.env.N8N_BLOCK_ENV_ACCESS_IN_NODE = 'true';
    if (!nativeConnection) {
      nativeConnection = await NativeConnection.connect({ address: (temporal as { address: string }).address });
      const owned = nativeConnection;
      cleanups.push(() => owned.close());
    }
    const sendGate = new SendGate({ db, secret: options.secret, publicUrl: publicUrlHolder.value || 'http://127.0.0.1:3000' });
    worker = await createJourneyWorker({
      connection: nativeConnection,
      namespace: temporal.namespace,
      activities: { ...createActivities({ store, registry, sendGate, segments, scoring, logger }), ...createScheduleActivities({ store, registry, logger }) },
    });
    workerRun = worker.run();
  }

  let router: TriggerRouter | null = null;
  let webhooks: WebhookDispatcher | null = null;
  let sweeper: Sweeper | null = null;
  let audience: Audience | null = null;
  if (options.roles.router) {
    // Webhook deliveries are queued by the router and sent by this process's dispatcher.
    webhooks = new WebhookDispatcher({ db, secret: options.secret, logger });
    audience = new Audience({ segments, scoring, logger });
    router = new TriggerRouter({ store, temporal: client, logger, audience, webhooks });
    await router.start();
    audience.start();
    sweeper = new Sweeper({ db, segments, scoring, logger, intervalMs: options.sweepIntervalMs ?? 60_000 });
    sweeper.start();
    webhooks.start();
  }

  return {
    url,
    store,
    registry,
    router,
    segments,
    scoring,
    sweeper,
    async stop() {
      await sweeper?.stop();
      await router?.stop();
      await audience?.stop();
      await webhooks?.stop();
      if (worker) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun?.catch(() => undefined);
      }
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await db.destroy();
    },
  };
}

/** The SDK logs every worker state change at INFO; keep warnings and errors only. */
function quietTemporalLogs(): void {
  try {
    TemporalRuntime.install({
      logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN'),
      // The CLI owns SIGINT/SIGTERM and stops the worker itself, in order with everything else.
      shutdownSignals: [],
    });
  } catch {
    // Already installed (e.g. by a test environment): keep whatever it chose.
  }
}
