import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IExecuteFunctions, IHttpRequestOptions, INodeExecutionData } from 'n8n-workflow';
import { isNodeError, type CampaignServices, type HttpRequest, type HttpResponse, type NodeItem } from '@campaignos/sdk';
import { createMockContext, runNode, type MockContextOptions } from '@campaignos/sdk/testing';
import { Sms } from './Sms.node.js';
import { countSegments } from './transport.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'tok-secret-123';
const CREDENTIALS = { accountSid: SID, authToken: TOKEN, from: '+15005550006', baseUrl: 'http://sms.test/' };
const STATUS_URL = 'https://campaignos.test/v1/deliveries/tkn/status';

const enrolment: NodeItem = {
  json: {
    event: { id: 'e-1', name: 'order_shipped', properties: { order: 'A-17' } },
    contact: { id: 'c-1', phone: '+33612345678', attributes: { firstName: 'Ada' } },
  },
};

interface Sent {
  request: HttpRequest;
  form: URLSearchParams;
}

/** An HTTP handler standing in for the provider: records requests, answers with `reply`. */
function provider(reply: (form: URLSearchParams) => HttpResponse | Promise<HttpResponse> = accepted) {
  const sent: Sent[] = [];
  const http = async (request: HttpRequest): Promise<HttpResponse> => {
    const form = new URLSearchParams(String(request.body));
    sent.push({ request, form });
    return reply(form);
  };
  return { sent, http };
}

function accepted(form: URLSearchParams): HttpResponse {
  return {
    status: 201,
    headers: { 'content-type': 'application/json' },
    body: { sid: 'SM0001', status: 'queued', to: form.get('To'), from: form.get('From'), body: form.get('Body'), num_segments: '1' },
  };
}

const twilioError = (status: number, code: number, message: string, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

/** A context in a CampaignOS journey whose gate hands out a status callback URL, as the runtime's does. */
function context(http: MockContextOptions['http'], overrides: Partial<MockContextOptions> = {}) {
  const ctx = createMockContext({
    items: [enrolment],
    parameters: { to: '', message: 'Hi {{ contact.firstName }}, order {{ event.properties.order }} has shipped.', statusCallbackUrl: '' },
    credentials: { campaignOsSmsApi: CREDENTIALS },
    campaign: { contact: { id: 'c-1', phone: '+33612345678', attributes: { firstName: 'Ada' } } },
    node: { name: 'Shipping SMS', type: '@campaignos/n8n-nodes-sms.sms' },
    http,
    ...overrides,
  });
  if (ctx.campaign) {
    const campaign = ctx.campaign as CampaignServices;
    const deliver = campaign.deliver;
    campaign.deliver = (envelope, send) => deliver(envelope, (ticket) => send({ ...ticket, statusCallbackUrl: STATUS_URL }));
  }
  return ctx;
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, retryable: boolean, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isNodeError(error), `expected a NodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.itemIndex, 0);
    assert.equal(error.retryable, retryable);
    if (message) assert.match(error.message, message);
    assert.doesNotMatch(`${error.message} ${error.description ?? ''}`, new RegExp(TOKEN), 'the auth token never appears in an error');
    return true;
  });
}

describe('SMS node', () => {
  it('describes itself as an n8n node with the SMS credential', () => {
    const { description, group, channel } = Sms.campaignos.definition;
    assert.equal(group, 'channel');
    assert.equal(channel, 'sms');
    assert.equal(description.name, 'sms');
    assert.equal(description.icon, 'file:sms.svg');
    assert.deepEqual(description.credentials, [
      { name: 'campaignOsSmsApi', required: true },
      { name: 'campaignOsApi', required: false },
    ]);
    assert.deepEqual(
      description.properties.map((p) => p.name),
      ['to', 'message', 'statusCallbackUrl'],
    );
    assert.equal(description.properties[0]?.default, '={{ $json.contact.phone }}');
  });

  it("sends the personalised text to the contact's phone through the send gate, Twilio-shaped", async () => {
    const { sent, http } = provider();
    const ctx = context(http);
    const [out] = await runNode(Sms, ctx);

    assert.equal(ctx.deliveries.length, 1);
    assert.deepEqual(ctx.deliveries[0]?.envelope, {
      channel: 'sms',
      recipient: '+33612345678',
      itemIndex: 0,
      summary: 'Hi Ada, order A-17 has shipped.',
    });
    assert.equal(sent.length, 1);
    const { request, form } = sent[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, `http://sms.test/2010-04-01/Accounts/${SID}/Messages.json`);
    assert.equal(request.headers?.authorization, `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
    assert.equal(request.headers?.['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(typeof request.body, 'string', 'the body is sent form-encoded, not as JSON');
    assert.deepEqual(Object.fromEntries(form), {
      To: '+33612345678',
      From: '+15005550006',
      Body: 'Hi Ada, order A-17 has shipped.',
      StatusCallback: STATUS_URL,
    });
    assert.deepEqual(out?.[0]?.json.sms, {
      status: 'sent',
      messageId: 'mock-message-1',
      sid: 'SM0001',
      providerStatus: 'queued',
      to: '+33612345678',
      segments: 1,
    });
    assert.deepEqual(out?.[0]?.json.event, enrolment.json.event);
  });

  it('sends through a Messaging Service when From is an MG... SID', async () => {
    const { sent, http } = provider();
    const service = 'MG' + 'a'.repeat(32);
    await runNode(Sms, context(http, { credentials: { campaignOsSmsApi: { ...CREDENTIALS, from: service } } }));
    assert.equal(sent[0]?.form.get('MessagingServiceSid'), service);
    assert.equal(sent[0]?.form.has('From'), false);
  });

  it('uses "to" when given, normalising what people type', async () => {
    const { sent, http } = provider();
    await runNode(Sms, context(http, { parameters: { to: '+44 (20) 7946-0958', message: 'Hi' } }));
    assert.equal(sent[0]?.form.get('To'), '+442079460958');
  });

  it('sends nothing when the gate says the contact is suppressed', async () => {
    const { sent, http } = provider();
    const ctx = context(http, { campaign: { contact: { phone: '+33612345678' }, suppressed: true } });
    const [out] = await runNode(Sms, ctx);
    assert.deepEqual(out?.[0]?.json.sms, { status: 'skipped', messageId: null, reason: 'suppressed' });
    assert.equal(sent.length, 0);
  });

  it('refuses a contact without a phone, or a number not in E.164 form, before asking the gate', async () => {
    for (const phone of [null, '0612345678', 'not a number']) {
      const { sent, http } = provider();
      const ctx = context(http, { campaign: { contact: { phone } } });
      await rejectsWithCode(runNode(Sms, ctx), 'RECIPIENT_INVALID', false, phone === null ? /no phone number/ : /E\.164/);
      assert.equal(ctx.deliveries.length, 0);
      assert.equal(sent.length, 0);
    }
  });

  it('refuses a message over 1600 characters before any request', async () => {
    const { sent, http } = provider();
    const long = 'x'.repeat(1590) + '{{ contact.firstName }}{{ contact.firstName }}{{ contact.firstName }}{{ contact.firstName }}';
    await rejectsWithCode(runNode(Sms, context(http, { parameters: { message: long } })), 'MESSAGE_TOO_LARGE', false, /1602 characters/);
    assert.equal(sent.length, 0);

    // 1600 exactly is fine, and Twilio splits it into 11 segments.
    const { sent: sentMax, http: httpMax } = provider((form) => ({ status: 201, headers: {}, body: { sid: 'SM2', status: 'queued', to: form.get('To') } }));
    const [out] = await runNode(Sms, context(httpMax, { parameters: { message: 'y'.repeat(1600) } }));
    assert.equal(sentMax.length, 1);
    assert.equal((out?.[0]?.json.sms as { segments: number }).segments, 11, 'estimated when the provider does not say');
  });

  it('refuses a broken template before asking the gate', async () => {
    const { sent, http } = provider();
    const ctx = context(http, { parameters: { message: 'Hi {{ contact.firstName ' } });
    await rejectsWithCode(runNode(Sms, ctx), 'TEMPLATE_INVALID', false);
    assert.equal(ctx.deliveries.length, 0);
    assert.equal(sent.length, 0);
  });

  it('refuses incomplete credentials without a request', async () => {
    for (const bad of [{ accountSid: '' }, { authToken: '' }, { from: 'not a sender!' }, { baseUrl: 'ftp://sms.test' }]) {
      const { sent, http } = provider();
      await rejectsWithCode(runNode(Sms, context(http, { credentials: { campaignOsSmsApi: { ...CREDENTIALS, ...bad } } })), 'INVALID_CREDENTIALS', false);
      assert.equal(sent.length, 0);
    }
  });

  describe('maps provider answers to error codes', () => {
    const cases: Array<[string, HttpResponse, string, boolean, RegExp]> = [
      ['401 / 20003', twilioError(401, 20003, 'Authenticate'), 'INVALID_CREDENTIALS', false, /401 \(error 20003\): Authenticate/],
      ['403', twilioError(403, 20008, 'Forbidden'), 'INVALID_CREDENTIALS', false, /403/],
      ['429 with Retry-After', twilioError(429, 20429, 'Too Many Requests', { 'retry-after': '7' }), 'RATE_LIMITED', true, /retry after 7 s/],
      ['20429 without Retry-After', twilioError(429, 20429, 'Too Many Requests'), 'RATE_LIMITED', true, /Too Many Requests$/],
      ['21617', twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit'), 'MESSAGE_TOO_LARGE', false, /21617/],
      ['21211', twilioError(400, 21211, "The 'To' number +1555 is not a valid phone number."), 'RECIPIENT_INVALID', false, /not a valid phone number/],
      ['21614', twilioError(400, 21614, "'To' number is not a valid mobile number"), 'RECIPIENT_INVALID', false, /21614/],
      ['500', twilioError(500, 20500, 'Internal Server Error'), 'PROVIDER_UNAVAILABLE', true, /500/],
      ['503 without a JSON body', { status: 503, headers: { 'content-type': 'text/html' }, body: '<html>down</html>' }, 'PROVIDER_UNAVAILABLE', true, /503/],
      ['other 4xx', twilioError(400, 21606, "The 'From' phone number provided is not a valid message-capable phone number"), 'PROVIDER_REJECTED', false, /21606\): The 'From' phone number/],
      ['2xx without a sid', { status: 200, headers: {}, body: {} }, 'PROVIDER_REJECTED', false, /without a message sid/],
    ];
    for (const [name, response, code, retryable, message] of cases) {
      it(`${name} → ${code}`, async () => {
        const { http } = provider(() => response);
        await rejectsWithCode(runNode(Sms, context(http)), code, retryable, message);
      });
    }

    it('an unreachable provider → retryable PROVIDER_UNAVAILABLE', async () => {
      const http = async () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
      };
      await rejectsWithCode(runNode(Sms, context(http)), 'PROVIDER_UNAVAILABLE', true, /could not be reached \(ECONNREFUSED\)/);
    });
  });

  it('sends directly inside n8n (no CampaignOS services) to the "to" parameter', async () => {
    const { sent, http } = provider();
    const ctx = context(http, {
      campaign: undefined,
      parameters: { to: '+15558675310', message: 'Hi {{ contact.firstName }}', statusCallbackUrl: 'https://n8n.example/webhook/sms' },
    });
    const [out] = await runNode(Sms, ctx);
    assert.deepEqual(Object.fromEntries(sent[0]!.form), { To: '+15558675310', From: '+15005550006', Body: 'Hi Ada', StatusCallback: 'https://n8n.example/webhook/sms' });
    assert.deepEqual(out?.[0]?.json.sms, { status: 'sent', messageId: null, sid: 'SM0001', providerStatus: 'queued', to: '+15558675310', segments: 1 });
  });

  it("falls back to the item's contact phone inside n8n", async () => {
    const { sent, http } = provider();
    await runNode(Sms, context(http, { campaign: undefined, parameters: { to: '', message: 'Hi' } }));
    assert.equal(sent[0]?.form.get('To'), '+33612345678');
  });

  it('runs inside n8n through the generated node class, form-encoded through n8n’s HTTP helper', async () => {
    const calls: IHttpRequestOptions[] = [];
    const fns = (continueOnFail: boolean, answer: { statusCode: number; body: unknown }) =>
      ({
        getNode: () => ({ name: 'Send SMS', type: '@campaignos/n8n-nodes-sms.sms', typeVersion: 1 }),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        getInputData: () => [{ json: { contact: { phone: '+15558675310', attributes: { firstName: 'Grace' } } } }],
        getNodeParameter: (name: string, _i: number, fallback?: unknown) =>
          ({ to: '+15558675310', message: 'Hello {{ contact.firstName }}', statusCallbackUrl: '' })[name] ?? fallback,
        getCredentials: async () => CREDENTIALS,
        continueOnFail: () => continueOnFail,
        helpers: {
          httpRequest: async (options: IHttpRequestOptions) => {
            calls.push(options);
            return { statusCode: answer.statusCode, headers: { 'content-type': 'application/json' }, body: answer.body };
          },
        },
      }) as unknown as IExecuteFunctions;
    const run = async (f: IExecuteFunctions) => (await new Sms().execute!.call(f)) as INodeExecutionData[][];

    // n8n's helper may hand back the JSON body as text when `json` is off.
    const [out] = await run(fns(false, { statusCode: 201, body: JSON.stringify({ sid: 'SM42', status: 'queued', to: '+15558675310', num_segments: '1' }) }));
    assert.equal((out?.[0]?.json.sms as { sid: string }).sid, 'SM42');
    assert.deepEqual(out?.[0]?.pairedItem, { item: 0 });
    assert.equal(calls[0]?.json, false);
    assert.equal(calls[0]?.headers?.['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(new URLSearchParams(String(calls[0]?.body)).get('Body'), 'Hello Grace');

    await assert.rejects(run(fns(false, { statusCode: 401, body: { code: 20003, message: 'Authenticate', status: 401 } })), /INVALID_CREDENTIALS/);
    const [failed] = await run(fns(true, { statusCode: 400, body: { code: 21211, message: 'Invalid To', status: 400 } }));
    assert.equal((failed?.[0]?.json.error as { code: string }).code, 'RECIPIENT_INVALID');
  });

  it('turns a failed item into an error item with "continue on fail"', async () => {
    const { sent, http } = provider((form) => (form.get('To') === '+15550000000' ? twilioError(400, 21211, 'Invalid To') : accepted(form)));
    const ctx = context(http, {
      items: [enrolment, enrolment],
      continueOnFail: true,
      parameters: { to: (i: number) => (i === 0 ? '+15550000000' : '+15558675310'), message: 'Hi' },
    });
    const [out] = await runNode(Sms, ctx);
    assert.equal((out?.[0]?.json.error as { code: string }).code, 'RECIPIENT_INVALID');
    assert.equal((out?.[1]?.json.sms as { status: string }).status, 'sent');
    assert.equal(sent.length, 2);
  });
});

describe('countSegments', () => {
  it('counts GSM-7 and UCS-2 segments the way carriers do', () => {
    assert.equal(countSegments('a'.repeat(160)), 1);
    assert.equal(countSegments('a'.repeat(161)), 2);
    assert.equal(countSegments('a'.repeat(306)), 2);
    assert.equal(countSegments('a'.repeat(307)), 3);
    assert.equal(countSegments('€'.repeat(80)), 1, 'extension characters take two septets');
    assert.equal(countSegments('€'.repeat(81)), 2);
    assert.equal(countSegments('é'.repeat(160)), 1, 'é is in the GSM-7 basic set');
    assert.equal(countSegments('ł'.repeat(70)), 1, 'one character outside GSM-7 switches to UCS-2');
    assert.equal(countSegments('ł'.repeat(71)), 2);
  });
});
