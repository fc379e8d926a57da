// The Telegram channel end to end: a real runtime (API, router, worker) on real PostgreSQL and
// a real Temporal dev server, and a local Telegram Bot API that sends updates to the runtime's
// webhook the way Telegram does. A contact links a chat with the bot's /start link, then a
// journey messages that chat.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { eventually, startStack, type Stack } from './support/stack.js';
import { startTelegramApi, type BotAccount, type TelegramApi, type TelegramUser } from './support/telegram-api.js';
import { devServer } from './support/temporal.js';

const TELEGRAM = '@campaignos/n8n-nodes-telegram.telegram';

function journey(name: string, event: string, credential: string) {
  return {
    name,
    nodes: [
      { id: 'trigger', name: 'Trial started', type: '@campaignos/n8n-nodes-triggers.eventTrigger', typeVersion: 1, position: [0, 0], parameters: { event } },
      {
        id: 'tg',
        name: 'Telegram hello',
        type: TELEGRAM,
        typeVersion: 1,
        position: [200, 0],
        parameters: { text: '<b>Hi {{ contact.firstName }}</b>, your {{ event.properties.plan }} trial has started.', parseMode: 'HTML', disableLinkPreview: true },
        credentials: { campaignOsTelegramApi: { id: null, name: credential } },
      },
    ],
    connections: { 'Trial started': { main: [[{ node: 'Telegram hello', type: 'main', index: 0 }]] } },
  };
}

describe('Telegram channel', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof devServer>>;
  let stack: Stack;
  let telegram: TelegramApi;
  let bot: BotAccount;
  let credentialId: string;

  before(async () => {
    telegram = await startTelegramApi();
    bot = telegram.addBot({ id: 811000, username: 'acme_news_bot', firstName: 'Acme News' });
    database = await createTestDatabase();
    temporal = await devServer(join(mkdtempSync(join(tmpdir(), 'campaignos-telegram-')), 'temporal.db'));
    stack = await startStack({ databaseUrl: database.url, temporal: { address: temporal.address, namespace: temporal.namespace } });
    const created = await stack.api('POST', '/v1/credentials', { name: 'Acme Bot', type: 'campaignOsTelegramApi', data: { token: bot.token, apiRoot: telegram.url } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    credentialId = created.body.credential.id;
    const deployed = await stack.api('POST', '/v1/workflows?activate=true', journey('Trial hello', 'trial_started', 'Acme Bot'));
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
  });
  after(async () => {
    await stack?.stop();
    await temporal?.stop();
    await database?.drop();
    await telegram?.close();
  });

  const createContact = async (externalId: string, firstName: string): Promise<string> => {
    const res = await stack.api('POST', '/v1/contacts', { externalId, attributes: { firstName } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.contact.id;
  };
  const telegramAddresses = async (contactId: string) => {
    const res = await stack.api('GET', `/v1/contacts/${contactId}/addresses?channel=telegram`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.addresses as Array<{ channel: string; address: string; data: Record<string, unknown> }>;
  };
  const linkChat = async (contactId: string, user: TelegramUser) => {
    const link = await stack.api('POST', `/v1/contacts/${contactId}/telegram-link`, { credential: 'Acme Bot' });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    assert.equal(await telegram.userSends(bot.token, user, `/start ${link.body.token}`), 200);
    await eventually(async () => (await telegramAddresses(contactId)).length === 1, 5_000, 'the chat to be linked');
  };
  const finishedJourney = (contactId: string) =>
    eventually(async () => {
      const res = await stack.api('GET', `/v1/contacts/${contactId}/journeys`);
      const [latest] = res.body.journeys as Array<{ status: string; error: string | null }>;
      return latest && ['completed', 'failed'].includes(latest.status) ? latest : undefined;
    }, 60_000, 'the journey to finish');

  test('a chat linked with /start <token> gets the personalised journey message', async () => {
    const ada = await createContact('ada', 'Ada');

    const link = await stack.api('POST', `/v1/contacts/${ada}/telegram-link`, { credential: 'Acme Bot' });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const { token, url } = link.body as { token: string; url: string };
    assert.match(token, /^[A-Za-z0-9_-]{1,64}$/, 'fits Telegram’s start parameter');
    assert.equal(url, `https://t.me/acme_news_bot?start=${token}`);
    assert.ok(!JSON.stringify(link.body).includes(bot.token));

    const hook = await stack.api('POST', `/v1/telegram/${credentialId}/webhook`);
    assert.equal(hook.status, 200, JSON.stringify(hook.body));
    const registered = telegram.webhook(bot.token);
    assert.equal(registered?.url, `${stack.runtime.url}/v1/telegram/${credentialId}/updates`);
    assert.match(registered?.secretToken ?? '', /^[A-Za-z0-9_-]{20,256}$/);
    assert.ok(!registered!.secretToken!.includes(bot.token.split(':')[1]!));

    // Before the user presses Start, the contact has no chat.
    assert.deepEqual(await telegramAddresses(ada), []);
    assert.equal(await telegram.userSends(bot.token, { id: 90001, username: 'ada_l', firstName: 'Ada' }, `/start ${token}`), 200);
    assert.deepEqual(await telegramAddresses(ada), [{ channel: 'telegram', address: '90001', data: { username: 'ada_l', firstName: 'Ada', chatType: 'private' } }]);
    assert.match(telegram.messages(90001)[0]?.text ?? '', /You are subscribed/);

    const event = await stack.api('POST', '/v1/events', { name: 'trial_started', externalId: 'ada', properties: { plan: 'Pro & Co' } });
    assert.equal(event.status, 202, JSON.stringify(event.body));
    const finished = await finishedJourney(ada);
    assert.equal(finished.status, 'completed', finished.error ?? '');
    const [, hello] = telegram.messages(90001);
    assert.equal(hello?.text, '<b>Hi Ada</b>, your Pro &amp; Co trial has started.');
    assert.equal(hello?.parseMode, 'HTML');
    assert.equal(hello?.linkPreviewDisabled, true);

    const log = await stack.api('GET', `/v1/messages?contactId=${ada}`);
    assert.deepEqual(
      log.body.messages.map((m: { channel: string; recipient: string; status: string; nodeName: string }) => [m.channel, m.recipient, m.status, m.nodeName]),
      [['telegram', '90001', 'sent', 'Telegram hello']],
    );
  });

  test('a forged, tampered or missing start token links nothing and gets a polite reply', async () => {
    const eve = await createContact('eve', 'Eve');
    const link = await stack.api('POST', `/v1/contacts/${eve}/telegram-link`, { credential: credentialId });
    assert.equal(link.status, 201, 'the credential can be named by id too');
    const token = link.body.token as string;
    const tampered = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    const user = { id: 90005, firstName: 'Eve' };
    for (const text of [`/start ${tampered}`, '/start not-a-token', '/start']) {
      assert.equal(await telegram.userSends(bot.token, user, text), 200);
    }
    assert.deepEqual(await telegramAddresses(eve), []);
    const replies = telegram.messages(90005).map((m) => m.text);
    assert.equal(replies.length, 3);
    assert.match(replies[0]!, /invalid or has expired/);
    assert.match(replies[1]!, /invalid or has expired/);
    assert.match(replies[2]!, /open the subscription link/);

    // Only Telegram, with the secret token set by setWebhook, may post updates.
    const update = { update_id: 1, message: { message_id: 1, date: 0, chat: { id: 90005, type: 'private' }, from: { id: 90005, is_bot: false, first_name: 'Eve' }, text: `/start ${token}`, entities: [{ type: 'bot_command', offset: 0, length: 6 }] } };
    for (const secret of [undefined, 'wrong-secret']) {
      const res = await fetch(`${stack.runtime.url}/v1/telegram/${credentialId}/updates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret && { 'x-telegram-bot-api-secret-token': secret }) },
        body: JSON.stringify(update),
      });
      assert.equal(res.status, 401);
    }
    assert.deepEqual(await telegramAddresses(eve), []);
  });

  test('/stop unlinks the chat', async () => {
    const sam = await createContact('sam', 'Sam');
    await linkChat(sam, { id: 90006, firstName: 'Sam' });
    assert.equal(await telegram.userSends(bot.token, { id: 90006, firstName: 'Sam' }, '/stop'), 200);
    assert.deepEqual(await telegramAddresses(sam), []);
    assert.match(telegram.messages(90006).at(-1)?.text ?? '', /You are unsubscribed/);
  });

  test('two 429 answers are retried and the message is sent exactly once', async () => {
    const bo = await createContact('bo', 'Bo');
    await linkChat(bo, { id: 90002, firstName: 'Bo' });
    telegram.rateLimitNext(2, 1);
    const before = telegram.calls.filter((c) => c.method === 'sendMessage').length;
    await stack.api('POST', '/v1/events', { name: 'trial_started', externalId: 'bo', properties: { plan: 'Team' } });
    const finished = await finishedJourney(bo);
    assert.equal(finished.status, 'completed', finished.error ?? '');
    await new Promise((r) => setTimeout(r, 500));
    const hellos = telegram.messages(90002).filter((m) => m.text.includes('trial has started'));
    assert.deepEqual(hellos.map((m) => m.text), ['<b>Hi Bo</b>, your Team trial has started.']);
    assert.equal(telegram.calls.filter((c) => c.method === 'sendMessage').length - before, 3, 'two refused attempts, then one that went through');
    const log = await stack.api('GET', `/v1/messages?contactId=${bo}`);
    assert.deepEqual(log.body.messages.map((m: { status: string }) => m.status), ['sent']);
  });

  test('a chat that blocked the bot is removed and the journey still completes', async () => {
    const cy = await createContact('cy', 'Cy');
    await linkChat(cy, { id: 90003, firstName: 'Cy' });
    telegram.block(90003);
    await stack.api('POST', '/v1/events', { name: 'trial_started', externalId: 'cy', properties: { plan: 'Pro' } });
    const finished = await finishedJourney(cy);
    assert.equal(finished.status, 'completed', finished.error ?? '');
    assert.deepEqual(await telegramAddresses(cy), []);
    const log = await stack.api('GET', `/v1/messages?contactId=${cy}`);
    assert.equal(log.body.messages.length, 1);
    assert.equal(log.body.messages[0].status, 'failed');
    assert.match(log.body.messages[0].reason, /bot was blocked by the user/);
    const journeys = await stack.api('GET', `/v1/contacts/${cy}/journeys`);
    const steps = await stack.runtime.store.journeys.steps(journeys.body.journeys[0].id);
    const output = steps.find((s) => s.nodeName === 'Telegram hello')?.output[0]?.[0]?.json.telegram as { status: string; chats: Array<{ status: string }> };
    assert.equal(output.status, 'skipped');
    assert.deepEqual(output.chats.map((c) => c.status), ['removed']);
  });

  test('a wrong bot token fails with a clear INVALID_CREDENTIALS error that does not show the token', async () => {
    const wrongToken = '811999:AAF-not_a_real-bot_token';
    const created = await stack.api('POST', '/v1/credentials', { name: 'Stale Bot', type: 'campaignOsTelegramApi', data: { token: wrongToken, apiRoot: telegram.url } });
    assert.equal(created.status, 201);

    const dee = await createContact('dee', 'Dee');
    const link = await stack.api('POST', `/v1/contacts/${dee}/telegram-link`, { credential: 'Stale Bot' });
    assert.equal(link.status, 400);
    assert.match(link.body.error.message, /Stale Bot.*rejected the bot token \(401 Unauthorized\)/);
    assert.ok(!JSON.stringify(link.body).includes('not_a_real'));

    await linkChat(dee, { id: 90004, firstName: 'Dee' });
    assert.equal((await stack.api('POST', '/v1/workflows?activate=true', journey('Stale hello', 'stale_ping', 'Stale Bot'))).status, 201);
    await stack.api('POST', '/v1/events', { name: 'stale_ping', externalId: 'dee' });
    const finished = await finishedJourney(dee);
    assert.equal(finished.status, 'failed', 'a rejected token is not retried');
    // The message log says why, with the node error code; the token is nowhere.
    const log = await stack.api('GET', `/v1/messages?contactId=${dee}`);
    assert.equal(log.body.messages.length, 1);
    assert.equal(log.body.messages[0].status, 'failed');
    assert.match(log.body.messages[0].reason, /^INVALID_CREDENTIALS: Telegram rejected the bot token \(401 Unauthorized\)/);
    assert.ok(!JSON.stringify(log.body).includes('not_a_real'));
    assert.ok(!(finished.error ?? '').includes('not_a_real'));
    assert.equal(telegram.messages(90004).filter((m) => m.botUsername === 'acme_news_bot').length, 1, 'only the subscription confirmation');
  });
});
