// The HTTP API against a real PostgreSQL and a real Temporal dev server: authentication,
// workspace isolation, validation of every input, and deploy-time workflow checks.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { apiClient, createSmtpCredential, loadExample, seedWorkspace, startStack, type Api, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

describe('API', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let stack: Stack;
  let api: Api;
  let otherApi: Api;

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-api-')), 'temporal.db'));
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace }, worker: false });
    api = stack.api;
    const other = await seedWorkspace(database.url, 'globex');
    otherApi = apiClient(stack.runtime.url!, other.key);
  });

  after(async () => {
    await stack?.stop();
    await temporal?.stop();
    await database?.drop();
  });

  test('rejects requests without a valid API key', async () => {
    const missing = await api('GET', '/v1/workflows', undefined, { key: null });
    assert.equal(missing.status, 401);
    assert.match(missing.body.error.message, /Missing API key/);
    const wrong = await api('GET', '/v1/workflows', undefined, { key: 'cos_not-a-real-key' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'UNAUTHORIZED');
  });

  test('upserts contacts by external id or email and merges attributes', async () => {
    const created = await api('POST', '/v1/contacts', { externalId: 'u-1', email: 'Ada@Example.com', timeZone: 'Europe/Berlin', attributes: { firstName: 'Ada', plan: 'free' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.contact.email, 'ada@example.com');
    const updated = await api('POST', '/v1/contacts', { email: 'ada@example.com', attributes: { plan: 'pro', firstName: null } });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.contact.id, created.body.contact.id);
    assert.deepEqual(updated.body.contact.attributes, { plan: 'pro' });
    assert.equal(updated.body.contact.timeZone, 'Europe/Berlin');
  });

  test('says what is wrong with bad input and stores nothing', async () => {
    const malformed = await api('POST', '/v1/contacts', undefined, { raw: '{"email": "x@y.z",' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'INVALID_JSON');

    const wrongTypes = await api('POST', '/v1/contacts', { email: 42, timeZone: 'Mars/Olympus' });
    assert.equal(wrongTypes.status, 400);
    assert.match(wrongTypes.body.error.message, /email/);
    assert.match(wrongTypes.body.error.message, /timeZone: not an IANA time zone/);

    const noIdentity = await api('POST', '/v1/contacts', { attributes: { a: 1 } });
    assert.equal(noIdentity.status, 400);
    assert.match(noIdentity.body.error.message, /externalId or an email/);

    const oversized = await api('POST', '/v1/events', { name: 'big', externalId: 'u-big', properties: { blob: 'x'.repeat(1_200_000) } });
    assert.equal(oversized.status, 413);
    assert.equal(oversized.body.error.code, 'PAYLOAD_TOO_LARGE');

    const notJson = await api('POST', '/v1/events', undefined, { raw: 'name=signup', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(notJson.status, 415);

    // A batch with one bad entry is rejected whole.
    const before = await stack.runtime.store.db('events').count<{ count: string }[]>('* as count');
    const badBatch = await api('POST', '/v1/events', { events: [{ name: 'ok', externalId: 'u-2' }, { name: 'missing contact' }] });
    assert.equal(badBatch.status, 400);
    assert.match(badBatch.body.error.message, /events\.1/);
    const deletedContact = await api('POST', '/v1/events', { events: [{ name: 'ok', externalId: 'u-3' }, { name: 'x', contactId: '00000000-0000-4000-8000-000000000000' }] });
    assert.equal(deletedContact.status, 404);
    assert.match(deletedContact.body.error.message, /no contact with id 00000000-0000-4000-8000-000000000000/);
    const afterCount = await stack.runtime.store.db('events').count<{ count: string }[]>('* as count');
    assert.equal(afterCount[0]!.count, before[0]!.count);
    const u3 = await stack.runtime.store.db('contacts').where({ external_id: 'u-3' }).first();
    assert.equal(u3, undefined, 'the contact of a rejected batch must not be created');
  });

  test('accepts single and batch events, committed before the answer, deduplicated by idempotency key', async () => {
    const single = await api('POST', '/v1/events', { name: 'page_viewed', externalId: 'u-10', properties: { path: '/pricing' }, idempotencyKey: 'pv-1' });
    assert.equal(single.status, 202);
    assert.equal(single.body.duplicate, false);
    const row = await stack.runtime.store.db('events').where({ id: single.body.id }).first();
    assert.equal(row.name, 'page_viewed');
    assert.deepEqual(row.properties, { path: '/pricing' });

    const again = await api('POST', '/v1/events', { name: 'page_viewed', externalId: 'u-10', idempotencyKey: 'pv-1' });
    assert.equal(again.status, 202);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.id, single.body.id);

    const batch = await api('POST', '/v1/events', { events: [{ name: 'a', email: 'b1@example.com' }, { name: 'b', email: 'b1@example.com' }, { name: 'c', contactId: single.body.contactId }] });
    assert.equal(batch.status, 202);
    assert.equal(batch.body.accepted, 3);
    assert.equal(batch.body.events[0].contactId, batch.body.events[1].contactId);
    assert.equal(batch.body.events[2].contactId, single.body.contactId);
  });

  test('rejects a workflow with problems and lists every one', async () => {
    await createSmtpCredential(api, 2525);
    const workflow = loadExample('welcome-series/welcome-series.workflow.json');
    workflow.nodes.push({ id: 'x', name: 'Slack', type: 'n8n-nodes-base.slack', typeVersion: 2, position: [0, 0], parameters: {} });
    workflow.connections['Slack'] = { main: [[{ node: 'Nowhere', type: 'main', index: 0 }]] };
    workflow.nodes[1].parameters.subject = '';
    delete workflow.nodes[1].parameters.mjml;
    const res = await api('POST', '/v1/workflows', workflow);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'WORKFLOW_INVALID');
    const problems: string[] = res.body.error.details.problems;
    const text = problems.join('\n');
    assert.match(text, /n8n-nodes-base\.slack/);
    assert.match(text, /Nowhere/);
    assert.match(text, /Welcome email.*mjml/i);

    const unknownCredential = loadExample('welcome-series/welcome-series.workflow.json');
    unknownCredential.nodes[1].credentials.campaignOsSmtp.name = 'Does not exist';
    const res2 = await api('POST', '/v1/workflows', unknownCredential);
    assert.equal(res2.status, 400);
    assert.match(res2.body.error.details.problems.join('\n'), /credentials "Does not exist"/);

    const notAWorkflow = await api('POST', '/v1/workflows', { name: 'x', nodes: 'nope' });
    assert.equal(notAWorkflow.status, 400);
    assert.match(notAWorkflow.body.error.message, /nodes/);
  });

  test('deploys, versions and activates a valid workflow', async () => {
    const workflow = loadExample('welcome-series/welcome-series.workflow.json');
    const res = await api('POST', '/v1/workflows', workflow);
    assert.equal(res.status, 201);
    assert.equal(res.body.workflow.active, false);
    assert.equal(res.body.version.triggerEvent, 'signup');
    const id = res.body.workflow.id;
    const v2 = await api('PUT', `/v1/workflows/${id}`, workflow);
    assert.equal(v2.body.version.version, 2);
    const activated = await api('POST', `/v1/workflows/${id}/activate`);
    assert.equal(activated.body.workflow.active, true);
    const list = await api('GET', '/v1/workflows');
    assert.ok(list.body.workflows.some((w: { id: string; latestVersion: number }) => w.id === id && w.latestVersion === 2));
  });

  test('never shows credential secrets', async () => {
    await api('POST', '/v1/credentials', { name: 'Secret SMTP', type: 'campaignOsSmtp', data: { host: 'h', password: 'hunter2-very-secret' } });
    const list = await api('GET', '/v1/credentials');
    assert.equal(list.status, 200);
    assert.ok(list.body.credentials.some((c: { name: string }) => c.name === 'Secret SMTP'));
    assert.doesNotMatch(JSON.stringify(list.body), /hunter2/);
    const stored = await stack.runtime.store.db('credentials').where({ name: 'Secret SMTP' }).first();
    assert.doesNotMatch(stored.data_encrypted, /hunter2/);
  });

  test('keeps workspaces apart', async () => {
    const mine = await api('POST', '/v1/contacts', { externalId: 'private-1', attributes: { secret: 'ours' } });
    const id = mine.body.contact.id;
    assert.equal((await otherApi('GET', `/v1/contacts/${id}`)).status, 404);
    assert.equal((await otherApi('GET', `/v1/contacts/${id}/journeys`)).status, 404);
    assert.equal((await otherApi('DELETE', `/v1/contacts/${id}`)).status, 404);
    assert.equal((await otherApi('POST', '/v1/events', { name: 'x', contactId: id })).status, 404);
    const theirs = await otherApi('POST', '/v1/contacts', { externalId: 'private-1' });
    assert.equal(theirs.status, 201, 'the same external id is a different contact in another workspace');
    assert.notEqual(theirs.body.contact.id, id);
    assert.deepEqual((await otherApi('GET', '/v1/workflows')).body.workflows, []);
    assert.deepEqual((await otherApi('GET', '/v1/credentials')).body.credentials, []);
    assert.deepEqual((await otherApi('GET', `/v1/messages?contactId=${id}`)).body.messages, []);
    assert.equal((await api('GET', `/v1/contacts/${id}`)).body.contact.attributes.secret, 'ours');
  });

  test('reports health, readiness and metrics', async () => {
    const base = stack.runtime.url!;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { database: 'ok', temporal: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /campaignos_http_requests_total/);
  });
});
