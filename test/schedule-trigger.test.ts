// The schedule trigger end to end: a workflow with "CampaignOS Schedule" gets a Temporal Schedule
// on a real Temporal dev server; each tick (a real cron tick, and ticks fired on demand through
// Temporal's own "trigger now") enrols every member of the segment once, through the outbox and
// the trigger router, with a real worker running the journeys on real PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { INodeExecutionData, IHttpRequestOptions, ITriggerFunctions } from 'n8n-workflow';
import { ScheduleTrigger } from '@campaignos/n8n-nodes-triggers';
import { createScheduleActivities } from '@campaignos/runtime';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { eventually, quietLogger, startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

const TRIGGER_TYPE = '@campaignos/n8n-nodes-triggers.scheduleTrigger';

const workflowJson = (name: string, parameters: Record<string, unknown>) => ({
  name,
  nodes: [
    { id: 'tick', name: 'Every minute', type: TRIGGER_TYPE, typeVersion: 1, position: [0, 0], parameters },
    { id: 'noop', name: 'Done', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [200, 0], parameters: {} },
  ],
  connections: { 'Every minute': { main: [[{ node: 'Done', type: 'main', index: 0 }]] } },
});

describe('schedule trigger', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let connection: Connection;
  let client: Client;
  let stack: Stack;
  const members: Record<string, string> = {};
  let outsider = '';

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-schedule-')), 'temporal.db'));
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace });
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace } });
    for (const name of ['ada', 'bob', 'cy']) {
      members[name] = (await stack.api('POST', '/v1/contacts', { externalId: name, email: `${name}@example.com`, attributes: { plan: 'pro', firstName: name } })).body.contact.id;
    }
    outsider = (await stack.api('POST', '/v1/contacts', { externalId: 'dee', email: 'dee@example.com', attributes: { plan: 'free' } })).body.contact.id;
    const segment = await stack.api('POST', '/v1/segments', { name: 'Pro users', condition: { attribute: 'plan', op: 'eq', value: 'pro' } });
    assert.equal(segment.status, 201, JSON.stringify(segment.body));
  });

  after(async () => {
    await stack?.stop();
    await connection?.close();
    await temporal?.stop();
    await database?.drop();
  });

  /** Journeys per contact, and whether each came from its own tick event. */
  const journeysOf = async (contactId: string) => (await stack.api('GET', `/v1/contacts/${contactId}/journeys`)).body.journeys as Array<{ status: string; entryEventId?: string }>;
  const tickEvents = async (contactId: string) =>
    (await stack.runtime.store.db('events').where({ contact_id: contactId, name: '$schedule_tick' }).select('id', 'properties')) as Array<{ id: string; properties: Record<string, unknown> }>;

  test('activation creates a Temporal Schedule; every tick enrols each member once; deactivation deletes it', async () => {
    const deployed = await stack.api('POST', '/v1/workflows?activate=true', workflowJson('Minutely digest', { cron: '* * * * *', timeZone: 'Europe/Paris', segment: 'Pro users' }));
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    const workflowId = deployed.body.workflow.id as string;
    assert.equal(deployed.body.version.triggerEvent, '$schedule_tick');

    const handle = client.schedule.getHandle(`campaignos-schedule-${workflowId}`);
    const described = await handle.describe();
    assert.equal(described.spec.timezone, 'Europe/Paris');
    assert.equal(described.action.type, 'startWorkflow');
    assert.equal(described.action.workflowType, 'scheduleTick');
    assert.equal((described.action.args?.[0] as { versionId: string }).versionId, deployed.body.version.id);

    // Two ticks on demand (Temporal's "trigger now" runs the schedule's action as a tick would).
    const counts = async () => Promise.all(Object.values(members).map(async (id) => (await journeysOf(id)).length));
    await handle.trigger('ALLOW_ALL');
    await eventually(async () => (await counts()).every((n) => n >= 1), 60_000, 'the first tick to enrol everyone');
    const afterFirst = await counts();
    await handle.trigger('ALLOW_ALL');
    await eventually(async () => (await counts()).every((n, i) => n > afterFirst[i]!), 60_000, 'the second tick to enrol everyone again');

    // A real cron tick comes within the minute.
    const beforeCron = await counts();
    await eventually(async () => (await counts()).every((n, i) => n > beforeCron[i]!), 75_000, 'the cron to tick');

    // Settle, then check: one journey per tick event, one tick event per tick, nobody outside the segment.
    await new Promise((r) => setTimeout(r, 2_000));
    const perMember = await Promise.all(Object.values(members).map(async (id) => ({ journeys: await journeysOf(id), ticks: await tickEvents(id) })));
    const tickCount = perMember[0]!.ticks.length;
    assert.ok(tickCount >= 3, `three ticks or more, saw ${tickCount}`);
    for (const { journeys, ticks } of perMember) {
      assert.equal(ticks.length, tickCount, 'every member got every tick');
      assert.equal(journeys.length, ticks.length, 'one journey per tick');
      assert.equal(new Set(ticks.map((t) => t.properties.scheduleId)).size, 1);
      assert.equal(ticks[0]!.properties.segmentName, 'Pro users');
    }
    await eventually(async () => (await journeysOf(members.ada!)).every((j) => j.status === 'completed'), 30_000, 'the journeys to finish');
    assert.deepEqual(await journeysOf(outsider), [], 'a contact outside the segment is not enrolled');

    // Redeploying moves the schedule to the new version; deactivating deletes it.
    const redeployed = await stack.api('PUT', `/v1/workflows/${workflowId}`, workflowJson('Minutely digest', { cron: '0 9 * * 1', segment: 'Pro users' }));
    assert.equal(redeployed.status, 200, JSON.stringify(redeployed.body));
    const moved = await handle.describe();
    assert.equal((moved.action.args?.[0] as { versionId: string }).versionId, redeployed.body.version.id);
    assert.equal(moved.spec.timezone, 'UTC');
    const deactivated = await stack.api('POST', `/v1/workflows/${workflowId}/deactivate`);
    assert.equal(deactivated.status, 200);
    await assert.rejects(handle.describe(), ScheduleNotFoundError);
  });

  test('a schedule Temporal refuses leaves the workflow inactive with a 400', async () => {
    const res = await stack.api('POST', '/v1/workflows?activate=true', workflowJson('Impossible', { cron: '99 * * * *', segment: 'Pro users' }));
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error.message, /Temporal refused the schedule "99 \* \* \* \*"/);
    const listed = (await stack.api('GET', '/v1/workflows')).body.workflows as Array<{ name: string; active: boolean }>;
    assert.equal(listed.find((w) => w.name === 'Impossible')?.active, false);
  });

  test('a tick enrols in pages and a retried tick enrols nobody twice', async () => {
    const deployed = await stack.api('POST', '/v1/workflows?activate=true', workflowJson('Weekly', { cron: '0 9 * * 1', segment: 'Pro users' }));
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    const request = { v: 1 as const, workspaceId: stack.workspaceId, workflowId: deployed.body.workflow.id, versionId: deployed.body.version.id, tickId: 'campaignos-tick-test-2025-01-06T09:00:00Z' };
    const activities = createScheduleActivities({ store: stack.runtime.store, registry: stack.runtime.registry, logger: quietLogger, pageSize: 2 });
    const heartbeats: unknown[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    assert.deepEqual(await env.run(activities.enrolScheduleTick, request), { enrolled: 3, members: 3 });
    assert.equal(heartbeats.length, 1, 'three members in pages of two: one page boundary');
    assert.deepEqual(await new MockActivityEnvironment().run(activities.enrolScheduleTick, request), { enrolled: 0, members: 3 }, 'the same tick again adds nothing');
    await eventually(async () => {
      const journeys = await Promise.all(Object.values(members).map(async (id) => (await stack.runtime.store.db('journeys').where({ contact_id: id, version_id: request.versionId })).length));
      return journeys.every((n) => n === 1);
    }, 30_000, 'one journey each');
    await stack.api('POST', `/v1/workflows/${deployed.body.workflow.id}/deactivate`);
    assert.deepEqual(await new MockActivityEnvironment().run(activities.enrolScheduleTick, { ...request, tickId: 'later' }), {
      enrolled: 0,
      members: 0,
      skipped: 'the workflow is no longer active on this version',
    });
  });

  test("inside n8n, the node's manual run emits the segment's members read from the runtime API", async () => {
    const emitted: INodeExecutionData[][][] = [];
    const fns = {
      getNode: () => ({ name: 'Every Monday' }),
      getMode: () => 'manual',
      getTimezone: () => 'UTC',
      getNodeParameter: (name: string, fallback?: unknown) => ({ cron: '0 9 * * 1', segment: 'Pro users' })[name] ?? fallback,
      getCredentials: async () => ({ baseUrl: stack.runtime.url, apiKey: stack.key }),
      emit: (data: INodeExecutionData[][]) => emitted.push(data),
      helpers: {
        registerCron: () => assert.fail('a manual run registers no cron'),
        async httpRequestWithAuthentication(_credential: string, options: IHttpRequestOptions) {
          const response = await fetch(options.url, { method: options.method, headers: { authorization: `Bearer ${stack.key}` } });
          return { statusCode: response.status, body: await response.json() };
        },
      },
    } as unknown as ITriggerFunctions;
    const response = await new ScheduleTrigger().trigger!.call(fns);
    await response!.manualTriggerFunction!();
    const items = emitted[0]![0]!.map((i) => i.json as { event: { name: string }; contact: { id: string; email: string; attributes: Record<string, unknown> } });
    assert.deepEqual(items.map((i) => i.contact.id).sort(), Object.values(members).sort());
    assert.ok(items.every((i) => i.event.name === '$schedule_tick' && i.contact.attributes.plan === 'pro'));
  });
});
