import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { createSmtpCredential, startStack, type Stack } from './stack.js';
import { timeSkippingEnvironment } from './temporal.js';

export interface JourneyStack {
  env: TestWorkflowEnvironment;
  smtp: SmtpSink;
  stack: Stack;
  stop(): Promise<void>;
}

/**
 * Everything a journey test needs: a fresh database, the time-skipping Temporal test server
 * with a real worker, an SMTP sink, and the "Acme SMTP" credential the examples name.
 */
export async function startJourneyStack(options: { clock?: () => Date } = {}): Promise<JourneyStack> {
  const database: TestDatabase = await createTestDatabase();
  const env = await timeSkippingEnvironment();
  const smtp = await startSmtpSink();
  const stack = await startStack({ databaseUrl: database.url, temporal: { client: env.client, connection: env.nativeConnection, namespace: env.namespace ?? 'default' }, clock: options.clock });
  await createSmtpCredential(stack.api, smtp.port);
  return {
    env,
    smtp,
    stack,
    async stop() {
      await stack.stop();
      await env.teardown();
      await smtp.close();
      await database.drop();
    },
  };
}
