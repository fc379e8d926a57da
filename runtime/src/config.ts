import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Settings from the environment; each has a default for the embedded, one-machine setup. */
export interface Config {
  /** Unset: the dev command starts an embedded PostgreSQL in the data folder. */
  databaseUrl: string | undefined;
  /** Unset: the dev command starts a Temporal dev server (SQLite file in the data folder). */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  host: string;
  port: number;
  publicUrl: string | undefined;
  dataDir: string;
  /** Signs public links and encrypts credentials. Generated into the data folder when unset. */
  secret: string | undefined;
  nodePackages: string[];
  temporalCliPath: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    host: env.HOST || '127.0.0.1',
    port,
    publicUrl: env.PUBLIC_URL || undefined,
    dataDir: resolve(env.CAMPAIGNOS_DATA_DIR || '.campaignos'),
    secret: env.CAMPAIGNOS_SECRET || undefined,
    nodePackages: (env.CAMPAIGNOS_NODE_PACKAGES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    temporalCliPath: env.TEMPORAL_CLI_PATH || undefined,
  };
}

/** The secret from the environment, else one kept in the data folder (created on first use). */
export function secretFor(config: Config): string {
  if (config.secret) return config.secret;
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
