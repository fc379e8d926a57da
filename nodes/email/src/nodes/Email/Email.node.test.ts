import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { isNodeError, type HttpRequest, type HttpResponse, type NodeItem } from '@campaignos/sdk';
import { createMockContext, runNode, type MockContextOptions } from '@campaignos/sdk/testing';
import { Email } from './Email.node.js';
import { clearRenderCache, renderCacheStats } from './render.js';
import { closeTransports, transportCount } from './transport.js';

interface Received {
  from: string;
  to: string[];
  raw: Buffer;
}

/** A real SMTP server on a random port: `bad*@` recipients are refused with 550, password must be "secret". */
class SmtpSink {
  readonly received: Received[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, callback) =>
      auth.password === 'secret' ? callback(null, { user: auth.username }) : callback(new Error('Invalid username or password')),
    onRcptTo: (address, _session, callback) => {
      if (!address.address.startsWith('bad')) return callback();
      callback(Object.assign(new Error('5.1.1 Mailbox unavailable'), { responseCode: 550 }));
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        this.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });

  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(resolve));
  }

  parse(index: number): Promise<ParsedMail> {
    return simpleParser(this.received[index]!.raw);
  }
}

const MJML = `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi {{ contact.attributes.firstName | default: "there" }},</mj-text>
        <mj-text>Welcome to the {{ event.properties.plan }} plan.</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

const sink = new SmtpSink();
const enrolment: NodeItem = {
  json: {
    event: { id: 'e-1', name: 'signup', properties: { plan: 'Pro' }, timestamp: '2025-01-01T00:00:00Z' },
    contact: { id: 'c-1', email: 'ada@example.com', attributes: { firstName: 'Ada' } },
  },
};

function context(overrides: Partial<MockContextOptions> = {}) {
  return createMockContext({
    items: [enrolment],
    parameters: { toEmail: 'ada@example.com', subject: 'Welcome, {{ contact.firstName }}!', mjml: MJML, text: '', replyTo: 'help@shop.example' },
    credentials: {
      campaignOsSmtp: { host: '127.0.0.1', port: sink.port, secure: false, user: 'shop', password: 'secret', fromEmail: 'news@shop.example', fromName: 'Shop' },
    },
    campaign: { contact: { id: 'c-1', email: 'ada@example.com', attributes: { firstName: 'Ada' } } },
    node: { name: 'Send welcome', type: '@campaignos/n8n-nodes-email.email' },
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

before(() => sink.start());
after(async () => {
  await closeTransports();
  await sink.stop();
});
beforeEach(() => {
  sink.received.length = 0;
});

describe('Email node', () => {
  it('describes itself as an n8n node with the SMTP credential', () => {
    const { description, group, channel } = Email.campaignos.definition;
    assert.equal(group, 'channel');
    assert.equal(channel, 'email');
    assert.equal(description.name, 'email');
    assert.deepEqual(description.credentials, [
      { name: 'campaignOsSmtp', required: true },
      { name: 'campaignOsApi', required: false },
    ]);
    assert.deepEqual(
      description.properties.map((p) => p.name),
      ['toEmail', 'templateSource', 'template', 'subject', 'mjml', 'text', 'replyTo', 'attachments'],
    );
    assert.equal(description.properties[1]?.default, 'inline', 'existing workflows keep inline MJML');
    assert.equal(description.properties[0]?.default, '={{ $json.contact.email }}');
  });

  it('delivers a personalised email through the send gate over real SMTP', async () => {
    const ctx = context();
    const [out] = await runNode(Email, ctx);

    assert.equal(ctx.deliveries.length, 1);
    assert.deepEqual(ctx.deliveries[0]?.envelope, { channel: 'email', recipient: 'ada@example.com', itemIndex: 0, summary: 'Welcome, Ada!' });
    assert.deepEqual(out?.[0]?.json.email, { status: 'sent', messageId: 'mock-message-1' });
    assert.deepEqual(out?.[0]?.json.event, enrolment.json.event);

    assert.equal(sink.received.length, 1);
    assert.deepEqual(sink.received[0]?.to, ['ada@example.com']);
    assert.equal(sink.received[0]?.from, 'news@shop.example');
    const mail = await sink.parse(0);
    assert.equal(mail.subject, 'Welcome, Ada!');
    assert.equal(mail.messageId, '<mock-message-1@shop.example>');
    assert.deepEqual(mail.from?.value, [{ address: 'news@shop.example', name: 'Shop' }]);
    assert.equal(mail.replyTo?.value[0]?.address, 'help@shop.example');
    assert.match(String(mail.html), /Hi Ada,/);
    assert.match(String(mail.html), /Welcome to the Pro plan\./);
    assert.match(mail.text ?? '', /Hi Ada,\s+Welcome to the Pro plan\./);
    // RFC 8058: the one-click URL in List-Unsubscribe and the POST marker beside it.
    const header = (key: string) => mail.headerLines.find((h) => h.key === key)?.line;
    assert.equal(header('list-unsubscribe'), 'List-Unsubscribe: <https://campaignos.test/u/mock-message-1/one-click>');
    assert.equal(header('list-unsubscribe-post'), 'List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    // The template had no link, so the footer carries the page URL from the ticket.
    assert.match(String(mail.html), /<a href="https:\/\/campaignos\.test\/u\/mock-message-1"[^>]*>Unsubscribe<\/a>/);
    assert.match(mail.text ?? '', /Unsubscribe \(https:\/\/campaignos\.test\/u\/mock-message-1\)/);
  });

  it('keeps the template’s own unsubscribe link and adds no footer', async () => {
    const mjml = MJML.replace('</mj-column>', '<mj-text><a href="{{ unsubscribe_url }}">Opt out</a></mj-text></mj-column>');
    const ctx = context({ parameters: { toEmail: 'ada@example.com', subject: 'Hi', mjml } });
    await runNode(Email, ctx);
    const mail = await sink.parse(0);
    assert.match(String(mail.html), /<a href="https:\/\/campaignos\.test\/u\/mock-message-1">Opt out<\/a>/);
    assert.doesNotMatch(String(mail.html), />Unsubscribe</);
  });

  it('sends nothing when the gate says the contact is suppressed', async () => {
    const ctx = context({ campaign: { contact: { email: 'ada@example.com' }, suppressed: true } });
    const [out] = await runNode(Email, ctx);
    assert.deepEqual(out?.[0]?.json.email, { status: 'skipped', messageId: null, reason: 'suppressed' });
    assert.equal(ctx.deliveries.length, 1);
    assert.equal(ctx.deliveries[0]?.ticket, null);
    assert.equal(sink.received.length, 0);
  });

  it('compiles the MJML once for a batch of contacts and shares one pooled transport', async () => {
    clearRenderCache();
    const names = ['Ada', 'Grace', 'Linus', 'Margaret', 'Barbara', 'Edsger'];
    const ctx = context({
      items: names.map((name) => ({ json: { contact: { attributes: { firstName: name } }, event: { name: 'signup', properties: { plan: 'Team' } } } })),
      parameters: { toEmail: (i: number) => `${names[i]!.toLowerCase()}@example.com`, subject: 'Hello {{ contact.firstName }}', mjml: MJML },
    });
    const [out] = await runNode(Email, ctx);
    assert.equal(out?.length, names.length);
    assert.equal(renderCacheStats().compiles, 1);
    assert.equal(transportCount(), 1);
    assert.equal(sink.received.length, names.length);
    const recipients = sink.received.flatMap((r) => r.to).sort();
    assert.deepEqual(recipients, names.map((n) => `${n.toLowerCase()}@example.com`).sort());
  });

  it("falls back to the contact's email when toEmail is empty", async () => {
    const ctx = context({ parameters: { toEmail: '', subject: 'Hi', mjml: MJML } });
    await runNode(Email, ctx);
    assert.deepEqual(sink.received[0]?.to, ['ada@example.com']);
  });

  it('sends directly inside n8n (no CampaignOS services), personalised from the item', async () => {
    const ctx = context({ campaign: undefined, parameters: { toEmail: 'ada@example.com', subject: 'Hi {{ contact.firstName }}', mjml: MJML } });
    const [out] = await runNode(Email, ctx);
    const email = out?.[0]?.json.email as { status: string; messageId: string };
    assert.equal(email.status, 'sent');
    assert.match(email.messageId, /^[0-9a-f-]{36}$/);
    const mail = await sink.parse(0);
    assert.equal(mail.subject, 'Hi Ada');
    assert.equal(mail.messageId, `<${email.messageId}@shop.example>`);
    assert.equal(mail.headers.get('list'), undefined);
  });

  it('runs inside n8n through the generated node class', async () => {
    const parameters: Record<string, unknown> = { toEmail: 'grace@example.com', subject: 'Hi {{ contact.firstName }}', mjml: MJML, text: '', replyTo: '' };
    const fns = (continueOnFail: boolean, to = 'grace@example.com') =>
      ({
        getNode: () => ({ name: 'Send', type: '@campaignos/n8n-nodes-email.email', typeVersion: 1 }),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        getInputData: () => [{ json: { contact: { email: to, attributes: { firstName: 'Grace' } } } }],
        getNodeParameter: (name: string, _i: number, fallback?: unknown) => (name === 'toEmail' ? to : parameters[name] ?? fallback),
        getCredentials: async () => ({ host: '127.0.0.1', port: sink.port, user: 'shop', password: 'secret', fromEmail: 'news@shop.example' }),
        continueOnFail: () => continueOnFail,
      }) as unknown as IExecuteFunctions;

    const run = async (f: IExecuteFunctions) => (await new Email().execute!.call(f)) as INodeExecutionData[][];
    const [out] = await run(fns(false));
    assert.equal((out?.[0]?.json.email as { status: string }).status, 'sent');
    assert.deepEqual(out?.[0]?.pairedItem, { item: 0 });
    assert.equal((await sink.parse(0)).subject, 'Hi Grace');

    await assert.rejects(run(fns(false, 'bad@example.com')), /RECIPIENT_INVALID/);
    const [failed] = await run(fns(true, 'bad@example.com'));
    assert.equal((failed?.[0]?.json.error as { code: string }).code, 'RECIPIENT_INVALID');
  });

  it('refuses a missing or malformed recipient before asking the gate', async () => {
    for (const toEmail of ['', 'not-an-address', 'a@b.example, c@d.example']) {
      const ctx = context({ parameters: { toEmail, subject: 'Hi', mjml: MJML }, campaign: { contact: { email: null } } });
      await rejectsWithCode(runNode(Email, ctx), 'RECIPIENT_INVALID', false);
      assert.equal(ctx.deliveries.length, 0);
    }
    assert.equal(sink.received.length, 0);
  });

  it('refuses a broken template before asking the gate', async () => {
    const ctx = context({ parameters: { toEmail: 'ada@example.com', subject: 'Hi', mjml: MJML.replaceAll('mj-column', 'mj-colum') } });
    await rejectsWithCode(runNode(Email, ctx), 'TEMPLATE_INVALID', false);
    assert.equal(ctx.deliveries.length, 0);
  });

  it('maps a recipient the SMTP server refuses to RECIPIENT_INVALID', async () => {
    const ctx = context({ parameters: { toEmail: 'bad@example.com', subject: 'Hi', mjml: MJML } });
    await rejectsWithCode(runNode(Email, ctx), 'RECIPIENT_INVALID', false);
  });

  it('maps a refused login to INVALID_CREDENTIALS', async () => {
    const ctx = context({
      credentials: { campaignOsSmtp: { host: '127.0.0.1', port: sink.port, user: 'shop', password: 'wrong', fromEmail: 'news@shop.example' } },
    });
    await rejectsWithCode(runNode(Email, ctx), 'INVALID_CREDENTIALS', false);
  });

  it('maps an unreachable server to a retryable PROVIDER_UNAVAILABLE', async () => {
    const ctx = context({ credentials: { campaignOsSmtp: { host: '127.0.0.1', port: 1, fromEmail: 'news@shop.example' } } });
    await rejectsWithCode(runNode(Email, ctx), 'PROVIDER_UNAVAILABLE', true);
  });

  it('refuses a message over the size limit', async () => {
    const ctx = context({
      items: [{ json: { contact: { attributes: { firstName: 'x'.repeat(11 * 1024 * 1024) } } } }],
      campaign: undefined,
      parameters: { toEmail: 'ada@example.com', subject: 'Hi', mjml: MJML },
    });
    await rejectsWithCode(runNode(Email, ctx), 'MESSAGE_TOO_LARGE', false);
    assert.equal(sink.received.length, 0);
  });

  it('turns a failed item into an error item with "continue on fail"', async () => {
    const ctx = context({
      items: [enrolment, enrolment],
      continueOnFail: true,
      parameters: { toEmail: (i: number) => (i === 0 ? 'bad@example.com' : 'ada@example.com'), subject: 'Hi', mjml: MJML },
    });
    const [out] = await runNode(Email, ctx);
    assert.equal((out?.[0]?.json.error as { code: string }).code, 'RECIPIENT_INVALID');
    assert.equal((out?.[1]?.json.email as { status: string }).status, 'sent');
    assert.equal(sink.received.length, 1);
  });

  describe('stored templates', () => {
    const stored = (version: number, subject: string) => ({ id: 'tpl-1', name: 'welcome', version, subject, mjml: MJML.replace('Hi', `v${version} Hi`) });

    it('renders the latest stored version by name and records which one', async () => {
      const ctx = context({
        parameters: { toEmail: 'ada@example.com', templateSource: 'stored', template: 'welcome' },
        campaign: {
          contact: { id: 'c-1', email: 'ada@example.com', attributes: { firstName: 'Ada' } },
          templates: [stored(1, 'Old {{ contact.firstName }}'), stored(2, 'New {{ contact.firstName }}')],
        },
      });
      const [out] = await runNode(Email, ctx);
      assert.deepEqual(out?.[0]?.json.email, { status: 'sent', messageId: 'mock-message-1', template: { id: 'tpl-1', name: 'welcome', version: 2 } });
      assert.equal(ctx.deliveries[0]?.envelope.summary, 'New Ada (template welcome v2)');
      const mail = await sink.parse(0);
      assert.equal(mail.subject, 'New Ada');
      assert.match(String(mail.html), /v2 Hi Ada,/);
    });

    it('keeps inline MJML when the source is inline, whatever templates exist', async () => {
      const ctx = context({
        parameters: { toEmail: 'ada@example.com', templateSource: 'inline', template: 'welcome', subject: 'Inline {{ contact.firstName }}', mjml: MJML },
        campaign: { contact: { email: 'ada@example.com', attributes: { firstName: 'Ada' } }, templates: [stored(1, 'Stored')] },
      });
      await runNode(Email, ctx);
      assert.equal((await sink.parse(0)).subject, 'Inline Ada');
    });

    it('refuses an unknown template, naming it, before asking the gate', async () => {
      const ctx = context({
        parameters: { toEmail: 'ada@example.com', templateSource: 'stored', template: 'nope' },
        campaign: { contact: { email: 'ada@example.com' }, templates: [stored(1, 'Hi')] },
      });
      await rejectsWithCode(runNode(Email, ctx), 'INVALID_PARAMETER', false, /"nope"/);
      assert.equal(ctx.deliveries.length, 0);
    });

    it('needs CampaignOS services (the API credential in n8n) for a stored template', async () => {
      const ctx = context({ campaign: undefined, parameters: { toEmail: 'ada@example.com', templateSource: 'stored', template: 'welcome' } });
      await rejectsWithCode(runNode(Email, ctx), 'INVALID_PARAMETER', false, /CampaignOS API credential/);
      assert.equal(sink.received.length, 0);
    });
  });

  describe('attachments', () => {
    const PDF = Buffer.from('%PDF-1.4 fake invoice \u0000\u00ff bytes', 'latin1');
    const served = (status: number, body: Buffer = PDF, type = 'application/pdf') => {
      const requests: HttpRequest[] = [];
      const http = async (request: HttpRequest): Promise<HttpResponse> => {
        requests.push(request);
        return { status, headers: { 'content-type': type }, body };
      };
      return { http, requests };
    };
    const withAttachments = (attachments: unknown, overrides: Partial<MockContextOptions> = {}) =>
      context({ parameters: { toEmail: 'ada@example.com', subject: 'Hi', mjml: MJML, attachments }, ...overrides });

    it('attaches inline base64 content and a fetched URL, with names, types and bytes', async () => {
      const { http, requests } = served(200, PDF, 'application/pdf; name=x');
      const ctx = withAttachments(
        {
          url: [{ url: 'https://files.example/invoices/A-17.pdf?token=s3cret', filename: '' }],
          inline: [{ filename: 'ticket.txt', contentType: 'text/plain', content: Buffer.from('Seat 12A').toString('base64') }],
        },
        { http },
      );
      await runNode(Email, ctx);
      assert.deepEqual(requests.map((r) => [r.url, r.responseType]), [['https://files.example/invoices/A-17.pdf?token=s3cret', 'binary']]);
      const mail = await sink.parse(0);
      const files = mail.attachments
        .map((a) => ({ name: a.filename, type: a.contentType, bytes: a.content.toString('base64') }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      assert.deepEqual(files, [
        { name: 'A-17.pdf', type: 'application/pdf', bytes: PDF.toString('base64') },
        { name: 'ticket.txt', type: 'text/plain', bytes: Buffer.from('Seat 12A').toString('base64') },
      ]);
    });

    it('does not fetch anything for a suppressed contact', async () => {
      const { http, requests } = served(200);
      const ctx = withAttachments({ url: [{ url: 'https://files.example/a.pdf' }] }, { http, campaign: { contact: { email: 'ada@example.com' }, suppressed: true } });
      const [out] = await runNode(Email, ctx);
      assert.equal((out?.[0]?.json.email as { status: string }).status, 'skipped');
      assert.equal(requests.length, 0);
    });

    it('attaches an n8n binary property of the item', async () => {
      const ctx = withAttachments({ binary: [{ property: 'data', filename: '' }] }, { campaign: undefined, binary: [{ data: { data: PDF, mimeType: 'application/pdf', fileName: 'scan.pdf' } }] });
      await runNode(Email, ctx);
      const [file] = (await sink.parse(0)).attachments;
      assert.equal(file?.filename, 'scan.pdf');
      assert.equal(file?.contentType, 'application/pdf');
      assert.ok(file?.content.equals(PDF));
    });

    it('refuses attachments over the 10 MB total, fetching no more than the budget', async () => {
      const big = Buffer.alloc(6 * 1024 * 1024, 1);
      const { http, requests } = served(200, big);
      const ctx = withAttachments(
        { url: [{ url: 'https://files.example/a.bin' }], inline: [{ filename: 'b.bin', contentType: 'application/octet-stream', content: big.toString('base64') }] },
        { http },
      );
      await rejectsWithCode(runNode(Email, ctx), 'MESSAGE_TOO_LARGE', false, /files\.example\/a\.bin/);
      assert.ok((requests[0]?.maxBytes ?? Infinity) < 4 * 1024 * 1024, 'the fetch is told how much room is left');
      assert.equal(sink.received.length, 0);
    });

    it('maps a 4xx to INVALID_PARAMETER and a 5xx to retryable PROVIDER_UNAVAILABLE, never leaking query or user info', async () => {
      for (const [status, code, retryable] of [[404, 'INVALID_PARAMETER', false], [503, 'PROVIDER_UNAVAILABLE', true]] as const) {
        const { http } = served(status);
        const ctx = withAttachments({ url: [{ url: 'https://bob:pw@files.example/x.pdf?sig=s3cret' }] }, { http });
        await assert.rejects(runNode(Email, ctx), (e: unknown) => {
          assert.ok(isNodeError(e));
          assert.equal(e.code, code);
          assert.equal(e.retryable, retryable);
          assert.match(e.message, /https:\/\/files\.example\/x\.pdf/);
          assert.doesNotMatch(`${e.message} ${e.description ?? ''}`, /s3cret|bob|pw@/);
          return true;
        });
      }
      const unreachable = withAttachments({ url: [{ url: 'https://files.example/x.pdf?sig=s3cret' }] }, {
        http: async () => {
          throw new Error('connect ECONNREFUSED https://files.example/x.pdf?sig=s3cret');
        },
      });
      await rejectsWithCode(runNode(Email, unreachable), 'PROVIDER_UNAVAILABLE', true, /^(?!.*s3cret)/);
      assert.equal(sink.received.length, 0);
    });

    it('refuses a URL that is not http(s) and content that is not base64, before asking the gate', async () => {
      for (const attachments of [{ url: [{ url: 'file:///etc/passwd' }] }, { inline: [{ filename: 'a.txt', contentType: 'text/plain', content: 'not base64!' }] }]) {
        const ctx = withAttachments(attachments);
        await rejectsWithCode(runNode(Email, ctx), 'INVALID_PARAMETER', false);
        assert.equal(ctx.deliveries.length, 0);
      }
    });
  });
});
