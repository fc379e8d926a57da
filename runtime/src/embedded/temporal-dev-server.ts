import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { freePort, isPortFree, OutputTail, signalOnExit, stopLeftover, terminate } from './child-processes.js';

export interface TemporalDevServerOptions {
  /** From `resolveTemporalCli`; null lets the Temporal SDK download the CLI (needs internet). */
  cliPath: string | null;
  /** SQLite file holding all workflows and timers; reusing it resumes them after a restart. */
  dbFile: string;
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Serve the Web UI (default true). */
  ui?: boolean;
  /** Web UI port; a free one when omitted. */
  uiPort?: number;
  /** Created at startup if missing (default "default"). */
  namespace?: string;
  /** How long to wait for the server to answer (default 60 s; a first start creates the schema). */
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface TemporalDevServer {
  /** `host:port` for `Connection.connect` / `NativeConnection.connect`. */
  address: string;
  namespace: string;
  uiUrl: string | null;
  /** SIGTERM (the server flushes SQLite), then SIGKILL after 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

const IP = '127.0.0.1';

/**
 * SQLite in WAL mode: each commit appends to the log instead of rewriting pages under a rollback
 * journal, which roughly doubles the server's throughput on a 2-core machine (journeys 10-13/s →
 * 20-22/s, bare workflow starts ~40-70/s → ~100/s, `npm run bench`). `synchronous` keeps its
 * default (FULL), so every commit is still fsynced: no durability is traded for it.
 */
const SQLITE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=wal'];

/**
 * Starts `temporal server start-dev` on a SQLite file and resolves once the frontend answers and
 * the namespace exists. We spawn the CLI ourselves rather than use the SDK's ephemeral server
 * because the SDK stops it with SIGKILL, gives up after 5 s and sends its output to our stdio.
 *
 * @example
 * const cli = await resolveTemporalCli({ toolsDir });
 * const server = await startTemporalDevServer({ cliPath: cli.path, dbFile: '.campaignos/temporal.db' });
 * const connection = await Connection.connect({ address: server.address });
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const log = opts.log ?? (() => {});
  const namespace = opts.namespace ?? 'default';
  const dbFile = path.resolve(opts.dbFile);
  const port = opts.port ?? (await freePort(IP));
  const uiPort = opts.ui === false ? null : (opts.uiPort ?? (await freePort(IP)));
  const address = `${IP}:${port}`;
  const uiUrl = uiPort === null ? null : `http://${IP}:${uiPort}`;
  // Checked up front: probing a foreign, non-gRPC listener would hang until its connect timeout.
  for (const p of [port, uiPort]) {
    if (p !== null && !(await isPortFree(p, IP))) throw new Error(`Temporal dev server: port ${IP}:${p} is already in use`);
  }
  await mkdir(path.dirname(dbFile), { recursive: true });
  const leftover = await stopLeftover(pidFileOf(dbFile), dbFile, 'SIGTERM', 5000);
  if (leftover) log(`Temporal dev server: stopped pid ${leftover}, left running on ${dbFile} by an earlier run`);
  const started = Date.now();

  const server = opts.cliPath
    ? await spawnDevServer(opts.cliPath, { dbFile, port, uiPort, namespace, timeoutMs: opts.startTimeoutMs ?? 60_000, log })
    : await startWithSdkDownload({ dbFile, port, uiPort, namespace });
  log(
    `Temporal dev server: ready at ${address} (namespace ${namespace}, data ${dbFile}` +
      `${uiUrl ? `, UI ${uiUrl}` : ''}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { address, namespace, uiUrl, stop: server.stop };
}

interface SpawnOptions {
  dbFile: string;
  port: number;
  uiPort: number | null;
  namespace: string;
  timeoutMs: number;
  log: (msg: string) => void;
}

async function spawnDevServer(cliPath: string, o: SpawnOptions): Promise<{ stop(): Promise<void> }> {
  const args = [
    'server', 'start-dev',
    '--db-filename', o.dbFile,
    '--ip', IP,
    '--port', String(o.port),
    '--namespace', o.namespace,
    '--log-level', 'warn',
    '--log-format', 'json',
    // No phone-home to Temporal's version service: embedded machines may be offline.
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    ...SQLITE_PRAGMAS,
    ...(o.uiPort === null ? ['--headless'] : ['--ui-port', String(o.uiPort)]),
  ];
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Listening from the first tick: an early exit or spawn error must neither be missed nor crash us.
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`exited (${signal ?? `code ${code}`})`));
    child.once('error', (err) => resolve(`could not start: ${err.message}`));
  });
  const tail = new OutputTail();
  let stopping = false;
  child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
  // WARN lines are routine (pollers reconnecting); only errors reach the host's log.
  createInterface({ input: child.stderr }).on('line', (line) => {
    tail.push(`${line}\n`);
    const entry = parseLogLine(line);
    if (entry && !stopping && /^(ERROR|DPANIC|PANIC|FATAL)$/i.test(entry.level)) o.log(`Temporal dev server: ${entry.msg}`);
  });
  const unregister = child.pid ? signalOnExit(child.pid, 'SIGTERM') : () => {};
  if (child.pid) await writeFile(pidFileOf(o.dbFile), `${child.pid}\n`);
  const stop = async (): Promise<void> => {
    stopping = true;
    unregister();
    await terminate(child, 'SIGTERM', 5000);
    await rm(pidFileOf(o.dbFile), { force: true });
  };
  try {
    await waitUntilReady(exited, `${IP}:${o.port}`, o.namespace, o.timeoutMs, tail);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

/** Races every probe against `exited`, so a server that dies at once is reported at once. */
async function waitUntilReady(exited: Promise<string>, address: string, namespace: string, timeoutMs: number, tail: OutputTail): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const outcome = await Promise.race([probe(address, namespace).then(() => null, (err: unknown) => err), exited]);
    if (outcome === null) return;
    if (typeof outcome === 'string') throw startError(address, outcome, tail);
    lastError = outcome;
    await sleep(100);
  }
  throw startError(address, `did not become ready within ${timeoutMs} ms (last error: ${String(lastError)})`, tail);
}

async function probe(address: string, namespace: string): Promise<void> {
  // lazy() + ensureConnected() rather than connect(): a failed connect() leaves its channel open.
  // grpc-js waits 1 s before redialling a refused port by default; the server is usually up sooner.
  const connection = Connection.lazy({
    address,
    connectTimeout: 2000,
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  });
  try {
    await connection.ensureConnected();
    await connection.workflowService.getSystemInfo({});
    // The frontend can answer before the namespace registration has landed.
    await connection.workflowService.describeNamespace({ namespace });
  } finally {
    await connection.close().catch(() => {});
  }
}

function startError(address: string, why: string, tail: OutputTail): Error {
  return new Error(`Temporal dev server at ${address} ${why}. Its output ends with:\n${tail.toString() || '(nothing)'}`);
}

/** Without a local binary the SDK's ephemeral server downloads the CLI (and kills it with SIGKILL on stop). */
async function startWithSdkDownload(o: { dbFile: string; port: number; uiPort: number | null; namespace: string }): Promise<{ stop(): Promise<void> }> {
  // Loaded lazily: it pulls in the worker's native bridge, which the API process does not need.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      dbFilename: o.dbFile,
      ip: IP,
      port: o.port,
      namespace: o.namespace,
      ...(o.uiPort === null ? { ui: false } : { ui: true, uiPort: o.uiPort }),
      extraArgs: ['--dynamic-config-value', 'frontend.enableServerVersionCheck=false', ...SQLITE_PRAGMAS],
    },
  });
  let stopped: Promise<void> | undefined;
  return { stop: () => (stopped ??= env.teardown()) };
}

/** Beside the SQLite file, so a later start can find a server an earlier run left behind. */
function pidFileOf(dbFile: string): string {
  return `${dbFile}.pid`;
}

function parseLogLine(line: string): { level: string; msg: string } | null {
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
    return { level: String(entry.level ?? ''), msg: typeof entry.msg === 'string' ? entry.msg : line };
  } catch {
    return null;
  }
}
