// Stored email templates and attachments end to end: templates saved through the API (a broken
// one refused), a journey whose email node renders a stored template by name and attaches a file
// from a local HTTP server plus generated inline content, delivered to a real SMTP server; an edit
// makes a new version that new journeys use while a journey in flight keeps the one it started with.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ParsedMail } from 'mailparser';
import { createCampaignApiClient } from '@campaignos/sdk';
import { startJourneyStack, type JourneyStack } from './support/time-skipping-stack.js';
import { eventually } from './support/stack.js';

const MJML = (greeting: string) => `<mjml><mj-body><mj-section><mj-column>
  <mj-text>${greeting} {{ contact.attributes.firstName | default: "there" }},</mj-text>
  <mj-text>Order {{ event.properties.order }} is confirmed.</mj-text>
</mj-column></mj-section></mj-body></mjml>`;

// Bytes a text decoding would damage: the attachment must arrive exactly as served.
const INVOICE = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]), Buffer.from('\n%%EOF\n')]);

describe('stored email templates and attachments', () => {
  let t: JourneyStack;
  let files: Server;
  let filesUrl = '';
  const fileRequests: string[] = [];

  before(async () => {
    files = createServer((req, res) => {
      fileRequests.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://files');
      if (url.pathname.startsWith('/invoices/') && url.searchParams.get('sig') === 'file-secret') {
        res.writeHead(200, { 'content-type': 'application/pdf' }).end(INVOICE);
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    t = await startJourneyStack();
  });
  after(async () => {
    await t?.stop();
    await new Promise((resolve) => files?.close(resolve));
  });

  test('a journey sends a stored template with a URL and an inline attachment; edits make versions', async () => {
    const { api } = t.stack;

    // A template that does not compile is refused with the MJML error, and nothing is saved.
    const broken = await api('POST', '/v1/templates', { name: 'order-confirmation', subject: 'Hi', mjml: MJML('Hi').replaceAll('mj-column', 'mj-colum') });
    assert.equal(broken.status, 400, JSON.stringify(broken.body));
    assert.match(broken.body.error.message, /MJML template is invalid: line \d+/);
    assert.deepEqual((await api('GET', '/v1/templates')).body.templates, []);

    const created = await api('POST', '/v1/templates', {
      name: 'order-confirmation',
      subject: 'Order {{ event.properties.order }} confirmed, {{ contact.firstName }}',
      mjml: MJML('Thanks'),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const template = created.body.template;
    assert.equal(template.version, 1);
    assert.equal((await api('POST', '/v1/templates', { name: 'order-confirmation', subject: 'x', mjml: MJML('x') })).status, 409);
    assert.equal((await api('GET', '/v1/templates/order-confirmation')).body.template.id, template.id);

    const workflow = {
      name: 'Order confirmation',
      nodes: [
        { id: 'trigger', name: 'Order placed', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event: 'order_placed' } },
        emailNode('Confirmation', {
          url: [{ url: `=${filesUrl}/invoices/{{ $json.event.properties.order }}.pdf?sig=file-secret`, filename: '' }],
          inline: [{ filename: 'ticket.txt', contentType: 'text/plain', content: "={{ ('Ticket for ' + $json.contact.attributes.firstName).base64Encode() }}" }],
        }),
        { id: 'wait', name: 'Wait a day', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [0, 0], webhookId: 'b7c0e3f1-1d8a-4d0e-9c4a-6f2b8e1d2a01', parameters: { amount: 1, unit: 'days' } },
        emailNode('Reminder', {}),
      ],
      connections: {
        'Order placed': { main: [[{ node: 'Confirmation', type: 'main', index: 0 }]] },
        Confirmation: { main: [[{ node: 'Wait a day', type: 'main', index: 0 }]] },
        'Wait a day': { main: [[{ node: 'Reminder', type: 'main', index: 0 }]] },
      },
    };
    const deployed = await api('POST', '/v1/workflows?activate=true', workflow);
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));

    const ada = await order(t, 'Ada', 'A-17');
    const [first] = await t.smtp.waitFor(1);
    assert.deepEqual(first!.envelopeTo, ['ada@example.com']);
    assert.equal(first!.parsed.subject, 'Order A-17 confirmed, Ada');
    assert.match(String(first!.parsed.html), /Thanks Ada,/);
    assert.match(String(first!.parsed.html), /Order A-17 is confirmed\./);
    assert.deepEqual(attachments(first!.parsed), [
      { name: 'A-17.pdf', type: 'application/pdf', bytes: INVOICE.toString('base64') },
      { name: 'ticket.txt', type: 'text/plain', bytes: Buffer.from('Ticket for Ada').toString('base64') },
    ]);
    assert.deepEqual(fileRequests, ['/invoices/A-17.pdf?sig=file-secret']);

    // Ada's journey now sleeps before its reminder; the template is edited meanwhile.
    await eventually(async () => (await api('GET', `/v1/contacts/${ada}/journeys`)).body.journeys[0]?.currentNode === 'Wait a day', 20_000, 'Ada to reach the wait');
    const refused = await api('PUT', `/v1/templates/${template.id}`, { subject: 'x', mjml: '<mjml><mj-body><mj-text>no section</mj-text></mj-body></mjml>' });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    const edited = await api('PUT', `/v1/templates/${template.id}`, { subject: 'v2: order {{ event.properties.order }} for {{ contact.firstName }}', mjml: MJML('Hello') });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.equal(edited.body.template.version, 2);
    assert.deepEqual((await api('GET', `/v1/templates/${template.id}/versions`)).body.versions.map((v: { version: number }) => v.version), [2, 1]);
    assert.equal((await api('GET', '/v1/templates/order-confirmation?version=1')).body.template.subject, created.body.template.subject);

    // A new journey renders version 2.
    const bob = await order(t, 'Bob', 'B-2');
    const mails = await t.smtp.waitFor(2);
    const bobMail = mails.find((m) => m.envelopeTo.includes('bob@example.com'))!;
    assert.equal(bobMail.parsed.subject, 'v2: order B-2 for Bob');
    assert.match(String(bobMail.parsed.html), /Hello Bob,/);
    assert.equal(attachments(bobMail.parsed).length, 2);

    // Ada's journey, already on version 1, sends its reminder with version 1 too.
    await t.env.sleep('1d');
    await eventually(async () => (await api('GET', `/v1/contacts/${ada}/journeys`)).body.journeys[0]?.status === 'completed', 30_000, "Ada's journey to complete");
    const reminder = t.smtp.messages.find((m) => m.envelopeTo.includes('ada@example.com') && m !== first);
    assert.ok(reminder, 'Ada got her reminder');
    assert.equal(reminder.parsed.subject, 'Order A-17 confirmed, Ada');
    assert.equal(attachments(reminder.parsed).length, 0);

    // The message log names the version each email was rendered from.
    const summaries = async (contactId: string) =>
      (await api('GET', `/v1/messages?contactId=${contactId}`)).body.messages.map((m: { nodeName: string; summary: string }) => `${m.nodeName}: ${m.summary}`).sort();
    assert.deepEqual(await summaries(ada), [
      'Confirmation: Order A-17 confirmed, Ada (template order-confirmation v1)',
      'Reminder: Order A-17 confirmed, Ada (template order-confirmation v1)',
    ]);
    assert.ok((await summaries(bob)).includes('Confirmation: v2: order B-2 for Bob (template order-confirmation v2)'));
  });

  test('a missing attachment fails the step without sending, naming the URL but not its query', async () => {
    const { api } = t.stack;
    const workflow = {
      name: 'Broken attachment',
      nodes: [
        { id: 'trigger', name: 'Refund', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event: 'refund' } },
        emailNode('Refund email', { url: [{ url: `${filesUrl}/nowhere.pdf?sig=file-secret` }] }),
      ],
      connections: { Refund: { main: [[{ node: 'Refund email', type: 'main', index: 0 }]] } },
    };
    assert.equal((await api('POST', '/v1/workflows?activate=true', workflow)).status, 201);
    const cy = await order(t, 'Cy', 'C-3', 'refund');
    const journey = await eventually(async () => {
      const j = (await api('GET', `/v1/contacts/${cy}/journeys`)).body.journeys[0];
      return j?.status === 'failed' ? j : undefined;
    }, 30_000, "Cy's journey to fail");
    assert.match(journey.error, /^Refund email: Attachment http:\/\/127\.0\.0\.1:\d+\/nowhere\.pdf answered HTTP 404$/);
    const [message] = (await api('GET', `/v1/messages?contactId=${cy}`)).body.messages;
    assert.equal(message.status, 'failed');
    assert.match(message.reason, /^INVALID_PARAMETER: /);
    assert.doesNotMatch(`${journey.error} ${message.reason}`, /file-secret/);
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes('cy@example.com')).length, 0);
  });

  test('inside n8n, the CampaignOS API client reads a stored template by name or id', async () => {
    const { runtime, key } = t.stack;
    const client = createCampaignApiClient({
      getNode: () => ({ id: 'n', name: 'Email', type: '@campaignos/n8n-nodes-email.email', typeVersion: 1, position: [0, 0], parameters: {} }),
      getExecutionId: () => 'exec-1',
      getInputData: () => [{ json: {} }],
      getCredentials: async () => ({ baseUrl: runtime.url, apiKey: key }),
      helpers: {
        // What n8n does with the credential: a bearer header, then the request.
        async httpRequestWithAuthentication(_type: string, request: { url: string; method?: string }) {
          const response = await fetch(request.url, { method: request.method ?? 'GET', headers: { authorization: `Bearer ${key}` } });
          return { statusCode: response.status, body: await response.json() };
        },
      },
    });
    const latest = await client.template(0, 'order-confirmation');
    assert.equal(latest?.version, 2);
    assert.equal(latest?.subject, 'v2: order {{ event.properties.order }} for {{ contact.firstName }}');
    assert.equal((await client.template(0, latest!.id))?.name, 'order-confirmation');
    assert.equal(await client.template(0, 'no-such-template'), null);

    // Deleted with its versions.
    const { api } = t.stack;
    assert.equal((await api('DELETE', '/v1/templates/order-confirmation')).status, 200);
    assert.equal((await api('GET', `/v1/templates/${latest!.id}`)).status, 404);
    assert.equal(await client.template(0, 'order-confirmation'), null);
  });
});

function emailNode(name: string, attachments: Record<string, unknown>) {
  return {
    id: name,
    name,
    type: '@campaignos/n8n-nodes-email.email',
    typeVersion: 1,
    position: [0, 0],
    parameters: { templateSource: 'stored', template: 'order-confirmation', attachments },
    credentials: { campaignOsSmtp: { id: null, name: 'Acme SMTP' } },
  };
}

async function order(t: JourneyStack, name: string, orderId: string, event = 'order_placed'): Promise<string> {
  const contact = await t.stack.api('POST', '/v1/contacts', { externalId: name.toLowerCase(), email: `${name.toLowerCase()}@example.com`, attributes: { firstName: name } });
  assert.ok(contact.status === 200 || contact.status === 201, JSON.stringify(contact.body));
  const sent = await t.stack.api('POST', '/v1/events', { name: event, externalId: name.toLowerCase(), properties: { order: orderId } });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  return contact.body.contact.id;
}

function attachments(mail: ParsedMail) {
  return mail.attachments
    .map((a) => ({ name: a.filename, type: a.contentType, bytes: a.content.toString('base64') }))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
}
