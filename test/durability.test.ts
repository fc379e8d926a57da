// Journeys survive what production throws at them: a worker SIGKILLed mid-send, a Temporal
// server restart while journeys sleep, and a crash between an event's commit and its routing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TriggerRouterForTests } from './support/router.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { createSmtpCredential, eventually, ROOT, SECRET, startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

/** order placed → receipt → wait a few seconds → follow-up */
function orderWorkflow(name: string, event: string, waitSeconds: number) {
  const email = (nodeName: string, subject: string) => ({
    id: nodeName,
    name: nodeName,
    type: '@campaignos/n8n-nodes-email.email',
    typeVersion: 1,
    position: [0, 0],
    parameters: { subject, mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>Order {{ event.properties.order }}</mj-text></mj-column></mj-section></mj-body></mjml>' },
    credentials: { campaignOsSmtp: { id: null, name: 'Acme SMTP' } },
  });
  return {
    name,
    nodes: [
      { id: 't', name: 'Order placed', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event } },
      email('Receipt', 'Receipt for {{ event.properties.order }}'),
      { id: 'w', name: 'Wait', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [0, 0], parameters: { amount: waitSeconds, unit: 'seconds' } },
      email('Follow-up', 'How is order {{ event.properties.order }}?'),
    ],
    connections: {
      'Order placed': { main: [[{ node: 'Receipt', type: 'main', index: 0 }]] },
      Receipt: { main: [[{ node: 'Wait', type: 'main', index: 0 }]] },
      Wait: { main: [[{ node: 'Follow-up', type: 'main', index: 0 }]] },
    },
  };
}

describe('durability', () => {
  let database: TestDatabase;
  let dbFile: string;
  let temporalPort: number;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let smtp: SmtpSink;
  let stack: Stack;
  const workers = new Set<ChildProcess>();

  const startWorker = () => {
    const child = spawn(process.execPath, [join(ROOT, 'runtime', 'dist', 'cli.js'), 'worker'], {
      env: { ...process.env, DATABASE_URL: database.url, TEMPORAL_ADDRESS: temporal.address, CAMPAIGNOS_SECRET: SECRET, PUBLIC_URL: stack.runtime.url!, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    workers.add(child);
    child.on('exit', () => workers.delete(child));
    return child;
  };

  const countBySubject = () => {
    const counts = new Map<string, number>();
    for (const m of smtp.messages) counts.set(m.parsed.subject ?? '', (counts.get(m.parsed.subject ?? '') ?? 0) + 1);
    return counts;
  };

  before(async () => {
    database = await createTestDatabase();
    dbFile = join(mkdtempSync(join(tmpdir(), 'campaignos-durable-')), 'temporal.db');
    temporal = await devServer(dbFile);
    temporalPort = Number(temporal.address.split(':')[1]);
    smtp = await startSmtpSink();
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace }, worker: false });
    await createSmtpCredential(stack.api, smtp.port);
  });

  after(async () => {
    for (const child of workers) child.kill('SIGKILL');
    await stack?.stop();
    await temporal?.stop();
    await smtp?.close();
    await database?.drop();
  });

  test('a worker SIGKILLed mid-batch: every journey completes, one email per contact per send node', { timeout: 180_000 }, async () => {
    const { api } = stack;
    assert.equal((await api('POST', '/v1/workflows?activate=true', orderWorkflow('Orders', 'order_placed', 3))).status, 201);
    const first = startWorker();
    const orders = 40;
    await api('POST', '/v1/events', {
      events: Array.from({ length: orders }, (_, i) => ({ name: 'order_placed', email: `buyer${i}@example.com`, properties: { order: `A-${i}` } })),
    });

    // Let some receipts through, then stop acknowledging: the worker is now mid-send.
    await smtp.waitFor(8, 60_000);
    smtp.hold();
    await new Promise((r) => setTimeout(r, 1000));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const deliveredBeforeKill = smtp.messages.length;
    assert.ok(deliveredBeforeKill < orders * 2, 'the kill happened mid-batch');
    smtp.resume();

    startWorker();
    await eventually(async () => {
      const rows = await stack.runtime.store.db('journeys').whereIn('status', ['completed']).count<{ count: string }[]>('* as count');
      return Number(rows[0]!.count) === orders;
    }, 150_000, 'all journeys to complete after the restart');

    const counts = countBySubject();
    for (let i = 0; i < orders; i++) {
      assert.equal(counts.get(`Receipt for A-${i}`), 1, `exactly one receipt for order A-${i}`);
      assert.equal(counts.get(`How is order A-${i}?`), 1, `exactly one follow-up for order A-${i}`);
    }
    const sent = await stack.runtime.store.db('messages').where({ status: 'sent' }).count<{ count: string }[]>('* as count');
    assert.equal(Number(sent[0]!.count), orders * 2);
  });

  test('restarting the Temporal server keeps sleeping journeys', { timeout: 180_000 }, async () => {
    const { api } = stack;
    smtp.messages.length = 0;
    assert.equal((await api('POST', '/v1/workflows?activate=true', orderWorkflow('Trials', 'trial_started', 12))).status, 201);
    if (workers.size === 0) startWorker();
    const contacts = 10;
    await api('POST', '/v1/events', { events: Array.from({ length: contacts }, (_, i) => ({ name: 'trial_started', email: `trial${i}@example.com`, properties: { order: `T-${i}` } })) });
    await smtp.waitFor(contacts, 60_000);
    await eventually(async () => {
      const rows = await stack.runtime.store.db('journeys').where({ current_node: 'Wait', status: 'running' }).count<{ count: string }[]>('* as count');
      return Number(rows[0]!.count) === contacts;
    }, 30_000, 'journeys to sleep');

    // Stop the server while every journey sleeps, and bring it back on the same SQLite file.
    await temporal.stop();
    for (const child of workers) child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    temporal = await devServer(dbFile, temporalPort);
    startWorker();

    await eventually(async () => {
      const rows = await stack.runtime.store.db('journeys').where('journeys.status', 'completed').join('workflows', 'workflows.id', 'journeys.workflow_id').where('workflows.name', 'Trials').count<{ count: string }[]>('* as count');
      return Number(rows[0]!.count) === contacts;
    }, 120_000, 'sleeping journeys to wake after the restart');
    const counts = countBySubject();
    for (let i = 0; i < contacts; i++) assert.equal(counts.get(`How is order T-${i}?`), 1, `one follow-up for T-${i}`);
  });

  test('an event committed before a crash still enrols its contact, once', { timeout: 120_000 }, async () => {
    const { api } = stack;
    assert.equal((await api('POST', '/v1/workflows?activate=true', orderWorkflow('Refunds', 'refund_requested', 1))).status, 201);
    // The API commits the events, then "crashes" before any router sees them.
    await stack.runtime.router!.stop();
    const contacts = 12;
    const res = await api('POST', '/v1/events', { events: Array.from({ length: contacts }, (_, i) => ({ name: 'refund_requested', email: `refund${i}@example.com`, properties: { order: `R-${i}` } })) });
    assert.equal(res.status, 202);
    const pending = await stack.runtime.store.db('outbox').count<{ count: string }[]>('* as count');
    assert.equal(Number(pending[0]!.count), contacts, 'the events wait in the outbox');

    // Two routers come back at once; the outbox is drained once and nobody is enrolled twice.
    const routers = [new TriggerRouterForTests(stack, temporal), new TriggerRouterForTests(stack, temporal)];
    await Promise.all(routers.map((r) => r.drain()));
    await Promise.all(routers.map((r) => r.close()));
    const journeys = await stack.runtime.store.db('journeys').join('workflows', 'workflows.id', 'journeys.workflow_id').where('workflows.name', 'Refunds').select('journeys.contact_id');
    assert.equal(journeys.length, contacts);
    assert.equal(new Set(journeys.map((j) => j.contact_id)).size, contacts);
    assert.equal(Number((await stack.runtime.store.db('outbox').count<{ count: string }[]>('* as count'))[0]!.count), 0);
  });
});
