// Small pieces the benchmark is built from: progress output, latency statistics, child processes
// (started and stopped by object, never by name) and per-process CPU accounting from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const log = (message: string) => process.stderr.write(`# ${message}\n`);

/** BENCH_SCALE=0.1 shrinks every count for a quick smoke run. */
export const SCALE = (() => {
  const raw = Number(process.env.BENCH_SCALE ?? 1);
  if (!Number.isFinite(raw) || raw <= 0) throw new Error(`BENCH_SCALE must be a positive number, got "${process.env.BENCH_SCALE}"`);
  return raw;
})();

/** A count scaled by BENCH_SCALE, never below `min`. */
export const scaled = (count: number, min = 1) => Math.max(min, Math.round(count * SCALE));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Latency statistics

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
}

/** Runs `fn` over `count` indexes with at most `concurrency` in flight. */
export async function forEachLimit(count: number, concurrency: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count && failed === null) {
      const index = next++;
      try {
        await fn(index);
      } catch (error) {
        failed ??= error;
      }
    }
  });
  await Promise.all(lanes);
  if (failed !== null) throw failed;
}

/** Prints "label: done/total (rate/s)" on stderr about once a second while `done()` grows. */
export function progress(label: string, total: number, done: () => number, unit = '/s'): { stop(): void } {
  const started = performance.now();
  let last = { t: started, n: 0 };
  const timer = setInterval(() => {
    const now = performance.now();
    const n = done();
    const rate = ((n - last.n) * 1000) / (now - last.t);
    last = { t: now, n };
    log(`${label}: ${n}/${total} (${Math.round(rate)}${unit}, ${((now - started) / 1000).toFixed(1)} s)`);
  }, 1000);
  return { stop: () => clearInterval(timer) };
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface Child {
  name: string;
  process: ChildProcess;
  /** The first match of `ready` on the child's stdout. */
  ready: RegExpExecArray;
  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns a process and resolves when a stdout line matches `ready`. Its stderr is forwarded
 * (prefixed with its name), so a crash explains itself.
 */
export async function spawnChild(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; ready: RegExp; timeoutMs: number; cwd?: string },
): Promise<Child> {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutTail: string[] = [];
  let state: 'starting' | 'ready' | 'stopping' = 'starting';
  let onStartFailure: ((why: string) => void) | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      const how = signal ?? `code ${code}`;
      if (state === 'starting') onStartFailure?.(`exited (${how}) before it was ready`);
      else if (state === 'ready') log(`${name} exited unexpectedly (${how})`);
      resolve();
    });
  });
  child.once('error', (error) => onStartFailure?.(`could not start: ${error.message}`));
  const stop = async (graceMs = 5000) => {
    state = 'stopping';
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`  [${name}] ${line}\n`));
  try {
    const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => onStartFailure?.(`did not start within ${options.timeoutMs / 1000} s`), options.timeoutMs);
      onStartFailure = (why) => {
        clearTimeout(timer);
        reject(new Error(`${name} ${why}; its output ends with:\n${stdoutTail.join('\n') || '(nothing)'}`));
      };
      // Keep reading stdout for the child's whole life so its writes never block.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        stdoutTail.push(line);
        if (stdoutTail.length > 20) stdoutTail.shift();
        const match = state === 'starting' ? options.ready.exec(line) : null;
        if (match) {
          clearTimeout(timer);
          state = 'ready';
          resolve(match);
        }
      });
    });
    return { name, process: child, ready, stop };
  } catch (error) {
    await stop(1000);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc; elsewhere the split is simply not shown)

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every mainstream Linux build

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 0 is the state; utime and stime are fields 11 and 12.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = values[3]! + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export interface CpuSplit {
  wallSeconds: number;
  cores: number;
  /** CPU seconds per named process group. */
  groups: Record<string, number>;
  /** CPU seconds the whole machine was busy (null off Linux). */
  machineBusy: number | null;
}

/**
 * Measures the CPU time of named groups of processes over a phase. The pids of each group are
 * looked up at both ends; a process that appeared meanwhile counts in full, one that ended is lost.
 */
export class CpuMeter {
  constructor(
    private readonly pids: () => Promise<Record<string, Array<number | undefined>>>,
    private readonly cores: number,
  ) {}

  private async snapshot() {
    const groups = new Map<string, Map<number, number>>();
    for (const [name, pids] of Object.entries(await this.pids())) {
      groups.set(name, new Map(pids.filter((pid): pid is number => !!pid).map((pid) => [pid, processTicks(pid)])));
    }
    return { at: performance.now(), groups, machine: machineTicks() };
  }

  async start(): Promise<{ stop(): Promise<CpuSplit> }> {
    const before = await this.snapshot();
    return {
      stop: async () => {
        const after = await this.snapshot();
        const wallSeconds = (after.at - before.at) / 1000;
        const groups: Record<string, number> = {};
        for (const [name, pids] of after.groups) {
          let ticks = 0;
          for (const [pid, now] of pids) ticks += Math.max(0, now - (before.groups.get(name)?.get(pid) ?? 0));
          groups[name] = ticks / TICKS_PER_SECOND;
        }
        // /proc/stat counts ticks summed over all cores.
        const machineBusy = before.machine && after.machine ? (after.machine.busy - before.machine.busy) / TICKS_PER_SECOND : null;
        return { wallSeconds, cores: this.cores, groups, machineBusy };
      },
    };
  }
}

/**
 * "cores in use: api 0.95, postgres 0.62, bench 0.30 (machine 97% busy of 2); CPU per event:
 * api 0.47 ms, postgres 0.31 ms, ..." — `other` is whatever else ran on the machine meanwhile.
 */
export function describeCpu(split: CpuSplit, units?: { count: number; name: string }): string {
  if (split.wallSeconds <= 0) return '';
  const groups = Object.entries(split.groups);
  if (split.machineBusy !== null) {
    const known = groups.reduce((a, [, b]) => a + b, 0);
    groups.push(['other', Math.max(0, split.machineBusy - known)]);
  }
  const shown = groups.filter(([, seconds]) => seconds / split.wallSeconds >= 0.01).sort((a, b) => b[1] - a[1]);
  let text = `cores in use: ${shown.map(([name, seconds]) => `${name} ${(seconds / split.wallSeconds).toFixed(2)}`).join(', ')}`;
  if (split.machineBusy !== null) text += ` (machine ${Math.min(100, (100 * split.machineBusy) / split.wallSeconds / split.cores).toFixed(0)}% busy of ${split.cores})`;
  if (units && units.count > 0) {
    const mine = shown.filter(([name]) => name !== 'other');
    const total = mine.reduce((a, [, s]) => a + s, 0);
    text += `; CPU per ${units.name}: ${((total * 1000) / units.count).toFixed(2)} ms (${mine.map(([name, s]) => `${name} ${((s * 1000) / units.count).toFixed(2)}`).join(', ')})`;
  }
  return text;
}

/** How busy the machine is right now (fraction of all cores, sampled over `ms`); null off Linux. */
export async function machineLoad(ms = 1000): Promise<number | null> {
  const before = machineTicks();
  await sleep(ms);
  const after = machineTicks();
  if (!before || !after || after.total === before.total) return null;
  return (after.busy - before.busy) / (after.total - before.total);
}
