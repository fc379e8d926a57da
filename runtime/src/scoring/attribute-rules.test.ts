import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { createDb, migrate, type Db } from '../store/index.js';
import { ScoringEngine } from './index.js';

const DAY = 86_400_000;
let database: TestDatabase;
let db: Db;
let nowMs = Date.parse('2025-01-01T00:00:00.000Z');
const clock = () => new Date(nowMs);

before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, 20);
  await migrate(db);
});

after(async () => {
  await db?.destroy();
  await database?.drop();
});

async function setAttributes(id: string, attributes: Record<string, unknown>): Promise<void> {
  await db('contacts').where({ id }).update({ attributes: JSON.stringify(attributes) });
}

test('attribute rules award points when a contact starts matching and take them back when it stops', async () => {
  const [workspace] = await db('workspaces').insert({ name: 'attributes' }).returning('id');
  const ws = workspace.id as string;
  const [a, b] = (
    await db('contacts')
      .insert([
        { workspace_id: ws, email: 'a@example.com', attributes: JSON.stringify({ plan: 'pro', company: 'Acme' }) },
        { workspace_id: ws, email: 'b@example.com', attributes: JSON.stringify({ plan: 'free' }) },
      ])
      .returning('id')
  ).map((r) => r.id as string);
  const scoring = new ScoringEngine({ db, clock });
  await scoring.updateSettings(ws, { halfLifeDays: 10, thresholds: [20] });
  const pro = await scoring.createRule(ws, { name: 'Pro plan', when: { condition: { attribute: 'plan', op: 'eq', value: 'pro' } }, points: 20 });
  await scoring.createRule(ws, { name: 'Has company', when: { condition: { attribute: 'company', op: 'exists' } }, points: 5 });
  await scoring.createRule(ws, { name: 'Event rule', when: { event: 'plan' }, points: 1000 });

  const first = await scoring.applyAttributeRules(ws, [a!, b!]);
  assert.deepEqual(
    first.map((c) => [c.contactId, c.delta, c.crossings]),
    [[a, 25, [{ threshold: 20, direction: 'up' }]]],
  );
  assert.deepEqual(await scoring.applyAttributeRules(ws, [a!, b!]), [], 'a match is awarded once');

  await setAttributes(b!, { plan: 'pro' });
  assert.deepEqual(
    (await scoring.applyAttributeRules(ws, [b!])).map((c) => c.delta),
    [20],
  );

  // Ten days (one half-life) later A leaves the pro plan: what is left of its 20 points goes.
  nowMs += 10 * DAY;
  await setAttributes(a!, { plan: 'free', company: 'Acme' });
  const [revoked] = await scoring.applyAttributeRules(ws, [a!, b!]);
  assert.equal(revoked!.contactId, a);
  assert.equal(revoked!.before, 12.5);
  assert.equal(revoked!.delta, -10);
  assert.equal(revoked!.after, 2.5);
  assert.deepEqual(revoked!.crossings, [{ threshold: 20, direction: 'down' }]);
  const explained = (await scoring.explain(ws, a!))!;
  assert.deepEqual(
    explained.ledger.map((l) => [l.rule?.name, l.delta, l.reason]),
    [
      ['Pro plan', 20, 'Pro plan: started matching'],
      ['Has company', 5, 'Has company: started matching'],
      ['Pro plan', -10, 'Pro plan: stopped matching'],
    ],
  );
  assert.equal(explained.byRule.find((r) => r.rule?.id === pro.id)!.current, 0, 'a revoked rule leaves nothing behind');

  // Matching again awards again; concurrent evaluations award once.
  await setAttributes(a!, { plan: 'pro', company: 'Acme' });
  const concurrent = await Promise.all(Array.from({ length: 5 }, () => scoring.applyAttributeRules(ws, [b!, a!])));
  assert.equal(concurrent.flat().length, 1);
  assert.equal(concurrent.flat()[0]!.delta, 20);
  assert.equal((await scoring.explain(ws, a!))!.score, 22.5);

  // Inactive rules are not evaluated; the full re-evaluation walks every contact.
  await scoring.updateRule(ws, pro.id, { active: false });
  await setAttributes(a!, { plan: 'free' });
  assert.deepEqual(await scoring.reevaluateAttributeRules(ws, { batchSize: 1 }), { contacts: 2, changed: 1 });
  assert.equal((await scoring.explain(ws, a!))!.score, 20, 'the company points went, the pro plan points stay while the rule is inactive');
});
