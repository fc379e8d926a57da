// Segments, static lists and lead scoring through the API, feeding journeys: an event moves a
// contact into a segment and its journey starts; a score crossing a threshold alerts sales;
// time passing (a controllable clock) moves contacts out again without any new event.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from './support/stack.js';
import { startJourneyStack, type JourneyStack } from './support/time-skipping-stack.js';

const DAY = 86_400_000;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

const email = (name: string, subject: string, toEmail?: string) => ({
  id: name,
  name,
  type: '@campaignos/n8n-nodes-email.email',
  typeVersion: 1,
  position: [0, 0],
  parameters: { subject, mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ contact.attributes.firstName }}</mj-text></mj-column></mj-section></mj-body></mjml>', ...(toEmail && { toEmail }) },
  credentials: { campaignOsSmtp: { id: null, name: 'Acme SMTP' } },
});
const journey = (name: string, trigger: Record<string, unknown>, send: Record<string, unknown>) => ({
  name,
  nodes: [{ id: 't', name: 'Trigger', typeVersion: 1, position: [0, 0], ...trigger }, send],
  connections: { Trigger: { main: [[{ node: send.name, type: 'main', index: 0 }]] } },
});

describe('segments, lists and scoring', () => {
  let t: JourneyStack;
  before(async () => {
    t = await startJourneyStack({ clock });
  });
  after(() => t?.stop());

  test('an event moves a contact into a segment within a second, and the segment trigger starts its journey', async () => {
    const { api } = t.stack;
    const created = await api('POST', '/v1/segments', {
      name: 'Engaged pros',
      condition: { and: [{ attribute: 'plan', op: 'eq', value: 'pro' }, { event: 'page_viewed', count: { atLeast: 2 }, withinDays: 30 }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const segmentId = created.body.segment.id;
    const deployed = await api(
      'POST',
      '/v1/workflows?activate=true',
      journey('Engaged', { type: '@campaignos/n8n-nodes-triggers.segmentTrigger', parameters: { segment: 'Engaged pros' } }, email('Engaged email', 'You are on fire, {{ contact.attributes.firstName }}')),
    );
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));

    const ada = (await api('POST', '/v1/contacts', { externalId: 'ada', email: 'ada@example.com', attributes: { firstName: 'Ada', plan: 'pro' } })).body.contact;
    const bob = (await api('POST', '/v1/contacts', { externalId: 'bob', email: 'bob@example.com', attributes: { firstName: 'Bob', plan: 'free' } })).body.contact;
    for (const who of ['ada', 'bob']) {
      await api('POST', '/v1/events', { name: 'page_viewed', externalId: who });
      await api('POST', '/v1/events', { name: 'page_viewed', externalId: who });
    }
    const entered = await eventually(async () => {
      const res = await api('GET', `/v1/contacts/${ada.id}/segments`);
      return res.body.segments.find((s: { segmentId: string }) => s.segmentId === segmentId);
    }, 5_000, 'Ada to enter the segment');
    assert.ok(entered.enteredAt);
    // From the second event's commit to the recorded entry: well under a second.
    const lastEvent = (await t.stack.runtime.store.db('events').where({ contact_id: ada.id, name: 'page_viewed' }).max("received_at as at").first())!;
    const transition = await t.stack.runtime.store.db('segment_transitions').where({ contact_id: ada.id, segment_id: segmentId, kind: 'entered' }).first();
    assert.ok(new Date(transition.at).getTime() - new Date(lastEvent.at).getTime() < 1000, 'entry recorded within a second of the event');

    const mail = await t.smtp.waitFor(1);
    assert.equal(mail[0]!.envelopeTo[0], 'ada@example.com');
    assert.equal(mail[0]!.parsed.subject, 'You are on fire, Ada');

    // Bob is not a pro: the explanation says which part failed.
    const explained = await api('GET', `/v1/segments/${segmentId}/explain?contactId=${bob.id}`);
    assert.equal(explained.status, 200);
    assert.equal(explained.body.member, false);
    const text = JSON.stringify(explained.body.explanation);
    assert.match(text, /"matched":false/);
    assert.match(text, /free/);

    const members = await api('GET', `/v1/segments/${segmentId}/members?limit=10`);
    assert.deepEqual(members.body.members.map((m: { contactId?: string; id?: string }) => m.contactId ?? m.id), [ada.id]);

    const preview = await api('POST', '/v1/segments/preview', { condition: { event: 'page_viewed', count: { atLeast: 2 } }, sample: 5 });
    assert.equal(preview.body.count, 2);

    // Thirty-one days later the page views fall out of the window: Ada leaves without any event.
    offsetMs = 31 * DAY;
    await t.stack.runtime.sweeper!.sweepOnce();
    const after = await api('GET', `/v1/contacts/${ada.id}/segments`);
    assert.equal(after.body.segments.length, 0);
    const exited = await t.stack.runtime.store.db('events').where({ contact_id: ada.id, name: '$segment_exited' }).first();
    assert.equal(exited.properties.segmentId, segmentId);
    offsetMs = 0;
  });

  test('scoring rules, caps and thresholds: crossing 80 alerts sales, the ledger explains the score', async () => {
    const { api } = t.stack;
    assert.equal((await api('PUT', '/v1/scoring/settings', { halfLifeDays: 30, thresholds: [80] })).status, 200);
    const rule = await api('POST', '/v1/scoring/rules', { name: 'Whitepaper', when: { event: 'whitepaper_downloaded' }, points: 30, cap: { points: 90, periodDays: 7 } });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const deployed = await api(
      'POST',
      '/v1/workflows?activate=true',
      journey('Hot lead', { type: '@campaignos/n8n-nodes-triggers.scoreTrigger', parameters: { threshold: 80, direction: 'up' } }, email('Alert sales', 'Hot lead: {{ contact.email }}', 'sales@acme.example')),
    );
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));

    const cy = (await api('POST', '/v1/contacts', { externalId: 'cy', email: 'cy@example.com', attributes: { firstName: 'Cy' } })).body.contact;
    const before = t.smtp.messages.length;
    for (let i = 0; i < 4; i++) await api('POST', '/v1/events', { name: 'whitepaper_downloaded', contactId: cy.id, properties: { title: `paper ${i}` } });

    const alert = await eventually(async () => t.smtp.messages.slice(before).find((m) => m.envelopeTo.includes('sales@acme.example')), 15_000, 'the sales alert');
    assert.equal(alert.parsed.subject, 'Hot lead: cy@example.com');

    const score = await eventually(async () => {
      const res = await api('GET', `/v1/contacts/${cy.id}/score`);
      return res.body.ledger?.length === 3 ? res.body : undefined;
    }, 5_000, 'three ledger entries');
    assert.ok(Math.abs(score.score - 90) < 0.01, `capped at 90 points in 7 days, got ${score.score}`);

    const adjusted = await api('POST', `/v1/contacts/${cy.id}/score`, { subtract: 20, reason: 'asked to be contacted later' });
    assert.equal(adjusted.status, 200, JSON.stringify(adjusted.body));
    const explained = await api('GET', `/v1/contacts/${cy.id}/score`);
    assert.ok(Math.abs(explained.body.score - 70) < 0.01);
    assert.ok(explained.body.ledger.some((e: { reason: string }) => e.reason === 'asked to be contacted later'));
    const crossings = await t.stack.runtime.store.db('events').where({ contact_id: cy.id, name: '$score_crossed' }).orderBy('received_at');
    assert.deepEqual(crossings.map((e) => e.properties.direction), ['up', 'down']);

    const bad = await api('POST', `/v1/contacts/${cy.id}/score`, { add: 5, set: 3, reason: 'x' });
    assert.equal(bad.status, 400);
  });

  test('static lists: CSV import with progress and a per-row error report, and list segments', async () => {
    const { api, runtime } = t.stack;
    const list = (await api('POST', '/v1/lists', { name: 'Webinar attendees' })).body.list;
    const csv = ['externalId,email,company', 'w-1,w1@example.com,Acme', 'w-2,not-an-email,Globex', ',,', 'w-3,w3@example.com,Initech'].join('\n');
    const res = await fetch(`${runtime.url}/v1/lists/${list.id}/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.stack.key}`, 'content-type': 'text/csv' },
      body: csv,
    });
    assert.equal(res.status, 200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.progress), 'progress lines');
    const done = lines.at(-1).done;
    assert.equal(done.changed, 2);
    assert.equal(done.failed, 2);
    assert.deepEqual(done.errors.map((e: { row: number }) => e.row), [3, 4], 'line numbers count the header as line 1');
    assert.match(done.errors[0].message, /email/);
    assert.match(done.errors[1].message, /externalId or an email/);

    const segment = (await api('POST', '/v1/segments', { name: 'Attended', condition: { list: list.id } })).body.segment;
    assert.equal(segment.memberCount, 2);
    const w1 = (await api('POST', '/v1/contacts', { externalId: 'w-1' })).body.contact;
    assert.equal((await api('DELETE', `/v1/lists/${list.id}/members`, { contactIds: [w1.id] })).body.removed, 1);
    await eventually(async () => (await api('GET', `/v1/segments/${segment.id}`)).body.segment.memberCount === 1, 5_000, 'list removal to reach the segment');
  });

  test('bad segment and rule definitions are refused with what is wrong', async () => {
    const { api } = t.stack;
    const badOp = await api('POST', '/v1/segments', { name: 'x', condition: { attribute: 'plan', op: 'equals', value: 'pro' } });
    assert.equal(badOp.status, 400);
    assert.match(badOp.body.error.message, /op/);
    const unknownList = await api('POST', '/v1/segments', { name: 'y', condition: { list: '00000000-0000-4000-8000-000000000000' } });
    assert.equal(unknownList.status, 400);
    const badRule = await api('POST', '/v1/scoring/rules', { name: 'z', when: { event: 'x' }, points: 'ten' });
    assert.equal(badRule.status, 400);
    assert.match(badRule.body.error.message, /points/);
    const reserved = await api('POST', '/v1/events', { name: '$segment_entered', externalId: 'sneaky' });
    assert.equal(reserved.status, 400);
    assert.match(reserved.body.error.message, /reserved/);
  });
});
