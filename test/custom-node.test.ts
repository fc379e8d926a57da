// A third-party node package, loaded the way an operator adds one (CAMPAIGNOS_NODE_PACKAGES),
// running in a real journey: real runtime, PostgreSQL, Temporal worker, and a local HTTP server
// answering like Slack's incoming webhooks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, startRuntime, type Runtime } from '@campaignos/runtime';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startSlackWebhook, type SlackWebhook } from './support/slack-webhook.js';
import { apiClient, eventually, quietLogger, SECRET, seedWorkspace, type Api } from './support/stack.js';
import { timeSkippingEnvironment } from './support/temporal.js';

const SLACK_NOTIFY = 'n8n-nodes-slack-notify.slackNotify';

/** n8n workflow JSON, as the editor exports it: event trigger → Slack Notify. */
const leadAlert = (event: string, credential: string) => ({
  name: `Lead alert (${event})`,
  nodes: [
    { id: 'trigger', name: 'New lead', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event } },
    {
      id: 'slack',
      name: 'Tell sales',
      type: SLACK_NOTIFY,
      typeVersion: 1,
      position: [220, 0],
      parameters: {
        text: 'New lead: {{ contact.firstName }} ({{ contact.email }}) wants {{ event.properties.plan }}',
        options: { channel: '#sales', username: 'CampaignOS' },
      },
      credentials: { slackWebhookApi: { id: null, name: credential } },
    },
  ],
  connections: { 'New lead': { main: [[{ node: 'Tell sales', type: 'main', index: 0 }]] } },
});

describe('a third-party node package (n8n-nodes-slack-notify) in the runtime', () => {
  let database: TestDatabase;
  let env: TestWorkflowEnvironment;
  let slack: SlackWebhook;
  let runtime: Runtime;
  let api: Api;

  before(async () => {
    database = await createTestDatabase();
    env = await timeSkippingEnvironment();
    slack = await startSlackWebhook();
    const { key } = await seedWorkspace(database.url, 'acme');
    // The operator's setting, parsed the way `campaignos dev|worker|api` parse it.
    const { nodePackages } = loadConfig({ CAMPAIGNOS_NODE_PACKAGES: ' n8n-nodes-slack-notify ' });
    runtime = await startRuntime({
      databaseUrl: database.url,
      temporal: { client: env.client, connection: env.nativeConnection, namespace: env.namespace ?? 'default' },
      secret: SECRET,
      roles: { api: true, router: true, worker: true },
      port: 0,
      migrate: true,
      logger: quietLogger,
      nodePackages,
      sweepIntervalMs: 3_600_000,
    });
    api = apiClient(runtime.url!, key);
    for (const [name, webhookUrl] of [['Sales Slack', slack.webhookUrl], ['Old Slack', slack.webhookUrl.replace(/X+$/, 'REVOKEDTOKEN')]]) {
      const res = await api('POST', '/v1/credentials', { name, type: 'slackWebhookApi', data: { webhookUrl } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await runtime?.stop();
    await env?.teardown();
    await slack?.close();
    await database?.drop();
  });

  async function enrol(externalId: string, firstName: string, event: string): Promise<string> {
    await api('POST', '/v1/contacts', { externalId, email: `${externalId}@example.com`, attributes: { firstName } });
    const res = await api('POST', '/v1/events', { name: event, externalId, properties: { plan: 'Pro' } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.contactId as string;
  }

  const journeyOf = (contactId: string, status: string) =>
    eventually(async () => {
      const { body } = await api('GET', `/v1/contacts/${contactId}/journeys`);
      return body.journeys.find((j: { status: string }) => j.status === status) ?? false;
    }, 60_000, `the journey to be ${status}`);

  test('the package is loaded from the setting and its node deploys', async () => {
    assert.equal(runtime.registry.get(SLACK_NOTIFY)?.packageName, 'n8n-nodes-slack-notify');
    const deployed = await api('POST', '/v1/workflows?activate=true', leadAlert('lead', 'Sales Slack'));
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  });

  test("a journey posts the contact's name to Slack", async () => {
    const contactId = await enrol('ada', 'Ada', 'lead');
    const [post] = await slack.waitFor(1);
    assert.deepEqual(post!.body, { text: 'New lead: Ada (ada@example.com) wants Pro', channel: '#sales', username: 'CampaignOS' });
    await journeyOf(contactId, 'completed');
    const { body } = await api('GET', `/v1/messages?contactId=${contactId}`);
    assert.deepEqual(
      body.messages.map((m: Record<string, unknown>) => [m.channel, m.recipient, m.status, m.nodeName]),
      [['slack', '#sales', 'sent', 'Tell sales']],
    );
  });

  test('a 429 is retried and the message is posted exactly once', async () => {
    const attempts = slack.attempts();
    slack.answerNext({ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } });
    const contactId = await enrol('bo', 'Bo', 'lead');
    await journeyOf(contactId, 'completed');
    assert.equal(slack.attempts() - attempts, 2, 'one refused attempt, one accepted');
    assert.deepEqual(
      slack.messages.filter((m) => m.body.text?.includes('Bo')).map((m) => m.body.text),
      ['New lead: Bo (bo@example.com) wants Pro'],
    );
    const { body } = await api('GET', `/v1/messages?contactId=${contactId}`);
    assert.deepEqual(body.messages.map((m: { status: string }) => m.status), ['sent']);
  });

  test('a revoked webhook URL fails the journey clearly, without retrying or leaking the URL', async () => {
    assert.equal((await api('POST', '/v1/workflows?activate=true', leadAlert('lead-old', 'Old Slack'))).status, 201);
    const posted = slack.messages.length;
    const contactId = await enrol('cy', 'Cy', 'lead-old');
    const journey = await journeyOf(contactId, 'failed');
    assert.doesNotMatch(String(journey.error), /REVOKEDTOKEN/);
    const { body } = await api('GET', `/v1/messages?contactId=${contactId}`);
    assert.equal(body.messages.length, 1);
    assert.equal(body.messages[0].status, 'failed');
    assert.match(body.messages[0].reason, /^INVALID_CREDENTIALS: Slack does not know this webhook \(404 no_service\): check the Webhook URL/);
    assert.doesNotMatch(body.messages[0].reason, /REVOKEDTOKEN/);
    assert.equal(slack.messages.length, posted, 'nothing was posted');
    assert.deepEqual(
      slack.requests.filter((r) => r.path.endsWith('REVOKEDTOKEN')).map((r) => r.status),
      [404],
      'asked once: INVALID_CREDENTIALS is not retried',
    );
  });
});
