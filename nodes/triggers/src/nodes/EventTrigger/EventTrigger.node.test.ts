import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IWebhookFunctions } from 'n8n-workflow';
import { isDefinedNode } from '@campaignos/sdk';
import { createMockContext, runNode } from '@campaignos/sdk/testing';
import { EventTrigger } from './EventTrigger.node.js';

const enrolment = {
  event: { id: 'evt-1', name: 'signup', properties: { plan: 'pro' }, timestamp: '2025-01-01T10:00:00.000Z' },
  contact: { id: 'c-1', externalId: 'u-1', email: 'ada@example.com', attributes: { firstName: 'Ada' }, timeZone: 'Europe/Paris' },
};

describe('EventTrigger', () => {
  it('is an n8n trigger node made with the SDK', () => {
    assert.ok(isDefinedNode(EventTrigger));
    const { description, group, trigger } = EventTrigger.campaignos.definition;
    assert.equal(group, 'trigger');
    assert.deepEqual(trigger?.subscribe({ event: 'signup' }), { event: 'signup', allowReentry: false });
    assert.deepEqual(trigger?.subscribe({ event: 'signup', allowReentry: true }), { event: 'signup', allowReentry: true });
    assert.match(String(trigger?.subscribe({ event: '' })), /required/);
    assert.match(String(trigger?.subscribe({ event: '$segment_entered' })), /system event/);
    assert.equal(description.name, 'eventTrigger');
    assert.deepEqual(description.group, ['trigger']);
    assert.deepEqual(description.inputs, []);
    assert.deepEqual(description.outputs, ['main']);
    assert.equal(description.icon, 'file:campaignos.svg');
    const event = description.properties.find((p) => p.name === 'event');
    const reentry = description.properties.find((p) => p.name === 'allowReentry');
    assert.equal(event?.required, true);
    assert.equal(reentry?.type, 'boolean');
    assert.equal(reentry?.default, false);
    assert.equal(new EventTrigger().description, description);
  });

  it('passes the enrolment item through in the runtime', async () => {
    const ctx = createMockContext({ items: [{ json: enrolment }], parameters: { event: 'signup', allowReentry: false } });
    const [out] = await runNode(EventTrigger, ctx);
    assert.deepEqual(out, [{ json: enrolment, pairedItem: { item: 0 } }]);
  });

  it('turns a matching webhook body into one item and ignores others', () => {
    const webhook = EventTrigger.campaignos.definition.webhook!;
    const params = (name: string) => ({ event: 'signup', allowReentry: false })[name];
    assert.deepEqual(webhook(enrolment, params), [{ json: enrolment }]);
    assert.equal(webhook({ ...enrolment, event: { ...enrolment.event, name: 'purchase' } }, params), null);
    assert.equal(webhook({ event: 'signup' }, params), null);
    assert.equal(webhook('signup', params), null);
    assert.equal(webhook({ event: { name: 'signup' }, contact: {} }, params), null);
  });

  it('fills optional fields of a sparse event body', () => {
    const webhook = EventTrigger.campaignos.definition.webhook!;
    const [item] = webhook({ event: { name: 'signup' }, contact: { id: 'c-2' } }, () => 'signup') ?? [];
    assert.deepEqual(item?.json.contact, { id: 'c-2', externalId: null, email: null, attributes: {}, timeZone: null });
    assert.deepEqual((item?.json.event as { properties: unknown }).properties, {});
  });

  it('answers n8n webhook calls through the generated class', async () => {
    const node = new EventTrigger();
    const fns = (body: unknown) =>
      ({ getBodyData: () => body, getNodeParameter: (name: string) => ({ event: 'signup' })[name] }) as unknown as IWebhookFunctions;
    const hit = await node.webhook!.call(fns(enrolment));
    assert.deepEqual(hit.workflowData, [[{ json: enrolment }]]);
    const miss = await node.webhook!.call(fns({ ...enrolment, event: { ...enrolment.event, name: 'other' } }));
    assert.equal(miss.workflowData, undefined);
  });
});
