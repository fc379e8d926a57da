import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { generateVAPIDKeys } from 'web-push';
import { isNodeError, type ChannelAddress, type NodeItem } from '@campaignos/sdk';
import { createMockContext, runNode, type MockContextOptions } from '@campaignos/sdk/testing';
import { startPushService, type BrowserSubscription, type PushService } from '../../../../../test/support/push-service.js';
import { WebPush, type WebPushStatus } from './WebPush.node.js';
import { MAX_PAYLOAD_BYTES } from './push.js';

const vapid = generateVAPIDKeys();
const credentials = { ...vapid, subject: 'mailto:push@shop.example' };

let push: PushService;
let untrust: () => void;

const enrolment: NodeItem = {
  json: {
    event: { id: 'e-1', name: 'cart_abandoned', properties: { product: 'Blue Kettle', cartId: 'c42' } },
    contact: { id: 'c-1', attributes: { firstName: 'Ada' } },
  },
};

const parameters = {
  title: 'Still thinking it over, {{ contact.firstName }}?',
  body: 'Your {{ event.properties.product }} is waiting.',
  url: 'https://shop.example/cart/{{ event.properties.cartId }}',
  icon: 'https://shop.example/icon.png',
  ttl: 3600,
  urgency: 'high',
  topic: 'cart-reminder',
  subscription: '',
};

const asAddress = (s: BrowserSubscription): ChannelAddress => ({ channel: 'webpush', address: s.endpoint, data: { keys: s.keys } });

function context(overrides: Partial<MockContextOptions> = {}, addresses: ChannelAddress[] = []) {
  return createMockContext({
    items: [enrolment],
    parameters,
    credentials: { campaignOsVapid: credentials },
    campaign: { contact: { id: 'c-1', attributes: { firstName: 'Ada' } }, addresses },
    node: { name: 'Push reminder', type: '@campaignos/n8n-nodes-webpush.webPush' },
    ...overrides,
  });
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, retryable?: boolean, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isNodeError(error), `expected a NodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.itemIndex, 0);
    if (retryable !== undefined) assert.equal(error.retryable, retryable);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const webpushOf = (out: NodeItem[] | undefined, i = 0) => out?.[i]?.json.webpush as WebPushStatus;

before(async () => {
  push = await startPushService();
  untrust = push.trustInThisProcess();
});
after(async () => {
  untrust();
  await push.close();
});
beforeEach(() => {
  push.received.length = 0;
  push.rejected.length = 0;
  push.rateLimit(0);
  push.failNext(0, 503);
});

describe('Web Push node', () => {
  it('describes itself as an n8n node with the VAPID credential', () => {
    const { description, group, channel } = WebPush.campaignos.definition;
    assert.equal(group, 'channel');
    assert.equal(channel, 'webpush');
    assert.equal(description.name, 'webPush');
    assert.deepEqual(description.credentials, [
      { name: 'campaignOsVapid', required: true },
      { name: 'campaignOsApi', required: false },
    ]);
    assert.deepEqual(
      description.properties.map((p) => p.name),
      ['title', 'body', 'url', 'icon', 'ttl', 'urgency', 'topic', 'subscription'],
    );
    assert.equal(description.properties.find((p) => p.name === 'subscription')?.default, '={{ $json.subscription }}');
  });

  it('sends the personalised, encrypted payload to every subscription of the contact through the gate', async () => {
    const phone = push.subscribe({ applicationServerKey: vapid.publicKey });
    const laptop = push.subscribe({ applicationServerKey: vapid.publicKey });
    const ctx = context({}, [asAddress(phone), asAddress(laptop)]);
    const [out] = await runNode(WebPush, ctx);

    assert.deepEqual(
      ctx.deliveries.map((d) => d.envelope),
      [phone, laptop].map((s) => ({ channel: 'webpush', recipient: s.endpoint, itemIndex: 0, summary: 'Still thinking it over, Ada?' })),
    );
    await push.waitFor(2);
    for (const [i, s] of [phone, laptop].entries()) {
      const received = push.received[i]!;
      assert.equal(received.endpoint, s.endpoint);
      assert.deepEqual(JSON.parse(received.payload), {
        title: 'Still thinking it over, Ada?',
        body: 'Your Blue Kettle is waiting.',
        url: 'https://shop.example/cart/c42',
        icon: 'https://shop.example/icon.png',
      });
      assert.equal(received.ttl, 3600);
      assert.equal(received.urgency, 'high');
      assert.equal(received.topic, 'cart-reminder');
      assert.equal(received.vapid.publicKey, vapid.publicKey);
      assert.equal(received.vapid.sub, 'mailto:push@shop.example');
      assert.equal(received.vapid.aud, push.origin);
    }
    const status = webpushOf(out);
    assert.equal(status.status, 'sent');
    assert.equal(status.sent, 2);
    assert.deepEqual(status.deliveries.map((d) => d.status), ['sent', 'sent']);
    assert.deepEqual(status.deliveries[0], { endpoint: phone.endpoint, status: 'sent', messageId: 'mock-message-1', statusCode: 201 });
    assert.deepEqual(out?.[0]?.json.event, enrolment.json.event, 'the item passes through');
  });

  it('removes a subscription the push service answers 410 for and still reaches the others', async () => {
    const expired = push.subscribe();
    const live = push.subscribe();
    push.expire(expired.endpoint);
    const ctx = context({}, [asAddress(expired), asAddress(live)]);
    const [out] = await runNode(WebPush, ctx);

    assert.deepEqual(ctx.campaignState.addresses.map((a) => a.address), [live.endpoint]);
    assert.equal(push.received.length, 1);
    assert.equal(push.received[0]?.endpoint, live.endpoint);
    const status = webpushOf(out);
    assert.equal(status.status, 'sent');
    assert.deepEqual(status.deliveries[0], { endpoint: expired.endpoint, status: 'removed', statusCode: 410 });
  });

  it('reports a contact whose only subscription expired as skipped, without failing', async () => {
    const expired = push.subscribe();
    push.expire(expired.endpoint);
    const ctx = context({}, [asAddress(expired)]);
    const [out] = await runNode(WebPush, ctx);
    assert.deepEqual(webpushOf(out), { status: 'skipped', reason: 'no-recipient', sent: 0, deliveries: [{ endpoint: expired.endpoint, status: 'removed', statusCode: 410 }] });
    assert.deepEqual(ctx.campaignState.addresses, []);
  });

  it('skips a contact without subscriptions', async () => {
    const ctx = context();
    const [out] = await runNode(WebPush, ctx);
    assert.deepEqual(webpushOf(out), { status: 'skipped', reason: 'no-recipient', sent: 0, deliveries: [] });
    assert.equal(ctx.deliveries.length, 0);
  });

  it('sends nothing when the gate says the contact is suppressed', async () => {
    const ctx = context({ campaign: { suppressed: true, addresses: [asAddress(push.subscribe()), asAddress(push.subscribe())] } });
    const [out] = await runNode(WebPush, ctx);
    assert.equal(webpushOf(out).status, 'skipped');
    assert.equal(webpushOf(out).reason, 'suppressed');
    assert.equal(push.received.length, 0);
  });

  it('sends directly inside n8n to the Subscription parameter (object or JSON text)', async () => {
    const subscription = push.subscribe();
    for (const value of [subscription, JSON.stringify(subscription)]) {
      const ctx = context({ campaign: undefined, parameters: { ...parameters, subscription: value } });
      const [out] = await runNode(WebPush, ctx);
      const status = webpushOf(out);
      assert.equal(status.status, 'sent');
      assert.match((status.deliveries[0] as { messageId: string }).messageId, /^[0-9a-f-]{36}$/);
    }
    await push.waitFor(2);
    assert.equal(JSON.parse(push.received[1]!.payload).title, 'Still thinking it over, Ada?', 'personalised from $json.contact');
  });

  it('reports a gone subscription in n8n in the item instead of failing', async () => {
    const subscription = push.subscribe();
    push.expire(subscription.endpoint);
    const ctx = context({ campaign: undefined, parameters: { ...parameters, subscription } });
    const [out] = await runNode(WebPush, ctx);
    assert.deepEqual(webpushOf(out), { status: 'skipped', reason: 'no-recipient', sent: 0, deliveries: [{ endpoint: subscription.endpoint, status: 'gone', statusCode: 410 }] });
  });

  it('runs inside n8n through the generated node class', async () => {
    const subscription = push.subscribe({ applicationServerKey: vapid.publicKey });
    const fns = (continueOnFail: boolean, sub: unknown) =>
      ({
        getNode: () => ({ name: 'Push', type: '@campaignos/n8n-nodes-webpush.webPush', typeVersion: 1 }),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        getInputData: () => [{ json: { contact: { attributes: { firstName: 'Grace' } }, event: { properties: { product: 'Teapot', cartId: 'c7' } } } }],
        getNodeParameter: (name: string, _i: number, fallback?: unknown) => (name === 'subscription' ? sub : (parameters as Record<string, unknown>)[name] ?? fallback),
        getCredentials: async () => credentials,
        continueOnFail: () => continueOnFail,
      }) as unknown as IExecuteFunctions;
    const run = async (f: IExecuteFunctions) => (await new WebPush().execute!.call(f)) as INodeExecutionData[][];

    const [out] = await run(fns(false, subscription));
    assert.equal((out?.[0]?.json.webpush as WebPushStatus).status, 'sent');
    assert.deepEqual(out?.[0]?.pairedItem, { item: 0 });
    assert.equal(JSON.parse((await push.waitFor(1))[0]!.payload).body, 'Your Teapot is waiting.');

    await assert.rejects(run(fns(false, '{"endpoint": ')), /INVALID_PARAMETER: Parameter "subscription" is not valid JSON/);
    const [failed] = await run(fns(true, { endpoint: 'http://push.example/x', keys: subscription.keys }));
    assert.deepEqual(failed?.[0]?.json.error, { code: 'RECIPIENT_INVALID', message: 'Push subscription: "endpoint" must be an https: URL' });
  });

  it('refuses malformed subscriptions with a message that says what is wrong', async () => {
    const good = push.subscribe();
    const cases: Array<[unknown, RegExp]> = [
      [{ keys: good.keys }, /"endpoint" is missing/],
      [{ endpoint: good.endpoint }, /"keys" is missing/],
      [{ endpoint: good.endpoint, keys: { p256dh: 'abc', auth: good.keys.auth } }, /"keys.p256dh"/],
      [{ endpoint: good.endpoint, keys: { p256dh: good.keys.p256dh, auth: 'not base64!' } }, /"keys.auth"/],
      [[good], /expected an object/],
    ];
    for (const [subscription, message] of cases) {
      await rejectsWithCode(runNode(WebPush, context({ campaign: undefined, parameters: { ...parameters, subscription } })), 'RECIPIENT_INVALID', false, message);
    }
    await rejectsWithCode(runNode(WebPush, context({ campaign: undefined, parameters: { ...parameters, subscription: '' } })), 'INVALID_PARAMETER', false, /"subscription" is empty/);
    assert.equal(push.received.length, 0);
  });

  it('refuses a notification over the web push size limit before asking the gate', async () => {
    const ctx = context({ parameters: { ...parameters, body: 'x'.repeat(MAX_PAYLOAD_BYTES) } }, [asAddress(push.subscribe())]);
    await rejectsWithCode(runNode(WebPush, ctx), 'MESSAGE_TOO_LARGE', false, /bytes as JSON; web push carries at most 3993/);
    assert.equal(ctx.deliveries.length, 0);
    assert.equal(push.received.length, 0);
  });

  it('maps a 413 from the push service to MESSAGE_TOO_LARGE', async () => {
    push.failNext(1, 413);
    await rejectsWithCode(runNode(WebPush, context({}, [asAddress(push.subscribe())])), 'MESSAGE_TOO_LARGE', false, /answered 413/);
  });

  it('maps a 429 to a retryable RATE_LIMITED that carries Retry-After', async () => {
    push.rateLimit(1, 7);
    await rejectsWithCode(runNode(WebPush, context({}, [asAddress(push.subscribe())])), 'RATE_LIMITED', true, /answered 429.*Retry-After 7/);
  });

  it('maps a 5xx and an unreachable service to a retryable PROVIDER_UNAVAILABLE', async () => {
    push.failNext(1, 503);
    await rejectsWithCode(runNode(WebPush, context({}, [asAddress(push.subscribe())])), 'PROVIDER_UNAVAILABLE', true, /answered 503/);
    const nowhere = { ...push.subscribe(), endpoint: 'https://127.0.0.1:1/push/nothing' };
    await rejectsWithCode(runNode(WebPush, context({}, [asAddress(nowhere)])), 'PROVIDER_UNAVAILABLE', true, /could not be reached \(ECONNREFUSED\)/);
  });

  it('maps a VAPID key the push service rejects (401/403) to INVALID_CREDENTIALS', async () => {
    const other = generateVAPIDKeys();
    const ctx = context({ credentials: { campaignOsVapid: { ...other, subject: 'https://shop.example/contact' } } }, [asAddress(push.subscribe({ applicationServerKey: vapid.publicKey }))]);
    await rejectsWithCode(runNode(WebPush, ctx), 'INVALID_CREDENTIALS', false, /answered 403.*VAPID/);
    assert.equal(push.rejected[0]?.status, 403);
  });

  it('refuses malformed or mismatched VAPID keys before sending, without echoing them', async () => {
    const other = generateVAPIDKeys();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...credentials, publicKey: 'too-short' }, /public key must be/],
      [{ ...credentials, privateKey: `${vapid.privateKey}AA` }, /private key must be/],
      [{ ...credentials, privateKey: other.privateKey }, /does not belong to the public key/],
      [{ ...credentials, subject: 'push@shop.example' }, /subject must be a "mailto:"/],
      [{ ...credentials, subject: 'http://shop.example' }, /subject must be a "mailto:"/],
    ];
    for (const [campaignOsVapid, message] of cases) {
      const ctx = context({ credentials: { campaignOsVapid } }, [asAddress(push.subscribe())]);
      await assert.rejects(runNode(WebPush, ctx), (error: unknown) => {
        assert.ok(isNodeError(error));
        assert.equal(error.code, 'INVALID_CREDENTIALS');
        assert.match(error.message, message);
        assert.ok(!error.message.includes(other.privateKey) && !error.message.includes(vapid.privateKey), 'no key in the message');
        return true;
      });
      assert.equal(ctx.deliveries.length, 0);
    }
    assert.equal(push.received.length, 0);
  });

  it('checks its parameters', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ title: '  ' }, /"title" is empty/],
      [{ ttl: -1 }, /"ttl" must be a whole number/],
      [{ urgency: 'urgent' }, /"urgency" must be one of very-low, low, normal, high/],
      [{ topic: 'has spaces' }, /"topic" must be 1 to 32/],
      [{ topic: 'x'.repeat(33) }, /"topic" must be 1 to 32/],
      [{ url: 'javascript:alert(1)' }, /"url" must be an http\(s\) URL/],
    ];
    for (const [change, message] of cases) {
      await rejectsWithCode(runNode(WebPush, context({ parameters: { ...parameters, ...change } }, [asAddress(push.subscribe())])), 'INVALID_PARAMETER', false, message);
    }
    await rejectsWithCode(runNode(WebPush, context({ parameters: { ...parameters, title: '{{ contact.firstName | nope }}' } })), 'TEMPLATE_INVALID', false, /Liquid error in title/);
    assert.equal(push.received.length, 0);
  });

  it('turns a failed item into an error item with "continue on fail"', async () => {
    const live = push.subscribe();
    const ctx = context({
      items: [enrolment, enrolment],
      continueOnFail: true,
      campaign: undefined,
      parameters: { ...parameters, subscription: (i: number) => (i === 0 ? { endpoint: live.endpoint } : live) },
    });
    const [out] = await runNode(WebPush, ctx);
    assert.equal((out?.[0]?.json.error as { code: string }).code, 'RECIPIENT_INVALID');
    assert.equal(webpushOf(out, 1).status, 'sent');
    assert.equal(push.received.length, 1);
  });
});
