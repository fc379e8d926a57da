import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '@campaignos/runtime';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh, empty database for one test file, on the PostgreSQL server at TEST_DATABASE_URL
 * (default: the local server), or on an embedded server when none answers.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  let serverUrl = SERVER_URL;
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!(await reachable(serverUrl))) {
    const server = await startEmbeddedPostgres({ dataDir: mkdtempSync(join(tmpdir(), 'campaignos-pg-')) });
    serverUrl = server.databaseUrl;
    stopEmbedded = server.stop;
  }
  const name = `campaignos_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await stopEmbedded?.();
    },
  };
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
