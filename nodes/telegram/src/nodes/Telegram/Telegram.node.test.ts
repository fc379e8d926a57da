import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { TelegramError } from 'telegraf';
import { isNodeError, type NodeItem } from '@campaignos/sdk';
import { createMockContext, runNode, type MockContextOptions } from '@campaignos/sdk/testing';
import { startTelegramApi, type BotAccount, type TelegramApi } from '../../../../../test/support/telegram-api.js';
import { Telegram, type TelegramStatus } from './Telegram.node.js';
import { closeTelegramClients, parseTelegramCredentials, telegramClientCount, toTelegramNodeError } from './client.js';

const enrolment: NodeItem = {
  json: {
    event: { id: 'e-1', name: 'signup', properties: { plan: 'Pro' } },
    contact: { id: 'c-1', attributes: { firstName: 'Ada' } },
  },
};

let api: TelegramApi;
let bot: BotAccount;

function context(overrides: Partial<MockContextOptions> = {}, token = bot.token) {
  return createMockContext({
    items: [enrolment],
    parameters: { chatId: '', text: 'Hi {{ contact.firstName }}, your {{ event.properties.plan }} plan is ready.', parseMode: 'none', disableLinkPreview: false },
    credentials: { campaignOsTelegramApi: { token, apiRoot: api.url } },
    campaign: {
      contact: { id: 'c-1', attributes: { firstName: 'Ada' } },
      addresses: [{ channel: 'telegram', address: '5001', data: { username: 'ada' } }],
    },
    node: { name: 'Tell Ada', type: '@campaignos/n8n-nodes-telegram.telegram' },
    ...overrides,
  });
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, retryable?: boolean): Promise<Error> {
  let caught: Error | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isNodeError(error), `expected a NodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (retryable !== undefined) assert.equal(error.retryable, retryable);
    assert.equal(error.itemIndex, 0);
    caught = error;
    return true;
  });
  return caught!;
}

const status = (out: NodeItem[][] | undefined, index = 0) => out?.[0]?.[index]?.json.telegram as TelegramStatus;

describe('CampaignOS Telegram node', () => {
  before(async () => {
    api = await startTelegramApi();
    bot = api.addBot({ id: 700100, username: 'acme_news_bot', firstName: 'Acme' });
  });
  after(() => api.close());
  beforeEach(() => {
    closeTelegramClients();
    api.reset();
  });

  it('sends the personalised text to the contact’s linked chat through the send gate', async () => {
    const ctx = context();
    const [out] = await runNode(Telegram, ctx);
    const sent = api.messages(5001);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.text, 'Hi Ada, your Pro plan is ready.');
    assert.equal(sent[0]?.parseMode, undefined);
    assert.equal(sent[0]?.linkPreviewDisabled, false);
    assert.equal(sent[0]?.botUsername, 'acme_news_bot');
    assert.equal(ctx.deliveries.length, 1);
    assert.deepEqual(ctx.deliveries[0]?.envelope, { channel: 'telegram', recipient: '5001', itemIndex: 0, summary: 'Hi Ada, your Pro plan is ready.' });
    assert.deepEqual(status([out!]), {
      status: 'sent',
      chats: [{ chatId: '5001', status: 'sent', messageId: 'mock-message-1', telegramMessageId: sent[0]!.messageId }],
    });
    assert.deepEqual(out?.[0]?.json.event, enrolment.json.event, 'the input item passes through');
  });

  it('sends to every linked chat and keeps one client per bot', async () => {
    const ctx = context({
      items: [enrolment, enrolment, enrolment],
      campaign: {
        contact: { attributes: { firstName: 'Ada' } },
        addresses: [
          { channel: 'telegram', address: '5101', data: {} },
          { channel: 'telegram', address: '5102', data: {} },
          { channel: 'webpush', address: 'https://push.example/1', data: {} },
        ],
      },
    });
    const [out] = await runNode(Telegram, ctx);
    assert.equal(api.messages(5101).length, 3);
    assert.equal(api.messages(5102).length, 3);
    assert.equal(ctx.deliveries.length, 6);
    assert.ok(ctx.deliveries.every((d) => d.envelope.channel === 'telegram'));
    assert.deepEqual(status(out && [out], 2).chats.map((c) => c.chatId), ['5101', '5102']);
    assert.equal(telegramClientCount(), 1);
  });

  it('escapes placeholder values for HTML and keeps the template’s own markup', async () => {
    const ctx = context({
      campaign: { contact: { attributes: { firstName: '<i>Ada & co</i>' } }, addresses: [{ channel: 'telegram', address: '5201', data: {} }] },
      parameters: { chatId: '', text: '<b>Hi {{ contact.firstName }}</b>, see https://acme.example', parseMode: 'HTML', disableLinkPreview: true },
    });
    await runNode(Telegram, ctx);
    const [message] = api.messages(5201);
    assert.equal(message?.text, '<b>Hi &lt;i&gt;Ada &amp; co&lt;/i&gt;</b>, see https://acme.example');
    assert.equal(message?.parseMode, 'HTML');
    assert.equal(message?.linkPreviewDisabled, true);
  });

  it('escapes MarkdownV2’s reserved characters in placeholder values', async () => {
    const ctx = context({
      campaign: { contact: { attributes: { firstName: 'Ada_1 (beta).' } }, addresses: [{ channel: 'telegram', address: '5301', data: {} }] },
      parameters: { chatId: '', text: '*Hi {{ contact.firstName }}*', parseMode: 'MarkdownV2', disableLinkPreview: false },
    });
    await runNode(Telegram, ctx);
    const [message] = api.messages(5301);
    assert.equal(message?.text, '*Hi Ada\\_1 \\(beta\\)\\.*');
    assert.equal(message?.parseMode, 'MarkdownV2');
  });

  it('skips a contact with no linked chat without asking the gate', async () => {
    const ctx = context({ campaign: { contact: { attributes: { firstName: 'Ada' } }, addresses: [] } });
    const [out] = await runNode(Telegram, ctx);
    assert.deepEqual(status([out!]), { status: 'skipped', reason: 'no-recipient', chats: [] });
    assert.equal(ctx.deliveries.length, 0);
    assert.equal(api.messages().length, 0);
  });

  it('sends nothing when the gate says the contact is suppressed', async () => {
    const ctx = context({ campaign: { suppressed: true, addresses: [{ channel: 'telegram', address: '5401', data: {} }] } });
    const [out] = await runNode(Telegram, ctx);
    assert.deepEqual(status([out!]), { status: 'skipped', reason: 'suppressed', chats: [{ chatId: '5401', status: 'skipped', messageId: null, reason: 'suppressed' }] });
    assert.equal(api.messages(5401).length, 0);
  });

  it('forgets a chat that blocked the bot and still reaches the others', async () => {
    api.block(5501);
    const ctx = context({
      campaign: {
        addresses: [
          { channel: 'telegram', address: '5501', data: {} },
          { channel: 'telegram', address: '5502', data: {} },
        ],
      },
    });
    const [out] = await runNode(Telegram, ctx);
    const result = status([out!]);
    assert.equal(result.status, 'sent');
    assert.deepEqual(result.chats.map((c) => `${c.chatId}:${c.status}`), ['5501:removed', '5502:sent']);
    assert.match((result.chats[0] as { reason: string }).reason, /blocked by the user/);
    assert.deepEqual(ctx.campaignState.addresses.map((a) => a.address), ['5502']);
    assert.equal(api.messages(5502).length, 1);
  });

  it('reports a contact whose only chat blocked the bot as skipped, not failed', async () => {
    api.block(5601);
    const ctx = context({ campaign: { addresses: [{ channel: 'telegram', address: '5601', data: {} }] } });
    const [out] = await runNode(Telegram, ctx);
    assert.equal(status([out!]).status, 'skipped');
    assert.equal(status([out!]).reason, 'chat-removed');
    assert.deepEqual(ctx.campaignState.addresses, []);
  });

  it('maps 429 to a retryable RATE_LIMITED that carries retry_after', async () => {
    api.rateLimitNext(1, 7);
    const error = await rejectsWithCode(runNode(Telegram, context()), 'RATE_LIMITED', true);
    assert.match(error.message, /429.*retry after 7 s/);
    assert.equal(api.messages().length, 0);
  });

  it('maps an unknown bot token to INVALID_CREDENTIALS without showing the token', async () => {
    const token = '700999:AAE-this_is_the-secret';
    const error = await rejectsWithCode(runNode(Telegram, context({}, token)), 'INVALID_CREDENTIALS', false);
    assert.match(error.message, /rejected the bot token \(401 Unauthorized\)/);
    assert.ok(!error.message.includes('this_is_the-secret'));
  });

  it('refuses malformed credentials before calling Telegram', async () => {
    const calls = api.calls.length;
    for (const data of [{ token: '' }, { token: 'not a token' }, { token: bot.token, apiRoot: 'ftp://example.com' }, { token: bot.token, apiRoot: '::' }]) {
      const ctx = context({ credentials: { campaignOsTelegramApi: data } });
      const error = await rejectsWithCode(runNode(Telegram, ctx), 'INVALID_CREDENTIALS', false);
      assert.ok(!error.message.includes(bot.token));
    }
    assert.equal(api.calls.length, calls);
  });

  it('refuses a text over 4096 characters before sending', async () => {
    const ctx = context({ campaign: { contact: { attributes: { firstName: 'x'.repeat(4090) } }, addresses: [{ channel: 'telegram', address: '5701', data: {} }] } });
    const calls = api.calls.length;
    const error = await rejectsWithCode(runNode(Telegram, ctx), 'MESSAGE_TOO_LARGE', false);
    assert.match(error.message, /4\d{3} characters; Telegram accepts at most 4096/);
    assert.equal(ctx.deliveries.length, 0);
    assert.equal(api.calls.length, calls);
  });

  it('maps "chat not found" to RECIPIENT_INVALID and keeps the address', async () => {
    api.forget(5801);
    const ctx = context({ campaign: { addresses: [{ channel: 'telegram', address: '5801', data: {} }] } });
    await rejectsWithCode(runNode(Telegram, ctx), 'RECIPIENT_INVALID', false);
    assert.equal(ctx.campaignState.addresses.length, 1);
  });

  it('maps a 5xx and an unreachable API to a retryable PROVIDER_UNAVAILABLE', async () => {
    api.failNext(1, 502);
    await rejectsWithCode(runNode(Telegram, context()), 'PROVIDER_UNAVAILABLE', true);
    const down = context({ credentials: { campaignOsTelegramApi: { token: bot.token, apiRoot: 'http://127.0.0.1:1' } } });
    const error = await rejectsWithCode(runNode(Telegram, down), 'PROVIDER_UNAVAILABLE', true);
    assert.match(error.message, /could not be reached/);
    assert.ok(!error.message.includes(bot.token.split(':')[1]!), error.message);
  });

  it('scrubs the token from an error that carries the request URL', async () => {
    // A non-JSON 404: node-fetch's "invalid json response body at <url>" names the URL with the token.
    api.failNext(1, 404);
    const error = await rejectsWithCode(runNode(Telegram, context()), 'PROVIDER_REJECTED', false);
    assert.match(error.message, /did not answer like a Bot API/);
    assert.match(error.message, /\/bot\[bot token\]\/sendMessage/);
    assert.ok(!error.message.includes(bot.token.split(':')[1]!), error.message);
  });

  it('maps Telegram’s other refusals by their description', () => {
    const error = (code: number, description: string, parameters?: Record<string, number>) =>
      toTelegramNodeError(new TelegramError({ error_code: code, description, parameters }), bot.token);
    assert.equal(error(400, 'Bad Request: message is too long').code, 'MESSAGE_TOO_LARGE');
    assert.equal(error(400, "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 3").code, 'TEMPLATE_INVALID');
    assert.equal(error(400, 'Bad Request: chat not found').code, 'RECIPIENT_INVALID');
    assert.equal(error(403, 'Forbidden: user is deactivated').code, 'RECIPIENT_INVALID');
    assert.equal(error(404, 'Not Found').code, 'INVALID_CREDENTIALS');
    assert.equal(error(400, 'Bad Request: something new').code, 'PROVIDER_REJECTED');
    const limited = error(429, 'Too Many Requests: retry after 30', { retry_after: 30 });
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.equal(limited.retryable, true);
    assert.equal(limited.description, 'retry_after=30');
    assert.equal(error(500, `Internal Server Error at /bot${bot.token}/sendMessage`).message.includes(bot.token), false);
  });

  it('refuses an empty text, an unknown parse mode and a malformed chat id', async () => {
    await rejectsWithCode(runNode(Telegram, context({ parameters: { chatId: '', text: '  ', parseMode: 'none' } })), 'INVALID_PARAMETER');
    await rejectsWithCode(runNode(Telegram, context({ parameters: { chatId: '', text: 'Hi', parseMode: 'Markdown' } })), 'INVALID_PARAMETER');
    await rejectsWithCode(runNode(Telegram, context({ parameters: { chatId: '12; drop', text: 'Hi', parseMode: 'none' } })), 'RECIPIENT_INVALID');
    await rejectsWithCode(runNode(Telegram, context({ parameters: { chatId: '', text: '{% if %}', parseMode: 'none' } })), 'TEMPLATE_INVALID');
    assert.equal(api.messages().length, 0);
  });

  it('sends to the Chat ID directly without CampaignOS services', async () => {
    const ctx = context({ campaign: undefined, parameters: { chatId: '-100200300', text: 'Hi {{ contact.firstName }}', parseMode: 'none', disableLinkPreview: true } });
    const [out] = await runNode(Telegram, ctx);
    const [message] = api.messages(-100200300);
    assert.equal(message?.text, 'Hi Ada');
    assert.equal(message?.linkPreviewDisabled, true);
    assert.deepEqual(status([out!]), {
      status: 'sent',
      chats: [{ chatId: '-100200300', status: 'sent', messageId: String(message!.messageId), telegramMessageId: message!.messageId }],
    });
    await rejectsWithCode(runNode(Telegram, context({ campaign: undefined })), 'RECIPIENT_INVALID', false);
  });

  it('runs inside n8n through the generated node class', async () => {
    const parameters: Record<string, unknown> = { text: 'Hello {{ contact.firstName }}', parseMode: 'HTML', disableLinkPreview: false };
    const fns = (continueOnFail: boolean, chatId: string) =>
      ({
        getNode: () => ({ name: 'Telegram', type: '@campaignos/n8n-nodes-telegram.telegram', typeVersion: 1 }),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        getInputData: () => [{ json: { contact: { attributes: { firstName: 'Grace' } } } }],
        getNodeParameter: (name: string, _i: number, fallback?: unknown) => (name === 'chatId' ? chatId : parameters[name] ?? fallback),
        getCredentials: async () => ({ token: bot.token, apiRoot: api.url }),
        continueOnFail: () => continueOnFail,
      }) as unknown as IExecuteFunctions;

    const run = async (f: IExecuteFunctions) => (await new Telegram().execute!.call(f)) as INodeExecutionData[][];
    const [out] = await run(fns(false, '6001'));
    assert.equal((out?.[0]?.json.telegram as TelegramStatus).status, 'sent');
    assert.deepEqual(out?.[0]?.pairedItem, { item: 0 });
    assert.equal(api.messages(6001)[0]?.text, 'Hello Grace');

    api.block(6002);
    await assert.rejects(run(fns(false, '6002')), /RECIPIENT_INVALID: Telegram answered 403: Forbidden: bot was blocked by the user/);
    const [failed] = await run(fns(true, '6002'));
    assert.equal((failed?.[0]?.json.error as { code: string }).code, 'RECIPIENT_INVALID');
  });

  it('normalises the API root so a path prefix is kept', () => {
    assert.equal(parseTelegramCredentials({ token: bot.token }).apiRoot, 'https://api.telegram.org/');
    assert.equal(parseTelegramCredentials({ token: bot.token, apiRoot: 'https://proxy.example/tg' }).apiRoot, 'https://proxy.example/tg/');
  });
});
