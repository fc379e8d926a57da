import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations.js';

export type Db = Knex;

/** Opens a pooled connection to PostgreSQL. Large enough for the send gate, which holds a transaction per in-flight send. */
export function createDb(databaseUrl: string, poolMax = 30): Db {
  return knex({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: 'campaignos' },
    pool: { min: 0, max: poolMax },
  });
}

export async function migrate(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
