import express, { type Express } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { EventWriter } from '../ingest/event-writer.js';
import type { Logger } from '../logger.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { Store } from '../store/index.js';
import { requireApiKey } from './auth.js';
import { ApiError, errorHandler } from './errors.js';
import { addressesRoutes } from './routes/addresses.routes.js';
import { contactsRoutes } from './routes/contacts.routes.js';
import { deliveriesRoutes } from './routes/deliveries.routes.js';
import { eventsRoutes } from './routes/events.routes.js';
import { credentialsRoutes, messagesRoutes } from './routes/misc.routes.js';
import { listsRoutes } from './routes/lists.routes.js';
import { contactScoreRoutes, scoringRoutes } from './routes/scoring.routes.js';
import { segmentsRoutes } from './routes/segments.routes.js';
import { templatesRoutes } from './routes/templates.routes.js';
import { sendGateRoutes } from './routes/send-gate.routes.js';
import { SendGate } from '../send-gate/send-gate.js';
import { telegramRoutes } from './routes/telegram.routes.js';
import type { ScoringEngine } from '../scoring/index.js';
import type { SegmentEngine } from '../segments/index.js';
import { publicRoutes } from './routes/public.routes.js';
import { workflowsRoutes } from './routes/workflows.routes.js';
import { webhookSubscriptionsRoutes } from './routes/webhook-subscriptions.routes.js';
import type { WorkflowSchedules } from '../schedules/workflow-schedules.js';

export interface ApiOptions {
  store: Store;
  segments: SegmentEngine;
  scoring: ScoringEngine;
  registry: NodeRegistry;
  writer: EventWriter;
  secret: string;
  logger: Logger;
  /** Extra readiness checks (Temporal reachable, ...); each throws when not ready. */
  readiness?: Record<string, () => Promise<void>>;
  bodyLimit?: string;
  /** The public base URL (PUBLIC_URL) for webhooks that providers call back. */
  publicUrl?: () => string | undefined;
  /** Temporal Schedules for schedule-triggered workflows (absent: schedules are not managed). */
  schedules?: WorkflowSchedules;
}

export function createApi(options: ApiOptions): Express {
  const { store, registry, writer, secret, logger, segments, scoring } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const requests = new Counter({ name: 'campaignos_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [metrics] });
  const latency = new Histogram({
    name: 'campaignos_http_request_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });
  app.use((req, res, next) => {
    const end = latency.startTimer();
    res.on('finish', () => {
      const route = req.baseUrl + (req.route?.path ?? '');
      end({ method: req.method, route });
      requests.inc({ method: req.method, route, status: res.statusCode });
    });
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ready = true;
    const all = { database: async () => void (await store.db.raw('select 1')), ...options.readiness };
    for (const [name, check] of Object.entries(all)) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (error) {
        ready = false;
        checks[name] = (error as Error).message;
      }
    }
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  app.use(publicRoutes(store, secret));
  app.use(telegramRoutes({ store, secret, logger, publicUrl: options.publicUrl }));
  app.use(deliveriesRoutes(store, secret));

  const v1 = express.Router();
  v1.use(requireApiKey(store));
  v1.use(express.json({ limit: options.bodyLimit ?? '1mb', strict: false }));
  v1.use((req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    const csvImport = req.path.endsWith('/import') && req.is('text/csv');
    if (hasBody && !csvImport && !req.is('application/json')) {
      return next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send a JSON body with "Content-Type: application/json"'));
    }
    next();
  });
  v1.use('/contacts/:id/score', contactScoreRoutes(scoring, segments));
  v1.use('/contacts/:id/addresses', addressesRoutes(store));
  v1.use('/contacts', contactsRoutes(store, segments));
  v1.use('/events', eventsRoutes(writer));
  v1.use('/workflows', workflowsRoutes(store, registry, options.schedules));
  v1.use('/webhook-subscriptions', webhookSubscriptionsRoutes(store, secret));
  v1.use('/credentials', credentialsRoutes(store));
  v1.use('/messages', messagesRoutes(store));
  v1.use('/lists', listsRoutes(store));
  v1.use('/templates', templatesRoutes(store));
  v1.use('/segments', segmentsRoutes(store, segments));
  v1.use('/scoring', scoringRoutes(scoring));
  // Channel nodes running inside n8n ask this gate; the public URL is known once the server listens.
  const publicUrl = () => options.publicUrl?.() || 'http://127.0.0.1:3000';
  v1.use('/send-gate', sendGateRoutes(store, new SendGate({ db: store.db, secret, get publicUrl() { return publicUrl(); } })));
  app.use('/v1', v1);

  app.use((req, _res, next) => next(new ApiError(404, 'NOT_FOUND', `No route ${req.method} ${req.path}`)));
  app.use(errorHandler((message, meta) => logger.error(message, meta)));
  return app;
}
