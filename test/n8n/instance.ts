// One throw-away n8n instance: a fresh user folder with our packages installed as community
// nodes, driven through n8n's own CLI (import credentials and workflows, execute headless,
// activate) or run as a server (`n8n start`) for triggers.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Host } from './hosts';
import type { PackedPackage } from './pack';

const execFileAsync = promisify(execFile);

/** Fixed for test folders only: n8n encrypts imported credentials with it. */
const ENCRYPTION_KEY = 'campaignos-n8n-test-key-not-secret';

export interface CredentialFixture {
  id: string;
  name: string;
  type: string;
  data: Record<string, unknown>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, as a user would see them. */
  output: string;
  timedOut: boolean;
}

export interface ExecutionResult extends CliResult {
  /** The execution as `--rawOutput` prints it, when the run succeeded. */
  run?: N8nRun;
}

/** The part of n8n's IRun the tests read. */
export interface N8nRun {
  status?: string;
  data: { resultData: { runData: Record<string, Array<{ data?: { main?: Array<Array<{ json: Record<string, any> }> | null> }; error?: { message: string } }>>; error?: { message: string } } };
}

export interface LoadReport {
  /** Package name → how many nodes and credentials n8n says it loaded from it. */
  loaded: Record<string, { nodes: number; credentials: number }>;
  errors: string[];
  output: string;
}

export interface N8nInstance {
  host: Host;
  userFolder: string;
  /** Runs `n8n <args>` with a time limit; the process (and its children) die at the limit. */
  cli(args: string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult>;
  importCredentials(credentials: CredentialFixture[]): Promise<void>;
  /** One import for all of them: every CLI call boots n8n. */
  importWorkflows(workflows: Array<{ id: string }>): Promise<void>;
  execute(workflowId: string, options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<ExecutionResult>;
  /** Boots n8n with debug logs and reports which community packages it loaded, and any load errors. */
  loadReport(): Promise<LoadReport>;
  /**
   * Marks a workflow active (published, in 2.x) in n8n's database, the way each n8n line allows
   * from its CLI. A running n8n does not notice: start the server afterwards.
   */
  activate(workflowId: string): Promise<void>;
  /** `n8n start` on a free loopback port; resolves once n8n answers HTTP and has activated its workflows. */
  startServer(options?: { env?: Record<string, string>; timeoutMs?: number; port?: number }): Promise<N8nServer>;
  close(): void;
}

/** A running `n8n start`. */
export interface N8nServer {
  port: number;
  /** `http://127.0.0.1:<port>/`, also n8n's WEBHOOK_URL: webhook URLs start with `${url}webhook/`. */
  url: string;
  /** Everything n8n printed so far. */
  output(): string;
  /** Ends n8n and whatever it started (SIGTERM to its process group, SIGKILL after a grace period). */
  stop(): Promise<void>;
}

const running = new Set<number>();
// Whatever happens to the test process, no n8n outlives it.
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A fresh user folder for `host` with `packages` installed into `.n8n/nodes` from their tarballs,
 * the way n8n installs community packages: without peer dependencies, so `n8n-workflow` is the
 * host's own copy.
 */
export async function createInstance(host: Host, packages: PackedPackage[], options: { extraEnv?: Record<string, string> } = {}): Promise<N8nInstance> {
  const userFolder = mkdtempSync(join(tmpdir(), `campaignos-${host.spec.label}-`));
  const nodesDir = join(userFolder, '.n8n', 'nodes');
  mkdirSync(nodesDir, { recursive: true });
  writeFileSync(join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
  await execFileAsync('npm', ['install', '--no-audit', '--no-fund', '--legacy-peer-deps', '--loglevel=error', ...packages.map((p) => p.tarball)], {
    cwd: nodesDir,
    env: { ...process.env, PATH: `${join(host.nodeBin, '..')}:${process.env.PATH ?? ''}` },
    timeout: 300_000,
  });

  const brokerPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.extraEnv,
    N8N_USER_FOLDER: userFolder,
    N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
    DB_TYPE: 'sqlite',
    // Nothing may wait on the network: only loopback and the npm registry are reachable here.
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_DYNAMIC_BANNERS_ENABLED: 'false',
    N8N_HIRING_BANNER_ENABLED: 'false',
    N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
    N8N_AI_ENABLED: 'false',
    N8N_VERIFIED_PACKAGES_ENABLED: 'false',
    N8N_REINSTALL_MISSING_PACKAGES: 'false',
    N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    // Task runners (Code node) are not needed; where a host insists on them, keep their broker
    // off the default port so parallel runs cannot collide.
    N8N_RUNNERS_ENABLED: 'false',
    N8N_RUNNERS_BROKER_PORT: String(brokerPort),
    // The default expression engine ("vm", on isolated-vm) now and then crashes n8n with SIGSEGV
    // while the CLI exits, after the run is done and printed (seen on 1.123 and 2.41 here). The
    // legacy engine never did; our nodes receive parameters already evaluated either way.
    N8N_EXPRESSION_ENGINE: 'legacy',
    ...host.spec.env,
    N8N_LOG_LEVEL: 'info',
    N8N_LOG_OUTPUT: 'console',
    NO_COLOR: '1',
  };
  const children = new Set<number>();

  /** `n8n <args>` in its own process group (so it and its helpers can be ended together). */
  const spawnN8n = (args: string[], extra?: Record<string, string>) => {
    const child = spawn(host.nodeBin, [host.n8nBin, ...args], { cwd: userFolder, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child.pid!);
    children.add(child.pid!);
    return child;
  };

  const cli = (args: string[], { env: extra, timeoutMs = 120_000 }: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawnN8n(args, extra);
      const pid = child.pid!;
      let stdout = '';
      let stderr = '';
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        output += chunk;
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
        output += chunk;
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        running.delete(pid);
        children.delete(pid);
        // n8n may leave helpers (task runner) in its process group: end them too.
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // none left
        }
        resolve({ code, signal, stdout, stderr, output, timedOut });
      });
    });

  const importFile = async (kind: 'credentials' | 'workflow', name: string, content: unknown) => {
    const file = join(userFolder, name);
    writeFileSync(file, JSON.stringify(content, null, 2));
    const result = await cli([`import:${kind}`, `--input=${file}`]);
    if (result.code !== 0) throw new Error(`n8n import:${kind} failed (exit ${result.code}):\n${result.output}`);
  };

  return {
    host,
    userFolder,
    cli,
    importCredentials: (credentials) => importFile('credentials', 'credentials.json', credentials),
    importWorkflows: (workflows) => importFile('workflow', 'workflows.json', workflows),
    async execute(workflowId, options = {}) {
      const result = await cli(['execute', `--id=${workflowId}`, '--rawOutput'], options);
      return { ...result, run: result.code === 0 ? parseRun(result.stdout) : undefined };
    },
    async loadReport() {
      // `execute` loads community packages before it looks the workflow up; an unknown id
      // makes it stop right after loading.
      const result = await cli(['execute', '--id=NoSuchWorkflow01'], { env: { N8N_LOG_LEVEL: 'debug' } });
      return parseLoadReport(result.output);
    },
    async activate(workflowId) {
      // 1.x sets `active` (and the active version); 2.x deprecated that for `publish:workflow`.
      // Both only log a failure (the exit code may still be 0), so the log is checked too.
      const major = Number(host.spec.n8n.split('.')[0]);
      const args = major >= 2 ? ['publish:workflow', `--id=${workflowId}`] : ['update:workflow', `--id=${workflowId}`, '--active=true'];
      const result = await cli(args);
      if (result.code !== 0 || /\berror\b/i.test(result.output)) throw new Error(`n8n ${args.join(' ')} failed (exit ${result.code}):\n${result.output}`);
    },
    startServer: (options = {}) => startServer(spawnN8n, children, options),
    close() {
      for (const pid of children) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
        running.delete(pid);
      }
      rmSync(userFolder, { recursive: true, force: true });
    },
  };
}

async function startServer(
  spawnN8n: (args: string[], extra?: Record<string, string>) => ChildProcess,
  children: Set<number>,
  { env: extra, timeoutMs = 120_000, port: wanted }: { env?: Record<string, string>; timeoutMs?: number; port?: number },
): Promise<N8nServer> {
  // A given port restarts n8n at the same address (its webhook URLs stay the same).
  const port = wanted ?? (await freePort());
  const url = `http://127.0.0.1:${port}/`;
  const child = spawnN8n(['start'], {
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: '127.0.0.1',
    N8N_PROTOCOL: 'http',
    WEBHOOK_URL: url,
    // No browser session here; the editor's cookie would need HTTPS otherwise.
    N8N_SECURE_COOKIE: 'false',
    ...extra,
  });
  const pid = child.pid!;
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
    running.delete(pid);
    children.delete(pid);
  });

  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    if (!gone) {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    // Helpers n8n started (task runner) share its group: end them too.
    killGroup('SIGKILL');
  };

  // /healthz answers once the HTTP server listens; "Editor is now accessible" is printed after
  // the active workflows were activated (their webhooks registered).
  const deadline = Date.now() + timeoutMs;
  while (!(/Editor is now accessible/.test(output) && (await answers(`${url}healthz`)))) {
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(`n8n start ${gone ? 'exited' : `did not become ready in ${timeoutMs} ms`}:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { port, url, output: () => output, stop };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function parseLoadReport(output: string): LoadReport {
  const loaded: LoadReport['loaded'] = {};
  const errors: string[] = [];
  for (const line of output.split('\n')) {
    // n8n's debug line per package: `Loaded all credentials and nodes from <pkg> { "credentials": 1, "nodes": 1, ... }`
    const match = /Loaded all credentials and nodes from (\S+) (\{.*\})/.exec(line);
    if (match) {
      const counts = JSON.parse(match[2]!) as { credentials: number; nodes: number };
      loaded[match[1]!] = { nodes: counts.nodes, credentials: counts.credentials };
    }
    if (/campaignos|n8n-nodes-slack-notify/i.test(line) && /\b(error|warn)\b|fail|cannot|could not/i.test(line)) errors.push(line.trim());
  }
  return { loaded, errors, output };
}

/** `--rawOutput` prints the run as indented JSON after any log lines: parse from its first line. */
function parseRun(stdout: string): N8nRun | undefined {
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '{') continue;
    try {
      return JSON.parse(lines.slice(i).join('\n')) as N8nRun;
    } catch {
      // a log line that happened to be "{": keep looking
    }
  }
  return undefined;
}

/** The items a node put on its first output in the run. */
export function nodeOutput(run: N8nRun, nodeName: string): Array<Record<string, any>> {
  const runs = run.data.resultData.runData[nodeName];
  if (!runs?.length) throw new Error(`node "${nodeName}" did not run; ran: ${Object.keys(run.data.resultData.runData).join(', ')}`);
  return (runs[0]!.data?.main?.[0] ?? []).map((item) => item.json);
}
