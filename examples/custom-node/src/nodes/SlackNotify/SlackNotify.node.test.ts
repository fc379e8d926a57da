// Unit tests with the SDK's mock context, posting over real HTTP to a local Slack stand-in.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { isNodeError, NodeError, type HttpRequest, type HttpResponse, type NodeErrorCode } from '@campaignos/sdk';
import { createMockContext, runNode, type MockContextOptions } from '@campaignos/sdk/testing';
import { startSlackWebhook, type SlackWebhook } from '../../../../../test/support/slack-webhook.js';
import { SlackNotify } from './SlackNotify.node.js';

/** Real HTTP, failing the way hosts fail: a host error names the URL it could not reach. */
async function http(request: HttpRequest): Promise<HttpResponse> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: { 'content-type': 'application/json', ...request.headers },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs ?? 5_000),
    });
  } catch (error) {
    throw new NodeError('PROVIDER_UNAVAILABLE', `POST ${request.url}: ${(error as Error).message}`, { cause: error });
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

function fails(code: NodeErrorCode, check: (error: NodeError) => void = () => undefined) {
  return (error: unknown) => {
    assert.ok(isNodeError(error), `expected a NodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.itemIndex, 0);
    check(error);
    return true;
  };
}

describe('Slack Notify', () => {
  let slack: SlackWebhook;
  const contact = { id: 'c-1', email: 'ada@example.com', attributes: { firstName: 'Ada', plan: 'pro' } };
  const context = (options: Partial<MockContextOptions> & { webhookUrl?: string } = {}) =>
    createMockContext({
      items: [{ json: { event: { name: 'signup', properties: { plan: 'Pro' } } } }],
      parameters: { text: 'New lead: {{ contact.firstName }} ({{ contact.email }}) on {{ event.properties.plan }}' },
      credentials: { slackWebhookApi: { webhookUrl: options.webhookUrl ?? slack.webhookUrl } },
      campaign: { contact },
      http,
      ...options,
    });

  before(async () => {
    slack = await startSlackWebhook({ channels: ['#sales', '#alerts'] });
  });
  beforeEach(() => {
    slack.messages.length = 0;
  });
  after(() => slack.close());

  test('posts the contact from the runtime through the send gate', async () => {
    const ctx = context();
    const [out] = await runNode(SlackNotify, ctx);
    assert.deepEqual(slack.messages.map((m) => m.body), [{ text: 'New lead: Ada (ada@example.com) on Pro' }]);
    assert.deepEqual(ctx.deliveries.map((d) => d.envelope), [
      { channel: 'slack', recipient: 'webhook', itemIndex: 0, summary: 'New lead: Ada (ada@example.com) on Pro' },
    ]);
    assert.deepEqual(out![0]!.json.slack, { status: 'sent', messageId: 'mock-message-1', channel: 'webhook' });
    assert.deepEqual(out![0]!.json.event, { name: 'signup', properties: { plan: 'Pro' } }, 'the input item passes through');
  });

  test('channel, username and icon overrides reach Slack; the channel is the recipient', async () => {
    const ctx = context({
      parameters: { text: 'Hi {{ contact.firstName }}', options: { channel: '#sales', username: 'CampaignOS', iconEmoji: ':tada:' } },
    });
    await runNode(SlackNotify, ctx);
    assert.deepEqual(slack.messages[0]!.body, { text: 'Hi Ada', channel: '#sales', username: 'CampaignOS', icon_emoji: ':tada:' });
    assert.equal(ctx.deliveries[0]!.envelope.recipient, '#sales');
  });

  test('in n8n (no CampaignOS services) the contact comes from the item and it posts directly', async () => {
    const ctx = context({
      campaign: undefined,
      items: [{ json: { contact: { email: 'bo@example.com', attributes: { firstName: 'Bo' } } } }, { json: {} }],
      parameters: { text: 'Lead: {{ contact.firstName }} <{{ contact.email }}>' },
    });
    const [out] = await runNode(SlackNotify, ctx);
    assert.deepEqual(slack.messages.map((m) => m.body.text), ['Lead: Bo <bo@example.com>', 'Lead:  <>']);
    assert.deepEqual(out!.map((item) => item.json.slack), [
      { status: 'sent', messageId: null, channel: 'webhook' },
      { status: 'sent', messageId: null, channel: 'webhook' },
    ]);
  });

  test("contact data is escaped for Slack; the template's own markup is not", async () => {
    const ctx = context({
      campaign: { contact: { ...contact, attributes: { firstName: '<!channel> & co' } } },
      parameters: { text: '<https://crm.example.com/c/{{ contact.id }}|{{ contact.firstName }}>' },
    });
    await runNode(SlackNotify, ctx);
    assert.equal(slack.messages[0]!.body.text, '<https://crm.example.com/c/c-1|&lt;!channel&gt; &amp; co>');
  });

  test('a suppressed contact is skipped and nothing is posted', async () => {
    const ctx = context({ campaign: { contact, suppressed: true } });
    const [out] = await runNode(SlackNotify, ctx);
    assert.deepEqual(out![0]!.json.slack, { status: 'skipped', messageId: null, reason: 'suppressed' });
    assert.equal(slack.messages.length, 0);
  });

  test('an unknown webhook (404 no_service) is INVALID_CREDENTIALS and the URL stays secret', async () => {
    const wrong = slack.webhookUrl.replace(/X+$/, 'WRONGTOKEN');
    await assert.rejects(
      runNode(SlackNotify, context({ webhookUrl: wrong })),
      fails('INVALID_CREDENTIALS', (e) => {
        assert.equal(e.retryable, false);
        assert.match(e.message, /404 no_service/);
        assert.doesNotMatch(e.message, /WRONGTOKEN/);
      }),
    );
  });

  test('invalid_token is INVALID_CREDENTIALS too', async () => {
    slack.answerNext({ status: 403, body: 'invalid_token' });
    await assert.rejects(runNode(SlackNotify, context()), fails('INVALID_CREDENTIALS'));
  });

  test('a credential without an http(s) URL fails before anything is sent', async () => {
    for (const webhookUrl of ['', 'hooks.slack.com/services/T/B/secret', 'ftp://hooks.slack.com/services/T/B/secret']) {
      const ctx = context({ webhookUrl });
      await assert.rejects(runNode(SlackNotify, ctx), fails('INVALID_CREDENTIALS', (e) => assert.doesNotMatch(e.message, /secret/)));
      assert.equal(ctx.deliveries.length, 0);
    }
  });

  test('429 is RATE_LIMITED (retryable) and carries Retry-After', async () => {
    slack.answerNext({ status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } });
    await assert.rejects(
      runNode(SlackNotify, context()),
      fails('RATE_LIMITED', (e) => {
        assert.equal(e.retryable, true);
        assert.match(e.message, /retry after 30 s/);
        assert.equal(e.description, 'Retry-After: 30');
      }),
    );
  });

  test('text over 40,000 characters is MESSAGE_TOO_LARGE before anything is sent', async () => {
    const before = slack.attempts();
    const ctx = context({ parameters: { text: `{{ contact.firstName }} ${'x'.repeat(39_997)}` } });
    await assert.rejects(runNode(SlackNotify, ctx), fails('MESSAGE_TOO_LARGE', (e) => assert.match(e.message, /40001 characters/)));
    assert.equal(slack.attempts(), before, 'Slack was not asked');
    assert.equal(ctx.deliveries.length, 0, 'the send gate was not asked either');
    // Exactly at the limit is fine; emoji count as one character, as in Slack.
    await runNode(SlackNotify, context({ parameters: { text: '🎉'.repeat(40_000) } }));
    assert.equal(slack.messages.length, 1);
  });

  test("Slack's own msg_too_long is MESSAGE_TOO_LARGE", async () => {
    slack.answerNext({ status: 400, body: 'msg_too_long' });
    await assert.rejects(runNode(SlackNotify, context()), fails('MESSAGE_TOO_LARGE', (e) => assert.equal(e.retryable, false)));
  });

  test('5xx and an unreachable Slack are PROVIDER_UNAVAILABLE (retryable)', async () => {
    slack.answerNext({ status: 503, body: 'service_unavailable' });
    await assert.rejects(runNode(SlackNotify, context()), fails('PROVIDER_UNAVAILABLE', (e) => assert.equal(e.retryable, true)));

    const gone = await startSlackWebhook({ token: 'GONESECRET' });
    await gone.close();
    await assert.rejects(
      runNode(SlackNotify, context({ webhookUrl: gone.webhookUrl })),
      fails('PROVIDER_UNAVAILABLE', (e) => {
        assert.match(e.message, /could not be reached \(ECONNREFUSED\)/);
        assert.doesNotMatch(e.message, /GONESECRET/);
      }),
    );
  });

  test('an unknown channel is RECIPIENT_INVALID; other refusals are PROVIDER_REJECTED', async () => {
    await assert.rejects(
      runNode(SlackNotify, context({ parameters: { text: 'hi', options: { channel: '#nope' } } })),
      fails('RECIPIENT_INVALID', (e) => assert.match(e.message, /"#nope" \(404 channel_not_found\)/)),
    );
    slack.answerNext({ status: 403, body: 'action_prohibited' });
    await assert.rejects(runNode(SlackNotify, context()), fails('PROVIDER_REJECTED', (e) => assert.match(e.message, /403: action_prohibited/)));
  });

  test('an empty text is INVALID_PARAMETER; with continue-on-fail the item carries the error', async () => {
    await assert.rejects(runNode(SlackNotify, context({ parameters: { text: '  ' } })), fails('INVALID_PARAMETER'));
    const [out] = await runNode(SlackNotify, context({ parameters: { text: '' }, continueOnFail: true }));
    assert.deepEqual(out![0]!.json.error, { code: 'INVALID_PARAMETER', message: 'Parameter "text" is empty' });
    assert.equal(slack.messages.length, 0);
  });

  test('the class is an n8n node type with its credential', () => {
    const node = new SlackNotify();
    assert.equal(node.description.name, 'slackNotify');
    assert.deepEqual(node.description.credentials, [{ name: 'slackWebhookApi', required: true }]);
    assert.equal(SlackNotify.campaignos.definition.channel, 'slack');
  });
});
