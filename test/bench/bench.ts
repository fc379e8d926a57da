// `npm run bench`: CampaignOS throughput on this machine, end to end, against real services.
//
//   1. events ingested over HTTP with a durable commit (API in its own process)
//   2. journeys started / completed per second on a Temporal dev server (worker in its own process)
//   3. emails rendered + sent per second through the real send path (email node, runtime node
//      context, send gate, PostgreSQL) to a local SMTP sink; the SMTP leg alone; then the same
//      sends end to end through journeys
//   4. the Temporal server alone (bare workflow starts): the ceiling for any journey rate
// Each measured phase reports throughput, p50/p99 latency and the CPU each process spent on it.
//
// A script, not a test: it starts everything it needs on loopback (a fresh database on the local
// PostgreSQL, a Temporal dev server, an SMTP sink), bounds every count and wait, cleans up, shows
// progress on stderr and prints a results table on stdout.
// Exit code: 0 when every phase ran and every check held (a missed target is a result, not an
// error); 1 on errors (a failed check, a crash, the global timeout).
//
// Environment:
//   BENCH_SCALE=0.1            shrink every count (smoke run)
//   BENCH_PHASES=ingest,...    run a subset of ingest, journeys, email, e2e, temporal
//   BENCH_PHASE_SECONDS=20     how long the Temporal- and send-bound phases aim to run
//   BENCH_TIMEOUT_S=420        global timeout; everything started is stopped and removed
//   BENCH_PROFILE_DIR=dir      V8 CPU profiles of the API and worker processes (--cpu-prof)
//   BENCH_TEMPORAL_ADDRESS     use that Temporal server instead of a dev server (BENCH_TEMPORAL_PID
//                              names its process for the CPU split; the temporal phase is skipped)
//   TEST_DATABASE_URL          the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createActivities, createDb, createStore, NodeRegistry, BUILTIN_NODE_PACKAGES, ScoringEngine, SegmentEngine, SendGate, type Store } from '@campaignos/runtime';
import { renderEmail, templateVariables } from '@campaignos/n8n-nodes-email';
import nodemailer from 'nodemailer';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { quietLogger, ROOT, SECRET, seedWorkspace } from '../support/stack.js';
import { devServer } from '../support/temporal.js';
import { CpuMeter, describeCpu, forEachLimit, log, machineLoad, progress, SCALE, scaled, sleep, spawnChild, summarize, until, type Child, type CpuSplit, type LatencySummary } from './harness.js';
import { httpClient, runLoad, type HttpClient } from './load.js';
import type { SinkReply, SinkRequest } from './sink-child.js';

const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 420);
/** BENCH_PHASES=ingest,journeys,email,e2e,temporal (default all) runs a subset. */
const PHASES = new Set(
  (process.env.BENCH_PHASES ?? `ingest,journeys,email,e2e${process.env.BENCH_TEMPORAL_ADDRESS ? '' : ',temporal'}`).split(',').map((p) => p.trim()),
);
/**
 * BENCH_TEMPORAL_ADDRESS=host:port uses that Temporal server instead of starting a dev server (the
 * temporal phase, which leaves workflows open on a queue nobody polls, then runs only if asked).
 */
const TEMPORAL_ADDRESS = process.env.BENCH_TEMPORAL_ADDRESS;
/** BENCH_PROFILE_DIR=dir writes V8 CPU profiles of the API and worker processes there. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const nodeArgs = (...args: string[]) => [...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), ...args];
const CLI = join(ROOT, 'runtime', 'dist', 'cli.js');

const COUNTS = {
  ingestWarmup: scaled(1000, 50),
  ingestSingle: scaled(20_000, 200),
  ingestConcurrency: 64,
  ingestContacts: 100,
  batchRequests: scaled(300, 5),
  batchSize: 100,
  batchConcurrency: 8,
  /** At most; sized from the warm-up's rate so the phase lasts about BENCH_PHASE_SECONDS. */
  journeys: scaled(3000, 100),
  journeyWarmup: scaled(100, 20),
  journeyPostConcurrency: 4,
  emailContacts: 200,
  /** At most; sized from the warm-up's rate. */
  emails: scaled(3000, 100),
  emailWarmup: scaled(100, 20),
  emailConcurrency: 24,
  /** At most; sized from the warm-up's rate. */
  e2eEmails: scaled(600, 50),
  e2eWarmup: scaled(30, 10),
  temporalStarts: scaled(1000, 100),
  temporalConcurrency: 64,
};

const TARGETS = { ingest: 2000, journeysStarted: 200, emails: 500 };

/**
 * Phases whose rate depends on Temporal or on the send path run for about this long: their
 * count is sized from the warm-up's rate (between a floor and the maximum above), so a slow
 * machine still finishes within a few minutes and a fast one still measures thousands.
 */
const PHASE_SECONDS = Number(process.env.BENCH_PHASE_SECONDS ?? 20);
function sizeFromRate(label: string, ratePerSecond: number, floor: number, max: number): number {
  const n = Math.max(Math.min(floor, max), Math.min(max, Math.round(ratePerSecond * PHASE_SECONDS * SCALE)));
  log(`${label}: warm-up ran at ~${ratePerSecond.toFixed(0)}/s, so measuring ${n} (at most ${max}, about ${PHASE_SECONDS * SCALE} s of work)`);
  return n;
}

interface Row {
  metric: string;
  value: number;
  unit: string;
  latency?: LatencySummary;
  latencyLabel?: string;
  target?: number;
  note?: string;
  cpu?: CpuSplit;
  /** What `value` counts, for "CPU per unit". */
  units?: { count: number; name: string };
}

const rows: Row[] = [];
const setupNotes: string[] = [];
const checks: Array<{ what: string; ok: boolean; detail: string }> = [];
const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];

function check(what: string, ok: boolean, detail: string): void {
  checks.push({ what, ok, detail });
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}`);
}

// ---------------------------------------------------------------------------------------------
// Workflows

const TEMPLATE = {
  subject: 'Your order {{ event.properties.order }}, {{ contact.firstName | default: "friend" }}',
  mjml: `<mjml>
  <mj-head><mj-title>Order {{ event.properties.order }}</mj-title></mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-text font-size="18px">Hi {{ contact.firstName | default: "there" }},</mj-text>
        <mj-text>Thanks for order <b>{{ event.properties.order }}</b> ({{ event.properties.total }} EUR).</mj-text>
        <mj-button href="https://shop.example/orders/{{ event.properties.order }}">View your order</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`,
};

const trigger = (event: string) => ({ id: 't', name: 'Trigger', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event } });
const link = (from: string, to: string) => ({ [from]: { main: [[{ node: to, type: 'main', index: 0 }]] } });

const noopWorkflow = (event: string) => ({
  name: 'Bench: trigger then NoOp',
  nodes: [trigger(event), { id: 'n', name: 'Nothing', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [200, 0], parameters: {} }],
  connections: link('Trigger', 'Nothing'),
});

const emailWorkflow = (name: string, event: string) => ({
  name,
  nodes: [
    trigger(event),
    {
      id: 'e',
      name: 'Receipt',
      type: '@campaignos/n8n-nodes-email.email',
      typeVersion: 1,
      position: [200, 0],
      parameters: TEMPLATE,
      credentials: { campaignOsSmtp: { id: null, name: 'Bench SMTP' } },
    },
  ],
  connections: link('Trigger', 'Receipt'),
});

// ---------------------------------------------------------------------------------------------
// The SMTP sink, in its own process

interface Sink {
  port: number;
  process: ChildProcess;
  stats(since?: number): Promise<Extract<SinkReply, { type: 'stats' }>>;
  close(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const child = fork(join(__dirname, 'sink-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, (reply: Extract<SinkReply, { type: 'stats' }>) => void>();
  let nextId = 0;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('SMTP sink did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`SMTP sink exited (code ${code}) before it was ready`)));
    child.on('message', (reply: SinkReply) => {
      if (reply.type === 'ready') {
        clearTimeout(timer);
        resolve(reply.port);
      } else {
        pending.get(reply.id)?.(reply);
        pending.delete(reply.id);
      }
    });
  });
  return {
    port,
    process: child,
    stats: (since = 0) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error('SMTP sink did not answer within 10 s')), 10_000);
        pending.set(id, (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        child.send({ type: 'stats', id, since } satisfies SinkRequest);
      }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'close' } satisfies SinkRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers on the bench's own database connection

/** Transactions committed in this database so far (statistics lag by up to ~0.5 s; callers wait). */
async function commits(store: Store): Promise<number> {
  await sleep(600);
  return scalar(store, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`);
}

async function scalar(store: Store, sql: string, bindings: unknown[] = []): Promise<number> {
  const result = await store.db.raw(sql, bindings as never);
  return Number(Object.values(result.rows[0] as Record<string, unknown>)[0]);
}

/** Posts events in batches; returns the accepted event ids. Throws on any non-202. */
async function postEvents(client: HttpClient, events: unknown[], batchSize: number, concurrency: number): Promise<string[]> {
  const ids: string[] = [];
  const batches = Math.ceil(events.length / batchSize);
  await forEachLimit(batches, concurrency, async (b) => {
    const res = await client.request('POST', '/v1/events', JSON.stringify({ events: events.slice(b * batchSize, (b + 1) * batchSize) }));
    if (res.status !== 202) throw new Error(`POST /v1/events: ${res.status} ${res.text.slice(0, 300)}`);
    for (const e of (JSON.parse(res.text) as { events: Array<{ id: string }> }).events) ids.push(e.id);
  });
  return ids;
}

async function deploy(client: HttpClient, workflow: unknown, activate: boolean): Promise<{ workflowId: string; versionId: string }> {
  const res = await client.request('POST', `/v1/workflows${activate ? '?activate=true' : ''}`, JSON.stringify(workflow));
  if (res.status !== 201) throw new Error(`deploy: ${res.status} ${res.text.slice(0, 500)}`);
  const body = JSON.parse(res.text) as { workflow: { id: string }; version: { id: string } };
  return { workflowId: body.workflow.id, versionId: body.version.id };
}

// ---------------------------------------------------------------------------------------------
// Phase 1: ingestion

async function benchIngest(client: HttpClient, store: Store, cpu: CpuMeter): Promise<void> {
  const { ingestWarmup, ingestSingle, ingestConcurrency, ingestContacts, batchRequests, batchSize, batchConcurrency } = COUNTS;
  const acknowledged = new Set<string>();
  const single = (run: string) => (i: number) => JSON.stringify({ name: 'bench_ingest', externalId: `ingest-${i % ingestContacts}`, properties: { run, i, plan: i % 3 ? 'free' : 'pro' } });
  const acceptOne = (r: { text: string }) => {
    acknowledged.add((JSON.parse(r.text) as { id: string }).id);
    return 1;
  };

  log(`ingest: warm-up, ${ingestWarmup} single-event requests`);
  const warm = await runLoad({ label: 'ingest warm-up', client, total: ingestWarmup, concurrency: ingestConcurrency, path: '/v1/events', body: single('warmup'), accepted: acceptOne });
  if (warm.failures.size > 0) throw new Error(`ingest warm-up: ${warm.firstFailure}`);

  log(`ingest: ${ingestSingle} single-event POSTs, ${ingestConcurrency} in flight`);
  let commitsBefore = await commits(store);
  let meter = await cpu.start();
  const one = await runLoad({ label: 'ingest single', client, total: ingestSingle, concurrency: ingestConcurrency, path: '/v1/events', body: single('single'), accepted: acceptOne });
  let split = await meter.stop();
  let xacts = (await commits(store)) - commitsBefore;
  if (one.failures.size > 0) throw new Error(`ingest: ${[...one.failures].map(([s, n]) => `${n}× ${s}`).join(', ')}; first: ${one.firstFailure}`);
  rows.push({
    metric: 'Events ingested, 1 per POST (durable)',
    value: (one.events * 1000) / one.wallMs,
    unit: 'events/s',
    latency: summarize(one.latencies),
    latencyLabel: 'per request',
    target: TARGETS.ingest,
    note: `${one.events} events, ${ingestConcurrency} in flight; ${fmt(xacts)} PostgreSQL commits (${(one.events / xacts).toFixed(1)} events per commit)`,
    cpu: split,
    units: { count: one.events, name: 'event' },
  });

  log(`ingest: ${batchRequests} POSTs of ${batchSize} events, ${batchConcurrency} in flight`);
  let batchCounter = 0;
  commitsBefore = await commits(store);
  meter = await cpu.start();
  const batch = await runLoad({
    label: 'ingest batches',
    client,
    total: batchRequests,
    concurrency: batchConcurrency,
    path: '/v1/events',
    unit: ' req/s',
    body: () => {
      const base = batchCounter++ * batchSize;
      return JSON.stringify({ events: Array.from({ length: batchSize }, (_, k) => ({ name: 'bench_ingest', externalId: `ingest-${(base + k) % ingestContacts}`, properties: { run: 'batch', i: base + k } })) });
    },
    accepted: (r) => {
      const body = JSON.parse(r.text) as { accepted: number; events: Array<{ id: string }> };
      for (const e of body.events) acknowledged.add(e.id);
      return body.accepted;
    },
  });
  split = await meter.stop();
  xacts = (await commits(store)) - commitsBefore;
  if (batch.failures.size > 0) throw new Error(`ingest batches: ${batch.firstFailure}`);
  rows.push({
    metric: `Events ingested, ${batchSize} per POST (durable)`,
    value: (batch.events * 1000) / batch.wallMs,
    unit: 'events/s',
    latency: summarize(batch.latencies),
    latencyLabel: 'per request',
    target: TARGETS.ingest,
    note: `${batch.events} events, ${batchConcurrency} requests in flight; ${fmt(xacts)} PostgreSQL commits`,
    cpu: split,
    units: { count: batch.events, name: 'event' },
  });

  // Durability: every acknowledged event id is a committed row, and nothing else was written.
  const expected = warm.events + one.events + batch.events;
  const stored = await scalar(store, `SELECT count(*) FROM events WHERE name = 'bench_ingest'`);
  const found = await scalar(store, `SELECT count(*) FROM events WHERE id = ANY(?::uuid[])`, [[...acknowledged]]);
  check('ingest durability', stored === expected && found === acknowledged.size && acknowledged.size === expected, `${expected} events acknowledged (202), ${acknowledged.size} distinct ids, ${found} of them found, ${stored} rows in events`);
}

// ---------------------------------------------------------------------------------------------
// Phase 2: journeys

interface JourneyTimes {
  received: number;
  enrolled: number;
  running: number | null;
  finished: number | null;
  status: string;
}

async function journeyTimes(store: Store, eventName: string, run: string): Promise<JourneyTimes[]> {
  const result = await store.db.raw(
    `SELECT (extract(epoch FROM e.received_at) * 1000)::float8 AS received,
            (extract(epoch FROM j.started_at) * 1000)::float8 AS enrolled,
            (extract(epoch FROM s.created_at) * 1000)::float8 AS running,
            (extract(epoch FROM j.finished_at) * 1000)::float8 AS finished,
            j.status
       FROM events e
       JOIN journeys j ON j.entry_event_id = e.id
       LEFT JOIN journey_steps s ON s.journey_id = j.id AND s.seq = 0
      WHERE e.name = ? AND e.properties->>'run' = ?`,
    [eventName, run],
  );
  return result.rows as JourneyTimes[];
}

async function journeyCounts(store: Store, eventName: string, run: string) {
  const result = await store.db.raw(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE j.status <> 'starting')::int AS started,
            count(*) FILTER (WHERE j.status = 'completed')::int AS completed,
            count(*) FILTER (WHERE j.status IN ('failed', 'cancelled'))::int AS failed
       FROM events e JOIN journeys j ON j.entry_event_id = e.id
      WHERE e.name = ? AND e.properties->>'run' = ?`,
    [eventName, run],
  );
  return result.rows[0] as { total: number; started: number; completed: number; failed: number };
}

async function waitForJourneys(store: Store, eventName: string, run: string, count: number, timeoutMs: number): Promise<{ completed: number; timedOut: boolean }> {
  let last = { total: 0, started: 0, completed: 0, failed: 0 };
  const ticker = progress(`journeys ${run}: completed`, count, () => last.completed, ' journeys/s');
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      last = await journeyCounts(store, eventName, run);
      if (last.failed > 0) {
        const failed = await store.db.raw(`SELECT j.id, j.error FROM journeys j JOIN events e ON e.id = j.entry_event_id WHERE e.name = ? AND j.status IN ('failed','cancelled') LIMIT 3`, [eventName]);
        throw new Error(`${last.failed} journeys failed, e.g. ${JSON.stringify(failed.rows)}`);
      }
      if (last.completed >= count) return { completed: last.completed, timedOut: false };
      await sleep(100);
    }
    return { completed: last.completed, timedOut: true };
  } finally {
    ticker.stop();
  }
}

async function benchJourneys(client: HttpClient, store: Store, cpu: CpuMeter): Promise<void> {
  const { journeyWarmup, journeyPostConcurrency } = COUNTS;
  const event = 'bench_journey';
  const events = (run: string, count: number) => Array.from({ length: count }, (_, i) => ({ name: event, externalId: `${run}-${i}`, properties: { run, i } }));

  await deploy(client, noopWorkflow(event), true);
  log(`journeys: warm-up, ${journeyWarmup} journeys`);
  const warmStarted = Date.now();
  await postEvents(client, events('jwarm', journeyWarmup), 100, journeyPostConcurrency);
  const warm = await waitForJourneys(store, event, 'jwarm', journeyWarmup, 90_000);
  if (warm.timedOut) throw new Error(`journey warm-up: only ${warm.completed}/${journeyWarmup} completed within 90 s`);
  const warmRate = (journeyWarmup * 1000) / (Date.now() - warmStarted);
  const n = sizeFromRate('journeys', warmRate, scaled(300, 100), COUNTS.journeys);

  log(`journeys: ${n} events for distinct contacts, batches of 100`);
  const meter = await cpu.start();
  const t0 = Date.now();
  const posted = await postEvents(client, events('jrun', n), 100, journeyPostConcurrency);
  const postedMs = Date.now() - t0;
  const timeoutMs = Math.max(60_000, (4 * n * 1000) / warmRate);
  const outcome = await waitForJourneys(store, event, 'jrun', n, timeoutMs);
  const split = await meter.stop();
  check('journeys: one per event', posted.length === n, `${posted.length} events acknowledged in ${(postedMs / 1000).toFixed(2)} s`);

  const times = await journeyTimes(store, event, 'jrun');
  const running = times.filter((t) => t.running !== null);
  const finished = times.filter((t) => t.finished !== null && t.status === 'completed');
  const lastRunning = Math.max(...running.map((t) => t.running!));
  const lastFinished = Math.max(...finished.map((t) => t.finished!));
  const enrolledLast = Math.max(...times.map((t) => t.enrolled));
  const partial = outcome.timedOut ? `; only ${finished.length}/${n} completed within ${timeoutMs / 1000} s` : '';
  check('journeys: all completed, none twice', !outcome.timedOut && times.length === n && finished.length === n, `${times.length} journeys for ${n} events, ${running.length} ran their trigger step, ${finished.length} completed${partial}`);
  rows.push({
    metric: 'Journeys started (trigger step ran)',
    value: (running.length * 1000) / (lastRunning - t0),
    unit: 'journeys/s',
    latency: summarize(running.map((t) => t.running! - t.received)),
    latencyLabel: 'event received → running',
    target: TARGETS.journeysStarted,
    note: `${running.length} journeys; router enrolled all ${((enrolledLast - t0) / 1000).toFixed(1)} s after the first POST`,
    cpu: split,
    units: { count: finished.length, name: 'journey' },
  });
  rows.push({
    metric: 'Journeys completed (trigger → NoOp → done)',
    value: (finished.length * 1000) / (lastFinished - t0),
    unit: 'journeys/s',
    latency: summarize(finished.map((t) => t.finished! - t.received)),
    latencyLabel: 'event received → completed',
    note: `${finished.length} journeys${partial}`,
  });
}

// ---------------------------------------------------------------------------------------------
// Phase 3: emails through the real send path, no Temporal in between

async function benchEmailDirect(client: HttpClient, store: Store, databaseUrl: string, workspaceId: string, sink: Sink, apiUrl: string, cpu: CpuMeter): Promise<void> {
  const { emailContacts, emailWarmup, emailConcurrency } = COUNTS;
  // What the worker does at start: n8n expressions must not read the environment.
  process.env.N8N_BLOCK_ENV_ACCESS_IN_NODE = 'true';
  const { workflowId, versionId } = await deploy(client, emailWorkflow('Bench: email (direct)', 'bench_email_direct'), false);

  // Contacts, and one journey per send whose trigger step has run: each send is a distinct
  // journey step, so the send gate records each under its own idempotency key.
  const contacts = (await store.db.raw(
    `INSERT INTO contacts (workspace_id, external_id, email, attributes)
     SELECT ?, 'mail-' || i, 'mail-' || i || '@bench.example', jsonb_build_object('firstName', 'Name' || i, 'plan', CASE WHEN i % 2 = 0 THEN 'pro' ELSE 'free' END)
       FROM generate_series(1, ?) AS i
     RETURNING id, external_id, email, attributes`,
    [workspaceId, emailContacts],
  )).rows as Array<{ id: string; external_id: string; email: string; attributes: Record<string, unknown> }>;
  const journeys = Array.from({ length: emailWarmup + COUNTS.emails }, (_, i) => {
    const contact = contacts[i % contacts.length]!;
    const eventId = randomUUID();
    return {
      id: `bench-direct-${i}`,
      contact,
      eventId,
      item: {
        json: {
          event: { id: eventId, name: 'bench_email_direct', properties: { order: `A-${1000 + i}`, total: (i % 97) + 3 }, timestamp: new Date().toISOString() },
          contact: { id: contact.id, externalId: contact.external_id, email: contact.email, phone: null, timeZone: null, attributes: contact.attributes },
        },
      },
    };
  });
  for (let i = 0; i < journeys.length; i += 500) {
    const chunk = journeys.slice(i, i + 500);
    await store.db('journeys').insert(chunk.map((j) => ({ id: j.id, workspace_id: workspaceId, workflow_id: workflowId, version_id: versionId, contact_id: j.contact.id, entry_event_id: j.eventId, status: 'running' })));
    await store.db('journey_steps').insert(chunk.map((j) => ({ journey_id: j.id, seq: 0, node_name: 'Trigger', output: JSON.stringify([[j.item]]) })));
  }

  // The runtime's own pool and store, as a worker process builds them.
  const db = createDb(databaseUrl);
  const runtimeStore = createStore(db, SECRET);
  const registry = NodeRegistry.load(BUILTIN_NODE_PACKAGES);
  const sendGate = new SendGate({ db, secret: SECRET, publicUrl: apiUrl });
  const activities = createActivities({ store: runtimeStore, registry, sendGate, segments: new SegmentEngine({ db }), scoring: new ScoringEngine({ db }), logger: quietLogger });
  const sinkBefore = (await sink.stats()).count;
  let latencies = new Float64Array(0);
  const send = async (i: number, record: boolean) => {
    const j = journeys[i]!;
    const t = performance.now();
    const result = await activities.runActionStep({
      journeyId: j.id,
      workspaceId,
      versionId,
      contactId: j.contact.id,
      entryEventId: j.eventId,
      node: 'Receipt',
      seq: 1,
      input: { seq: 0, output: 0 },
    });
    if (record) latencies[i - emailWarmup] = performance.now() - t;
    if (result.outputsWithItems[0] !== true) throw new Error(`send ${j.id}: ${JSON.stringify(result)}`);
  };

  try {
    log(`email: warm-up, ${emailWarmup} sends`);
    const warmStarted = performance.now();
    await forEachLimit(emailWarmup, emailConcurrency, (i) => send(i, false));
    const emails = sizeFromRate('email', (emailWarmup * 1000) / (performance.now() - warmStarted), scaled(500, 100), COUNTS.emails);
    const total = emailWarmup + emails;
    latencies = new Float64Array(emails);

    log(`email: ${emails} sends (email node + runtime context + send gate), ${emailConcurrency} in flight`);
    let done = 0;
    let queries = 0;
    db.on('query', () => queries++);
    const ticker = progress('email direct', emails, () => done, ' msgs/s');
    const meter = await cpu.start();
    const started = performance.now();
    try {
      await forEachLimit(emails, emailConcurrency, async (k) => {
        await send(emailWarmup + k, true);
        done++;
      });
    } finally {
      ticker.stop();
    }
    const wallMs = performance.now() - started;
    const split = await meter.stop();

    const sink1 = await sink.stats(sinkBefore);
    const recorded = await scalar(store, `SELECT count(*) FROM messages WHERE journey_id LIKE 'bench-direct-%' AND status = 'sent'`);
    check(
      'email direct: one message per send',
      sink1.count === total && sink1.distinctMessageIds === total && recorded === total && sink1.withUnsubscribe === total,
      `${total} sends (${emailWarmup} warm-up), sink received ${sink1.count} (${sink1.distinctMessageIds} distinct Message-IDs, ${sink1.withUnsubscribe} with List-Unsubscribe), ${recorded} messages recorded as sent`,
    );
    rows.push({
      metric: 'Emails rendered + sent (send path, no Temporal)',
      value: (emails * 1000) / wallMs,
      unit: 'msgs/s',
      latency: summarize(latencies),
      latencyLabel: 'per send (runActionStep)',
      target: TARGETS.emails,
      note: `${emails} sends to ${emailContacts} contacts, ${emailConcurrency} in flight; ${(queries / emails).toFixed(1)} SQL statements per send`,
      cpu: split,
      units: { count: emails, name: 'email' },
    });

    await benchSmtpAlone(sink, journeys[0]!.item.json, apiUrl, Math.min(emails, scaled(1000, 100)), emailConcurrency, cpu);
  } finally {
    await db.destroy();
  }
}

/**
 * The SMTP leg on its own: the same rendered message sent with nodemailer's pool of 5 (as the
 * email node does) to the same sink. Its rate is the ceiling the sink and nodemailer leave.
 */
async function benchSmtpAlone(sink: Sink, item: { event: unknown; contact: Record<string, unknown> }, apiUrl: string, n: number, concurrency: number, cpu: CpuMeter): Promise<void> {
  const unsubscribe = `${apiUrl}/u/bench-token`;
  const rendered = await renderEmail({ ...TEMPLATE, variables: templateVariables({ contact: item.contact, event: item.event, item, unsubscribeUrl: unsubscribe }) });
  const transport = nodemailer.createTransport({ pool: true, maxConnections: 5, maxMessages: Infinity, host: '127.0.0.1', port: sink.port, secure: false });
  const sinkBefore = (await sink.stats()).count;
  log(`smtp alone: ${n} pre-rendered messages through nodemailer's pool of 5`);
  const latencies = new Float64Array(n);
  const meter = await cpu.start();
  const started = performance.now();
  try {
    await forEachLimit(n, concurrency, async (i) => {
      const t = performance.now();
      await transport.sendMail({
        from: { name: 'Bench Shop', address: 'shop@bench.example' },
        to: `smtp-${i}@bench.example`,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        messageId: `<smtp-alone-${i}@bench.example>`,
        headers: { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
      latencies[i] = performance.now() - t;
    });
  } finally {
    transport.close();
  }
  const wallMs = performance.now() - started;
  const split = await meter.stop();
  const received = await sink.stats(sinkBefore);
  check('smtp alone: every message received', received.count === n && received.distinctMessageIds === n, `${n} sent, sink received ${received.count} (${received.distinctMessageIds} distinct Message-IDs)`);
  rows.push({
    metric: 'SMTP leg alone (nodemailer pool of 5 → sink)',
    value: (n * 1000) / wallMs,
    unit: 'msgs/s',
    latency: summarize(latencies),
    latencyLabel: 'per message',
    note: `${n} copies of one rendered message (${Math.round((rendered.html.length + rendered.text.length) / 1024)} KB of HTML + text), no database: the ceiling the sink and nodemailer leave`,
    cpu: split,
    units: { count: n, name: 'email' },
  });
}

// ---------------------------------------------------------------------------------------------
// Phase 4: emails end to end through journeys

async function benchEmailJourneys(client: HttpClient, store: Store, sink: Sink, cpu: CpuMeter): Promise<void> {
  const event = 'bench_email';
  await deploy(client, emailWorkflow('Bench: email journey', event), true);
  const orders = (run: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ name: event, email: `${run}-${i}@bench.example`, properties: { run, order: `E-${i}`, total: i % 50 } }));

  log(`email journeys: warm-up, ${COUNTS.e2eWarmup} journeys`);
  const warmStarted = Date.now();
  await postEvents(client, orders('mailwarm', COUNTS.e2eWarmup), 100, COUNTS.journeyPostConcurrency);
  const warm = await waitForJourneys(store, event, 'mailwarm', COUNTS.e2eWarmup, 90_000);
  if (warm.timedOut) throw new Error(`email journey warm-up: only ${warm.completed}/${COUNTS.e2eWarmup} completed within 90 s`);
  const warmRate = (COUNTS.e2eWarmup * 1000) / (Date.now() - warmStarted);
  const n = sizeFromRate('email journeys', warmRate, scaled(100, 30), COUNTS.e2eEmails);
  const sinkBefore = (await sink.stats()).count;

  log(`email journeys: ${n} events → journeys → email node activity → SMTP sink`);
  const meter = await cpu.start();
  const t0 = Date.now();
  await postEvents(client, orders('mail', n), 100, COUNTS.journeyPostConcurrency);
  let received = 0;
  const ticker = progress('email journeys: received', n, () => received, ' msgs/s');
  const timeoutMs = Math.max(60_000, (4 * n * 1000) / warmRate);
  let timedOut = false;
  try {
    await until(async () => {
      received = (await sink.stats(sinkBefore)).count;
      return received >= n;
    }, timeoutMs, `${n} emails`, 200);
  } catch {
    timedOut = true;
  } finally {
    ticker.stop();
  }
  const split = await meter.stop();
  const outcome = await waitForJourneys(store, event, 'mail', n, 30_000);

  const sent = (await store.db.raw(
    `SELECT (extract(epoch FROM e.received_at) * 1000)::float8 AS received, (extract(epoch FROM m.sent_at) * 1000)::float8 AS sent
       FROM events e JOIN journeys j ON j.entry_event_id = e.id JOIN messages m ON m.journey_id = j.id AND m.status = 'sent'
      WHERE e.name = ? AND e.properties->>'run' = 'mail'`,
    [event],
  )).rows as Array<{ received: number; sent: number }>;
  const sinkStats = await sink.stats(sinkBefore);
  check(
    'email journeys: one email per journey',
    !timedOut && !outcome.timedOut && sinkStats.count === n && sinkStats.distinctRecipients === n && sent.length === n,
    `${n} events, sink received ${sinkStats.count} for ${sinkStats.distinctRecipients} recipients, ${sent.length} messages recorded as sent, ${outcome.completed} journeys completed`,
  );
  const lastSent = Math.max(...sent.map((s) => s.sent));
  rows.push({
    metric: 'Emails through journeys (event → SMTP sink)',
    value: (sent.length * 1000) / (lastSent - t0),
    unit: 'msgs/s',
    latency: summarize(sent.map((s) => s.sent - s.received)),
    latencyLabel: 'event received → sent',
    note: `${sent.length} journeys, each its own Temporal workflow${timedOut ? `; timed out after ${timeoutMs / 1000} s` : ''}`,
    cpu: split,
    units: { count: sent.length, name: 'email' },
  });
}

// ---------------------------------------------------------------------------------------------
// Phase 5: the Temporal server on its own (the ceiling for any journey start rate)

async function benchTemporalStarts(temporal: { address: string; namespace: string }, cpu: CpuMeter): Promise<void> {
  const { temporalStarts: n, temporalConcurrency } = COUNTS;
  const connection = await Connection.connect({ address: temporal.address });
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    log(`temporal: ${n} bare workflow starts on a task queue nobody polls, ${temporalConcurrency} in flight`);
    const latencies = new Float64Array(n);
    let done = 0;
    const ticker = progress('temporal starts', n, () => done, ' starts/s');
    const meter = await cpu.start();
    const started = performance.now();
    try {
      await forEachLimit(n, temporalConcurrency, async (i) => {
        const t = performance.now();
        await client.workflow.start('benchCalibration', { taskQueue: 'bench-calibration-unpolled', workflowId: `bench-calibration-${i}`, args: [] });
        latencies[i] = performance.now() - t;
        done++;
      });
    } finally {
      ticker.stop();
    }
    const wallMs = performance.now() - started;
    rows.push({
      metric: 'Temporal server alone: bare workflow starts',
      value: (n * 1000) / wallMs,
      unit: 'starts/s',
      latency: summarize(latencies),
      latencyLabel: 'per start',
      note: `${n} StartWorkflowExecution calls and nothing else: the ceiling for any journey rate on this server`,
      cpu: await meter.stop(),
      units: { count: n, name: 'start' },
    });
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const ms = (v: number) => (!Number.isFinite(v) ? 'n/a' : v < 10 ? `${v.toFixed(1)} ms` : `${fmt(v)} ms`);

function printReport(setup: string[], elapsedS: number): void {
  const header = ['Metric', 'Measured', 'p50', 'p99', 'Latency of', 'Target', 'Result'];
  const table = rows.map((r) => [
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    r.latency ? ms(r.latency.p50) : '',
    r.latency ? ms(r.latency.p99) : '',
    r.latencyLabel ?? '',
    r.target ? `≥ ${fmt(r.target)} ${r.unit}` : '(info)',
    r.target ? (r.value >= r.target ? 'PASS' : 'FAIL') : '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => (c === 1 || c === 2 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(' | ')} |`;
  const out: string[] = [];
  out.push('');
  out.push(`CampaignOS benchmark — ${setup.join('; ')}`);
  out.push('');
  out.push(line(header));
  out.push(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table) out.push(line(row));
  out.push('');
  for (const r of rows) if (r.note) out.push(`  ${r.metric}: ${r.note}`);
  out.push('');
  out.push('Checks:');
  for (const c of checks) out.push(`  [${c.ok ? 'ok' : 'FAILED'}] ${c.what}: ${c.detail}`);
  out.push('');
  out.push('Where the time goes (CPU cores in use during each measured phase):');
  for (const r of rows) {
    if (!r.cpu) continue;
    const missed = r.target !== undefined && r.value < r.target;
    out.push(`  ${missed ? '(missed) ' : ''}${r.metric}: ${describeCpu(r.cpu, r.units)}`);
  }
  out.push('');
  out.push(`Total run time ${elapsedS.toFixed(0)} s.`);
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const begun = Date.now();
  const cores = availableParallelism();
  log(`CampaignOS bench: scale ${SCALE}, ${cores} cores, Node ${process.version}; every count: ${JSON.stringify(COUNTS)}`);
  const load = await machineLoad(1000);
  if (load !== null && load > 0.15) {
    log(`WARNING: the machine is already ${(load * 100).toFixed(0)}% busy before the bench starts; other load distorts every figure`);
    setupNotes.push(`machine ${(load * 100).toFixed(0)}% busy before start`);
  }
  const tempDir = mkdtempSync(join(tmpdir(), 'campaignos-bench-'));
  cleanups.push({ name: 'temp folder', run: async () => rmSync(tempDir, { recursive: true, force: true }) });

  log('starting PostgreSQL database, Temporal dev server and SMTP sink');
  const owned = <T>(name: string, started: Promise<T>, stop: (value: T) => Promise<unknown>) =>
    started.then((value) => {
      cleanups.push({ name, run: () => stop(value) });
      return value;
    });
  const [database, temporal, sink] = await Promise.all([
    owned('database', createTestDatabase(), (d: TestDatabase) => d.drop()),
    TEMPORAL_ADDRESS
      ? Promise.resolve({ address: TEMPORAL_ADDRESS, namespace: process.env.BENCH_TEMPORAL_NAMESPACE ?? 'default' })
      : owned('Temporal dev server', devServer(join(tempDir, 'temporal.db')), (t) => t.stop()),
    owned('SMTP sink', startSink(), (s: Sink) => s.close()),
  ]);
  const { workspaceId, key } = await seedWorkspace(database.url, 'bench');
  const store = createStore(createDb(database.url, 5), SECRET);
  cleanups.push({ name: 'bench database pool', run: () => store.db.destroy() });

  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    CAMPAIGNOS_SECRET: SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
  };
  log('starting the API process (campaignos api)');
  const api: Child = await spawnChild('api', process.execPath, nodeArgs(CLI, 'api'), { env, ready: /listening on (http:\/\/\S+)/, timeoutMs: 60_000 });
  cleanups.push({ name: 'API process', run: () => api.stop() });
  const apiUrl = api.ready[1]!;
  let worker: Child | null = null;
  const temporalPid = (() => {
    if (TEMPORAL_ADDRESS) return Number(process.env.BENCH_TEMPORAL_PID) || undefined; // for its CPU share
    try {
      return Number(readFileSync(join(tempDir, 'temporal.db.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  })();
  // PostgreSQL: the backends serving this database; apart, the server's shared background
  // processes (WAL writer, checkpointer, ...), which also work for any other database.
  const postgresPids = async (shared: boolean) =>
    ((await store.db.raw(`SELECT pid FROM pg_stat_activity WHERE ${shared ? 'datname IS NULL' : 'datname = current_database()'}`)).rows as Array<{ pid: number }>).map((r) => r.pid);
  const cpu = new CpuMeter(
    async () => ({
      api: [api.process.pid],
      worker: [worker?.process.pid],
      temporal: [temporalPid],
      postgres: await postgresPids(false).catch(() => []),
      'pg background': await postgresPids(true).catch(() => []),
      sink: [sink.process.pid],
      bench: [process.pid],
    }),
    cores,
  );

  const client = await httpClient(apiUrl, key, COUNTS.ingestConcurrency);
  cleanups.push({ name: 'HTTP client', run: () => client.close() });
  log(`API at ${apiUrl}; load generator: ${client.kind}`);

  if (PHASES.has('ingest')) await benchIngest(client, store, cpu);

  if (PHASES.has('journeys') || PHASES.has('e2e')) {
    log('starting a worker process (campaignos worker)');
    worker = await spawnChild('worker', process.execPath, nodeArgs(CLI, 'worker'), { env: { ...env, PUBLIC_URL: apiUrl }, ready: /worker polling/, timeoutMs: 90_000 });
    cleanups.push({ name: 'worker process', run: () => worker!.stop() });
  }
  if (PHASES.has('journeys')) await benchJourneys(client, store, cpu);

  await createCredential(client, sink.port);
  if (PHASES.has('email')) await benchEmailDirect(client, store, database.url, workspaceId, sink, apiUrl, cpu);
  if (PHASES.has('e2e')) await benchEmailJourneys(client, store, sink, cpu);
  if (PHASES.has('temporal')) await benchTemporalStarts(temporal, cpu);

  const setup = [
    `scale ${SCALE}`,
    `${cores} cores`,
    `Node ${process.version}`,
    'PostgreSQL on 127.0.0.1',
    TEMPORAL_ADDRESS ? `Temporal at ${TEMPORAL_ADDRESS}` : 'Temporal dev server (SQLite file)',
    'API and worker in their own processes',
    ...setupNotes,
  ];
  printReport(setup, (Date.now() - begun) / 1000);
}

async function createCredential(client: HttpClient, port: number): Promise<void> {
  const res = await client.request(
    'POST',
    '/v1/credentials',
    JSON.stringify({ name: 'Bench SMTP', type: 'campaignOsSmtp', data: { host: '127.0.0.1', port, secure: false, user: '', password: '', fromEmail: 'shop@bench.example', fromName: 'Bench Shop' } }),
  );
  if (res.status !== 201) throw new Error(`credential: ${res.status} ${res.text}`);
}

let cleaningUp: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const { name, run } of cleanups.reverse()) {
      try {
        await Promise.race([run(), sleep(15_000).then(() => Promise.reject(new Error('took over 15 s')))]);
      } catch (error) {
        log(`cleanup of ${name} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaningUp;
}

async function exit(code: number): Promise<never> {
  await cleanup();
  // Pooled SMTP connections and gRPC channels would keep the loop alive; everything is closed.
  process.exit(code);
}

const globalTimer = setTimeout(() => {
  log(`bench: global timeout of ${TIMEOUT_S} s reached; stopping`);
  if (rows.length > 0) printReport([`scale ${SCALE}`, 'INCOMPLETE: global timeout'], TIMEOUT_S);
  void exit(1);
}, TIMEOUT_S * 1000);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}; cleaning up`);
    void exit(130);
  });
}

main().then(
  async () => {
    clearTimeout(globalTimer);
    await exit(checks.every((c) => c.ok) ? 0 : 1);
  },
  async (error: unknown) => {
    clearTimeout(globalTimer);
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    if (rows.length > 0) printReport([`scale ${SCALE}`, 'INCOMPLETE: failed'], 0);
    await exit(1);
  },
);
