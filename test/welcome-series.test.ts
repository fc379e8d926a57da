// The welcome series end to end: a real worker on Temporal's time-skipping test server (the
// three-day wait passes in seconds), real PostgreSQL, and a real SMTP server receiving the mail.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ParsedMail } from 'mailparser';
import { startJourneyStack, type JourneyStack } from './support/time-skipping-stack.js';
import { eventually, loadExample } from './support/stack.js';

describe('welcome series journey', () => {
  let t: JourneyStack;
  before(async () => {
    t = await startJourneyStack();
  });
  after(() => t?.stop());

  test('sends a personalised welcome, waits three days, then branches on an attribute', async () => {
    const { api } = t.stack;
    const deployed = await api('POST', '/v1/workflows?activate=true', loadExample('welcome-series/welcome-series.workflow.json'));
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));

    const contacts: Record<string, string> = {};
    for (const [name, plan] of [['Ada', 'pro'], ['Cy', 'free'], ['Bob', 'free']] as const) {
      const res = await api('POST', '/v1/contacts', { externalId: name.toLowerCase(), email: `${name.toLowerCase()}@example.com`, attributes: { firstName: name, plan }, timeZone: 'Europe/Paris' });
      contacts[name] = res.body.contact.id;
      const event = await api('POST', '/v1/events', { name: 'signup', externalId: name.toLowerCase(), properties: { plan: plan === 'pro' ? 'Pro <b>' : 'free' } });
      assert.equal(event.status, 202);
    }

    const welcomes = await t.smtp.waitFor(3);
    const ada = welcomes.find((m) => m.envelopeTo.includes('ada@example.com'));
    assert.ok(ada, 'Ada got an email');
    assert.equal(ada.parsed.subject, 'Welcome to Acme, Ada!');
    assert.equal(ada.parsed.from?.value[0]?.address, 'hello@acme.example');
    assert.match(String(ada.parsed.html), /Hi Ada,/);
    assert.match(String(ada.parsed.html), /the Pro &lt;b&gt; plan/, 'event properties are personalised and HTML-escaped');
    const listUnsubscribe = header(ada.parsed, 'list-unsubscribe');
    const unsubscribeUrl = /<(http[^>]+)>/.exec(listUnsubscribe)?.[1];
    assert.ok(unsubscribeUrl?.startsWith(`${t.stack.runtime.url}/u/`), listUnsubscribe);
    assert.equal(header(ada.parsed, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    assert.ok(String(ada.parsed.html).includes(unsubscribeUrl!), 'the body links to the same unsubscribe page');

    // The unsubscribe page shows a confirmation and does nothing on GET (mail scanners follow links).
    const page = await fetch(unsubscribeUrl!);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Unsubscribe/);
    const tampered = await fetch(unsubscribeUrl!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), { method: 'POST' });
    assert.equal(tampered.status, 400);

    // Bob unsubscribes with the RFC 8058 one-click POST his mail client would send.
    const bob = welcomes.find((m) => m.envelopeTo.includes('bob@example.com'))!;
    const bobUrl = /<(http[^>]+)>/.exec(header(bob.parsed, 'list-unsubscribe'))![1]!;
    const oneClick = await fetch(bobUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(oneClick.status, 200);
    const bobContact = await api('GET', `/v1/contacts/${contacts.Bob}`);
    assert.deepEqual(bobContact.body.suppressions.map((s: { channel: string }) => s.channel), ['email']);

    // Everyone is now asleep in the wait; nobody gets the second email before three days pass.
    await eventually(async () => {
      const journeys = await Promise.all(Object.values(contacts).map((id) => api('GET', `/v1/contacts/${id}/journeys`)));
      return journeys.every((j) => j.body.journeys[0]?.currentNode === 'Wait 3 days');
    }, 20_000, 'journeys to reach the wait');
    await t.env.sleep('2d');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(t.smtp.messages.length, 3, 'no tips email before three days');

    await t.env.sleep('1d');
    await eventually(async () => {
      const journeys = await Promise.all(Object.values(contacts).map((id) => api('GET', `/v1/contacts/${id}/journeys`)));
      return journeys.every((j) => j.body.journeys[0]?.status === 'completed');
    }, 30_000, 'journeys to complete');

    assert.equal(t.smtp.messages.length, 5, 'Ada and Cy got their tips email; Bob, unsubscribed, got none');
    const adaTips = t.smtp.messages.find((m) => m.envelopeTo.includes('ada@example.com') && m !== ada)!;
    assert.equal(adaTips.parsed.subject, '3 pro tips for you, Ada');
    const cyTips = t.smtp.messages.find((m) => m.envelopeTo.includes('cy@example.com') && /Getting started/.test(m.parsed.subject ?? ''));
    assert.ok(cyTips, 'Cy (free plan) took the other branch');
    assert.match(String(cyTips.parsed.html), /\/u\//, 'a template without an unsubscribe link gets one added');

    const bobMessages = await api('GET', `/v1/messages?contactId=${contacts.Bob}`);
    const statuses = bobMessages.body.messages.map((m: { status: string; nodeName: string }) => `${m.nodeName}:${m.status}`).sort();
    assert.deepEqual(statuses, ['Getting started tips email:skipped', 'Welcome email:sent']);
    const adaMessages = await api('GET', `/v1/messages?contactId=${contacts.Ada}`);
    assert.equal(adaMessages.body.messages.length, 2);
    assert.ok(adaMessages.body.messages.every((m: { status: string; recipient: string }) => m.status === 'sent' && m.recipient === 'ada@example.com'));
  });

  test('a duplicate signup does not enrol the contact again', async () => {
    const { api } = t.stack;
    const contact = await api('POST', '/v1/contacts', { externalId: 'dup', email: 'dup@example.com' });
    await api('POST', '/v1/events', { name: 'signup', externalId: 'dup' });
    await api('POST', '/v1/events', { name: 'signup', externalId: 'dup' });
    await eventually(async () => (await t.stack.runtime.store.db('outbox').count<{ count: string }[]>('* as count'))[0]!.count === '0', 10_000, 'outbox to drain');
    const journeys = await api('GET', `/v1/contacts/${contact.body.contact.id}/journeys`);
    assert.equal(journeys.body.journeys.length, 1);
  });
});

/** A header exactly as sent (mailparser turns some headers into objects). */
function header(mail: ParsedMail, name: string): string {
  const line = mail.headerLines.find((h) => h.key === name)?.line ?? '';
  return line.slice(line.indexOf(':') + 1).trim();
}
