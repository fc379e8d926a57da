#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, secretFor, type Config } from './config.js';
import { resolveTemporalCli, startEmbeddedPostgres, startTemporalDevServer } from './embedded/index.js';
import { createLogger } from './logger.js';
import { startRuntime } from './runtime.js';
import { createDb, createStore, migrate } from './store/index.js';

const USAGE = `campaignos <command>

  dev                 API + worker + router in one process; starts an embedded PostgreSQL and a
                      Temporal dev server unless DATABASE_URL / TEMPORAL_ADDRESS are set
  api                 the HTTP API and the trigger router (needs DATABASE_URL, TEMPORAL_ADDRESS);
                      CAMPAIGNOS_ROUTER=off leaves routing to separate router processes
  worker              a journey worker (needs DATABASE_URL, TEMPORAL_ADDRESS)
  router              the trigger router alone: drains the outbox, keeps segments and scores
                      current, starts journeys, runs the sweeper (any number may run)
  migrate             apply database migrations (needs DATABASE_URL)
  deploy <file.json>  deploy an n8n workflow JSON  [--activate] [--id <workflow id>]
  keys create         create an API key  [--workspace <name>]

Environment: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, HOST, PORT, PUBLIC_URL,
CAMPAIGNOS_SECRET, CAMPAIGNOS_DATA_DIR, CAMPAIGNOS_NODE_PACKAGES, TEMPORAL_CLI_PATH,
CAMPAIGNOS_URL and CAMPAIGNOS_API_KEY (for deploy).`;

const say = (message: string) => process.stdout.write(`${message}\n`);

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case 'dev':
      return dev(config);
    case 'api':
    case 'worker':
    case 'router':
      return serve(config, command);
    case 'migrate': {
      const db = createDb(required(config.databaseUrl, 'DATABASE_URL'));
      const applied = await migrate(db);
      say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Database is up to date');
      return db.destroy();
    }
    case 'deploy':
      return deploy(config, rest);
    case 'keys':
      return keys(config, rest);
    default:
      say(USAGE);
      if (command && command !== 'help' && command !== '--help') process.exitCode = 2;
  }
}

async function dev(config: Config): Promise<void> {
  mkdirSync(config.dataDir, { recursive: true });
  say(`CampaignOS dev: data folder ${config.dataDir}`);
  const stops: Array<() => Promise<void>> = [];

  let databaseUrl = config.databaseUrl;
  if (databaseUrl) say(`PostgreSQL: using DATABASE_URL`);
  else {
    say(`PostgreSQL: starting embedded server (data in ${join(config.dataDir, 'postgres')})`);
    const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), log: (m) => say(`  ${m}`) });
    databaseUrl = pg.databaseUrl;
    stops.push(pg.stop);
  }

  let temporalAddress = config.temporalAddress;
  let temporalUi: string | null = null;
  if (temporalAddress) say(`Temporal: using ${temporalAddress}`);
  else {
    const cli = await resolveTemporalCli({ toolsDir: toolsDir(), log: (m) => say(`  ${m}`) });
    say(`Temporal: starting dev server (history in ${join(config.dataDir, 'temporal.db')})`);
    const server = await startTemporalDevServer({ cliPath: cli.path, dbFile: join(config.dataDir, 'temporal.db'), namespace: config.temporalNamespace, log: (m) => say(`  ${m}`) });
    temporalAddress = server.address;
    temporalUi = server.uiUrl;
    stops.push(server.stop);
  }

  const secret = secretFor(config);
  const runtime = await startRuntime({
    databaseUrl,
    temporal: { address: temporalAddress, namespace: config.temporalNamespace },
    secret,
    roles: { api: true, worker: true, router: true },
    host: config.host,
    port: config.port,
    publicUrl: config.publicUrl,
    nodePackages: config.nodePackages,
    migrate: true,
    logger: createLogger('campaignos', (process.env.LOG_LEVEL as 'info' | undefined) ?? 'warn'),
  });
  stops.unshift(runtime.stop);

  const apiKey = await devApiKey(config, runtime.store, runtime.url!);
  say('');
  say(`CampaignOS is running`);
  say(`  API:         ${runtime.url}`);
  say(`  API key:     ${apiKey}   (saved in ${join(config.dataDir, 'dev.json')})`);
  if (temporalUi) say(`  Temporal UI: ${temporalUi}`);
  say(`  Nodes:       ${runtime.registry.list().map((n) => n.type).join(', ')}`);
  say(`Try: curl -H "Authorization: Bearer ${apiKey}" ${runtime.url}/v1/workflows`);
  say('Stop with Ctrl+C.');

  await untilSignal();
  say('Stopping...');
  for (const stop of stops) await stop().catch((e: Error) => say(`  while stopping: ${e.message}`));
  say('Stopped.');
  process.exit(process.exitCode ?? 0);
}

async function serve(config: Config, role: 'api' | 'worker' | 'router'): Promise<void> {
  const roles = {
    api: { api: true, router: process.env.CAMPAIGNOS_ROUTER !== 'off' },
    worker: { worker: true },
    router: { router: true },
  }[role];
  const runtime = await startRuntime({
    databaseUrl: required(config.databaseUrl, 'DATABASE_URL'),
    temporal: { address: required(config.temporalAddress, 'TEMPORAL_ADDRESS'), namespace: config.temporalNamespace },
    secret: required(config.secret, 'CAMPAIGNOS_SECRET'),
    roles,
    host: config.host,
    port: config.port,
    publicUrl: config.publicUrl,
    nodePackages: config.nodePackages,
  });
  say(
    {
      api: `CampaignOS API listening on ${runtime.url}${roles.router ? ' (routing events too)' : ''}`,
      worker: `CampaignOS worker polling ${config.temporalAddress} (${config.temporalNamespace})`,
      router: `CampaignOS router draining the outbox of ${redactUrl(config.databaseUrl!)} into ${config.temporalAddress} (${config.temporalNamespace})`,
    }[role],
  );
  await untilSignal();
  await runtime.stop();
  process.exit(process.exitCode ?? 0);
}

/** A database URL without its password, for saying where we are connected. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the database';
  }
}

/** The dev API key: reused from the data folder while it still works, else a new one. */
async function devApiKey(config: Config, store: Awaited<ReturnType<typeof startRuntime>>['store'], url: string): Promise<string> {
  const file = join(config.dataDir, 'dev.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { apiKey?: string }) : {};
  let apiKey = saved.apiKey && (await store.workspaces.workspaceForKey(saved.apiKey)) ? saved.apiKey : undefined;
  if (!apiKey) {
    const workspaceId = await store.workspaces.ensure('default');
    apiKey = (await store.workspaces.createApiKey(workspaceId, 'dev')).key;
  }
  writeFileSync(file, JSON.stringify({ url, apiKey }, null, 2), { mode: 0o600 });
  return apiKey;
}

async function deploy(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { activate: { type: 'boolean' }, id: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new UsageError('deploy needs a workflow file: campaignos deploy welcome.json --activate');
  let workflow: unknown;
  try {
    workflow = JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  const { url, apiKey } = apiTarget(config);
  const path = values.id ? `/v1/workflows/${values.id}` : `/v1/workflows${values.activate ? '?activate=true' : ''}`;
  say(`Deploying ${file} to ${url} ...`);
  const response = await fetch(`${url}${path}`, {
    method: values.id ? 'PUT' : 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(workflow),
  });
  const body = (await response.json()) as { workflow?: { id: string; active: boolean }; version?: { version: number }; error?: { message: string; details?: { problems?: string[] } } };
  if (!response.ok) {
    say(`Deploy failed (${response.status}): ${body.error?.message}`);
    for (const problem of body.error?.details?.problems ?? []) say(`  - ${problem}`);
    process.exitCode = 1;
    return;
  }
  if (values.id && values.activate) await fetch(`${url}/v1/workflows/${values.id}/activate`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } });
  say(`Deployed workflow ${body.workflow?.id} version ${body.version?.version}${body.workflow?.active || values.activate ? ' (active)' : ' (inactive: add --activate)'}`);
}

async function keys(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { workspace: { type: 'string', default: 'default' } } });
  if (positionals[0] !== 'create') throw new UsageError('usage: campaignos keys create [--workspace <name>]');
  const db = createDb(required(config.databaseUrl, 'DATABASE_URL'));
  try {
    await migrate(db);
    const store = createStore(db, secretFor(config));
    const created = await store.workspaces.createApiKey(await store.workspaces.ensure(values.workspace!), 'cli');
    say(`API key for workspace "${values.workspace}": ${created.key}`);
    say('It is shown once; only its hash is stored.');
  } finally {
    await db.destroy();
  }
}

function apiTarget(config: Config): { url: string; apiKey: string } {
  const file = join(config.dataDir, 'dev.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { url?: string; apiKey?: string }) : {};
  const url = process.env.CAMPAIGNOS_URL ?? saved.url;
  const apiKey = process.env.CAMPAIGNOS_API_KEY ?? saved.apiKey;
  if (!url || !apiKey) throw new UsageError('set CAMPAIGNOS_URL and CAMPAIGNOS_API_KEY, or run `campaignos dev` first');
  return { url, apiKey };
}

export function toolsDir(): string {
  return process.env.CAMPAIGNOS_TOOLS_DIR ?? join(homedir(), '.cache', 'campaignos', 'tools');
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`${name} is not set`);
  return value;
}

class UsageError extends Error {}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`campaignos: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
