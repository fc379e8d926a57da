import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Asks the OS for a port nobody listens on (another process may still take it before we bind). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not obtain a free port'))));
    });
  });
}

/** True when nothing listens on `port` (we could bind it ourselves). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Keeps the last `limit` characters of a process's output, for error messages. */
export class OutputTail {
  private text = '';
  constructor(private readonly limit = 4000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text.trim();
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not be spawned at all (e.g. ENOENT) or timed out. */
  error?: Error;
}

/** Runs a command to completion without a shell; never rejects. */
export async function runCommand(
  command: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return await new Promise((resolve) => {
    const stdout = new OutputTail(16_000);
    const stderr = new OutputTail(16_000);
    let error: Error | undefined;
    const child = spawn(command, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          error = new Error(`${command} timed out after ${opts.timeoutMs} ms`);
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.once('error', (e) => (error = e));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString(), ...(error ? { error } : {}) });
    });
  });
}

/**
 * Sends `signal` and escalates to SIGKILL after `graceMs`; resolves once the process has exited.
 * Servers get a chance to flush (Temporal's SQLite, PostgreSQL's WAL) but a hung one cannot block
 * the caller's shutdown forever.
 */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  // A child that never spawned (pid undefined) emits no 'exit' to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Signals `pid` when this Node process exits (normally or via process.exit), so a crashed or
 * forgetful host does not leave a server holding the data directory. Returns the unregister function.
 * A process killed by an unhandled signal fires no 'exit' event; the host should trap signals and stop.
 */
export function signalOnExit(pid: number, signal: NodeJS.Signals): () => void {
  const onExit = (): void => signalPid(pid, signal);
  process.once('exit', onExit);
  return () => process.removeListener('exit', onExit);
}

/** process.kill without the throw when the process is already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops a server that an earlier run left behind (host killed with SIGKILL, or by a signal it did
 * not trap), so two servers never share one SQLite file or data directory. Only a process whose
 * command line names `marker` is touched; where /proc is missing nothing is. Returns its pid if any.
 */
export async function stopLeftover(pidFile: string, marker: string, signal: NodeJS.Signals, graceMs: number): Promise<number | null> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid || pid === process.pid || !isAlive(pid)) return null;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(marker)) return null;
  await stopPid(pid, signal, graceMs);
  return pid;
}

/** Signals `pid` and resolves once it is gone, escalating to SIGKILL after `graceMs`. */
export async function stopPid(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  signalPid(pid, signal);
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited === graceMs) signalPid(pid, 'SIGKILL');
    await sleep(100);
  }
}
