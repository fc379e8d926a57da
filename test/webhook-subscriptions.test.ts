// Webhook subscriptions end to end: the real runtime (API + trigger router + dispatcher) on real
// PostgreSQL and a real Temporal dev server, POSTing to real local HTTP receivers. The last test
// drives the n8n trigger class's webhookMethods and webhook() against that runtime, the way n8n
// would when it activates a workflow.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IHookFunctions, IHttpRequestOptions, IWebhookFunctions } from 'n8n-workflow';
import { verifyCampaignSignature } from '@campaignos/sdk';
import { EventTrigger, ScoreTrigger } from '@campaignos/n8n-nodes-triggers';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { eventually, startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  status: number;
}

/** A local HTTP receiver; `answer` decides each response's status from the call's number. */
async function startReceiver(answer: (n: number) => number = () => 200) {
  const calls: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer(calls.length + 1);
      calls.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhook subscriptions', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let stack: Stack;
  const start = () => startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace }, worker: false });

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-webhooks-')), 'temporal.db'));
    stack = await start();
  });

  after(async () => {
    await stack?.stop();
    await temporal?.stop();
    await database?.drop();
  });

  test('the API validates subscriptions and shows the secret only once', async () => {
    const { api } = stack;
    for (const [body, problem] of [
      [{ url: 'ftp://example.com/x', event: 'signup' }, /url/],
      [{ url: 'not a url', event: 'signup' }, /url/],
      [{ url: 'http://user:pw@example.com/', event: 'signup' }, /url/],
      [{ url: 'http://example.com/', event: '' }, /event/],
      [{ url: 'http://example.com/', event: '$schedule_tick' }, /system events you can subscribe to/],
      [{ url: 'http://example.com/', event: 'signup', extra: 1 }, /extra/],
    ] as const) {
      const res = await api('POST', '/v1/webhook-subscriptions', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error.message, problem);
    }
    const created = await api('POST', '/v1/webhook-subscriptions', { url: 'https://example.com/in', event: '$segment_entered', properties: { segmentName: 'VIP' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.secret, /^whsec_/);
    const read = await api('GET', `/v1/webhook-subscriptions/${created.body.id}`);
    assert.deepEqual(read.body.subscription, { id: created.body.id, url: 'https://example.com/in', event: '$segment_entered', properties: { segmentName: 'VIP' }, createdAt: read.body.subscription.createdAt });
    const listed = await api('GET', '/v1/webhook-subscriptions');
    assert.ok(!JSON.stringify(listed.body).includes(created.body.secret), 'the secret is never shown again');
    assert.equal((await api('DELETE', `/v1/webhook-subscriptions/${created.body.id}`)).status, 200);
    assert.equal((await api('GET', `/v1/webhook-subscriptions/${created.body.id}`)).status, 404);
    assert.equal((await api('DELETE', `/v1/webhook-subscriptions/${created.body.id}`)).status, 404);
    assert.equal((await api('GET', '/v1/webhook-subscriptions/not-a-uuid')).status, 404);
  });

  test('a matching event reaches a failing receiver, signed, once accepted, across a router restart', async () => {
    // The receiver fails the first two attempts.
    const receiver = await startReceiver((n) => (n <= 2 ? 503 : 200));
    try {
      const created = await stack.api('POST', '/v1/webhook-subscriptions', { url: receiver.url, event: 'purchase', properties: { plan: 'pro' } });
      assert.equal(created.status, 201);
      const { id: subscriptionId, secret } = created.body as { id: string; secret: string };
      const contact = (await stack.api('POST', '/v1/contacts', { externalId: 'ada', email: 'ada@example.com', phone: '+33600000001', timeZone: 'Europe/Paris', attributes: { firstName: 'Ada' } })).body.contact;
      const other = await stack.api('POST', '/v1/events', { name: 'purchase', externalId: 'ada', properties: { plan: 'free' } });
      const unrelated = await stack.api('POST', '/v1/events', { name: 'signup', externalId: 'ada', properties: { plan: 'pro' } });
      const event = await stack.api('POST', '/v1/events', { name: 'purchase', externalId: 'ada', properties: { plan: 'pro', total: 42 }, timestamp: '2025-03-04T05:06:07.000Z' });
      assert.equal(event.status, 202);
      assert.equal(other.status, 202);
      assert.equal(unrelated.status, 202);

      // The first attempt fails; the router process stops and a new one takes over.
      await eventually(async () => receiver.calls.length >= 1, 30_000, 'a first attempt');
      await stack.stop();
      stack = await start();

      await eventually(async () => receiver.calls.some((c) => c.status === 200), 60_000, 'a successful delivery');
      await sleep(3_000); // long enough for a wrongly repeated delivery to show up
      assert.equal(receiver.calls.filter((c) => c.status === 200).length, 1, 'accepted exactly once');
      assert.ok(receiver.calls.length >= 3, 'two failures, then the success');
      assert.deepEqual(new Set(receiver.calls.map((c) => c.headers['x-campaignos-event-id'])), new Set([event.body.id]), 'only the matching event, always under its id');

      const accepted = receiver.calls.find((c) => c.status === 200)!;
      assert.equal(accepted.headers['content-type'], 'application/json');
      assert.ok(verifyCampaignSignature(accepted.raw, accepted.headers['x-campaignos-signature'] as string, secret), 'signed with the subscription secret');
      assert.ok(!verifyCampaignSignature(accepted.raw, accepted.headers['x-campaignos-signature'] as string, 'another secret'));
      assert.deepEqual(JSON.parse(accepted.raw), {
        event: { id: event.body.id, name: 'purchase', properties: { plan: 'pro', total: 42 }, occurredAt: '2025-03-04T05:06:07.000Z' },
        contact: { id: contact.id, externalId: 'ada', email: 'ada@example.com', phone: '+33600000001', timeZone: 'Europe/Paris', attributes: { firstName: 'Ada' } },
      });
      const queue = await stack.runtime.store.db('webhook_deliveries').where({ subscription_id: subscriptionId });
      assert.deepEqual(queue, [], 'a delivered event leaves the queue');
      await stack.api('DELETE', `/v1/webhook-subscriptions/${subscriptionId}`);
    } finally {
      await receiver.close();
    }
  });

  test('a receiver answering 410 Gone removes its subscription', async () => {
    const gone = await startReceiver(() => 410);
    try {
      const created = await stack.api('POST', '/v1/webhook-subscriptions', { url: gone.url, event: 'churned' });
      await stack.api('POST', '/v1/contacts', { externalId: 'bob', email: 'bob@example.com' });
      await stack.api('POST', '/v1/events', { name: 'churned', externalId: 'bob' });
      await eventually(async () => (await stack.api('GET', `/v1/webhook-subscriptions/${created.body.id}`)).status === 404, 30_000, 'the subscription to go');
      assert.equal(gone.calls.length, 1);
      await stack.api('POST', '/v1/events', { name: 'churned', externalId: 'bob' });
      await sleep(2_000);
      assert.equal(gone.calls.length, 1, 'nothing is sent after the removal');
    } finally {
      await gone.close();
    }
  });

  test("the n8n trigger's webhookMethods register, check and delete the subscription; its webhook() accepts only signed calls", async () => {
    const staticData: Record<string, unknown> = {};
    const parameters: Record<string, unknown> = { event: 'signup', allowReentry: false };
    const emitted: unknown[] = [];
    const node = new EventTrigger();

    // A stand-in for n8n's webhook endpoint: each call goes through the node's webhook().
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const rawBody = Buffer.concat(chunks);
        let status = 200;
        const fns = {
          getNode: () => ({ name: 'On signup' }),
          getBodyData: () => JSON.parse(rawBody.toString('utf8') || '{}'),
          getNodeParameter: (name: string, fallback?: unknown) => parameters[name] ?? fallback,
          getWorkflowStaticData: () => staticData,
          getRequestObject: () => ({ rawBody, header: (name: string) => req.headers[name.toLowerCase()] as string | undefined }),
          getResponseObject: () => ({
            status(code: number) {
              status = code;
              return this;
            },
            json() {
              return this;
            },
          }),
        } as unknown as IWebhookFunctions;
        const result = await node.webhook!.call(fns);
        if (result.workflowData) emitted.push(...result.workflowData[0]!.map((i) => i.json));
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/abc/campaignos-event`;

    // n8n's hook functions, with its authenticated request helper done with fetch.
    const hook = {
      getNode: () => ({ name: 'On signup', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1 }),
      getNodeParameter: (name: string, fallback?: unknown) => parameters[name] ?? fallback,
      getNodeWebhookUrl: () => webhookUrl,
      getWorkflowStaticData: () => staticData,
      getCredentials: async () => ({ baseUrl: `${stack.runtime.url}/`, apiKey: stack.key }),
      helpers: {
        async httpRequestWithAuthentication(credential: string, options: IHttpRequestOptions) {
          assert.equal(credential, 'campaignOsApi');
          const response = await fetch(options.url, {
            method: options.method,
            headers: { authorization: `Bearer ${stack.key}`, ...(options.body !== undefined && { 'content-type': 'application/json' }) },
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
          });
          const text = await response.text();
          return { statusCode: response.status, body: text ? JSON.parse(text) : undefined };
        },
      },
    } as unknown as IHookFunctions;
    const methods = node.webhookMethods!.default!;

    try {
      assert.equal(await methods.checkExists.call(hook), false, 'nothing registered yet');
      assert.equal(await methods.create.call(hook), true);
      const id = staticData.subscriptionId as string;
      assert.match(String(staticData.secret), /^whsec_/);
      const registered = await stack.api('GET', `/v1/webhook-subscriptions/${id}`);
      assert.equal(registered.status, 200);
      assert.equal(registered.body.subscription.url, webhookUrl);
      assert.equal(registered.body.subscription.event, 'signup');
      assert.equal(await methods.checkExists.call(hook), true);

      // The runtime's signed call becomes the item a journey would see.
      const contact = (await stack.api('POST', '/v1/contacts', { externalId: 'cy', email: 'cy@example.com', attributes: { firstName: 'Cy' } })).body.contact;
      const event = await stack.api('POST', '/v1/events', { name: 'signup', externalId: 'cy', properties: { plan: 'pro' }, timestamp: '2025-01-01T10:00:00.000Z' });
      await eventually(async () => emitted.length === 1, 30_000, 'the signed call to start the workflow');
      assert.deepEqual(emitted[0], {
        event: { id: event.body.id, name: 'signup', properties: { plan: 'pro' }, timestamp: '2025-01-01T10:00:00.000Z' },
        contact: { id: contact.id, externalId: 'cy', email: 'cy@example.com', phone: null, timeZone: null, attributes: { firstName: 'Cy' } },
      });

      // Anyone else who finds the URL is refused and starts nothing.
      const forged = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: { name: 'signup' }, contact: { id: contact.id } }) });
      assert.equal(forged.status, 401);
      assert.equal(emitted.length, 1);

      // The node's event changed: checkExists drops the stale subscription so n8n creates a new one.
      parameters.event = 'purchase';
      assert.equal(await methods.checkExists.call(hook), false);
      assert.equal((await stack.api('GET', `/v1/webhook-subscriptions/${id}`)).status, 404);
      assert.equal(await methods.create.call(hook), true);
      const replacement = staticData.subscriptionId as string;
      assert.notEqual(replacement, id);

      assert.equal(await methods.delete.call(hook), true);
      assert.equal((await stack.api('GET', `/v1/webhook-subscriptions/${replacement}`)).status, 404);
      assert.equal(staticData.subscriptionId, undefined);
      assert.equal(await methods.checkExists.call(hook), false);

      // A filter comes back from the runtime with its keys in another order (jsonb): still the same subscription.
      Object.assign(parameters, { threshold: 80, direction: 'up' });
      const score = new ScoreTrigger().webhookMethods!.default!;
      assert.equal(await score.create.call(hook), true);
      const scoreSubscription = (await stack.api('GET', `/v1/webhook-subscriptions/${String(staticData.subscriptionId)}`)).body.subscription;
      assert.deepEqual(scoreSubscription.properties, { threshold: 80, direction: 'up' });
      assert.equal(scoreSubscription.event, '$score_crossed');
      assert.equal(await score.checkExists.call(hook), true);
      assert.equal(await score.delete.call(hook), true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
