// CampaignOS triggers inside a running n8n: the workflow is activated from n8n's CLI, `n8n start`
// registers the Event Trigger's webhook subscription with a real CampaignOS runtime, and an event
// posted to the runtime comes back to n8n as a signed webhook call that runs the workflow, whose
// CampaignOS Score node changes the contact's score in that runtime. Calls without the runtime's
// signature are refused, and restarting n8n keeps the one subscription.
//
// Not covered: deactivation. n8n's CLI only flips the flag in its database (the webhook's
// `delete` runs when a running n8n deactivates a workflow, through the editor's REST API).
//
// Hosts come from test/n8n/hosts.ts (`npm run test:n8n` installs them first); packages are packed
// and installed as in n8n.test.ts.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { eventually, startStack, type Stack } from '../support/stack';
import { devServer } from '../support/temporal';
import { HOSTS, isInstalled, locate } from './hosts';
import { createInstance, type N8nInstance, type N8nServer } from './instance';
import { pack, publishableFolders, ROOT, type PackedPackage } from './pack';

const WORKFLOW_FILE = join(ROOT, 'examples', 'n8n', 'event-trigger.workflow.json');
const CREDENTIAL_ID = 'CosApiExample001';
const REASON = 'trial started (n8n)';

interface Subscription {
  id: string;
  url: string;
  event: string;
  properties: Record<string, unknown>;
}

interface ScoreView {
  score: number;
  ledger: Array<{ delta: number; reason: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CampaignOS triggers in a running n8n', () => {
  let packDir: string;
  let packages: PackedPackage[] = [];
  let temporalDir: string;
  let temporal: Awaited<ReturnType<typeof devServer>> | undefined;

  before(async () => {
    packDir = mkdtempSync(join(tmpdir(), 'campaignos-pack-'));
    packages = pack(publishableFolders(), packDir);
    temporalDir = mkdtempSync(join(tmpdir(), 'campaignos-n8n-triggers-'));
    temporal = await devServer(join(temporalDir, 'temporal.db'));
  });

  after(async () => {
    await temporal?.stop();
    rmSync(packDir, { recursive: true, force: true });
    rmSync(temporalDir, { recursive: true, force: true });
  });

  for (const spec of HOSTS) {
    describe(`in ${spec.label} (n8n ${spec.n8n})`, () => {
      let database: TestDatabase | undefined;
      let stack: Stack | undefined;
      let instance: N8nInstance | undefined;
      let server: N8nServer | undefined;

      after(async () => {
        await server?.stop();
        instance?.close();
        await stack?.stop();
        await database?.drop();
      });

      it('an event posted to the runtime runs the activated Event Trigger workflow, whose Score node scores the contact; unsigned calls are refused; a restart keeps the one subscription', { timeout: 600_000 }, async () => {
        assert.ok(isInstalled(spec), `n8n ${spec.n8n} is not installed: run "node --import tsx test/n8n/hosts.ts"`);
        database = await createTestDatabase();
        stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal!.address, namespace: temporal!.namespace }, worker: false });
        const { api } = stack;
        const created = await api('POST', '/v1/contacts', { externalId: 'n8n-trial', email: 'trial@acme.example' });
        assert.ok(created.status < 300, `contact: ${created.status} ${JSON.stringify(created.body)}`);
        const contactId = String(created.body.contact.id);
        /** Waits until the contact's score is `expected` (n8n's output goes with a timeout). */
        const scoreBecomes = (expected: number, n8n: N8nServer) =>
          eventually(
            async () => {
              const { body } = await api<ScoreView>('GET', `/v1/contacts/${contactId}/score`);
              return body.score === expected && body;
            },
            60_000,
            `the n8n workflow to make the score ${expected}`,
          ).catch((error: Error) => {
            throw new Error(`${error.message}\nn8n's output:\n${n8n.output().slice(-4000)}`);
          });

        instance = await createInstance(locate(spec), packages);
        await instance.importCredentials([{ id: CREDENTIAL_ID, name: 'CampaignOS (test)', type: 'campaignOsApi', data: { baseUrl: stack.runtime.url!, apiKey: stack.key } }]);
        const workflow = JSON.parse(readFileSync(WORKFLOW_FILE, 'utf8')) as { id: string };
        await instance.importWorkflows([workflow]);
        await instance.activate(workflow.id);
        assert.deepEqual((await api('GET', '/v1/webhook-subscriptions')).body.subscriptions, [], 'nothing is subscribed before n8n runs');

        // Starting n8n activates the workflow: the trigger subscribes at the runtime.
        server = await instance.startServer();
        const first = server;
        const subscription = await eventually(
          async () => {
            const { body } = await api<{ subscriptions: Subscription[] }>('GET', '/v1/webhook-subscriptions');
            return body.subscriptions.length > 0 && body.subscriptions;
          },
          30_000,
          'the Event Trigger to subscribe at the runtime',
        ).then(
          (subscriptions) => {
            assert.equal(subscriptions.length, 1, `one subscription: ${JSON.stringify(subscriptions)}\n${first.output().slice(-3000)}`);
            return subscriptions[0]!;
          },
          (error: Error) => {
            throw new Error(`${error.message}\nn8n's output:\n${first.output().slice(-4000)}`);
          },
        );
        assert.equal(subscription.event, 'trial_started');
        assert.deepEqual(subscription.properties, {});
        assert.ok(subscription.url.startsWith(`${server.url}webhook/`), `the subscription points at this n8n's webhooks: ${subscription.url}`);

        const posted = await api('POST', '/v1/events', { name: 'trial_started', contactId });
        assert.equal(posted.status, 202, JSON.stringify(posted.body));
        const scored = await scoreBecomes(7, first);
        assert.deepEqual(
          scored.ledger.map((l) => [l.delta, l.reason]),
          [[7, REASON]],
        );

        // Straight to n8n without the runtime's signature (or with a wrong one): refused, no run.
        const body = JSON.stringify({
          event: { id: 'forged-1', name: 'trial_started', properties: {}, occurredAt: new Date().toISOString() },
          contact: { id: contactId, externalId: 'n8n-trial', email: 'trial@acme.example', phone: null, timeZone: null, attributes: {} },
        });
        const forged = (signature?: string) =>
          fetch(subscription.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature && { 'x-campaignos-signature': signature }) }, body });
        const unsigned = await forged();
        assert.equal(unsigned.status, 401, `unsigned call: ${unsigned.status} ${await unsigned.text()}`);
        const wrong = await forged(`sha256=${createHmac('sha256', 'whsec_not-the-secret').update(body).digest('hex')}`);
        assert.equal(wrong.status, 401, `wrongly signed call: ${wrong.status} ${await wrong.text()}`);
        await sleep(3_000);
        const { body: later } = await api<ScoreView>('GET', `/v1/contacts/${contactId}/score`);
        assert.equal(later.score, 7, 'a refused call ran the workflow');
        assert.equal(later.ledger.length, 1);
        const outputs = [server.output()];

        // n8n restarts at the same address (an upgrade, a crash): the trigger keeps its one
        // subscription and its secret, and the next event runs the workflow again.
        await server.stop();
        server = await instance.startServer({ port: server.port });
        const { body: listed } = await api<{ subscriptions: Subscription[] }>('GET', '/v1/webhook-subscriptions');
        assert.deepEqual(
          listed.subscriptions.map((s) => [s.id, s.url]),
          [[subscription.id, subscription.url]],
          'still the one subscription after the restart',
        );
        const again = await api('POST', '/v1/events', { name: 'trial_started', contactId });
        assert.equal(again.status, 202, JSON.stringify(again.body));
        const rescored = await scoreBecomes(14, server);
        assert.deepEqual(
          rescored.ledger.map((l) => [l.delta, l.reason]),
          [
            [7, REASON],
            [7, REASON],
          ],
        );
        outputs.push(server.output());

        assert.ok(!outputs.join('\n').includes(stack.key), 'the API key appears in n8n output');
      });
    });
  }
});
