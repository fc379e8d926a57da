import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IWebhookFunctions } from 'n8n-workflow';
import { isDefinedNode } from '@campaignos/sdk';
import { createMockContext, runNode } from '@campaignos/sdk/testing';
import { EventTrigger } from './EventTrigger.node.js';

const enrolment = {
  event: { id: 'evt-1', name: 'signup', properties: { plan: 'pro' }, timestamp: '2025-01-01T10:00:00.000Z' },
  contact: { id: 'c-1', externalId: 'u-1', email: 'ada@example.com', phone: null, attributes: { firstName: 'Ada' }, timeZone: 'Europe/Paris' },
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
    assert.deepEqual(item?.json.contact, { id: 'c-2', externalId: null, email: null, phone: null, attributes: {}, timeZone: null });
    assert.deepEqual((item?.json.event as { properties: unknown }).properties, {});
  });

  it("reads the runtime's occurredAt as the item's timestamp", () => {
    const webhook = EventTrigger.campaignos.definition.webhook!;
    const [item] = webhook({ event: { id: 'e', name: 'signup', occurredAt: '2025-02-03T04:05:06.000Z' }, contact: { id: 'c' } }, () => 'signup') ?? [];
    assert.equal((item?.json.event as { timestamp: string }).timestamp, '2025-02-03T04:05:06.000Z');
  });

  it('answers signed n8n webhook calls through the generated class and refuses the rest', async () => {
    const node = new EventTrigger();
    const secret = 'whsec_test';
    const call = (body: unknown, signature: string | undefined, staticSecret: string | null = secret) => {
      const raw = Buffer.from(JSON.stringify(body));
      const response = { code: 0, body: undefined as unknown };
      const fns = {
        getBodyData: () => body,
        getNodeParameter: (name: string) => ({ event: 'signup' })[name],
        getWorkflowStaticData: () => (staticSecret === null ? {} : { subscriptionId: 'sub-1', secret: staticSecret }),
        getRequestObject: () => ({ rawBody: raw, header: (name: string) => (name.toLowerCase() === 'x-campaignos-signature' ? signature : undefined) }),
        getResponseObject: () => ({
          status(code: number) {
            response.code = code;
            return this;
          },
          json(value: unknown) {
            response.body = value;
            return this;
          },
        }),
      } as unknown as IWebhookFunctions;
      return { run: () => node.webhook!.call(fns), response, raw };
    };
    const sign = (body: unknown) => `sha256=${createHmac('sha256', secret).update(JSON.stringify(body)).digest('hex')}`;

    const hit = await call(enrolment, sign(enrolment)).run();
    assert.deepEqual(hit.workflowData, [[{ json: enrolment }]]);

    const other = { ...enrolment, event: { ...enrolment.event, name: 'other' } };
    const miss = await call(other, sign(other)).run();
    assert.equal(miss.workflowData, undefined, 'a signed call for another event starts nothing');

    for (const [what, signature, staticSecret] of [
      ['unsigned', undefined, secret],
      ['signed with another secret', `sha256=${createHmac('sha256', 'other').update(JSON.stringify(enrolment)).digest('hex')}`, secret],
      ['signed over another body', sign({ ...enrolment, contact: { id: 'c-evil' } }), secret],
      ['malformed', 'sha256=zz', secret],
      ['received before any subscription exists', sign(enrolment), null],
    ] as const) {
      const refused = call(enrolment, signature, staticSecret);
      const result = await refused.run();
      assert.equal(result.workflowData, undefined, what);
      assert.equal(result.noWebhookResponse, true, what);
      assert.equal(refused.response.code, 401, what);
    }
  });
});
