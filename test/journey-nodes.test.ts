// n8n's control-flow nodes inside a real journey: Edit Fields (Set), Switch, Filter, No Op and a
// loop long enough to make the journey continue as new, on the time-skipping test server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startJourneyStack, type JourneyStack } from './support/time-skipping-stack.js';
import { eventually } from './support/stack.js';

const trigger = (event: string) => ({ id: 'trigger', name: 'Trigger', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event } });
const email = (name: string, subject: string) => ({
  id: name,
  name,
  type: '@campaignos/n8n-nodes-email.email',
  typeVersion: 1,
  position: [0, 0],
  parameters: { subject, mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>{{ item.greeting }}</mj-text></mj-column></mj-section></mj-body></mjml>' },
  credentials: { campaignOsSmtp: { id: null, name: 'Acme SMTP' } },
});
const link = (to: string) => ({ node: to, type: 'main', index: 0 });
const condition = (left: string, operation: string, right: unknown, type = 'string') => ({
  options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
  conditions: [{ id: `${left}-${operation}`, leftValue: left, rightValue: right, operator: { type, operation } }],
  combinator: 'and',
});

describe('control-flow nodes in journeys', () => {
  let t: JourneyStack;
  before(async () => {
    t = await startJourneyStack();
  });
  after(() => t?.stop());

  test('Set feeds a Switch and a Filter; item fields reach the email', async () => {
    const workflow = {
      name: 'Tiered greeting',
      nodes: [
        trigger('purchase'),
        {
          id: 'set',
          name: 'Greeting',
          type: 'n8n-nodes-base.set',
          typeVersion: 3.4,
          position: [0, 0],
          parameters: {
            assignments: {
              assignments: [
                { id: 'a1', name: 'greeting', value: "={{ 'Thanks, ' + $json.contact.attributes.firstName + '!' }}", type: 'string' },
                { id: 'a2', name: 'tier', value: '={{ $json.event.properties.total >= 100 ? "gold" : "silver" }}', type: 'string' },
                { id: 'a3', name: 'total', value: '={{ $json.event.properties.total }}', type: 'number' },
              ],
            },
            options: {},
          },
        },
        {
          id: 'switch',
          name: 'By tier',
          type: 'n8n-nodes-base.switch',
          typeVersion: 3.2,
          position: [0, 0],
          parameters: {
            rules: {
              values: [
                { conditions: condition('={{ $json.tier }}', 'equals', 'gold'), renameOutput: false },
                { conditions: condition('={{ $json.tier }}', 'equals', 'silver'), renameOutput: false },
              ],
            },
            options: {},
          },
        },
        { id: 'noop', name: 'Gold lane', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [0, 0], parameters: {} },
        {
          id: 'filter',
          name: 'Only real orders',
          type: 'n8n-nodes-base.filter',
          typeVersion: 2.1,
          position: [0, 0],
          parameters: { conditions: condition('={{ $json.total }}', 'gt', 0, 'number'), options: {} },
        },
        email('Gold email', 'Gold: {{ item.greeting }}'),
        email('Silver email', 'Silver: {{ item.greeting }}'),
      ],
      connections: {
        Trigger: { main: [[link('Greeting')]] },
        Greeting: { main: [[link('By tier')]] },
        'By tier': { main: [[link('Gold lane')], [link('Only real orders')]] },
        'Gold lane': { main: [[link('Gold email')]] },
        'Only real orders': { main: [[link('Silver email')]] },
      },
    };
    const deployed = await t.stack.api('POST', '/v1/workflows?activate=true', workflow);
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));

    for (const [name, total] of [['Gil', 250], ['Sam', 20], ['Zed', 0]] as const) {
      await t.stack.api('POST', '/v1/contacts', { externalId: name, email: `${name.toLowerCase()}@example.com`, attributes: { firstName: name } });
      await t.stack.api('POST', '/v1/events', { name: 'purchase', externalId: name, properties: { total } });
    }
    await eventually(async () => {
      const rows = await t.stack.runtime.store.db('journeys').where({ status: 'completed' }).count<{ count: string }[]>('* as count');
      return Number(rows[0]!.count) === 3;
    }, 30_000, 'three journeys to complete');

    const subjects = t.smtp.messages.map((m) => `${m.envelopeTo[0]} ${m.parsed.subject}`).sort();
    assert.deepEqual(subjects, ['gil@example.com Gold: Thanks, Gil!', 'sam@example.com Silver: Thanks, Sam!'], 'Zed (total 0) was filtered out');
    assert.match(String(t.smtp.messages.find((m) => m.envelopeTo[0] === 'gil@example.com')!.parsed.html), /Thanks, Gil!/);
  });

  test('a loop of several hundred steps continues as new and still finishes', { timeout: 120_000 }, async () => {
    const workflow = {
      name: 'Counter',
      nodes: [
        trigger('count'),
        {
          id: 'inc',
          name: 'Increment',
          type: 'n8n-nodes-base.set',
          typeVersion: 3.4,
          position: [0, 0],
          parameters: { assignments: { assignments: [{ id: 'c', name: 'count', value: '={{ ($json.count ?? 0) + 1 }}', type: 'number' }] }, options: {} },
        },
        { id: 'if', name: 'Below 150?', type: 'n8n-nodes-base.if', typeVersion: 2.2, position: [0, 0], parameters: { conditions: condition('={{ $json.count }}', 'lt', 150, 'number'), options: {} } },
        { id: 'done', name: 'Done', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [0, 0], parameters: {} },
      ],
      connections: {
        Trigger: { main: [[link('Increment')]] },
        Increment: { main: [[link('Below 150?')]] },
        'Below 150?': { main: [[link('Increment')], [link('Done')]] },
      },
    };
    assert.equal((await t.stack.api('POST', '/v1/workflows?activate=true', workflow)).status, 201);
    const { body } = await t.stack.api('POST', '/v1/events', { name: 'count', externalId: 'counter' });
    const journey = await eventually(async () => {
      const row = await t.stack.runtime.store.db('journeys').where({ contact_id: body.contactId, status: 'completed' }).first();
      return row ?? false;
    }, 90_000, 'the counting journey to complete');
    assert.equal(journey.current_node, 'Done');
    const last = await t.stack.runtime.store.db('journey_steps').where({ journey_id: journey.id, node_name: 'Increment' }).orderBy('seq', 'desc').first();
    assert.equal(last.output[0][0].json.count, 150);
    // The latest run was started by continue-as-new from an earlier one.
    const history = await t.env.client.workflow.getHandle(journey.id).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started?.continuedExecutionRunId, 'the journey continued as new');
  });
});
