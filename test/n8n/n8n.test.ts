// Our packages as n8n users get them: packed like a publisher would, installed as community
// nodes into real n8n (the last 1.x and the current 2.x), and run headless with `n8n execute`
// against real local servers standing in for the providers.
//
// Hosts come from test/n8n/hosts.ts (`npm run test:n8n` installs them first). Each example is
// one entry in EXAMPLES: its workflow file in examples/n8n, the local service it talks to, the
// credentials pointing there, and what a user would check afterwards.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateVAPIDKeys } from 'web-push';
import { createTestDatabase } from '../support/postgres';
import { startPushService } from '../support/push-service';
import { startSlackWebhook } from '../support/slack-webhook';
import { startSmsProvider } from '../support/sms-provider';
import { startSmtpSink } from '../support/smtp-sink';
import { startStack } from '../support/stack';
import { startTelegramApi } from '../support/telegram-api';
import { devServer } from '../support/temporal';
import { HOSTS, isInstalled, locate } from './hosts';
import { createInstance, nodeOutput, type CredentialFixture, type ExecutionResult, type N8nInstance } from './instance';
import { pack, publishableFolders, ROOT, tarballProblems, type PackedPackage } from './pack';

/** A running local stand-in for a provider, and how to judge a run against it. */
interface LocalService {
  credentials: CredentialFixture[];
  /** Extra environment for the n8n process (e.g. NODE_EXTRA_CA_CERTS for a self-signed server). */
  env?: Record<string, string>;
  /** Changes that depend on the running service (a subscription it issued, say). */
  edit?(workflow: Workflow): void;
  check(result: ExecutionResult): Promise<void>;
  stop(): Promise<void>;
}

interface Example {
  title: string;
  /** In examples/n8n; the entry is skipped (and says so) while the file does not exist. */
  workflowFile: string;
  /** The workflow id in n8n; defaults to the file's own id. Variants of one file need their own. */
  workflowId?: string;
  /** Changes a variant makes to the example (other credentials, a broken parameter...). */
  edit?(workflow: Workflow): void;
  start(): Promise<LocalService>;
}

interface Workflow {
  id: string;
  name: string;
  nodes: Array<{ name: string; type: string; parameters: Record<string, unknown>; credentials?: Record<string, { id: string; name: string }> }>;
}

const SMTP_USER = 'acme';
const SMTP_PASSWORD = 'sink-password-1';

function smtpCredential(id: string, port: number, auth: { user: string; password: string } | null): CredentialFixture {
  return {
    id,
    name: `Acme SMTP (${id})`,
    type: 'campaignOsSmtp',
    data: { host: '127.0.0.1', port, secure: false, user: auth?.user ?? '', password: auth?.password ?? '', fromEmail: 'hello@acme.example', fromName: 'Acme' },
  };
}

function nodeOf(workflow: Workflow, type: string) {
  const node = workflow.nodes.find((n) => n.type === type);
  if (!node) throw new Error(`${workflow.name} has no ${type} node`);
  return node;
}

/** Each variant talks to its own sink, so it references its own credential. */
function useSmtpCredential(workflow: Workflow, id: string) {
  nodeOf(workflow, EMAIL_NODE).credentials = { campaignOsSmtp: { id, name: `Acme SMTP (${id})` } };
}

/** What a failed `n8n execute` must show: our code and sentence, and never the secret. */
function assertFailedWith(result: ExecutionResult, expected: RegExp, secret?: string) {
  assert.equal(result.timedOut, false, 'n8n execute timed out');
  assert.notEqual(result.code, 0, `the execution should fail, it exited 0:\n${result.output.slice(-2000)}`);
  assert.match(result.output, expected, `n8n's output does not show the error:\n${result.output.slice(-4000)}`);
  if (secret) assert.ok(!result.output.includes(secret), 'the secret appears in n8n output');
}

function assertSucceeded(result: ExecutionResult): asserts result is ExecutionResult & { run: NonNullable<ExecutionResult['run']> } {
  assert.equal(result.timedOut, false, `n8n execute timed out:\n${result.output.slice(-4000)}`);
  assert.equal(result.code, 0, `n8n execute failed (exit ${result.code}, signal ${result.signal}):\n${result.output.slice(0, 3000)}\n...\n${result.output.slice(-3000)}`);
  assert.ok(result.run, `no run data in n8n's output:\n${result.stdout.slice(-2000)}`);
}

const EMAIL_NODE = '@campaignos/n8n-nodes-email.email';

const EXAMPLES: Example[] = [
  {
    title: 'email: Manual Trigger → CampaignOS Email delivers the rendered MJML over SMTP',
    workflowFile: 'email.workflow.json',
    async start() {
      const sink = await startSmtpSink({ user: SMTP_USER, password: SMTP_PASSWORD });
      return {
        credentials: [smtpCredential('CosSmtpExample01', sink.port, { user: SMTP_USER, password: SMTP_PASSWORD })],
        async check(result) {
          assertSucceeded(result);
          const [mail] = await sink.waitFor(1, 10_000);
          assert.deepEqual(mail!.envelopeTo, ['ada@example.com']);
          assert.equal(mail!.parsed.subject, 'Welcome to Acme, friend');
          assert.equal(mail!.parsed.from?.value[0]?.address, 'hello@acme.example');
          assert.equal(mail!.parsed.replyTo?.value[0]?.address, 'support@acme.example');
          const html = String(mail!.parsed.html);
          assert.match(html, /^<!doctype html>/i, 'MJML was compiled to a full HTML document');
          assert.match(html, /Hi friend,/);
          assert.match(html, /href="https:\/\/acme\.example\/start"/);
          assert.doesNotMatch(html, /<mj-/, 'no MJML tag is left in the HTML');
          assert.match(String(mail!.parsed.text), /Thanks for signing up/, 'a plain-text part derived from the HTML');
          const [out] = nodeOutput(result.run, 'CampaignOS Email');
          assert.equal(out?.email?.status, 'sent');
        },
        stop: () => sink.close(),
      };
    },
  },
  {
    title: 'email with a wrong SMTP password fails with INVALID_CREDENTIALS and sends nothing',
    workflowFile: 'email.workflow.json',
    workflowId: 'CosEmailBadCreds',
    edit(workflow) {
      workflow.name = 'CampaignOS Email, wrong password';
      useSmtpCredential(workflow, 'CosSmtpBadPass01');
    },
    async start() {
      const sink = await startSmtpSink({ user: SMTP_USER, password: SMTP_PASSWORD });
      const wrong = 'not-the-password-7731';
      return {
        credentials: [smtpCredential('CosSmtpBadPass01', sink.port, { user: SMTP_USER, password: wrong })],
        async check(result) {
          assertFailedWith(result, /INVALID_CREDENTIALS: SMTP: Invalid login/, wrong);
          assert.equal(sink.messages.length, 0);
        },
        stop: () => sink.close(),
      };
    },
  },
  {
    title: 'email larger than the limit fails with MESSAGE_TOO_LARGE before anything is sent',
    workflowFile: 'email.workflow.json',
    workflowId: 'CosEmailTooLarge',
    edit(workflow) {
      workflow.name = 'CampaignOS Email, too large';
      useSmtpCredential(workflow, 'CosSmtpTooLarge1');
      // A short template that renders to 11 MB of text (one literal that long would trip the
      // template parser's own limit first).
      nodeOf(workflow, EMAIL_NODE).parameters.text = `{% for i in (1..110) %}${'x'.repeat(100_000)}{% endfor %}`;
    },
    async start() {
      const sink = await startSmtpSink({ user: SMTP_USER, password: SMTP_PASSWORD });
      return {
        credentials: [smtpCredential('CosSmtpTooLarge1', sink.port, { user: SMTP_USER, password: SMTP_PASSWORD })],
        async check(result) {
          assertFailedWith(result, /MESSAGE_TOO_LARGE: The email with its attachments is \d+ bytes; the limit is 10485760/);
          assert.equal(sink.messages.length, 0);
        },
        stop: () => sink.close(),
      };
    },
  },
  {
    title: 'email to an invalid address fails with RECIPIENT_INVALID',
    workflowFile: 'email.workflow.json',
    workflowId: 'CosEmailBadRcpt1',
    edit(workflow) {
      workflow.name = 'CampaignOS Email, invalid recipient';
      useSmtpCredential(workflow, 'CosSmtpBadRcpt01');
      nodeOf(workflow, EMAIL_NODE).parameters.toEmail = 'ada at example.com';
    },
    async start() {
      const sink = await startSmtpSink({ user: SMTP_USER, password: SMTP_PASSWORD });
      return {
        credentials: [smtpCredential('CosSmtpBadRcpt01', sink.port, { user: SMTP_USER, password: SMTP_PASSWORD })],
        async check(result) {
          assertFailedWith(result, /RECIPIENT_INVALID: "ada at example\.com" is not an email address/);
          assert.equal(sink.messages.length, 0);
        },
        stop: () => sink.close(),
      };
    },
  },
  {
    title: 'telegram: CampaignOS Telegram sends the HTML message through the Bot API root in the credential',
    workflowFile: 'telegram.workflow.json',
    async start() {
      const api = await startTelegramApi();
      const bot = api.addBot({ id: 7001, username: 'acme_bot' });
      return {
        credentials: [{ id: 'CosTelegramBot01', name: 'Acme Bot', type: 'campaignOsTelegramApi', data: { token: bot.token, apiRoot: api.url } }],
        async check(result) {
          assertSucceeded(result);
          const [message, ...more] = api.messages('424242');
          assert.equal(more.length, 0);
          assert.equal(message?.text, '<b>Hello from n8n</b>, friend! This message was sent by the CampaignOS Telegram node.');
          assert.equal(message?.parseMode, 'HTML');
          assert.equal(message?.linkPreviewDisabled, true);
          assert.equal(message?.botUsername, 'acme_bot');
          assert.ok(!result.output.includes(bot.token), 'the bot token appears in n8n output');
        },
        stop: () => api.close(),
      };
    },
  },
  {
    title: 'web push: CampaignOS Web Push delivers an encrypted, VAPID-signed notification over HTTPS',
    workflowFile: 'webpush.workflow.json',
    async start() {
      const push = await startPushService();
      const keys = generateVAPIDKeys();
      const subscription = push.subscribe({ applicationServerKey: keys.publicKey });
      const certDir = mkdtempSync(join(tmpdir(), 'campaignos-push-cert-'));
      return {
        credentials: [{ id: 'CosVapidExample1', name: 'Acme VAPID', type: 'campaignOsVapid', data: { publicKey: keys.publicKey, privateKey: keys.privateKey, subject: 'mailto:ops@acme.example' } }],
        // The push service's certificate is self-signed: n8n trusts it from its start, as an
        // operator would with a private CA.
        env: { NODE_EXTRA_CA_CERTS: push.writeCertificate(join(certDir, 'push-service.pem')) },
        edit(workflow) {
          nodeOf(workflow, '@campaignos/n8n-nodes-webpush.webPush').parameters.subscription = JSON.stringify(subscription);
        },
        async check(result) {
          assertSucceeded(result);
          const [received] = await push.waitFor(1, 10_000);
          assert.deepEqual(push.rejected, []);
          assert.deepEqual(JSON.parse(received!.payload), {
            title: 'Hello friend, your order shipped',
            body: 'Sent by the CampaignOS Web Push node inside n8n.',
            url: 'https://acme.example/orders',
            icon: 'https://acme.example/icon-192.png',
          });
          assert.equal(received!.urgency, 'high');
          assert.equal(received!.topic, 'order-status');
          assert.equal(received!.ttl, 3600);
          assert.equal(received!.vapid.publicKey, keys.publicKey);
          assert.equal(received!.vapid.sub, 'mailto:ops@acme.example');
          assert.ok(!result.output.includes(keys.privateKey), 'the VAPID private key appears in n8n output');
        },
        async stop() {
          await push.close();
          rmSync(certDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    title: 'custom node: a third-party package written with the SDK (Slack Notify) posts to its webhook',
    workflowFile: 'slack-notify.workflow.json',
    async start() {
      const slack = await startSlackWebhook({ token: 'n8nHarnessToken0000000001' });
      return {
        credentials: [{ id: 'SlackStandIn0001', name: 'Slack stand-in', type: 'slackWebhookApi', data: { webhookUrl: slack.webhookUrl } }],
        async check(result) {
          assertSucceeded(result);
          const [post] = await slack.waitFor(1, 10_000);
          assert.equal(post!.body.text, 'Hello from n8n: the Slack Notify community node works');
          assert.equal(post!.body.channel, '#general');
          assert.equal(post!.body.username, 'CampaignOS');
          assert.equal(post!.body.icon_emoji, ':tada:');
        },
        stop: () => slack.close(),
      };
    },
  },
  {
    title: 'sms: CampaignOS SMS sends the text through the Twilio-style provider at the base URL in the credential',
    workflowFile: 'sms.workflow.json',
    async start() {
      const provider = await startSmsProvider();
      return {
        credentials: [
          { id: 'CosSmsApiExample', name: 'Acme SMS', type: 'campaignOsSmsApi', data: { accountSid: provider.accountSid, authToken: provider.authToken, from: '+15005550006', baseUrl: provider.url } },
        ],
        async check(result) {
          assertSucceeded(result);
          const [sms, ...more] = await provider.waitFor(1, 10_000);
          assert.equal(more.length, 0);
          assert.equal(sms!.to, '+15558675310');
          assert.equal(sms!.from, '+15005550006');
          assert.equal(sms!.body, 'Hi friend, this text was sent by the CampaignOS SMS node inside n8n.');
          assert.ok(!result.output.includes(provider.authToken), 'the auth token appears in n8n output');
        },
        stop: () => provider.close(),
      };
    },
  },
  {
    title: 'score: CampaignOS Score changes the contact score in a running CampaignOS runtime through the API credential',
    workflowFile: 'score.workflow.json',
    async start() {
      const database = await createTestDatabase();
      const temporalDir = mkdtempSync(join(tmpdir(), 'campaignos-n8n-score-'));
      const temporal = await devServer(join(temporalDir, 'temporal.db'));
      const stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace }, worker: false });
      const created = await stack.api('POST', '/v1/contacts', { externalId: 'n8n-lead', email: 'lead@acme.example' });
      assert.ok(created.status < 300, `contact: ${created.status} ${JSON.stringify(created.body)}`);
      const contactId = String(created.body.contact.id);
      return {
        credentials: [{ id: 'CosApiExample001', name: 'CampaignOS (test)', type: 'campaignOsApi', data: { baseUrl: stack.runtime.url!, apiKey: stack.key } }],
        edit(workflow) {
          const set = workflow.nodes.find((n) => n.name === 'Contact')!;
          set.parameters = JSON.parse(JSON.stringify(set.parameters).replace('__CONTACT_ID__', contactId)) as Record<string, unknown>;
        },
        async check(result) {
          assertSucceeded(result);
          const { body } = await stack.api('GET', `/v1/contacts/${contactId}/score`);
          assert.equal(body.score, 10);
          assert.deepEqual(body.ledger.map((l: { delta: number; reason: string }) => [l.delta, l.reason]), [[10, 'whitepaper (n8n)']]);
          assert.ok(!result.output.includes(stack.key), 'the API key appears in n8n output');
        },
        async stop() {
          await stack.stop();
          await temporal.stop();
          await database.drop();
          rmSync(temporalDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    title: 'email with a CampaignOS API credential goes through the runtime send gate to the contact, with its unsubscribe link',
    workflowFile: 'email-send-gate.workflow.json',
    async start() {
      const database = await createTestDatabase();
      const temporalDir = mkdtempSync(join(tmpdir(), 'campaignos-n8n-gate-'));
      const temporal = await devServer(join(temporalDir, 'temporal.db'));
      const stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace }, worker: false });
      const sink = await startSmtpSink();
      const created = await stack.api('POST', '/v1/contacts', { externalId: 'n8n-gate', email: 'gate@acme.example', attributes: { firstName: 'Gail' } });
      assert.ok(created.status < 300, `contact: ${created.status} ${JSON.stringify(created.body)}`);
      const contactId = String(created.body.contact.id);
      return {
        credentials: [
          smtpCredential('CosSmtpGate00001', sink.port, null),
          { id: 'CosApiGate000001', name: 'CampaignOS (gate)', type: 'campaignOsApi', data: { baseUrl: stack.runtime.url!, apiKey: stack.key } },
        ],
        edit(workflow) {
          const set = workflow.nodes.find((n) => n.name === 'Contact')!;
          set.parameters = JSON.parse(JSON.stringify(set.parameters).replace('__CONTACT_ID__', contactId)) as Record<string, unknown>;
        },
        async check(result) {
          assertSucceeded(result);
          const [mail] = await sink.waitFor(1, 10_000);
          assert.deepEqual(mail!.envelopeTo, ['gate@acme.example'], "the runtime contact's address");
          assert.equal(mail!.parsed.subject, 'Welcome to Acme, Gail');
          const unsubscribe = mail!.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line ?? '';
          assert.ok(unsubscribe.includes(`<${stack.runtime.url}/u/`), `List-Unsubscribe: ${unsubscribe}`);
          const { body } = await stack.api('GET', `/v1/messages?contactId=${contactId}`);
          assert.deepEqual(body.messages.map((m: { status: string; recipient: string }) => [m.status, m.recipient]), [['sent', 'gate@acme.example']]);
          const [out] = nodeOutput(result.run, 'CampaignOS Email');
          assert.deepEqual(out?.email, { status: 'sent', messageId: body.messages[0].id });
          assert.ok(!result.output.includes(stack.key), 'the API key appears in n8n output');
        },
        async stop() {
          await sink.close();
          await stack.stop();
          await temporal.stop();
          await database.drop();
          rmSync(temporalDir, { recursive: true, force: true });
        },
      };
    },
  },
];

function loadWorkflow(example: Example, service?: LocalService): Workflow {
  const workflow = JSON.parse(readFileSync(join(ROOT, 'examples', 'n8n', example.workflowFile), 'utf8')) as Workflow;
  if (example.workflowId) workflow.id = example.workflowId;
  example.edit?.(workflow);
  service?.edit?.(workflow);
  return workflow;
}

const available = EXAMPLES.filter((example) => existsSync(join(ROOT, 'examples', 'n8n', example.workflowFile)));

describe('our packages, packed for npm', () => {
  let packDir: string;
  let packages: PackedPackage[] = [];

  before(() => {
    packDir = mkdtempSync(join(tmpdir(), 'campaignos-pack-'));
    packages = pack(publishableFolders(), packDir);
  });
  after(() => rmSync(packDir, { recursive: true, force: true }));

  it('each tarball holds only the built code, its types, icons, README and package.json', () => {
    assert.ok(packages.some((p) => p.name === '@campaignos/sdk'));
    assert.ok(packages.some((p) => p.name === '@campaignos/n8n-nodes-email'));
    assert.deepEqual(packages.flatMap(tarballProblems), []);
  });

  for (const spec of HOSTS) {
    describe(`in ${spec.label} (n8n ${spec.n8n})`, () => {
      let instance: N8nInstance | undefined;
      const services = new Map<Example, LocalService>();

      before(async () => {
        assert.ok(isInstalled(spec), `n8n ${spec.n8n} is not installed: run "node --import tsx test/n8n/hosts.ts"`);
        instance = await createInstance(locate(spec), packages);
        for (const example of available) services.set(example, await example.start());
        const credentials = new Map<string, CredentialFixture>();
        for (const service of services.values()) for (const credential of service.credentials) credentials.set(credential.id, credential);
        await instance.importCredentials([...credentials.values()]);
        await instance.importWorkflows(available.map((example) => loadWorkflow(example, services.get(example))));
      });

      after(async () => {
        instance?.close();
        for (const service of services.values()) await service.stop();
      });

      it('loads every node and credential of every package without an error', async () => {
        const result = await instance!.loadReport();
        const expected = Object.fromEntries(
          packages.filter((p) => p.n8n).map((p) => [p.name, { nodes: p.n8n!.nodes?.length ?? 0, credentials: p.n8n!.credentials?.length ?? 0 }]),
        );
        const campaignPackages = Object.fromEntries(Object.entries(result.loaded).filter(([name]) => name in expected));
        assert.deepEqual(campaignPackages, expected, `n8n did not load what the packages declare; its log:\n${result.output.slice(-4000)}`);
        assert.deepEqual(result.errors, [], 'n8n logged errors while loading community packages');
      });

      for (const example of EXAMPLES) {
        const skip = available.includes(example) ? false : `examples/n8n/${example.workflowFile} does not exist yet`;
        it(example.title, { skip }, async () => {
          const service = services.get(example)!;
          const workflow = loadWorkflow(example);
          const result = await instance!.execute(workflow.id, { env: service.env, timeoutMs: 180_000 });
          await service.check(result);
        });
      }
    });
  }
});
