// The CampaignOS services as nodes see them inside n8n: the SDK's HTTP client against a real
// runtime API (real PostgreSQL, real Temporal dev server). n8n itself is replaced by a minimal
// fake of its execute functions whose httpRequestWithAuthentication applies the credential's
// `authenticate` header and calls the API with real fetch.
import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IExecuteFunctions, IHttpRequestOptions, INodeExecutionData } from 'n8n-workflow';
import { CampaignOsApi, createCampaignApiClient, isNodeError, type CampaignApiHost, type DeliveryTicket } from '@campaignos/sdk';
import { UpdateScore } from '@campaignos/n8n-nodes-scoring';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

interface FakeOptions {
  baseUrl: string;
  apiKey: string;
  items: Array<Record<string, unknown>>;
  executionId?: string;
  nodeName?: string;
  parameters?: Record<string, unknown>;
}

/** Just enough of n8n's IExecuteFunctions for the client and a node's execute. */
function fakeN8n(options: FakeOptions) {
  const authorization = new CampaignOsApi().authenticate.properties.headers!.Authorization as string;
  const items: INodeExecutionData[] = options.items.map((json) => ({ json: json as INodeExecutionData['json'] }));
  const fns = {
    getNode: () => ({
      id: 'node-1',
      name: options.nodeName ?? 'CampaignOS Score',
      type: '@campaignos/n8n-nodes-scoring.updateScore',
      typeVersion: 1,
      position: [0, 0] as [number, number],
      parameters: {},
      credentials: { campaignOsApi: { id: '1', name: 'CampaignOS account' } },
    }),
    getExecutionId: () => options.executionId ?? 'exec-1',
    getInputData: () => items,
    getCredentials: async (type: string) => {
      assert.equal(type, 'campaignOsApi');
      return { baseUrl: options.baseUrl, apiKey: options.apiKey };
    },
    getNodeParameter: (name: string, _itemIndex: number, fallback?: unknown) => options.parameters?.[name] ?? fallback,
    continueOnFail: () => false,
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    helpers: {
      // What n8n does: render the credential's `authenticate` headers, then make the request.
      async httpRequestWithAuthentication(credentialsType: string, request: IHttpRequestOptions) {
        assert.equal(credentialsType, 'campaignOsApi');
        const headers: Record<string, string> = { authorization: authorization.replace(/^=/, '').replace('{{$credentials.apiKey}}', options.apiKey) };
        if (request.body !== undefined) headers['content-type'] = 'application/json';
        const response = await fetch(request.url, { method: request.method ?? 'GET', headers, body: request.body === undefined ? undefined : JSON.stringify(request.body) });
        const text = await response.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text, as n8n does
        }
        if (!request.ignoreHttpStatusErrors && response.status >= 400) throw new Error(`Request failed with status code ${response.status}`);
        return request.returnFullResponse ? { statusCode: response.status, headers: Object.fromEntries(response.headers), body } : body;
      },
    },
  };
  return fns as unknown as CampaignApiHost & IExecuteFunctions;
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp, retryable?: boolean) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isNodeError(error), `expected a NodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    if (retryable !== undefined) assert.equal(error.retryable, retryable);
    return true;
  });
}

describe('CampaignOS services inside n8n, over the API', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let stack: Stack;
  let baseUrl: string;
  const ids: Record<string, string> = {};
  const client = (items: Array<Record<string, unknown>>, more: Partial<FakeOptions> = {}) =>
    createCampaignApiClient(fakeN8n({ baseUrl, apiKey: stack.key, items, ...more }));

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-n8n-client-')), 'temporal.db'));
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace }, worker: false });
    baseUrl = stack.runtime.url!;
    for (const name of ['ann', 'bob', 'cy', 'dee']) {
      const { body } = await stack.api('POST', '/v1/contacts', { externalId: name, email: `${name}@example.com`, attributes: { plan: name === 'ann' ? 'pro' : 'free' } });
      ids[name] = body.contact.id;
    }
  });

  after(async () => {
    await stack?.stop();
    await temporal?.stop();
    await database?.drop();
  });

  test('changes a score with a reason; the same execution, node and item does it once', async () => {
    const ann = client([{ contact: { id: ids.ann } }]);
    assert.deepEqual(await ann.changeScore(0, { operation: 'add', points: 10, reason: 'webinar' }), { previous: 0, score: 10 });
    // n8n's "Retry On Fail" runs the node again in the same execution.
    assert.deepEqual(await ann.changeScore(0, { operation: 'add', points: 10, reason: 'webinar' }), { previous: 0, score: 10 });
    const again = client([{ contact: { id: ids.ann } }]);
    assert.deepEqual(await again.changeScore(0, { operation: 'add', points: 10, reason: 'webinar' }), { previous: 0, score: 10 }, 'a new client, same execution');

    const next = client([{ contact: { id: ids.ann } }], { executionId: 'exec-2' });
    assert.deepEqual(await next.changeScore(0, { operation: 'subtract', points: 3, reason: 'bounced' }), { previous: 10, score: 7 });
    const third = client([{ contact: { id: ids.ann } }], { executionId: 'exec-3' });
    assert.deepEqual(await third.changeScore(0, { operation: 'set', points: 50, reason: 'sales call' }), { previous: 7, score: 50 });

    const { body } = await stack.api('GET', `/v1/contacts/${ids.ann}/score`);
    assert.equal(body.score, 50);
    assert.deepEqual(body.ledger.map((l: { delta: number; reason: string }) => [l.delta, l.reason]), [[10, 'webinar'], [-3, 'bounced'], [43, 'sales call']]);
  });

  test('finds the contact by contactId, or by email through the API', async () => {
    const byId = client([{ contactId: ids.bob }]);
    assert.equal((await byId.contact(0)).email, 'bob@example.com');
    const byEmail = client([{ contact: { email: 'CY@example.com' } }, { email: 'dee@example.com' }]);
    const cy = await byEmail.contact(0);
    assert.deepEqual(cy, { id: ids.cy, externalId: 'cy', email: 'cy@example.com', phone: null, timeZone: null, attributes: { plan: 'free' } });
    assert.equal((await byEmail.contact(1)).id, ids.dee);

    await rejectsWith(client([{ email: 'nobody@example.com' }]).contact(0), 'CONTACT_NOT_FOUND', /No CampaignOS contact with email nobody@example.com/);
    await rejectsWith(client([{ name: 'x' }]).contact(0), 'INVALID_PARAMETER', /names no CampaignOS contact: give json.contact.id, json.contactId/);
  });

  test('answers saved segment membership by name or id, and inline conditions', async () => {
    const pro = await stack.api('POST', '/v1/segments', { name: 'Pro plan', condition: { attribute: 'plan', op: 'eq', value: 'pro' } });
    assert.equal(pro.status, 201, JSON.stringify(pro.body));
    const ann = client([{ contactId: ids.ann }]);
    const bob = client([{ contactId: ids.bob }]);
    assert.equal(await ann.inSegment(0, { segment: 'Pro plan' }), true);
    assert.equal(await ann.inSegment(0, { segment: pro.body.segment.id }), true);
    assert.equal(await bob.inSegment(0, { segment: 'Pro plan' }), false);
    await rejectsWith(bob.inSegment(0, { segment: 'Pro plna' }), 'INVALID_PARAMETER', /No segment "Pro plna" in this workspace/);

    // Ann's score is 50 after the first test.
    assert.equal(await ann.inSegment(0, { condition: { score: { op: 'gte', value: 40 } } }), true);
    assert.equal(await bob.inSegment(0, { condition: { score: { op: 'gte', value: 40 } } }), false);
    await rejectsWith(bob.inSegment(0, { condition: { score: { op: 'about', value: 40 } } }), 'INVALID_PARAMETER', /Segment condition: the condition is invalid: score.op/);
  });

  test('adds to and removes from a list by name or id; unknown lists are named', async () => {
    const list = await stack.api('POST', '/v1/lists', { name: 'hot' });
    const listId = list.body.list.id as string;
    const members = async () => (await stack.api('GET', `/v1/lists/${listId}/members`)).body.contactIds;
    await client([{ contactId: ids.bob }]).setListMembership(0, 'hot', true);
    await client([{ contactId: ids.cy }]).setListMembership(0, listId, true);
    await client([{ contactId: ids.cy }]).setListMembership(0, listId, true); // idempotent
    assert.deepEqual([...(await members())].sort(), [ids.bob, ids.cy].sort());
    await client([{ contactId: ids.bob }]).setListMembership(0, 'hot', false);
    assert.deepEqual(await members(), [ids.cy]);
    await rejectsWith(client([{ contactId: ids.bob }]).setListMembership(0, 'cold', true), 'INVALID_PARAMETER', /No list "cold" in this workspace/);
  });

  test('lists and removes channel addresses', async () => {
    const p256dh = createECDH('prime256v1');
    p256dh.generateKeys();
    const endpoint = 'https://push.example.com/send/abc';
    const put = await stack.api('PUT', `/v1/contacts/${ids.dee}/addresses/webpush`, {
      endpoint,
      keys: { p256dh: p256dh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const dee = client([{ contactId: ids.dee }]);
    assert.deepEqual((await dee.addresses(0, 'webpush')).map((a) => a.address), [endpoint]);
    assert.deepEqual(await dee.addresses(0, 'telegram'), []);
    await dee.removeAddress(0, 'webpush', endpoint);
    await dee.removeAddress(0, 'webpush', endpoint); // already gone: fine
    assert.deepEqual(await dee.addresses(0, 'webpush'), []);
  });

  test('deliver asks the send gate: one send per execution, node and item; failures may be retried', async () => {
    const sends: DeliveryTicket[] = [];
    const send = async (ticket: DeliveryTicket) => (sends.push(ticket), { providerId: `p-${sends.length}` });
    const envelope = { channel: 'sms', recipient: '+15550001', itemIndex: 0, summary: 'Hi Bob' };

    const bob = client([{ contactId: ids.bob }], { nodeName: 'Send SMS' });
    const first = await bob.deliver(envelope, send);
    assert.equal(first.status, 'sent');
    assert.deepEqual(first.status === 'sent' && first.result, { providerId: 'p-1' });
    assert.equal(sends[0]?.messageId, first.messageId);
    assert.match(sends[0]?.unsubscribeUrl ?? '', new RegExp(`^${baseUrl}/u/`));
    const again = await client([{ contactId: ids.bob }], { nodeName: 'Send SMS' }).deliver(envelope, send);
    assert.deepEqual(again, { status: 'skipped', messageId: first.messageId, reason: 'duplicate' });
    assert.equal(sends.length, 1, 'the retry did not send');

    // A send that fails is recorded as failed; the node's retry may then send.
    const flaky = client([{ contactId: ids.bob }], { nodeName: 'Send SMS', executionId: 'exec-flaky' });
    await assert.rejects(flaky.deliver(envelope, async () => { throw new Error('provider timed out'); }), /provider timed out/);
    const failedLog = (await stack.api('GET', `/v1/messages?contactId=${ids.bob}`)).body.messages;
    assert.deepEqual(failedLog.map((m: { status: string }) => m.status).sort(), ['failed', 'sent']);
    const retried = await flaky.deliver(envelope, send);
    assert.equal(retried.status, 'sent');
    assert.equal(sends.length, 2);

    await stack.runtime.store.messages.suppress(stack.workspaceId, ids.cy!, 'sms', 'unsubscribed');
    const cy = await client([{ contactId: ids.cy }], { nodeName: 'Send SMS' }).deliver({ ...envelope, recipient: '+15550002' }, send);
    assert.equal(cy.status === 'skipped' && cy.reason, 'suppressed');
    assert.equal(sends.length, 2, 'nothing sent to a suppressed contact');
    const log = (await stack.api('GET', `/v1/messages?contactId=${ids.bob}`)).body.messages;
    assert.deepEqual(log.map((m: { status: string }) => m.status).sort(), ['sent', 'sent']);
  });

  test('a rejected key, a deleted contact and an unreachable or failing API become clear node errors', async () => {
    const wrongKey = createCampaignApiClient(fakeN8n({ baseUrl, apiKey: 'cos_wrong-secret-key', items: [{ contactId: ids.bob }] }));
    await assert.rejects(wrongKey.changeScore(0, { operation: 'add', points: 1, reason: 'x' }), (error: unknown) => {
      assert.ok(isNodeError(error));
      assert.equal(error.code, 'INVALID_CREDENTIALS');
      assert.equal(error.message, 'CampaignOS API key rejected');
      assert.doesNotMatch(`${error.message} ${error.description}`, /wrong-secret-key/);
      return true;
    });

    const gone = await stack.api('POST', '/v1/contacts', { externalId: 'gone' });
    await stack.api('DELETE', `/v1/contacts/${gone.body.contact.id}`);
    const deleted = client([{ contactId: gone.body.contact.id }]);
    await rejectsWith(deleted.changeScore(0, { operation: 'add', points: 1, reason: 'x' }), 'CONTACT_NOT_FOUND', /not found: no contact/i, false);
    await rejectsWith(deleted.setListMembership(0, 'hot', true), 'CONTACT_NOT_FOUND', /not found: no contact/i, false);
    await rejectsWith(deleted.inSegment(0, { segment: 'Pro plan' }), 'CONTACT_NOT_FOUND', /not found: no contact/i, false);

    // A port nobody listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = createCampaignApiClient(fakeN8n({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'cos_secret-key-1', items: [{ contactId: ids.bob }] }));
    await assert.rejects(unreachable.contact(0), (error: unknown) => {
      assert.ok(isNodeError(error));
      assert.equal(error.code, 'PROVIDER_UNAVAILABLE');
      assert.equal(error.retryable, true);
      assert.match(error.message, /could not be reached/);
      assert.doesNotMatch(error.message, /secret-key-1/);
      return true;
    });

    // A runtime behind a proxy that is overloaded or restarting.
    let answer = 503;
    const proxy: Server = createServer((_req, res) => res.writeHead(answer, { 'content-type': 'application/json' }).end('{"error":{"message":"busy"}}'));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const behindProxy = createCampaignApiClient(fakeN8n({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, apiKey: 'k', items: [{ contactId: ids.bob }] }));
      await rejectsWith(behindProxy.contact(0), 'PROVIDER_UNAVAILABLE', /HTTP 503/, true);
      answer = 429;
      await rejectsWith(behindProxy.contact(0), 'RATE_LIMITED', /slow down/, true);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test("the Score node's n8n execute uses these services when the credential is selected", async () => {
    const fns = fakeN8n({
      baseUrl,
      apiKey: stack.key,
      items: [{ contactId: ids.dee }],
      executionId: 'exec-node',
      parameters: { operation: 'add', points: 10, reason: 'n8n whitepaper' },
    });
    const output = (await new UpdateScore().execute!.call(fns)) as INodeExecutionData[][];
    assert.deepEqual(output[0]?.[0]?.json, { contactId: ids.dee, score: 10, previous: 0 });
    const { body } = await stack.api('GET', `/v1/contacts/${ids.dee}/score`);
    assert.equal(body.score, 10);
    assert.equal(body.ledger.at(-1).reason, 'n8n whitepaper');
  });
});
