import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, createStore, migrate, startRuntime, type Runtime, type TemporalTarget } from '@campaignos/runtime';

export const SECRET = 'test-secret-not-for-production';
export const ROOT = join(__dirname, '..', '..');

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Api {
  <T = any>(method: string, path: string, body?: unknown, init?: { key?: string | null; raw?: string; contentType?: string }): Promise<ApiResponse<T>>;
}

/** An HTTP client for the runtime's API with a given key. */
export function apiClient(baseUrl: string, key: string): Api {
  return async (method, path, body, init = {}) => {
    const headers: Record<string, string> = {};
    const useKey = init.key === undefined ? key : init.key;
    if (useKey) headers.authorization = `Bearer ${useKey}`;
    const payload = init.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // HTML pages and empty bodies stay text
    }
    return { status: response.status, body: parsed as any, headers: response.headers };
  };
}

/** Migrates the database and creates a workspace with an API key. */
export async function seedWorkspace(databaseUrl: string, name: string): Promise<{ workspaceId: string; key: string }> {
  const db = createDb(databaseUrl, 2);
  try {
    await migrate(db);
    const store = createStore(db, SECRET);
    const workspaceId = await store.workspaces.ensure(name);
    const { key } = await store.workspaces.createApiKey(workspaceId, 'test');
    return { workspaceId, key };
  } finally {
    await db.destroy();
  }
}

export interface Stack {
  runtime: Runtime;
  api: Api;
  key: string;
  workspaceId: string;
  stop(): Promise<void>;
}

/** A runtime (API, router and optionally a worker) on a real database and Temporal server. */
export async function startStack(options: { databaseUrl: string; temporal: TemporalTarget; worker?: boolean; router?: boolean; clock?: () => Date }): Promise<Stack> {
  const { workspaceId, key } = await seedWorkspace(options.databaseUrl, 'acme');
  const runtime = await startRuntime({
    databaseUrl: options.databaseUrl,
    temporal: options.temporal,
    secret: SECRET,
    roles: { api: true, router: options.router ?? true, worker: options.worker ?? true },
    port: 0,
    migrate: true,
    logger: quietLogger,
    clock: options.clock,
    sweepIntervalMs: 3_600_000, // tests sweep explicitly
  });
  return { runtime, api: apiClient(runtime.url!, key), key, workspaceId, stop: () => runtime.stop() };
}

export function loadExample(relativePath: string): any {
  return JSON.parse(readFileSync(join(ROOT, 'examples', relativePath), 'utf8'));
}

/** Creates the SMTP credential the examples reference, pointing at a local sink. */
export async function createSmtpCredential(api: Api, port: number, name = 'Acme SMTP'): Promise<void> {
  const res = await api('POST', '/v1/credentials', {
    name,
    type: 'campaignOsSmtp',
    data: { host: '127.0.0.1', port, secure: false, user: '', password: '', fromEmail: 'hello@acme.example', fromName: 'Acme' },
  });
  if (res.status !== 201) throw new Error(`credential: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Polls until `check` returns a value (not undefined/false) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

const noop = () => undefined;
export const quietLogger = { debug: noop, info: noop, warn: noop, error: (m: string, meta?: unknown) => console.error(m, meta) };
