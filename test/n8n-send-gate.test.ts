// A channel node inside n8n with a "CampaignOS API" credential: the real Email node's execute,
// called as n8n calls it, asks a real runtime's send gate (real PostgreSQL, real Temporal dev
// server) and sends to a real SMTP server. n8n itself is replaced by a minimal fake of its
// execute functions, as in n8n-campaign-client.test.ts: httpRequestWithAuthentication applies
// the credential's `authenticate` header and calls the API with real fetch.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ParsedMail } from 'mailparser';
import type { IExecuteFunctions, IHttpRequestOptions, INodeExecutionData } from 'n8n-workflow';
import { CampaignOsApi } from '@campaignos/sdk';
import { closeTransports, Email } from '@campaignos/n8n-nodes-email';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { startStack, type Stack } from './support/stack.js';
import { devServer } from './support/temporal.js';

interface FakeOptions {
  baseUrl: string;
  apiKey: string;
  smtpPort: number;
  items: Array<Record<string, unknown>>;
  executionId: string;
  /** Whether the user selected a CampaignOS API credential on the node. */
  campaignApi: boolean;
  parameters: Record<string, unknown>;
}

/** Just enough of n8n's IExecuteFunctions for the Email node with both of its credentials. */
function fakeN8n(options: FakeOptions) {
  const authorization = new CampaignOsApi().authenticate.properties.headers!.Authorization as string;
  const items: INodeExecutionData[] = options.items.map((json) => ({ json: json as INodeExecutionData['json'] }));
  const credentials: Record<string, object> = {
    campaignOsSmtp: { host: '127.0.0.1', port: options.smtpPort, secure: false, user: '', password: '', fromEmail: 'hello@acme.example', fromName: 'Acme' },
    ...(options.campaignApi && { campaignOsApi: { baseUrl: options.baseUrl, apiKey: options.apiKey } }),
  };
  const fns = {
    getNode: () => ({
      id: 'node-1',
      name: 'Send welcome',
      type: '@campaignos/n8n-nodes-email.email',
      typeVersion: 1,
      position: [0, 0] as [number, number],
      parameters: {},
      credentials: Object.fromEntries(Object.keys(credentials).map((type, i) => [type, { id: String(i + 1), name: type }])),
    }),
    getExecutionId: () => options.executionId,
    getInputData: () => items,
    getCredentials: async (type: string) => {
      const found = credentials[type];
      if (!found) throw new Error(`Node does not have any credentials set for "${type}"`);
      return found;
    },
    getNodeParameter: (name: string, _itemIndex: number, fallback?: unknown) => options.parameters[name] ?? fallback,
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
  return fns as unknown as IExecuteFunctions;
}

/** The raw header value, as a mail client reads it (mailparser reshapes some headers). */
function header(mail: ParsedMail, name: string): string {
  const line = mail.headerLines.find((h) => h.key === name)?.line ?? '';
  return line.slice(line.indexOf(':') + 1).trim();
}

const unsubscribeLink = (mail: ParsedMail) => /<(http[^>]+)>/.exec(header(mail, 'list-unsubscribe'))?.[1];

describe('a channel node inside n8n with a CampaignOS API credential', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let stack: Stack;
  let smtp: SmtpSink;
  const ids: Record<string, string> = {};

  // The default "To Email" (`={{ $json.contact.email }}`) on an item that only names the contact's id.
  const welcome = { toEmail: '', subject: 'Welcome, {{ contact.firstName }}!', mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ contact.firstName }}</mj-text></mj-column></mj-section></mj-body></mjml>' };

  const runEmail = async (items: Array<Record<string, unknown>>, executionId: string, more: { campaignApi?: boolean; parameters?: Record<string, unknown> } = {}) => {
    const fns = fakeN8n({
      baseUrl: stack.runtime.url!,
      apiKey: stack.key,
      smtpPort: smtp.port,
      items,
      executionId,
      campaignApi: more.campaignApi ?? true,
      parameters: { ...welcome, ...more.parameters },
    });
    const output = (await new Email().execute!.call(fns)) as INodeExecutionData[][];
    return output[0]!.map((item) => item.json as Record<string, any>);
  };

  const messagesOf = async (contactId: string) => (await stack.api('GET', `/v1/messages?contactId=${contactId}`)).body.messages as Array<Record<string, any>>;

  before(async () => {
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-n8n-gate-')), 'temporal.db'));
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace }, worker: false });
    smtp = await startSmtpSink();
    for (const name of ['ada', 'bob', 'cy']) {
      const { body } = await stack.api('POST', '/v1/contacts', { externalId: name, email: `${name}@example.com`, attributes: { firstName: name.toUpperCase() } });
      ids[name] = body.contact.id;
    }
  });

  after(async () => {
    await closeTransports();
    await smtp?.close();
    await stack?.stop();
    await temporal?.stop();
    await database?.drop();
  });

  test("sends to the runtime contact's address with its unsubscribe link, once per execution", async () => {
    const [out] = await runEmail([{ contact: { id: ids.ada } }], 'exec-1');
    assert.equal(out?.email.status, 'sent', JSON.stringify(out));

    const [mail] = await smtp.waitFor(1);
    assert.deepEqual(mail!.envelopeTo, ['ada@example.com']);
    assert.equal(mail!.parsed.subject, 'Welcome, ADA!', 'personalised from the contact the API returned');
    assert.ok(unsubscribeLink(mail!.parsed)?.startsWith(`${stack.runtime.url}/u/`), header(mail!.parsed, 'list-unsubscribe'));
    assert.equal(header(mail!.parsed, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');

    const log = await messagesOf(ids.ada!);
    assert.deepEqual(
      log.map((m) => [m.status, m.channel, m.recipient, m.nodeName, m.summary]),
      [['sent', 'email', 'ada@example.com', 'Send welcome', 'Welcome, ADA!']],
    );
    assert.equal(out?.email.messageId, log[0]!.id);
    assert.ok(String(mail!.parsed.messageId).includes(log[0]!.id), `Message-ID ${mail!.parsed.messageId} carries the runtime's message id`);

    // n8n retries the node (or the whole execution is retried): the gate recognises it.
    const [again] = await runEmail([{ contact: { id: ids.ada } }], 'exec-1');
    assert.deepEqual(again?.email, { status: 'skipped', messageId: log[0]!.id, reason: 'duplicate' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(smtp.messages.length, 1, 'the retry sent nothing');
    assert.equal((await messagesOf(ids.ada!)).length, 1);
  });

  test('a contact who unsubscribed through the runtime gets nothing; the item says why', async () => {
    await runEmail([{ contact: { id: ids.bob } }], 'exec-2');
    const mail = (await smtp.waitFor(2)).find((m) => m.envelopeTo.includes('bob@example.com'));
    assert.ok(mail, 'Bob got the first email');
    // The one-click POST Bob's mail client sends (RFC 8058).
    const oneClick = await fetch(unsubscribeLink(mail.parsed)!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(oneClick.status, 200);

    const [out] = await runEmail([{ contact: { id: ids.bob } }], 'exec-3');
    assert.equal(out?.email.status, 'skipped');
    assert.equal(out?.email.reason, 'suppressed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(smtp.messages.filter((m) => m.envelopeTo.includes('bob@example.com')).length, 1, 'no second email to Bob');
    assert.deepEqual((await messagesOf(ids.bob!)).map((m) => m.status), ['skipped', 'sent']);
  });

  test('an explicit "To Email" wins over the contact\'s address; the send still passes the gate', async () => {
    const [out] = await runEmail([{ contact: { id: ids.cy } }], 'exec-4', { parameters: { toEmail: 'cy.work@example.com' } });
    assert.equal(out?.email.status, 'sent');
    const mail = (await smtp.waitFor(3)).at(-1)!;
    assert.deepEqual(mail.envelopeTo, ['cy.work@example.com']);
    assert.equal(mail.parsed.subject, 'Welcome, CY!');
    assert.ok(unsubscribeLink(mail.parsed)?.startsWith(`${stack.runtime.url}/u/`));
    assert.deepEqual((await messagesOf(ids.cy!)).map((m) => [m.status, m.recipient]), [['sent', 'cy.work@example.com']]);
  });

  test('without the credential the node sends directly, as before: no gate, no runtime link', async () => {
    const before = smtp.messages.length;
    const [out] = await runEmail([{ contact: { id: ids.cy, attributes: { firstName: 'Cy' } } }], 'exec-5', {
      campaignApi: false,
      parameters: { toEmail: 'cy@example.com' },
    });
    assert.equal(out?.email.status, 'sent');
    const mail = (await smtp.waitFor(before + 1)).at(-1)!;
    assert.deepEqual(mail.envelopeTo, ['cy@example.com']);
    assert.equal(mail.parsed.subject, 'Welcome, Cy!', 'personalised from the item, not the runtime');
    assert.equal(header(mail.parsed, 'list-unsubscribe'), '');
    assert.equal((await messagesOf(ids.cy!)).length, 1, 'nothing new in the runtime message log');
  });
});
