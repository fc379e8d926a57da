import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { INodeExecutionData, ITriggerFunctions } from 'n8n-workflow';
import { isDefinedNode } from '@campaignos/sdk';
import { createMockContext, runNode } from '@campaignos/sdk/testing';
import { ScheduleTrigger } from './ScheduleTrigger.node.js';

const SEGMENT_ID = '0b9f1a2c-1111-4222-8333-444455556666';

/** n8n's trigger functions, with the CampaignOS API answered from a table (unit test only). */
function triggerFunctions(parameters: Record<string, unknown>, options: { mode?: string; timezone?: string } = {}) {
  const crons: Array<{ expression: string; onTick: () => void }> = [];
  const emitted: INodeExecutionData[][][] = [];
  const requests: string[] = [];
  const answers: Record<string, unknown> = {
    '/v1/segments': { segments: [{ id: SEGMENT_ID, name: 'Active' }] },
    [`/v1/segments/${SEGMENT_ID}/members?limit=500`]: { members: [{ id: 'c-1' }], nextCursor: 'next' },
    [`/v1/segments/${SEGMENT_ID}/members?limit=500&after=next`]: { members: [{ id: 'c-2' }], nextCursor: null },
    '/v1/contacts/c-1': { contact: { id: 'c-1', externalId: 'ada', email: 'ada@example.com', phone: null, timeZone: 'Europe/Paris', attributes: { firstName: 'Ada' } } },
    '/v1/contacts/c-2': { contact: { id: 'c-2', externalId: null, email: 'bob@example.com', phone: '+33600000000', timeZone: null, attributes: {} } },
  };
  const fns = {
    getNode: () => ({ name: 'Every Monday', type: 'scheduleTrigger', typeVersion: 1 }),
    getMode: () => options.mode ?? 'trigger',
    getTimezone: () => options.timezone ?? 'UTC',
    getNodeParameter: (name: string, fallback: unknown) => parameters[name] ?? fallback,
    getCredentials: async () => ({ baseUrl: 'http://campaignos.test/', apiKey: 'k' }),
    emit: (data: INodeExecutionData[][]) => emitted.push(data),
    emitError: (error: Error) => {
      throw error;
    },
    helpers: {
      registerCron: (cron: { expression: string }, onTick: () => void) => crons.push({ expression: cron.expression, onTick }),
      httpRequestWithAuthentication: async (credential: string, request: { url: string; method: string }) => {
        assert.equal(credential, 'campaignOsApi');
        const path = request.url.replace('http://campaignos.test', '');
        requests.push(`${request.method} ${path}`);
        return path in answers ? { statusCode: 200, body: answers[path] } : { statusCode: 404, body: { error: { message: 'not found' } } };
      },
    },
  } as unknown as ITriggerFunctions;
  return { fns, crons, emitted, requests };
}

describe('ScheduleTrigger', () => {
  it('subscribes to its own ticks with the cron, time zone and segment', () => {
    assert.ok(isDefinedNode(ScheduleTrigger));
    const subscribe = ScheduleTrigger.campaignos.definition.trigger!.subscribe;
    assert.deepEqual(subscribe({ cron: ' 0 9 * * 1 ', timeZone: 'Europe/Berlin', segment: ' Active ' }), {
      event: '$schedule_tick',
      allowReentry: true,
      schedule: { cron: '0 9 * * 1', timeZone: 'Europe/Berlin', segment: 'Active' },
    });
    assert.deepEqual(subscribe({ cron: '*/15 8-18 * * MON-FRI', timeZone: '', segment: SEGMENT_ID }), {
      event: '$schedule_tick',
      allowReentry: true,
      schedule: { cron: '*/15 8-18 * * MON-FRI', segment: SEGMENT_ID },
    });
    assert.match(String(subscribe({ cron: '', segment: 'Active' })), /cron expression is required/);
    assert.match(String(subscribe({ cron: '0 0 9 * * 1', segment: 'Active' })), /5 fields/);
    assert.match(String(subscribe({ cron: '0 9 * * 1;rm', segment: 'Active' })), /not a cron field/);
    assert.match(String(subscribe({ cron: '0 9 * * 1', timeZone: 'Mars/Olympus', segment: 'Active' })), /IANA time zone/);
    assert.match(String(subscribe({ cron: '0 9 * * 1', segment: '' })), /segment/);
  });

  it('is an n8n cron trigger with the CampaignOS credential, not a webhook', () => {
    const { description } = ScheduleTrigger.campaignos.definition;
    assert.equal(description.name, 'scheduleTrigger');
    assert.equal(description.displayName, 'CampaignOS Schedule Trigger');
    assert.deepEqual(description.inputs, []);
    assert.deepEqual(description.credentials, [{ name: 'campaignOsApi', required: true }]);
    assert.equal(description.webhooks, undefined);
    const node = new ScheduleTrigger();
    assert.equal(typeof node.trigger, 'function');
    assert.equal(node.webhook, undefined);
    assert.equal(node.webhookMethods, undefined);
  });

  it('passes the tick item through in the runtime', async () => {
    const tick = { event: { id: 'e-1', name: '$schedule_tick', properties: { segmentName: 'Active' }, timestamp: '2025-01-06T09:00:00.000Z' }, contact: { id: 'c-1' } };
    const [out] = await runNode(ScheduleTrigger, createMockContext({ items: [{ json: tick }], parameters: { cron: '0 9 * * 1', segment: 'Active' } }));
    assert.deepEqual(out, [{ json: tick, pairedItem: { item: 0 } }]);
  });

  it('inside n8n registers the cron and emits one item per segment member at each tick', async () => {
    const { fns, crons, emitted, requests } = triggerFunctions({ cron: '0 9 * * 1', segment: 'Active' });
    const response = await new ScheduleTrigger().trigger!.call(fns);
    assert.deepEqual(response, {});
    assert.deepEqual(crons.map((c) => c.expression), ['0 9 * * 1']);
    assert.equal(emitted.length, 0, 'nothing before the first tick');

    crons[0]!.onTick();
    await waitFor(() => emitted.length === 1);
    const items = emitted[0]![0]!;
    assert.deepEqual(items.map((i) => (i.json.contact as { email: string }).email), ['ada@example.com', 'bob@example.com']);
    const first = items[0]!.json as { event: Record<string, unknown>; contact: Record<string, unknown> };
    assert.equal(first.event.name, '$schedule_tick');
    assert.deepEqual(first.event.properties, { segmentId: SEGMENT_ID, segmentName: 'Active' });
    assert.deepEqual(first.contact, { id: 'c-1', externalId: 'ada', email: 'ada@example.com', phone: null, timeZone: 'Europe/Paris', attributes: { firstName: 'Ada' } });
    assert.ok(requests.includes(`GET /v1/segments/${SEGMENT_ID}/members?limit=500&after=next`), 'reads every page');
  });

  it('runs one tick on a manual test run without registering a cron', async () => {
    const { fns, crons, emitted } = triggerFunctions({ cron: '0 9 * * 1', segment: SEGMENT_ID }, { mode: 'manual' });
    const answers = fns.helpers.httpRequestWithAuthentication as unknown as (c: string, r: { url: string; method: string }) => Promise<unknown>;
    // By id, the segment is read directly.
    (fns.helpers as unknown as Record<string, unknown>).httpRequestWithAuthentication = async (c: string, r: { url: string; method: string }) =>
      r.url.endsWith(`/v1/segments/${SEGMENT_ID}`) ? { statusCode: 200, body: { segment: { id: SEGMENT_ID, name: 'Active' } } } : answers(c, r);
    const response = await new ScheduleTrigger().trigger!.call(fns);
    assert.equal(crons.length, 0);
    await response?.manualTriggerFunction?.();
    assert.equal(emitted[0]?.[0]?.length, 2);
  });

  it("refuses a time zone n8n cannot honour (n8n reads crons in the workflow's zone)", async () => {
    const { fns } = triggerFunctions({ cron: '0 9 * * 1', timeZone: 'Europe/Berlin', segment: 'Active' }, { timezone: 'America/New_York' });
    await assert.rejects(new ScheduleTrigger().trigger!.call(fns), /workflow's Timezone setting to Europe\/Berlin/);
    const same = triggerFunctions({ cron: '0 9 * * 1', timeZone: 'Europe/Berlin', segment: 'Active' }, { timezone: 'Europe/Berlin' });
    await new ScheduleTrigger().trigger!.call(same.fns);
    assert.equal(same.crons.length, 1);
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
}
