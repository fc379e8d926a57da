// A lean keep-alive HTTP load generator: undici's Pool when it resolves (it is cheaper per
// request than fetch), else node:http with a keep-alive agent.
import http from 'node:http';
import { forEachLimit, progress } from './harness.js';

export interface HttpResult {
  status: number;
  text: string;
}

export interface HttpClient {
  kind: string;
  request(method: string, path: string, body?: string): Promise<HttpResult>;
  close(): Promise<void>;
}

export async function httpClient(baseUrl: string, key: string, connections: number): Promise<HttpClient> {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  try {
    const { Pool } = (await import('undici')) as typeof import('undici');
    const pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
    return {
      kind: 'undici Pool',
      async request(method, path, body) {
        const response = await pool.request({ method: method as 'POST', path, headers: body === undefined ? { authorization: headers.authorization } : headers, body });
        return { status: response.statusCode, text: await response.body.text() };
      },
      close: () => pool.close(),
    };
  } catch {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const url = new URL(baseUrl);
    return {
      kind: 'node:http keep-alive agent',
      request(method, path, body) {
        return new Promise((resolve, reject) => {
          const req = http.request(
            { host: url.hostname, port: url.port, method, path, agent, headers: body === undefined ? { authorization: headers.authorization } : { ...headers, 'content-length': Buffer.byteLength(body) } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      },
      close: async () => agent.destroy(),
    };
  }
}

export interface LoadResult {
  requests: number;
  /** Events the server acknowledged (as counted by `accepted`). */
  events: number;
  /** Requests that did not succeed, by status (0 = network error). */
  failures: Map<number, number>;
  firstFailure: string | null;
  wallMs: number;
  /** Per-request latency, ms. */
  latencies: Float64Array;
}

/**
 * Sends `total` requests with `concurrency` in flight over keep-alive connections and times
 * each one. `accepted` reads a successful answer and returns how many events it acknowledged.
 */
export async function runLoad(options: {
  label: string;
  client: HttpClient;
  total: number;
  concurrency: number;
  path: string;
  body: (index: number) => string;
  accepted: (result: HttpResult) => number;
  unit?: string;
}): Promise<LoadResult> {
  const { client, total } = options;
  const latencies = new Float64Array(total);
  const failures = new Map<number, number>();
  let firstFailure: string | null = null;
  let done = 0;
  let events = 0;
  const ticker = progress(options.label, total, () => done, options.unit ?? ' req/s');
  const started = performance.now();
  try {
    await forEachLimit(total, options.concurrency, async (index) => {
      const body = options.body(index);
      const t = performance.now();
      let result: HttpResult;
      try {
        result = await client.request('POST', options.path, body);
      } catch (error) {
        result = { status: 0, text: (error as Error).message };
      }
      latencies[index] = performance.now() - t;
      done++;
      const count = result.status >= 200 && result.status < 300 ? options.accepted(result) : -1;
      if (count < 0) {
        failures.set(result.status, (failures.get(result.status) ?? 0) + 1);
        firstFailure ??= `${result.status} ${result.text.slice(0, 300)}`;
      } else events += count;
    });
  } finally {
    ticker.stop();
  }
  return { requests: total, events, failures, firstFailure, wallMs: performance.now() - started, latencies };
}
