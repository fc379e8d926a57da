// The SMS channel end to end: journeys on a real Temporal dev server and real PostgreSQL send
// through a real local HTTP server speaking Twilio's Messages API, which reports delivery
// statuses back to the runtime's public callback endpoint.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startSmsProvider, type SmsProvider } from './support/sms-provider.js';
import { eventually, SECRET, startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

const FROM = '+15005550006';

function workflow(name: string, event: string, credential: string) {
  return {
    name,
    nodes: [
      { id: 'trigger', name: 'Order shipped', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event } },
      {
        id: 'sms',
        name: 'Shipping SMS',
        type: '@campaignos/n8n-nodes-sms.sms',
        typeVersion: 1,
        position: [220, 0],
        parameters: { to: '={{ $json.contact.phone }}', message: 'Hi {{ contact.firstName }}, order {{ event.properties.order }} is on its way.' },
        credentials: { campaignOsSmsApi: { id: null, name: credential } },
      },
    ],
    connections: { 'Order shipped': { main: [[{ node: 'Shipping SMS', type: 'main', index: 0 }]] } },
  };
}

describe('SMS channel', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let provider: SmsProvider;
  let stack: Stack;
  let connection: Connection;
  let client: Client;

  const contact = async (externalId: string, phone: string | null, firstName: string) =>
    (await stack.api('POST', '/v1/contacts', { externalId, phone, attributes: { firstName } })).body.contact as { id: string };
  const journeyOf = (contactId: string, status: string) =>
    eventually(async () => {
      const { body } = await stack.api('GET', `/v1/contacts/${contactId}/journeys`);
      return body.journeys.find((j: { status: string }) => j.status === status);
    }, 60_000, `a ${status} journey`);
  /** The node error Temporal recorded for a failed journey: its code is the failure type. */
  const failureOf = (journeyId: string) =>
    client.workflow.getHandle(journeyId).result().then(
      () => assert.fail('the journey should have failed'),
      (error: { cause?: { cause?: { type?: string; nonRetryable?: boolean; message?: string } } }) => error.cause?.cause,
    );
  const messagesOf = async (contactId: string) => (await stack.api('GET', `/v1/messages?contactId=${contactId}`)).body.messages;

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-sms-')), 'temporal.db'));
    provider = await startSmsProvider();
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace } });
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace });
    for (const [name, authToken] of [['Acme SMS', provider.authToken], ['Revoked SMS', 'not-the-token']] as const) {
      const res = await stack.api('POST', '/v1/credentials', {
        name,
        type: 'campaignOsSmsApi',
        data: { accountSid: provider.accountSid, authToken, from: FROM, baseUrl: provider.url },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const deployed = await stack.api('POST', '/v1/workflows?activate=true', workflow('Shipping notice', 'order_shipped', 'Acme SMS'));
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  });

  after(async () => {
    await stack?.stop();
    await connection?.close();
    await provider?.close();
    await temporal?.stop();
    await database?.drop();
  });

  test('a journey texts the contact and the provider’s delivery reports reach the message log', async () => {
    const ada = await contact('ada', '+33612345678', 'Ada');
    await stack.api('POST', '/v1/events', { name: 'order_shipped', externalId: 'ada', properties: { order: 'A-17' } });

    const [sms] = await provider.waitFor(1);
    assert.equal(sms!.to, '+33612345678');
    assert.equal(sms!.from, FROM);
    assert.equal(sms!.body, 'Hi Ada, order A-17 is on its way.');
    assert.ok(sms!.statusCallback?.startsWith(`${stack.runtime.url}/v1/deliveries/`), String(sms!.statusCallback));

    const journey = await journeyOf(ada.id, 'completed');
    const step = await stack.runtime.store.db('journey_steps').where({ journey_id: journey.id, node_name: 'Shipping SMS' }).first();
    assert.deepEqual(step.output[0][0].json.sms, {
      status: 'sent',
      messageId: step.output[0][0].json.sms.messageId,
      sid: sms!.sid,
      providerStatus: 'queued',
      to: '+33612345678',
      segments: 1,
    });

    // The provider reports "sent" then "delivered" to the callback URL, without our API key.
    const message = await eventually(async () => {
      const [m] = await messagesOf(ada.id);
      return m?.delivery?.status === 'delivered' ? m : undefined;
    }, 15_000, 'the delivered report');
    assert.equal(message.id, step.output[0][0].json.sms.messageId);
    assert.equal(message.channel, 'sms');
    assert.equal(message.status, 'sent');
    assert.equal(message.recipient, '+33612345678');
    assert.equal(message.summary, 'Hi Ada, order A-17 is on its way.');
    assert.equal(message.delivery.providerMessageId, sms!.sid);
    assert.deepEqual(provider.callbacks.map((c) => `${c.status}:${c.answer}`), ['sent:204', 'delivered:204']);

    // A late, out-of-order "sent" is kept but does not move the message back.
    const late = await fetch(sms!.statusCallback!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ MessageSid: sms!.sid, MessageStatus: 'sent' }).toString(),
    });
    assert.equal(late.status, 204);
    assert.equal((await messagesOf(ada.id))[0].delivery.status, 'delivered');

    // Forged, damaged or malformed reports are refused with a clear error and change nothing.
    const post = (url: string, body: string, contentType = 'application/x-www-form-urlencoded') =>
      fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any }));
    const tampered = await post(sms!.statusCallback!.replace(/.(\/status)$/, (_m, tail) => `x${tail}`), 'MessageStatus=failed');
    assert.equal(tampered.status, 401);
    assert.equal(tampered.body.error.code, 'UNAUTHORIZED');
    assert.equal((await post(`${stack.runtime.url}/v1/deliveries/not.a-token/status`, 'MessageStatus=failed')).status, 401);
    // Same claims, other purpose: the message's unsubscribe token (valid on /u/) reports nothing,
    // and the status token unsubscribes nobody.
    const statusToken = /\/v1\/deliveries\/([^/]+)\/status$/.exec(sms!.statusCallback!)![1]!;
    const claims = statusToken.split('.')[0]!;
    const unsubscribeToken = `${claims}.${createHmac('sha256', SECRET).update(`campaignos-link:${claims}`).digest('base64url')}`;
    assert.equal((await fetch(`${stack.runtime.url}/u/${unsubscribeToken}`)).status, 200, 'a valid unsubscribe token');
    assert.equal((await post(`${stack.runtime.url}/v1/deliveries/${unsubscribeToken}/status`, 'MessageStatus=failed')).status, 401);
    assert.equal((await fetch(`${stack.runtime.url}/u/${statusToken}`, { method: 'POST' })).status, 400);
    const missing = await post(sms!.statusCallback!, 'MessageSid=SM1');
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /MessageStatus is missing/);
    const unknown = await post(sms!.statusCallback!, 'MessageStatus=exploded');
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /"exploded" is not one of/);
    assert.equal((await post(sms!.statusCallback!, '{"MessageStatus":', 'application/json')).status, 400);
    assert.equal((await messagesOf(ada.id))[0].delivery.status, 'delivered');
  });

  test("a provider answering 429 twice is retried when its Retry-After says, and the message goes out once", { timeout: 90_000 }, async () => {
    const bob = await contact('bob', '+447700900123', 'Bob');
    provider.rateLimit(2, 3);
    await stack.api('POST', '/v1/events', { name: 'order_shipped', externalId: 'bob', properties: { order: 'B-2' } });

    await journeyOf(bob.id, 'completed');
    const attempts = provider.attempts.filter((a) => a.to === '+447700900123');
    assert.deepEqual(attempts.map((a) => a.status), [429, 429, 201]);
    // The provider said "Retry-After: 3": that replaces the retry policy's 1 s, then 2 s.
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 2900, `first retry after ${attempts[1]!.at - attempts[0]!.at} ms`);
    assert.ok(attempts[2]!.at - attempts[1]!.at >= 2900, `second retry after ${attempts[2]!.at - attempts[1]!.at} ms`);

    const received = provider.messages.filter((m) => m.to === '+447700900123');
    assert.equal(received.length, 1);
    assert.equal(received[0]!.body, 'Hi Bob, order B-2 is on its way.');
    const messages = await messagesOf(bob.id);
    assert.equal(messages.length, 1);
    assert.equal(messages[0].status, 'sent');
  });

  test('rejected credentials fail the step with INVALID_CREDENTIALS and nothing is sent', { timeout: 90_000 }, async () => {
    const deployed = await stack.api('POST', '/v1/workflows?activate=true', workflow('Return notice', 'return_received', 'Revoked SMS'));
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    const cy = await contact('cy', '+14155550100', 'Cy');
    const accepted = provider.messages.length;
    await stack.api('POST', '/v1/events', { name: 'return_received', externalId: 'cy', properties: { order: 'C-3' } });

    const journey = await journeyOf(cy.id, 'failed');
    const failure = await failureOf(journey.id);
    assert.equal(failure?.type, 'INVALID_CREDENTIALS');
    assert.equal(failure?.nonRetryable, true);
    assert.match(failure?.message ?? '', /^Shipping SMS: SMS provider answered 401 \(error 20003\): Authenticate/);
    assert.doesNotMatch(failure?.message ?? '', /not-the-token/);

    assert.deepEqual(provider.attempts.filter((a) => a.to === null || a.to === '+14155550100').map((a) => a.status), [401], 'tried once, not retried');
    assert.equal(provider.messages.length, accepted, 'nothing was sent');
    const [message] = await messagesOf(cy.id);
    assert.equal(message.status, 'failed');
    assert.match(message.reason, /^INVALID_CREDENTIALS: SMS provider answered 401/);
    assert.equal(message.delivery, null);
  });

  test('a contact without a phone number fails the step with RECIPIENT_INVALID', { timeout: 60_000 }, async () => {
    const dee = await contact('dee', null, 'Dee');
    const attempts = provider.attempts.length;
    await stack.api('POST', '/v1/events', { name: 'order_shipped', externalId: 'dee', properties: { order: 'D-4' } });
    const journey = await journeyOf(dee.id, 'failed');
    const failure = await failureOf(journey.id);
    assert.equal(failure?.type, 'RECIPIENT_INVALID');
    assert.match(failure?.message ?? '', /the contact has no phone number/);
    assert.equal(provider.attempts.length, attempts, 'no request reached the provider');
  });
});
