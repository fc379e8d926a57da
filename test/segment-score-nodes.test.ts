// The segments and scoring node packages in a real journey: an event scores the contact through
// the "CampaignOS Score" node, the "CampaignOS Segment Filter" branches on a saved score segment
// like n8n's If, and the true branch adds the contact to a static list. Real runtime, PostgreSQL
// and Temporal dev server.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, SendGate, type Runtime } from '@campaignos/runtime';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { eventually, quietLogger, SECRET, startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

const link = (to: string) => ({ node: to, type: 'main', index: 0 });
// As n8n's editor exports it: the CampaignOS API credential is selected on each node (n8n
// needs it); the runtime serves these nodes in process and must not ask for it.
const campaignOsApi = { campaignOsApi: { id: '7', name: 'CampaignOS account' } };

const workflow = {
  name: 'Whitepaper scoring',
  nodes: [
    { id: 't', name: 'Trigger', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event: 'whitepaper_downloaded' } },
    {
      id: 's',
      name: 'Score +10',
      type: '@campaignos/n8n-nodes-scoring.updateScore',
      typeVersion: 1,
      position: [200, 0],
      parameters: { operation: 'add', points: 10, reason: 'whitepaper' },
      credentials: campaignOsApi,
    },
    {
      id: 'f',
      name: 'Hot?',
      type: '@campaignos/n8n-nodes-segments.segmentFilter',
      typeVersion: 1,
      position: [400, 0],
      parameters: { mode: 'segment', segment: 'score above 5' },
      credentials: campaignOsApi,
    },
    {
      id: 'l',
      name: 'Add to hot',
      type: '@campaignos/n8n-nodes-segments.listMembership',
      typeVersion: 1,
      position: [600, -100],
      parameters: { operation: 'add', list: 'hot' },
      credentials: campaignOsApi,
    },
  ],
  connections: {
    Trigger: { main: [[link('Score +10')]] },
    'Score +10': { main: [[link('Hot?')]] },
    // true → the list; false → nothing.
    'Hot?': { main: [[link('Add to hot')], []] },
  },
};

describe('segments and scoring nodes in a journey', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let stack: Stack;
  let runtime: Runtime;
  let listId: string;
  const contacts: Record<string, string> = {};

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-segscore-')), 'temporal.db'));
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace } });
    runtime = stack.runtime;
    const segment = await stack.api('POST', '/v1/segments', { name: 'score above 5', condition: { score: { op: 'gt', value: 5 } } });
    assert.equal(segment.status, 201, JSON.stringify(segment.body));
    const list = await stack.api('POST', '/v1/lists', { name: 'hot' });
    assert.equal(list.status, 201, JSON.stringify(list.body));
    listId = list.body.list.id;
    const deployed = await stack.api('POST', '/v1/workflows?activate=true', workflow);
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));

    for (const name of ['ann', 'bob']) {
      const created = await stack.api('POST', '/v1/contacts', { externalId: name, email: `${name}@example.com` });
      contacts[name] = created.body.contact.id;
    }
    // Bob starts far below: +10 leaves him out of the segment.
    const set = await stack.api('POST', `/v1/contacts/${contacts.bob}/score`, { set: -20, reason: 'imported' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    for (const name of ['ann', 'bob']) await stack.api('POST', '/v1/events', { name: 'whitepaper_downloaded', externalId: name });
    await eventually(async () => {
      const rows = await runtime.store.db('journeys').where({ status: 'completed' }).count<{ count: string }[]>('* as count');
      return Number(rows[0]!.count) === 2;
    }, 60_000, 'both journeys to complete');
  });
  after(async () => {
    await stack?.stop();
    await temporal?.stop();
    await database?.drop();
  });

  const stepsOf = async (contactId: string) => {
    const journey = await runtime.store.db('journeys').where({ contact_id: contactId }).first();
    const steps = await runtime.store.db('journey_steps').where({ journey_id: journey.id }).orderBy('seq');
    return { journey, steps: steps as Array<{ seq: number; node_name: string; output: Array<Array<{ json: Record<string, unknown> }>> }> };
  };

  test('the score node writes the change to the ledger with its reason, node and workflow', async () => {
    const score = await stack.api('GET', `/v1/contacts/${contacts.ann}/score`);
    assert.equal(score.body.score, 10);
    const entries = score.body.ledger.filter((l: { source: string }) => l.source === 'node');
    assert.deepEqual(
      entries.map((l: { delta: number; reason: string }) => [l.delta, l.reason]),
      [[10, 'whitepaper (node Score +10, workflow Whitepaper scoring)']],
    );
    const { steps } = await stepsOf(contacts.ann!);
    const scored = steps.find((s) => s.node_name === 'Score +10')!.output[0]![0]!.json;
    assert.deepEqual([scored.previous, scored.score], [0, 10]);

    const bob = await stack.api('GET', `/v1/contacts/${contacts.bob}/score`);
    assert.equal(bob.body.score, -10);
  });

  test('the segment filter takes the true branch for a member and the false one otherwise', async () => {
    const ann = await stepsOf(contacts.ann!);
    assert.deepEqual(ann.steps.map((s) => s.node_name), ['Trigger', 'Score +10', 'Hot?', 'Add to hot']);
    const annFilter = ann.steps.find((s) => s.node_name === 'Hot?')!;
    assert.deepEqual(annFilter.output.map((items) => items.length), [1, 0]);

    const bob = await stepsOf(contacts.bob!);
    assert.deepEqual(bob.steps.map((s) => s.node_name), ['Trigger', 'Score +10', 'Hot?']);
    assert.deepEqual(bob.steps.find((s) => s.node_name === 'Hot?')!.output.map((items) => items.length), [0, 1]);

    const members = await stack.api('GET', `/v1/lists/${listId}/members`);
    assert.deepEqual(members.body.contactIds, [contacts.ann]);
    const segments = await stack.api('GET', `/v1/contacts/${contacts.ann}/segments`);
    assert.deepEqual(segments.body.segments.map((s: { name: string }) => s.name), ['score above 5']);
  });

  const activities = (overrides: { scoring?: Runtime['scoring'] } = {}) =>
    createActivities({
      store: runtime.store,
      registry: runtime.registry,
      sendGate: new SendGate({ db: runtime.store.db, secret: SECRET, publicUrl: runtime.url! }),
      segments: runtime.segments,
      scoring: overrides.scoring ?? runtime.scoring,
      logger: quietLogger,
    });

  const scoreStepRequest = async (contactId: string) => {
    const { journey, steps } = await stepsOf(contactId);
    const step = steps.find((s) => s.node_name === 'Score +10')!;
    const trigger = steps.find((s) => s.node_name === 'Trigger')!;
    return {
      journeyId: journey.id as string,
      workspaceId: stack.workspaceId,
      versionId: journey.version_id as string,
      contactId,
      entryEventId: journey.entry_event_id as string,
      node: 'Score +10',
      seq: step.seq,
      input: { seq: trigger.seq, output: 0 },
    };
  };

  test('a retried score step does not add the points twice', async () => {
    // Exactly what Temporal does when an attempt's result is lost: the same step runs again.
    const result = await activities().runActionStep(await scoreStepRequest(contacts.ann!));
    assert.deepEqual(result.outputsWithItems, [true]);
    const score = await stack.api('GET', `/v1/contacts/${contacts.ann}/score`);
    assert.equal(score.body.score, 10, 'still 10 after the retry');
    assert.equal(score.body.ledger.filter((l: { source: string }) => l.source === 'node').length, 1);
    const { steps } = await stepsOf(contacts.ann!);
    const scored = steps.find((s) => s.node_name === 'Score +10')!.output[0]![0]!.json;
    assert.deepEqual([scored.previous, scored.score], [0, 10], 'the retry answers what the first attempt did');
  });

  test('a contact deleted while its step runs gives a clear, non-retryable CONTACT_NOT_FOUND', async () => {
    const request = await scoreStepRequest(contacts.bob!);
    // The contact is erased between the step's start (it was loaded) and the score change.
    const scoring = Object.create(runtime.scoring, {
      adjust: {
        value: async (...args: Parameters<Runtime['scoring']['adjust']>) => {
          const erased = await stack.api('DELETE', `/v1/contacts/${contacts.bob}`);
          assert.equal(erased.status, 200);
          return runtime.scoring.adjust(...args);
        },
      },
    }) as Runtime['scoring'];
    await assert.rejects(activities({ scoring }).runActionStep(request), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure, String(error));
      assert.equal(error.type, 'CONTACT_NOT_FOUND');
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, /^Score \+10: Contact [0-9a-f-]{36} no longer exists/);
      return true;
    });
  });

  test('a workflow naming an unknown segment fails its journey with the segment named', async () => {
    const broken = structuredClone(workflow);
    broken.name = 'Typo';
    broken.nodes[0]!.parameters = { event: 'typo_event' };
    broken.nodes[2]!.parameters = { mode: 'segment', segment: 'score abov 5' };
    const deployed = await stack.api('POST', '/v1/workflows?activate=true', broken);
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    await stack.api('POST', '/v1/events', { name: 'typo_event', externalId: 'ann' });
    const journey = await eventually(
      async () => (await runtime.store.db('journeys').where({ contact_id: contacts.ann, status: 'failed' }).first()) as { error: string } | undefined,
      60_000,
      'the journey to fail',
    );
    assert.match(journey.error, /Hot\?: No segment "score abov 5" in this workspace/);
  });
});
