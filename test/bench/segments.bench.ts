// `npm run bench:segments`: segments and scores at 1M contacts, against real services.
//
//   1. a data set: 1,000,000 contacts and 10,000,000 events (and scores for ~30% of contacts)
//      streamed with COPY ... FROM STDIN (binary) into a freshly migrated database (indexes and
//      constraints dropped for the load and rebuilt from the migrations' own definitions), then
//      VACUUM ANALYZE
//   2. the full computation of a segment mixing an attribute, an event count in a window and a
//      score (SegmentEngine.recompute, 3 times: with transitions, then without), its plan
//      (EXPLAIN ANALYZE, BUFFERS), and a check of its members against independent SQL
//   3. latency from an event's HTTP ingestion to the contact's segment entry and to the journey
//      that entry triggers (segment trigger → NoOp), under ~500 events/s of background load,
//      with `campaignos api` and `campaignos worker` as child processes on a Temporal dev server
//   4. disk used, per table and index, per million contacts
//
// A script, not a test: loopback only, bounded, stops itself (BENCH_TIMEOUT_S), cleans up
// (drops its database, stops its child processes), progress on stderr, results on stdout.
// Exit code: 0 when every phase ran and every check held (a missed target is a result, not an
// error); 1 on errors (a failed check, a crash, the global timeout).
//
// Environment:
//   BENCH_SCALE=0.01           shrink the data set, the probes and the load window (smoke run)
//   BENCH_LOAD_SECONDS=60      how long the background load runs (default 60 × scale, at least 8)
//   BENCH_LOAD_RATE=500        background events per second
//   BENCH_TIMEOUT_S=720        global timeout; everything started is stopped and removed
//   BENCH_PROFILE_DIR=dir      V8 CPU profiles of the API and worker processes (--cpu-prof)
//   TEST_DATABASE_URL          the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDb } from '@campaignos/runtime';
import { SegmentEngine, type SegmentCondition } from '../../runtime/src/segments/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { ROOT, SECRET, seedWorkspace } from '../support/stack.js';
import { devServer } from '../support/temporal.js';
import { CpuMeter, describeCpu, log, machineLoad, SCALE, scaled, sleep, spawnChild, until, type Child, type CpuSplit } from './harness.js';
import { httpClient, type HttpClient } from './load.js';
import { createSchemaObjects, dropSchemaObjects, EVENT_MIX, EVENT_NAME, eventProperties, generateData, prng, schemaObjects, uuidAt, type SchemaObject } from './segments-data.js';
import { paced, sampleActivity, type ActivitySample } from './segments-latency.js';

const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 720);
const CLI = join(ROOT, 'runtime', 'dist', 'cli.js');
/** BENCH_PROFILE_DIR=dir writes V8 CPU profiles of the API and worker processes there. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const nodeArgs = (...args: string[]) => [...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), ...args];
const HALF_LIFE_DAYS = 30;

const COUNTS = {
  contacts: scaled(1_000_000, 1000),
  events: scaled(10_000_000, 10_000),
  probes: scaled(100, 10),
  scoredShare: 0.3,
  /** Parallel COPY streams for events (the generator and the server backends share the cores). */
  eventStreams: 2,
  loadRate: Number(process.env.BENCH_LOAD_RATE ?? 500),
  loadSeconds: Number(process.env.BENCH_LOAD_SECONDS ?? Math.max(8, Math.round(60 * SCALE))),
  /** Probes start after this much load, and end with it. */
  probeWarmupSeconds: 3,
  loadMaxInFlight: 256,
};

const TARGETS = { recomputeMs: 5000, latencyP95Ms: 1000, loadRateShare: 0.95 };

const SEGMENT: { name: string; condition: SegmentCondition } = {
  name: 'Bench: engaged paying users',
  condition: {
    and: [
      { attribute: 'plan', op: 'in', value: ['pro', 'enterprise'] },
      { event: 'page_viewed', count: { atLeast: 3 }, withinDays: 30 },
      { score: { op: 'gte', value: 20 } },
    ],
  },
};
const PROBE_EVENT = 'probe_clicked';
const PROBE_SEGMENT: { name: string; condition: SegmentCondition } = {
  name: 'Bench: latency probes',
  condition: { and: [{ event: PROBE_EVENT }, { attribute: 'benchProbe', op: 'eq', value: 'latency' }] },
};

interface Row {
  metric: string;
  measured: string;
  target?: string;
  pass?: boolean;
  /** Where the time goes; printed for every row with a target, flagged when missed. */
  where?: string;
}

const rows: Row[] = [];
const phases: Array<{ phase: string; seconds: number; note?: string }> = [];
const notes: string[] = [];
const checks: Array<{ what: string; ok: boolean; detail: string }> = [];
const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];

function check(what: string, ok: boolean, detail: string): void {
  checks.push({ what, ok, detail });
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}`);
}

async function phase<T>(name: string, work: () => Promise<T>, note?: (value: T) => string): Promise<T> {
  const t = performance.now();
  const value = await work();
  const seconds = (performance.now() - t) / 1000;
  phases.push({ phase: name, seconds, note: note?.(value) });
  log(`${name}: ${seconds.toFixed(1)} s`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const ms = (v: number) => (!Number.isFinite(v) ? 'n/a' : v < 10 ? `${v.toFixed(1)} ms` : `${fmt(v)} ms`);
const seconds = (v: number) => `${(v / 1000).toFixed(2)} s`;
function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}
const pct = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)}`;

// ---------------------------------------------------------------------------------------------
// Phase 1: the data set

interface Dataset {
  contactIds: Buffer;
  contacts: number;
  events: number;
  scores: number;
}

async function buildDataset(url: string, workspaceId: string): Promise<Dataset> {
  const admin = new pg.Client({ connectionString: url, application_name: 'campaignos-bench' });
  await admin.connect();
  try {
    await admin.query('INSERT INTO scoring_settings (workspace_id, half_life_days) VALUES ($1, $2)', [workspaceId, HALF_LIFE_DAYS]);
    const tables = ['contacts', 'events', 'contact_scores'];
    const objects = await schemaObjects(admin, tables);
    log(`data: dropping ${objects.length} indexes and constraints on or pointing at ${tables.join(', ')} for the load (rebuilt from their definitions after)`);
    await dropSchemaObjects(admin, objects);

    const now = new Date();
    const data = await phase(
      'data: COPY contacts, events, scores',
      () =>
        generateData(
          url,
          { workspaceId, contacts: COUNTS.contacts, events: COUNTS.events, probes: COUNTS.probes, scoredShare: COUNTS.scoredShare, now, seed: 20_251_001 },
          {
            eventStreams: COUNTS.eventStreams,
            onProgress: (() => {
              const started = new Map<string, number>();
              return (table: string, done: number, total: number) => {
                const t0 = started.get(table) ?? performance.now();
                started.set(table, t0);
                const s = (performance.now() - t0) / 1000;
                log(`data: ${table} ${fmt(done)}/${fmt(total)}${s > 0.5 ? ` (${fmt(done / s)} rows/s)` : ''}`);
              };
            })(),
          },
        ),
      (d) =>
        `COPY FROM STDIN (FORMAT binary) through pg's client: contacts ${fmt(d.counts.contacts)} in ${d.seconds.contacts.toFixed(1)} s, ` +
        `events ${fmt(d.counts.events)} in ${d.seconds.events.toFixed(1)} s (${fmt(d.counts.events / d.seconds.events)} rows/s, ${COUNTS.eventStreams} streams), ` +
        `scores ${fmt(d.counts.scores)} in ${d.seconds.scores.toFixed(1)} s`,
    );

    const built: Array<{ o: SchemaObject; s: number }> = [];
    await phase(
      'data: rebuild indexes and constraints',
      async () => {
        await admin.query(`SET maintenance_work_mem = '1GB'`);
        await createSchemaObjects(admin, objects, (o, s) => {
          built.push({ o, s });
          if (s >= 0.5) log(`data: built ${o.name} on ${o.table} in ${s.toFixed(1)} s`);
        });
      },
      () => built.filter((b) => b.s >= 1).sort((a, b) => b.s - a.s).map((b) => `${b.o.name} ${b.s.toFixed(1)} s`).join(', '),
    );
    await phase('data: VACUUM ANALYZE', () => admin.query('VACUUM (ANALYZE) contacts, events, contact_scores'));
    const after = await schemaObjects(admin, tables);
    const key = (list: SchemaObject[]) => list.map((o) => `${o.table}|${o.name}|${o.create}`).sort().join('\n');
    check(
      'schema: every index and constraint as the migrations made it',
      key(after) === key(objects),
      `${objects.length} recreated (${objects.filter((o) => o.kind === 'index').length} indexes, ${objects.filter((o) => o.kind === 'constraint').length} keys and constraints)`,
    );
    return { contactIds: data.contactIds, contacts: data.counts.contacts, events: data.counts.events, scores: data.counts.scores };
  } finally {
    await admin.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 2: full segment computation

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'CTE Name'?: string;
  'Subplan Name'?: string;
  'Actual Total Time': number;
  'Actual Rows': number;
  'Actual Loops': number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Temp Written Blocks'?: number;
  Plans?: PlanNode[];
}

/** The plan's nodes by time spent in the node itself (not its children), and totals. */
function summarizePlan(explain: { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }): string[] {
  const nodes: Array<{ label: string; self: number; rows: number; loops: number; cte?: string; total: number }> = [];
  // A materialized CTE runs under whichever CTE Scan first pulls its rows, but EXPLAIN lists its
  // plan apart ("CTE <name>"): that scan's own time is its total minus the CTE's.
  const cteTime = new Map<string, number>();
  const walk = (n: PlanNode) => {
    const total = n['Actual Total Time'] * n['Actual Loops'];
    const children = (n.Plans ?? []).reduce((a, c) => a + c['Actual Total Time'] * c['Actual Loops'], 0);
    if (n['Subplan Name']?.startsWith('CTE ')) cteTime.set(n['Subplan Name'].slice(4), total);
    const on = n['Index Name'] ? ` using ${n['Index Name']}` : n['Relation Name'] ? ` on ${n['Relation Name']}` : n['CTE Name'] ? ` on ${n['CTE Name']}` : '';
    nodes.push({ label: `${n['Node Type']}${on}${n['Subplan Name'] ? ` (${n['Subplan Name']})` : ''}`, self: Math.max(0, total - children), rows: n['Actual Rows'], loops: n['Actual Loops'], cte: n['Node Type'] === 'CTE Scan' ? n['CTE Name'] : undefined, total });
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(explain.Plan);
  for (const [name, time] of cteTime) {
    const scans = nodes.filter((x) => x.cte === name).sort((a, b) => b.total - a.total);
    if (scans[0]) scans[0].self = Math.max(0, scans[0].self - time);
  }
  const top = explain.Plan;
  const blocks = (b = 0) => bytes(b * 8192);
  const lines = [
    `execution ${ms(explain['Execution Time'])}, planning ${ms(explain['Planning Time'])}; buffers: ${blocks(top['Shared Hit Blocks'])} hit in shared buffers, ${blocks(top['Shared Read Blocks'])} read from the OS${top['Temp Written Blocks'] ? `, ${blocks(top['Temp Written Blocks'])} temp written` : ''}`,
  ];
  for (const n of nodes.sort((a, b) => b.self - a.self).slice(0, 5)) {
    lines.push(`${ms(n.self).padStart(9)} in ${n.label} (${fmt(n.rows)} rows${n.loops > 1 ? ` × ${fmt(n.loops)} loops` : ''})`);
  }
  return lines;
}

async function benchRecompute(url: string, workspaceId: string): Promise<{ segmentId: string; members: number; explain: string[] }> {
  const db = createDb(url, 4);
  let statement: { sql: string; bindings: unknown[] } | null = null;
  db.on('query', (q: { sql: string; bindings?: unknown[] }) => {
    if (q.sql.includes('WITH target AS MATERIALIZED')) statement = { sql: q.sql, bindings: q.bindings ?? [] };
  });
  try {
    const engine = new SegmentEngine({ db });
    const segment = await engine.create(workspaceId, SEGMENT, { compute: false });
    log(`segments: created "${SEGMENT.name}" (not computed yet); condition ${JSON.stringify(SEGMENT.condition)}`);
    const runs: Array<{ wall: number; entered: number; exited: number; members: number }> = [];
    for (let k = 1; k <= 3; k++) {
      const t = performance.now();
      const result = await engine.recompute(segment.id);
      const wall = performance.now() - t;
      runs.push({ wall, entered: result.entered, exited: result.exited, members: result.members });
      log(`segments: recompute ${k}: ${seconds(wall)}, ${fmt(result.members)} members, ${fmt(result.entered)} entered, ${fmt(result.exited)} exited`);
    }

    // The statement of the last recompute, analysed in a transaction that is rolled back.
    const explain: string[] = [];
    const captured = statement as { sql: string; bindings: unknown[] } | null;
    if (captured) {
      const client = new pg.Client({ connectionString: url, application_name: 'campaignos-bench' });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL work_mem = '128MB'`);
        await client.query('SET LOCAL jit = off');
        const result = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${captured.sql}`, captured.bindings as unknown[]);
        const plan = (result.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }> })['QUERY PLAN'][0]!;
        explain.push(...summarizePlan(plan));
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      }
      for (const line of explain) log(`segments: plan: ${line}`);
    }

    // Members against independent SQL (no compiler): same instant as the stored computation.
    const verify = await db.raw(
      `WITH seg AS (SELECT computed_at AS now FROM segments WHERE id = ?),
            pv AS (SELECT e.contact_id FROM events e, seg WHERE e.workspace_id = ? AND e.name = 'page_viewed' AND e.occurred_at >= seg.now - interval '30 days'
                   GROUP BY e.contact_id HAVING count(*) >= 3),
            expected AS (
              SELECT c.id FROM contacts c JOIN pv ON pv.contact_id = c.id LEFT JOIN contact_scores s ON s.contact_id = c.id, seg
               WHERE c.workspace_id = ? AND c.attributes->>'plan' IN ('pro', 'enterprise')
                 AND coalesce(s.value * power(0.5, greatest(0, extract(epoch FROM seg.now - s.as_of)) / 86400.0 / ?), 0) >= 20),
            actual AS (SELECT contact_id AS id FROM segment_members WHERE segment_id = ?)
       SELECT (SELECT count(*) FROM expected)::int AS expected, (SELECT count(*) FROM actual)::int AS actual,
              ((SELECT count(*) FROM (SELECT id FROM expected EXCEPT SELECT id FROM actual) a) + (SELECT count(*) FROM (SELECT id FROM actual EXCEPT SELECT id FROM expected) b))::int AS differ`,
      [segment.id, workspaceId, workspaceId, HALF_LIFE_DAYS, segment.id],
    );
    const v = verify.rows[0] as { expected: number; actual: number; differ: number };
    check('segment members match independent SQL', v.differ === 0 && v.expected === runs[2]!.members, `${fmt(v.actual)} stored members, ${fmt(v.expected)} expected, ${v.differ} differ`);
    check('recompute 1 records every member as a transition, 2 and 3 none', runs[0]!.entered === runs[0]!.members && runs[1]!.entered + runs[1]!.exited === 0 && runs[2]!.entered + runs[2]!.exited === 0,
      runs.map((r, i) => `#${i + 1}: +${r.entered} −${r.exited}`).join(', '));

    const where = `the recompute statement under EXPLAIN (ANALYZE, BUFFERS): ${explain.join('; ')}`;
    runs.forEach((r, i) => {
      rows.push({
        metric: i === 0 ? `Segment full computation: recompute 1 (${fmt(r.entered)} transitions written)` : `Segment full computation: recompute ${i + 1} (no change)`,
        measured: `${seconds(r.wall)} (${fmt(r.members)} members)`,
        target: `≤ ${seconds(TARGETS.recomputeMs)}`,
        pass: r.wall <= TARGETS.recomputeMs,
        where: i === 2 || r.wall > TARGETS.recomputeMs ? where : undefined,
      });
    });
    return { segmentId: segment.id, members: runs[2]!.members, explain };
  } finally {
    await db.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 3: event → segment entry → journey, under background load

const link = (from: string, to: string) => ({ [from]: { main: [[{ node: to, type: 'main', index: 0 }]] } });
const probeWorkflow = {
  name: 'Bench: segment entry journey',
  nodes: [
    { id: 't', name: 'Entered', type: '@campaignos/n8n-nodes-triggers.segmentTrigger', typeVersion: 1, position: [0, 0], parameters: { segment: PROBE_SEGMENT.name } },
    { id: 'n', name: 'Nothing', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [200, 0], parameters: {} },
  ],
  connections: link('Entered', 'Nothing'),
};

async function postJson(client: HttpClient, path: string, body: unknown, expected: number): Promise<any> {
  const res = await client.request('POST', path, JSON.stringify(body));
  if (res.status !== expected) throw new Error(`POST ${path}: ${res.status} ${res.text.slice(0, 500)}`);
  return JSON.parse(res.text);
}

async function benchLatency(args: {
  url: string;
  workspaceId: string;
  key: string;
  data: Dataset;
  benchSegmentId: string;
  temporal: Promise<{ address: string; namespace: string; pid?: number }>;
}): Promise<void> {
  const { url, workspaceId, key, data } = args;
  const temporal = await phase('latency: Temporal dev server ready', () => args.temporal);
  const env = {
    ...process.env,
    DATABASE_URL: url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    CAMPAIGNOS_SECRET: SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
  };
  // The router runs in its own process, as at scale: HTTP ingestion and routing then do not
  // share one event loop (BENCH_ROUTER=api puts it back inside the API process).
  const separateRouter = process.env.BENCH_ROUTER !== 'api';
  const [api, router, worker] = await phase(`latency: start campaignos api, worker${separateRouter ? ' and router' : ''}`, () =>
    Promise.all([
      spawnChild('api', process.execPath, nodeArgs(CLI, 'api'), { env: { ...env, CAMPAIGNOS_ROUTER: separateRouter ? 'off' : 'on' }, ready: /listening on (http:\/\/\S+)/, timeoutMs: 60_000 }).then((child) => {
        cleanups.push({ name: 'API process', run: () => child.stop() });
        return child;
      }),
      separateRouter
        ? spawnChild('router', process.execPath, nodeArgs(CLI, 'router'), { env, ready: /router draining/, timeoutMs: 60_000 }).then((child) => {
            cleanups.push({ name: 'router process', run: () => child.stop() });
            return child;
          })
        : Promise.resolve(null),
      spawnChild('worker', process.execPath, nodeArgs(CLI, 'worker'), { env, ready: /worker polling/, timeoutMs: 90_000 }).then((child) => {
        cleanups.push({ name: 'worker process', run: () => child.stop() });
        return child;
      }),
    ]),
  );
  const apiUrl = api.ready[1]!;
  const client = await httpClient(apiUrl, key, 64);
  const probeClient = await httpClient(apiUrl, key, 4);
  cleanups.push({ name: 'HTTP clients', run: () => Promise.all([client.close(), probeClient.close()]) });
  log(`latency: API at ${apiUrl}; load generator: ${client.kind}`);

  const db = createDb(url, 4);
  cleanups.push({ name: 'bench database pool', run: () => db.destroy() });

  // Scoring rules, so background events also move scores (and so the score-based segment).
  await postJson(client, '/v1/scoring/rules', { name: 'Form submitted', when: { event: 'form_submitted' }, points: 15 }, 201);
  await postJson(client, '/v1/scoring/rules', { name: 'Purchase', when: { event: 'purchase_completed' }, points: 25 }, 201);
  const created = await phase('latency: create the probe segment over HTTP (computed in full)', () => postJson(client, '/v1/segments', PROBE_SEGMENT, 201));
  const probeSegmentId = (created as { segment: { id: string } }).segment.id;
  const deployed = (await postJson(client, '/v1/workflows?activate=true', probeWorkflow, 201)) as { workflow: { id: string } };
  const workflowId = deployed.workflow.id;
  log(`latency: probe segment ${probeSegmentId}; workflow ${workflowId} (segment trigger → NoOp) active`);

  // The first recompute's $segment_entered events are still in the outbox: route them first.
  const outboxDepth = async () => Number(((await db.raw('SELECT count(*)::int AS n FROM outbox')).rows[0] as { n: number }).n);
  const backlog = await outboxDepth();
  await phase(`latency: router drains the backlog left by phase 2`, () => until(async () => (await outboxDepth()) === 0, 180_000, 'the outbox to drain', 500), () => `${fmt(backlog)} outbox rows`);

  const probeRows = (await db.raw(`SELECT id, external_id FROM contacts WHERE workspace_id = ? AND external_id = ANY(?::text[]) ORDER BY external_id`, [
    workspaceId,
    Array.from({ length: COUNTS.probes }, (_, i) => `bench-probe-${i}`),
  ])).rows as Array<{ id: string; external_id: string }>;
  if (probeRows.length !== COUNTS.probes) throw new Error(`expected ${COUNTS.probes} probe contacts, found ${probeRows.length}`);

  // CPU per process group, and what PostgreSQL is busy with.
  const temporalPid = temporal.pid;
  const sampler = new pg.Client({ connectionString: url, application_name: 'campaignos-bench-sampler' });
  await sampler.connect();
  cleanups.push({ name: 'sampler connection', run: () => sampler.end() });
  const postgresPids = async () => ((await db.raw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL`)).rows as Array<{ pid: number }>).map((r) => r.pid);
  const cpu = new CpuMeter(async () => ({ api: [api.process.pid], ...(router && { router: [router.process.pid] }), worker: [worker.process.pid], temporal: [temporalPid], postgres: await postgresPids().catch(() => []), bench: [process.pid] }), availableParallelism());

  const r = prng(7);
  const names = EVENT_MIX.map(([n]) => n);
  const n = data.contactIds.length / 16; // the regular contacts (the probes are not among them)
  const body = () => {
    const name = EVENT_NAME(r());
    return `{"name":"${name}","contactId":"${uuidAt(data.contactIds, Math.min(n - 1, Math.floor(n * Math.pow(r(), 2.5))))}","properties":${eventProperties(name, r)}}`;
  };
  log(`latency: ${COUNTS.loadRate} events/s of ${names.length} names for ${fmt(n)} contacts over HTTP for ${COUNTS.loadSeconds} s; ${COUNTS.probes} probes from second ${COUNTS.probeWarmupSeconds}`);

  const probes: Array<{ contactId: string; sendAt: number; ackAt: number; status: number; eventId: string | null }> = [];
  const depth: number[] = [];
  // Counters PostgreSQL keeps: commits, WAL syncs, and how often the tables the router reads
  // per batch or per event were scanned (statements the sequential loop waits for).
  const SCANNED = ['scoring_rules', 'segments', 'workflow_versions', 'contact_scores'];
  const commits = async () => {
    const row = (await db.raw(
      `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::bigint AS commits, (SELECT wal_sync FROM pg_stat_wal)::bigint AS syncs`,
    )).rows[0] as { commits: string; syncs: string };
    const scans = (await db.raw(`SELECT relname, (seq_scan + coalesce(idx_scan, 0))::bigint AS scans FROM pg_stat_user_tables WHERE relname = ANY(?::text[])`, [SCANNED]))
      .rows as Array<{ relname: string; scans: string }>;
    return { commits: Number(row.commits), syncs: Number(row.syncs), scans: new Map(scans.map((x) => [x.relname, Number(x.scans)])) };
  };
  // The API's event loop delay (prom-client resets its histogram at every scrape).
  const loopDelay = async () => {
    const res = await client.request('GET', '/metrics');
    const value = (name: string) => {
      const match = new RegExp(`^nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(res.text);
      // monitorEventLoopDelay samples a 10 ms timer: what exceeds 10 ms is delay.
      return match ? Math.max(0, Number(match[1]) * 1000 - 10) : NaN;
    };
    return { p50: value('p50'), p99: value('p99'), max: value('max') };
  };
  await loopDelay();
  const backlogBefore = await outboxDepth();
  const commitsBefore = await commits();
  const meter = await cpu.start();
  const activity = sampleActivity(sampler, 50);
  const loadStartedAt = Date.now();
  const probeSpacing = ((COUNTS.loadSeconds - COUNTS.probeWarmupSeconds) * 1000) / COUNTS.probes;
  const probing = (async () => {
    const t0 = performance.now();
    for (let i = 0; i < COUNTS.probes; i++) {
      const due = COUNTS.probeWarmupSeconds * 1000 + i * probeSpacing;
      const wait = due - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      const contactId = probeRows[i]!.id;
      const sendAt = performance.timeOrigin + performance.now();
      const res = await probeClient
        .request('POST', '/v1/events', JSON.stringify({ name: PROBE_EVENT, contactId, properties: { probe: i } }))
        .catch((error: Error) => ({ status: 0, text: error.message }));
      const ackAt = performance.timeOrigin + performance.now();
      probes.push({ contactId, sendAt, ackAt, status: res.status, eventId: res.status === 202 ? (JSON.parse(res.text) as { id: string }).id : null });
    }
  })();
  const depthTimer = setInterval(() => {
    outboxDepth().then((d) => depth.push(d), () => undefined);
  }, 1000);
  let load;
  try {
    load = await paced({
      client,
      rate: COUNTS.loadRate,
      seconds: COUNTS.loadSeconds,
      maxInFlight: COUNTS.loadMaxInFlight,
      body,
      onSecond: ({ second, ok, inFlight }) => {
        if (second % 5 === 0) log(`latency: ${second} s: ${fmt(ok)} background events acknowledged, ${inFlight} in flight, outbox ${depth[depth.length - 1] ?? '?'} rows, ${probes.length} probes sent`);
      },
    });
  } finally {
    clearInterval(depthTimer);
  }
  await probing;
  const split = await meter.stop();
  const busy = await activity.stop();
  const loadEndedAt = Date.now();
  const backlogAtEnd = await outboxDepth();
  const apiLoop = await loopDelay().catch(() => ({ p50: NaN, p99: NaN, max: NaN }));
  await sleep(600); // statistics lag by up to ~0.5 s
  const commitsAfter = await commits();
  log(`latency: load done: ${fmt(load.ok)}/${fmt(load.sent)} acknowledged at ${fmt(load.achievedRate)}/s; outbox ${backlogAtEnd} rows; waiting for the router to catch up`);

  // With the load over, the router alone works off the backlog: its throughput without ingestion.
  const drainStarted = performance.now();
  const drainFrom = await outboxDepth();
  try {
    await until(async () => (await outboxDepth()) === 0, 120_000, 'the outbox to drain', 250);
  } catch (error) {
    log(`latency: ${(error as Error).message}`);
  }
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  const drainRate = drainFrom / Math.max(0.25, drainSeconds);
  const routedDuringLoad = (load.ok + probes.length - (backlogAtEnd - backlogBefore)) / (load.wallMs / 1000);
  log(`latency: router drained ${fmt(drainFrom)} rows in ${drainSeconds.toFixed(1)} s after the load (${fmt(drainRate)} rows/s); during the load it routed ~${fmt(routedDuringLoad)} events/s`);

  // Every probe's journey has run its trigger step (or the wait runs out).
  const probeIds = probes.map((p) => p.contactId);
  let finished = 0;
  try {
    await until(async () => {
      finished = Number(((await db.raw(
        `SELECT count(DISTINCT j.contact_id)::int AS n FROM journeys j JOIN journey_steps s ON s.journey_id = j.id WHERE j.workflow_id = ? AND j.contact_id = ANY(?::uuid[])`,
        [workflowId, probeIds],
      )).rows[0] as { n: number }).n);
      return finished >= probes.length;
    }, 60_000, 'every probe journey', 250);
  } catch {
    log(`latency: only ${finished}/${probes.length} probe journeys started within 60 s of the load's end`);
  }
  const settled = await outboxDepth();

  const timing = (await db.raw(
    `SELECT c.id AS contact_id,
            (SELECT extract(epoch FROM e.received_at) * 1000 FROM events e WHERE e.contact_id = c.id AND e.name = ? ORDER BY e.received_at LIMIT 1)::float8 AS received,
            (SELECT extract(epoch FROM min(t.at)) * 1000 FROM segment_transitions t WHERE t.contact_id = c.id AND t.segment_id = ? AND t.kind = 'entered')::float8 AS entered,
            (SELECT extract(epoch FROM min(j.started_at)) * 1000 FROM journeys j WHERE j.contact_id = c.id AND j.workflow_id = ?)::float8 AS claimed,
            (SELECT extract(epoch FROM min(s.created_at)) * 1000 FROM journeys j JOIN journey_steps s ON s.journey_id = j.id WHERE j.contact_id = c.id AND j.workflow_id = ?)::float8 AS running,
            (SELECT string_agg(DISTINCT j.status, ',') FROM journeys j WHERE j.contact_id = c.id AND j.workflow_id = ?) AS journey_status
       FROM contacts c WHERE c.id = ANY(?::uuid[])`,
    [PROBE_EVENT, probeSegmentId, workflowId, workflowId, workflowId, probeIds],
  )).rows as Array<{ contact_id: string; received: number | null; entered: number | null; claimed: number | null; running: number | null; journey_status: string | null }>;
  const byContact = new Map(timing.map((t) => [t.contact_id, t]));
  const joined = probes.map((p) => ({ ...p, ...byContact.get(p.contactId)! }));
  const complete = joined.filter((p) => p.status === 202 && p.entered !== null && p.claimed !== null && p.running !== null);
  const sweptAt = (await db.raw(`SELECT extract(epoch FROM computed_at) * 1000 AS at FROM segments WHERE id = ?`, [args.benchSegmentId])).rows[0] as { at: number };

  // The bench's clock and PostgreSQL's are the same machine's: each probe's received_at (the
  // inserting transaction's start) falls between its send and its answer.
  const skewed = complete.filter((p) => p.received === null || p.received < p.sendAt - 5 || p.received > p.ackAt + 5);
  check('clocks: every probe received_at lies between its POST and its answer', skewed.length === 0, `${complete.length - skewed.length}/${complete.length}`);
  const total = percentiles(complete.map((p) => p.running! - p.sendAt));
  const toEntry = percentiles(complete.map((p) => p.entered! - p.sendAt));
  const stages = {
    ingest: percentiles(complete.map((p) => p.ackAt - p.sendAt)),
    route: percentiles(complete.map((p) => p.entered! - p.ackAt)),
    enrol: percentiles(complete.map((p) => p.claimed! - p.entered!)),
    start: percentiles(complete.map((p) => p.running! - p.claimed!)),
  };
  check('every probe entered the segment and started its journey', complete.length === probes.length && probes.length === COUNTS.probes,
    `${complete.length}/${COUNTS.probes} probes (${joined.filter((p) => p.entered !== null).length} entered, ${joined.filter((p) => p.running !== null).length} journeys running or done; HTTP ${[...new Set(joined.map((p) => p.status))].join(', ')}; journeys ${[...new Set(joined.map((p) => p.journey_status ?? 'none'))].join(', ')})`);
  check('background load: every request acknowledged', load.failures.size === 0, load.failures.size === 0 ? `${fmt(load.ok)} events` : `${[...load.failures].map(([s, k]) => `${k}× ${s}`).join(', ')}; first: ${load.firstFailure}`);

  const sweepSamples = busy.rows.filter((s) => s.label.startsWith('segment membership, full')).reduce((a, s) => a + s.count, 0);
  const swept = sweptAt.at > loadStartedAt && sweptAt.at < loadEndedAt;
  const sweepNote = swept
    ? `the API's sweeper recomputed "${SEGMENT.name}" in full during the load (at second ${((sweptAt.at - loadStartedAt) / 1000).toFixed(0)}, seen active in ~${((sweepSamples * 50) / 1000).toFixed(1)} s of samples)`
    : `no sweep of "${SEGMENT.name}" ran during the load window`;
  const stageText = `per stage p50/p95/p99: HTTP POST answered (committed) ${pct(stages.ingest)}; answered → entry recorded (router claims the outbox row, scores, evaluates segments) ${pct(stages.route)}; entry → journey claimed (router routes the $segment_entered event) ${pct(stages.enrol)}; claimed → trigger step ran on the worker (Temporal start + task) ${pct(stages.start)}`;
  const dbBusy = topActivity(busy.rows, busy.samples);
  const ping = percentiles(busy.pingsMs);
  const commitRate = (commitsAfter.commits - commitsBefore.commits) / (load.wallMs / 1000);
  const syncRate = (commitsAfter.syncs - commitsBefore.syncs) / (load.wallMs / 1000);
  const events = load.ok + probes.length;
  const scans = SCANNED.map((t) => `${t} ${fmt((commitsAfter.scans.get(t) ?? 0) - (commitsBefore.scans.get(t) ?? 0))}×`).join(', ');
  const perEvent = (t: string) => ((commitsAfter.scans.get(t) ?? 0) - (commitsBefore.scans.get(t) ?? 0)) / Math.max(1, events);
  const behind = backlogAtEnd > Math.max(50, load.achievedRate);
  const routerText =
    `the trigger router (one sequential loop, ${router ? 'in its own process' : 'in the API process'}) routed ~${fmt(routedDuringLoad)} events/s during the load against ${fmt(load.achievedRate)}/s ingested` +
    (behind
      ? `, so the outbox backlog grew to ${fmt(backlogAtEnd)} rows and each probe queued behind it twice (its event, then its $segment_entered event: the outbox is FIFO)`
      : ` (the outbox backlog peaked at ${fmt(Math.max(0, ...depth))} rows)`) +
    `; alone after the load it drained ${fmt(drainRate)} rows/s. Tables scanned during the load: ${scans} (scoring_rules ${perEvent('scoring_rules').toFixed(2)} per event` +
    `${perEvent('scoring_rules') >= 0.5 ? ': Audience.update looks the rules up once per event, one statement after the other' : ''}); ` +
    `the API process's event loop${router ? '' : ', which HTTP ingestion and the router share,'} was delayed p50 ${ms(apiLoop.p50)} / p99 ${ms(apiLoop.p99)} / max ${ms(apiLoop.max)}; ` +
    `a statement round trip from the bench (SELECT 1) took p50 ${ms(ping.p50)} / p95 ${ms(ping.p95)} meanwhile; ` +
    `${fmt(commitRate)} commits/s in this database (${(commitRate / Math.max(1, load.achievedRate)).toFixed(2)} per ingested event), ${fmt(syncRate)} WAL syncs/s on the server`;
  const cpuText = describeCpu(split, { count: load.ok + probes.length, name: 'event' });

  rows.push({
    metric: 'Event POST → segment entry recorded (p50 / p95 / p99)',
    measured: pct(toEntry),
    target: '(info)',
  });
  rows.push({
    metric: `Event POST → entry recorded and journey started (p50 / p95 / p99, ${complete.length} probes)`,
    measured: pct(total),
    target: `p95 ≤ ${ms(TARGETS.latencyP95Ms)}`,
    pass: complete.length === COUNTS.probes && total.p95 <= TARGETS.latencyP95Ms,
    where: `${stageText}; ${routerText}; ${sweepNote}; CPU ${cpuText}; PostgreSQL active (sampled every 50 ms): ${dbBusy}`,
  });
  const peak = Math.max(0, ...depth);
  rows.push({
    metric: 'Background load achieved (HTTP, 1 event per POST)',
    measured: `${fmt(load.achievedRate)} events/s`,
    target: `≥ ${fmt(COUNTS.loadRate * TARGETS.loadRateShare)} events/s`,
    pass: load.achievedRate >= COUNTS.loadRate * TARGETS.loadRateShare,
    where: `${fmt(load.ok)} events in ${(load.wallMs / 1000).toFixed(1)} s; POST p50/p95/p99 ${pct(percentiles(load.latencies))}; ${load.deferred > 0 ? `${fmt(load.deferred)} send slots waited for one of ${COUNTS.loadMaxInFlight} in flight; ` : ''}router backlog (outbox rows) peaked at ${fmt(peak)}, ${fmt(backlogAtEnd)} at the load's end, drained in ${drainSeconds.toFixed(1)} s after it, ${fmt(settled)} when the probes were done`,
  });
  notes.push(`Latency phase: ${sweepNote}.`);
  notes.push(`Latency phase, ${stageText}.`);
  notes.push(`Latency phase: ${routerText}.`);
  notes.push(`Latency phase, CPU ${cpuText}.`);
  notes.push(`Latency phase, PostgreSQL active (sampled every 50 ms, ${busy.samples} samples): ${dbBusy}.`);
}

function topActivity(rows: ActivitySample[], samples: number): string {
  if (samples === 0) return 'no samples';
  return rows
    .slice(0, 6)
    .map((s) => `${s.label} [${s.wait}] ${((100 * s.count) / samples).toFixed(0)}%`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------
// Phase 4: disk

async function benchDisk(url: string, contacts: number): Promise<string[]> {
  const db = createDb(url, 2);
  try {
    const perMillion = (b: number) => bytes((b * 1_000_000) / contacts);
    const database = Number(((await db.raw('SELECT pg_database_size(current_database()) AS n')).rows[0] as { n: string }).n);
    const tables = (await db.raw(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS total, pg_relation_size(c.oid)::bigint AS heap,
              pg_indexes_size(c.oid)::bigint AS indexes, coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)::bigint AS toast
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND pg_total_relation_size(c.oid) > 65536
        ORDER BY 2 DESC`,
    )).rows as Array<{ name: string; total: string; heap: string; indexes: string; toast: string }>;
    const indexes = (await db.raw(
      `SELECT i.indrelid::regclass::text AS table, i.indexrelid::regclass::text AS name, pg_relation_size(i.indexrelid)::bigint AS size
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' ORDER BY 3 DESC`,
    )).rows as Array<{ table: string; name: string; size: string }>;
    const counts = new Map<string, number>();
    for (const t of tables) counts.set(t.name, Number(((await db.raw(`SELECT count(*)::bigint AS n FROM ${JSON.stringify(t.name)}`)).rows[0] as { n: string }).n));
    const lines = [
      `pg_database_size: ${bytes(database)} for ${fmt(contacts)} contacts = ${perMillion(database)} per million contacts (with ${fmt((counts.get('events') ?? 0) / contacts, 1)} events per contact)`,
      '',
      `| Table / index | Rows | Total | Heap | TOAST | Indexes | Per 1M contacts |`,
      `|---|---:|---:|---:|---:|---:|---:|`,
    ];
    for (const t of tables) {
      lines.push(`| ${t.name} | ${fmt(counts.get(t.name) ?? 0)} | ${bytes(Number(t.total))} | ${bytes(Number(t.heap))} | ${bytes(Number(t.toast))} | ${bytes(Number(t.indexes))} | ${perMillion(Number(t.total))} |`);
      for (const i of indexes.filter((x) => x.table === t.name && Number(x.size) > 65536)) {
        lines.push(`|   └ ${i.name} | | ${bytes(Number(i.size))} | | | | ${perMillion(Number(i.size))} |`);
      }
    }
    rows.push({ metric: 'Disk per million contacts (pg_database_size, normalised)', measured: perMillion(database), target: '(info)' });
    return lines;
  } finally {
    await db.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function printReport(setup: string[], disk: string[], elapsedS: number): void {
  const header = ['Metric', 'Measured', 'Target', 'Result'];
  const table = rows.map((r) => [r.metric, r.measured, r.target ?? '(info)', r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL']);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(' | ')} |`;
  const out: string[] = ['', `CampaignOS segments benchmark — ${setup.join('; ')}`, ''];
  out.push(line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.map(line), '');
  out.push('Where the time goes:');
  for (const r of rows) if (r.where) out.push(`  ${r.pass === false ? '(MISSED) ' : ''}${r.metric}: ${r.where}`);
  if (notes.length > 0) {
    out.push('', 'Notes:');
    for (const n of notes) out.push(`  ${n}`);
  }
  if (disk.length > 0) out.push('', 'Disk:', ...disk.map((l) => `  ${l}`));
  out.push('', 'Phases:');
  for (const p of phases) out.push(`  ${p.phase}: ${p.seconds.toFixed(1)} s${p.note ? ` — ${p.note}` : ''}`);
  out.push('', 'Checks:');
  for (const c of checks) out.push(`  [${c.ok ? 'ok' : 'FAILED'}] ${c.what}: ${c.detail}`);
  out.push('', `Total run time ${elapsedS.toFixed(0)} s.`);
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------

const begun = Date.now();
let disk: string[] = [];
const setup = [`scale ${SCALE}`, `${fmt(COUNTS.contacts)} contacts`, `${fmt(COUNTS.events)} events`, `${availableParallelism()} cores`, `Node ${process.version}`, 'PostgreSQL on 127.0.0.1', 'Temporal dev server (SQLite file)'];

/** The newest modification time under `dir` of files whose name passes `keep`. */
function newest(dir: string, keep: (name: string) => boolean): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path, keep));
    else if (keep(entry.name)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

async function main(): Promise<void> {
  log(`CampaignOS segments bench: scale ${SCALE}; ${JSON.stringify(COUNTS)}`);
  // The API and worker run runtime/dist; the bench's own segment engine runs runtime/src.
  const source = newest(join(ROOT, 'runtime', 'src'), (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
  const built = statSync(CLI, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built === 0) throw new Error(`${CLI} is missing: run "npm run build" first`);
  if (source > built) {
    log('WARNING: runtime/src is newer than runtime/dist: the API and worker run older code than the bench; run "npm run build"');
    setup.push('runtime/dist older than runtime/src');
  }
  const load = await machineLoad(1000);
  if (load !== null && load > 0.15) {
    log(`WARNING: the machine is already ${(load * 100).toFixed(0)}% busy before the bench starts; other load distorts every figure`);
    setup.push(`machine ${(load * 100).toFixed(0)}% busy before start`);
  }
  const tempDir = mkdtempSync(join(tmpdir(), 'campaignos-bench-segments-'));
  cleanups.push({ name: 'temp folder', run: async () => rmSync(tempDir, { recursive: true, force: true }) });

  // The Temporal dev server starts while the data loads; it is awaited in phase 3.
  const temporalFile = join(tempDir, 'temporal.db');
  const temporal = devServer(temporalFile).then((server) => {
    cleanups.push({ name: 'Temporal dev server', run: () => server.stop() });
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(`${temporalFile}.pid`, 'utf8').trim()) || undefined;
    } catch {
      pid = undefined;
    }
    return { address: server.address, namespace: 'default', pid };
  });
  temporal.catch(() => undefined); // surfaced when awaited

  const database = await createTestDatabase();
  cleanups.push({ name: 'database', run: () => database.drop() });
  const { workspaceId, key } = await seedWorkspace(database.url, 'bench');
  log(`database ready (migrated); workspace ${workspaceId}`);

  const data = await phase('phase 1: data set', () => buildDataset(database.url, workspaceId));
  const segment = await phase('phase 2: segment full computation', () => benchRecompute(database.url, workspaceId));
  await phase('phase 3: latency under load', () => benchLatency({ url: database.url, workspaceId, key, data, benchSegmentId: segment.segmentId, temporal }));
  disk = await phase('phase 4: disk', () => benchDisk(database.url, data.contacts));
  printReport(setup, disk, (Date.now() - begun) / 1000);
}

let cleaningUp: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const { name, run } of cleanups.reverse()) {
      try {
        await Promise.race([run(), sleep(20_000).then(() => Promise.reject(new Error('took over 20 s')))]);
      } catch (error) {
        log(`cleanup of ${name} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaningUp;
}

async function exit(code: number): Promise<never> {
  await cleanup();
  process.exit(code);
}

const globalTimer = setTimeout(() => {
  log(`bench: global timeout of ${TIMEOUT_S} s reached; stopping`);
  if (rows.length > 0) printReport([...setup, 'INCOMPLETE: global timeout'], disk, TIMEOUT_S);
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
    if (rows.length > 0) printReport([...setup, 'INCOMPLETE: failed'], disk, (Date.now() - begun) / 1000);
    await exit(1);
  },
);
