// examples/lead-nurture end to end: scoring rules with a cap, a nurture series with waits, a
// sales alert when the score reaches 80, and a re-engagement journey 90 days after the last
// activity (time-skipping Temporal server for the waits, a controllable clock for the engines).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, loadExample } from './support/stack.js';
import { startJourneyStack, type JourneyStack } from './support/time-skipping-stack.js';

const DAY = 86_400_000;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

describe('lead nurture example', () => {
  let t: JourneyStack;
  before(async () => {
    t = await startJourneyStack({ clock });
  });
  after(() => t?.stop());

  test('scores, nurtures, alerts sales at 80 and re-engages after 90 quiet days', { timeout: 120_000 }, async () => {
    const { api } = t.stack;
    const setup = loadExample('lead-nurture/setup.json');
    assert.equal((await api('PUT', '/v1/scoring/settings', setup.scoring)).status, 200);
    for (const rule of setup.rules) assert.equal((await api('POST', '/v1/scoring/rules', rule)).status, 201);
    for (const segment of setup.segments) assert.equal((await api('POST', '/v1/segments', segment)).status, 201);
    for (const file of ['lead-nurture', 'sales-alert', 're-engagement']) {
      const res = await api('POST', '/v1/workflows?activate=true', loadExample(`lead-nurture/${file}.workflow.json`));
      assert.equal(res.status, 201, `${file}: ${JSON.stringify(res.body)}`);
    }
    const subjects = (to: string) => t.smtp.messages.filter((m) => m.envelopeTo.includes(to)).map((m) => m.parsed.subject);

    const dana = (await api('POST', '/v1/contacts', { externalId: 'dana', email: 'dana@example.com', attributes: { firstName: 'Dana', lastName: 'Scully', company: 'FBI' } })).body.contact;
    await api('POST', '/v1/events', { name: 'whitepaper_downloaded', contactId: dana.id, properties: { title: 'The State of Email 2026' } });
    await eventually(async () => subjects('dana@example.com').includes('Your copy of The State of Email 2026'), 15_000, 'the first nurture email');

    // Pricing page: 15 points a view, at most 45 a week; then a demo request: 10 + 45 + 40 = 95.
    for (let i = 0; i < 4; i++) await api('POST', '/v1/events', { name: 'page_viewed', contactId: dana.id, properties: { path: '/pricing' } });
    await api('POST', '/v1/events', { name: 'page_viewed', contactId: dana.id, properties: { path: '/blog' } });
    await api('POST', '/v1/events', { name: 'demo_requested', contactId: dana.id });
    await eventually(async () => subjects('sales@acme.example').length === 1, 15_000, 'the sales alert');
    assert.equal(subjects('sales@acme.example')[0], 'Hot lead: dana@example.com (score 95)');
    const score = (await api('GET', `/v1/contacts/${dana.id}/score`)).body;
    assert.ok(Math.abs(score.score - 95) < 0.01, `score ${score.score}`);
    assert.equal(score.ledger.length, 5, 'one whitepaper, three counted pricing views, one demo request');

    // The nurture series continues over five days.
    await t.env.sleep('2d');
    await eventually(async () => subjects('dana@example.com').includes('How Globex doubled its pipeline'), 15_000, 'the case study');
    await t.env.sleep('3d');
    await eventually(async () => subjects('dana@example.com').includes('Want to see it live, Dana?'), 15_000, 'the demo invitation');

    // Ninety-five days later, without a single event, Dana is inactive: the re-engagement starts.
    assert.ok(!subjects('dana@example.com').includes('Still interested, Dana?'));
    offsetMs = 95 * DAY;
    await t.stack.runtime.sweeper!.sweepOnce();
    await eventually(async () => subjects('dana@example.com').includes('Still interested, Dana?'), 15_000, 'the re-engagement email');
    // Meanwhile the score decayed (half-life 30 days) and crossed 80 downwards.
    const down = await t.stack.runtime.store.db('events').where({ contact_id: dana.id, name: '$score_crossed' }).whereRaw("properties->>'direction' = 'down'").first();
    assert.ok(down, 'the decayed score crossed 80 downwards');
    offsetMs = 0;
  });
});
