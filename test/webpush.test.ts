// Web push end to end: subscriptions registered through the API, a journey on a real worker
// (Temporal dev server, real PostgreSQL) sending through the send gate to a real HTTPS push
// service that checks VAPID and decrypts what arrives.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { generateVAPIDKeys } from 'web-push';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startPushService, type BrowserSubscription, type PushService } from './support/push-service.js';
import { eventually, startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

const vapid = generateVAPIDKeys();

const workflow = (name: string, event: string, credential: string) => ({
  name,
  nodes: [
    { id: 'trigger', name: 'Cart abandoned', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event } },
    {
      id: 'push',
      name: 'Remind by push',
      type: '@campaignos/n8n-nodes-webpush.webPush',
      typeVersion: 1,
      position: [220, 0],
      parameters: {
        title: 'Still thinking it over, {{ contact.firstName }}?',
        body: 'Your {{ event.properties.product }} is waiting in the cart.',
        url: 'https://shop.example/cart/{{ event.properties.cartId }}',
        icon: 'https://shop.example/icon-192.png',
        ttl: 3600,
        urgency: 'high',
        topic: 'cart',
      },
      credentials: { campaignOsVapid: { id: null, name: credential } },
    },
  ],
  connections: { 'Cart abandoned': { main: [[{ node: 'Remind by push', type: 'main', index: 0 }]] } },
});

describe('web push journey', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let connection: Connection;
  let client: Client;
  let t: { stack: Stack };
  let push: PushService;
  let untrust: () => void;

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-webpush-')), 'temporal.db'));
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace });
    t = { stack: await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace } }) };
    push = await startPushService();
    // The worker runs activities in this process; web-push sends through https.globalAgent.
    untrust = push.trustInThisProcess();
    for (const [name, keys] of [['Shop VAPID', vapid], ['Old VAPID', generateVAPIDKeys()]] as const) {
      const res = await t.stack.api('POST', '/v1/credentials', { name, type: 'campaignOsVapid', data: { ...keys, subject: 'mailto:push@shop.example' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    untrust?.();
    await push?.close();
    await t?.stack.stop();
    await connection?.close();
    await temporal?.stop();
    await database?.drop();
  });

  const register = (contactId: string, subscription: unknown) => t.stack.api('PUT', `/v1/contacts/${contactId}/addresses/webpush`, subscription);
  const addresses = async (contactId: string) => (await t.stack.api('GET', `/v1/contacts/${contactId}/addresses?channel=webpush`)).body.addresses as Array<{ address: string }>;
  const journeyOf = (contactId: string, status: string) =>
    eventually(async () => {
      const { body } = await t.stack.api('GET', `/v1/contacts/${contactId}/journeys`);
      return body.journeys.find((j: { status: string }) => j.status === status);
    }, 60_000, `a ${status} journey`);

  test('the push API validates and stores browser subscriptions per contact', async () => {
    const { api } = t.stack;
    const contact = (await api('POST', '/v1/contacts', { externalId: 'api-check', attributes: {} })).body.contact;
    const subscription = push.subscribe();

    const created = await register(contact.id, { ...subscription, expirationTime: null });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.address, { channel: 'webpush', address: subscription.endpoint, data: { keys: subscription.keys } });
    assert.equal((await register(contact.id, subscription)).status, 200, 'registering again refreshes it');
    assert.deepEqual((await api('GET', `/v1/contacts/${contact.id}/addresses`)).body.addresses, [created.body.address]);

    const bad = async (body: unknown, message: RegExp) => {
      const res = await register(contact.id, body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
      assert.match(res.body.error.message, message);
    };
    await bad({ ...subscription, endpoint: 'http://push.example/x' }, /endpoint: must be an https: URL/);
    await bad({ ...subscription, keys: { ...subscription.keys, p256dh: 'AAAA' } }, /keys\.p256dh: must decode to an uncompressed P-256 public key/);
    await bad({ ...subscription, keys: { ...subscription.keys, auth: 'short' } }, /keys\.auth: must decode to a 16-byte auth secret/);
    await bad({ endpoint: subscription.endpoint }, /keys: /);
    const raw = await api('PUT', `/v1/contacts/${contact.id}/addresses/webpush`, undefined, { raw: '{"endpoint": ' });
    assert.equal(raw.status, 400);
    assert.equal(raw.body.error.code, 'INVALID_JSON');

    const missing = await register('00000000-0000-4000-8000-000000000000', subscription);
    assert.equal(missing.status, 404);
    assert.equal((await api('GET', '/v1/contacts/not-a-contact/addresses')).status, 404);
    assert.equal((await api('GET', `/v1/contacts/${contact.id}/addresses?channel=Web Push`)).status, 400);

    const gone = await api('DELETE', `/v1/contacts/${contact.id}/addresses/webpush?address=${encodeURIComponent(subscription.endpoint)}`);
    assert.equal(gone.status, 200);
    assert.deepEqual(await addresses(contact.id), []);
    assert.equal((await api('DELETE', `/v1/contacts/${contact.id}/addresses/webpush?address=${encodeURIComponent(subscription.endpoint)}`)).status, 404);
    assert.equal((await api('DELETE', `/v1/contacts/${contact.id}/addresses/webpush`)).status, 400);
  });

  test('delivers the personalised push once despite two 429s, and forgets the expired subscription', { timeout: 120_000 }, async () => {
    const { api } = t.stack;
    assert.equal((await api('POST', '/v1/workflows?activate=true', workflow('Cart reminder', 'cart_abandoned', 'Shop VAPID'))).status, 201);
    const ada = (await api('POST', '/v1/contacts', { externalId: 'ada', email: 'ada@example.com', attributes: { firstName: 'Ada' } })).body.contact;
    // The old laptop subscribed first (oldest is tried first); the browser has since dropped it.
    const oldLaptop = push.subscribe({ applicationServerKey: vapid.publicKey });
    const phone = push.subscribe({ applicationServerKey: vapid.publicKey });
    for (const s of [oldLaptop, phone]) assert.equal((await register(ada.id, s)).status, 201);
    assert.deepEqual((await addresses(ada.id)).map((a) => a.address), [oldLaptop.endpoint, phone.endpoint]);
    push.expire(oldLaptop.endpoint);
    push.rateLimit(2, 1);
    const before = push.received.length;

    const event = await api('POST', '/v1/events', { name: 'cart_abandoned', externalId: 'ada', properties: { product: 'Blue Kettle', cartId: 'c42' } });
    assert.equal(event.status, 202);
    await journeyOf(ada.id, 'completed');

    const arrived = push.received.slice(before);
    assert.equal(arrived.length, 1, 'exactly one push arrived');
    assert.equal(arrived[0]!.endpoint, phone.endpoint);
    assert.deepEqual(JSON.parse(arrived[0]!.payload), {
      title: 'Still thinking it over, Ada?',
      body: 'Your Blue Kettle is waiting in the cart.',
      url: 'https://shop.example/cart/c42',
      icon: 'https://shop.example/icon-192.png',
    });
    assert.equal(arrived[0]!.ttl, 3600);
    assert.equal(arrived[0]!.urgency, 'high');
    assert.equal(arrived[0]!.topic, 'cart');
    assert.equal(arrived[0]!.vapid.publicKey, vapid.publicKey);
    assert.deepEqual(push.rejected.slice(-3).map((r) => r.status), [410, 429, 429], 'the step was retried after each 429');

    assert.deepEqual((await addresses(ada.id)).map((a) => a.address), [phone.endpoint], 'the expired subscription was removed');
    const messages = (await api('GET', `/v1/messages?contactId=${ada.id}`)).body.messages as Array<{ recipient: string; status: string; reason: string | null; summary: string }>;
    const sent = messages.filter((m) => m.status === 'sent');
    assert.deepEqual(sent.map((m) => [m.recipient, m.summary]), [[phone.endpoint, 'Still thinking it over, Ada?']]);
    const failed = messages.find((m) => m.recipient === oldLaptop.endpoint);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.reason ?? '', /410/);

    // The step's output is its last attempt's: by then the expired subscription was gone.
    const journey = await journeyOf(ada.id, 'completed');
    const step = await t.stack.runtime.store.db('journey_steps').where({ journey_id: journey.id, node_name: 'Remind by push' }).first();
    const status = step.output[0][0].json.webpush;
    assert.equal(status.status, 'sent');
    assert.equal(status.sent, 1);
    assert.deepEqual(status.deliveries.map((d: { endpoint: string; status: string }) => [d.endpoint, d.status]), [[phone.endpoint, 'sent']]);
  });

  test('a contact without subscriptions is skipped, not failed', async () => {
    const { api } = t.stack;
    const bob = (await api('POST', '/v1/contacts', { externalId: 'bob', attributes: { firstName: 'Bob' } })).body.contact;
    const before = push.received.length;
    await api('POST', '/v1/events', { name: 'cart_abandoned', externalId: 'bob', properties: { product: 'Mug', cartId: 'c1' } });
    const journey = await journeyOf(bob.id, 'completed');
    const step = await t.stack.runtime.store.db('journey_steps').where({ journey_id: journey.id, node_name: 'Remind by push' }).first();
    assert.deepEqual(step.output[0][0].json.webpush, { status: 'skipped', reason: 'no-recipient', sent: 0, deliveries: [] });
    assert.equal(push.received.length, before);
  });

  test('VAPID keys the push service rejects fail the step with INVALID_CREDENTIALS', { timeout: 120_000 }, async () => {
    const { api } = t.stack;
    assert.equal((await api('POST', '/v1/workflows?activate=true', workflow('Price drop', 'price_drop', 'Old VAPID'))).status, 201);
    const cy = (await api('POST', '/v1/contacts', { externalId: 'cy', attributes: { firstName: 'Cy' } })).body.contact;
    const subscription: BrowserSubscription = push.subscribe({ applicationServerKey: vapid.publicKey });
    await register(cy.id, subscription);
    const before = push.received.length;

    await api('POST', '/v1/events', { name: 'price_drop', externalId: 'cy', properties: { product: 'Teapot', cartId: 'c9' } });
    const journey = await journeyOf(cy.id, 'failed');
    // Temporal holds the node error: its code as the failure type, not retried.
    const failure = await client.workflow.getHandle(journey.id).result().then(
      () => assert.fail('the journey should have failed'),
      (error: { cause?: { cause?: { type?: string; nonRetryable?: boolean; message?: string } } }) => error.cause?.cause,
    );
    assert.equal(failure?.type, 'INVALID_CREDENTIALS');
    assert.equal(failure?.nonRetryable, true);
    assert.match(failure?.message ?? '', /^Remind by push: The push service at https:\/\/127\.0\.0\.1:\d+ answered 403 .*the VAPID signature or key was rejected/);
    assert.equal(push.rejected.filter((r) => r.status === 403).length, 1, 'tried once, not retried');
    assert.equal(push.received.length, before);
    assert.equal(push.rejected.at(-1)?.status, 403);
    assert.deepEqual((await addresses(cy.id)).map((a) => a.address), [subscription.endpoint], 'a credentials problem does not remove the subscription');
    const messages = (await api('GET', `/v1/messages?contactId=${cy.id}`)).body.messages as Array<{ status: string; reason: string }>;
    assert.equal(messages[0]?.status, 'failed');
    assert.match(messages[0]?.reason ?? '', /^INVALID_CREDENTIALS: The push service .* answered 403/);
  });
});
