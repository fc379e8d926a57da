// The README's quickstart, for real: `campaignos dev` with no DATABASE_URL and no
// TEMPORAL_ADDRESS starts an embedded PostgreSQL and a Temporal dev server in a data folder,
// prints the API URL and key, and comes back with the same data after a restart.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT } from './support/stack.js';

const CLI = join(ROOT, 'runtime', 'dist', 'cli.js');

interface DevProcess {
  child: ChildProcess;
  url: string;
  apiKey: string;
  output: () => string;
}

function env(dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, TEMPORAL_ADDRESS: _t, CAMPAIGNOS_URL: _u, CAMPAIGNOS_API_KEY: _k, ...rest } = process.env;
  return { ...rest, CAMPAIGNOS_DATA_DIR: dataDir, PORT: '0' };
}

async function startDev(dataDir: string): Promise<DevProcess> {
  const child = spawn(process.execPath, [CLI, 'dev'], { env: env(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!/Stop with Ctrl\+C/.test(output)) {
    if (child.exitCode !== null) throw new Error(`campaignos dev exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`campaignos dev did not start in time:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = /API:\s+(http\S+)/.exec(output)?.[1];
  const apiKey = /API key:\s+(cos_\S+)/.exec(output)?.[1];
  assert.ok(url && apiKey, output);
  return { child, url, apiKey, output: () => output };
}

async function stopDev(dev: DevProcess): Promise<number | null> {
  dev.child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => dev.child.once('exit', (c) => resolve(c)));
  return code;
}

describe('quickstart: campaignos dev', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'campaignos-dev-'));
  // The embedded PostgreSQL runs as the `postgres` user when we are root: it must reach the folder.
  chmodSync(dataDir, 0o755);
  let dev: DevProcess | undefined;

  after(async () => {
    if (dev && dev.child.exitCode === null) await stopDev(dev);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('starts everything embedded, deploys with the CLI, and keeps its data across restarts', { timeout: 300_000 }, async () => {
    dev = await startDev(dataDir);
    assert.match(dev.output(), /PostgreSQL: starting embedded server/);
    assert.match(dev.output(), /Temporal CLI: using /);
    assert.match(dev.output(), new RegExp(`data folder ${dataDir}`));

    const ready = await fetch(`${dev.url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());

    // Deploy from the CLI: first refused (the SMTP credential it names does not exist yet).
    const deploy = () =>
      spawnSync(process.execPath, [CLI, 'deploy', join(ROOT, 'examples/welcome-series/welcome-series.workflow.json'), '--activate'], { env: env(dataDir), encoding: 'utf8' });
    const refused = deploy();
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /credentials "Acme SMTP"/);

    const credential = await fetch(`${dev.url}/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dev.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Acme SMTP', type: 'campaignOsSmtp', data: { host: '127.0.0.1', port: 2525, fromEmail: 'hello@acme.example' } }),
    });
    assert.equal(credential.status, 201);
    const deployed = deploy();
    assert.equal(deployed.status, 0, deployed.stdout + deployed.stderr);
    assert.match(deployed.stdout, /Deployed workflow \S+ version 1 \(active\)/);

    assert.equal(await stopDev(dev), 0, 'a clean stop exits 0');

    // Same folder, same key, same data.
    const again = await startDev(dataDir);
    dev = again;
    assert.equal(again.apiKey, /API key:\s+(cos_\S+)/.exec(again.output())?.[1]);
    const workflows = await fetch(`${again.url}/v1/workflows`, { headers: { authorization: `Bearer ${again.apiKey}` } });
    const body = (await workflows.json()) as { workflows: Array<{ name: string; active: boolean }> };
    assert.deepEqual(body.workflows.map((w) => [w.name, w.active]), [['Welcome series', true]]);
    assert.equal(await stopDev(again), 0);
  });
});
