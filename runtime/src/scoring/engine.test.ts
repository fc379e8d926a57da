import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { createDb, migrate, type Db } from '../store/index.js';
import { decayedScoreSql } from '../segments/index.js';
import { decayedScore, decayedScoreRaw, ScoreContactNotFoundError, ScoringEngine, ScoringRuleConflictError, type ScoreCrossing, type ScoringRuleInput } from './index.js';

// Scores are checked against an independent model written here from the spec, not from the
// engine: plain arrays of awards, 2 ** -(age / half-life), its own filter evaluation.

const DAY = 86_400_000;
const START = Date.parse('2025-01-01T00:00:00.000Z');

let database: TestDatabase;
let db: Db;
let nowMs = START;
const clock = () => new Date(nowMs);
const engine = () => new ScoringEngine({ db, clock });

before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, 40);
  await migrate(db);
});

after(async () => {
  await db?.destroy();
  await database?.drop();
});

async function workspace(name: string): Promise<string> {
  const [row] = await db('workspaces').insert({ name: `${name}-${Math.random().toString(36).slice(2)}` }).returning('id');
  return row.id as string;
}

async function contacts(workspaceId: string, count: number): Promise<string[]> {
  const rows = await db('contacts')
    .insert(Array.from({ length: count }, (_, i) => ({ workspace_id: workspaceId, email: `c${i}-${Math.random().toString(36).slice(2)}@example.com` })))
    .returning('id');
  return rows.map((r) => r.id as string);
}

let eventSeq = 0;
const event = (name: string, properties: Record<string, unknown> = {}) => ({
  id: `00000000-0000-4000-8000-${String(++eventSeq).padStart(12, '0')}`,
  name,
  properties,
  occurredAt: clock(),
});

async function crossedEvents(contactId: string): Promise<Array<{ threshold: number; direction: string; score: number; outbox: boolean }>> {
  const rows = await db('events as e')
    .leftJoin('outbox as o', 'o.event_id', 'e.id')
    .where({ 'e.contact_id': contactId, 'e.name': '$score_crossed' })
    .orderBy('o.id')
    .select('e.properties', 'o.id as outbox_id', 'o.kind');
  return rows.map((r) => ({ ...(r.properties as { threshold: number; direction: string; score: number }), outbox: r.outbox_id !== null && r.kind === 'event' }));
}

const close = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${message ?? ''} expected ${expected}, got ${actual}`);

// ---- the independent model ------------------------------------------------------------------

interface ModelFilter {
  property: string;
  op: 'eq' | 'gte' | 'contains';
  value: unknown;
}
interface ModelRule {
  id: string;
  event: string;
  where: ModelFilter[];
  points: number;
  cap?: { points: number; periodDays: number };
}

class Model {
  private readonly contacts = new Map<string, { value: number; asOf: number; above: Set<number>; awards: Array<{ rule: string; delta: number; at: number }> }>();
  readonly emitted = new Map<string, Array<{ threshold: number; direction: 'up' | 'down'; score: number }>>();

  constructor(
    private readonly rules: ModelRule[],
    private readonly halfLifeDays: number,
    private readonly thresholds: number[],
  ) {}

  private state(contactId: string, now: number) {
    let s = this.contacts.get(contactId);
    if (!s) {
      s = { value: 0, asOf: now, above: new Set(), awards: [] };
      this.contacts.set(contactId, s);
    }
    return s;
  }

  score(contactId: string, now: number): number {
    const s = this.contacts.get(contactId);
    if (!s) return 0;
    return s.value * 2 ** (-(now - s.asOf) / DAY / this.halfLifeDays);
  }

  private reconcile(contactId: string, score: number): ScoreCrossing[] {
    const s = this.contacts.get(contactId)!;
    const crossings: ScoreCrossing[] = [];
    for (const t of [...this.thresholds].sort((a, b) => b - a)) {
      if (score < t && s.above.has(t)) {
        s.above.delete(t);
        crossings.push({ threshold: t, direction: 'down' });
      }
    }
    for (const t of [...this.thresholds].sort((a, b) => a - b)) {
      if (score >= t && !s.above.has(t)) {
        s.above.add(t);
        crossings.push({ threshold: t, direction: 'up' });
      }
    }
    const list = this.emitted.get(contactId) ?? [];
    list.push(...crossings.map((c) => ({ ...c, score })));
    this.emitted.set(contactId, list);
    return crossings;
  }

  private passes(filter: ModelFilter, properties: Record<string, unknown>): boolean {
    const actual = filter.property.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), properties);
    if (filter.op === 'eq') return actual === filter.value;
    if (filter.op === 'gte') return typeof actual === 'number' && actual >= (filter.value as number);
    return Array.isArray(actual) && actual.includes(filter.value);
  }

  applyEvent(contactId: string, name: string, properties: Record<string, unknown>, now: number) {
    const matching = this.rules.filter((r) => r.event === name && r.where.every((f) => this.passes(f, properties)));
    if (matching.length === 0) return null;
    const s = this.state(contactId, now);
    const before = this.score(contactId, now);
    const crossings = this.reconcile(contactId, before);
    let delta = 0;
    for (const rule of matching) {
      let award = rule.points;
      if (rule.cap) {
        const used = s.awards.filter((a) => a.rule === rule.id && a.at > now - rule.cap!.periodDays * DAY).reduce((sum, a) => sum + a.delta, 0);
        award = Math.max(0, Math.min(award, rule.cap.points - used));
      }
      if (award !== 0) {
        s.awards.push({ rule: rule.id, delta: award, at: now });
        delta += award;
      }
    }
    const after = before + delta;
    if (delta !== 0 || crossings.length > 0) {
      s.value = after;
      s.asOf = now;
    }
    crossings.push(...this.reconcile(contactId, after));
    return { before, after, delta, crossings };
  }

  add(contactId: string, delta: number, now: number) {
    this.state(contactId, now);
    const before = this.score(contactId, now);
    const crossings = this.reconcile(contactId, before);
    const s = this.contacts.get(contactId)!;
    s.value = before + delta;
    s.asOf = now;
    crossings.push(...this.reconcile(contactId, s.value));
    return { before, after: s.value, crossings };
  }

  sweep(now: number): number {
    let count = 0;
    for (const contactId of this.contacts.keys()) count += this.reconcile(contactId, this.score(contactId, now)).length;
    return count;
  }
}

/** A small seeded generator (mulberry32), so a failing stream can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- tests ----------------------------------------------------------------------------------

describe('scores against an independent computation', () => {
  test('a seeded random event stream with time passing, caps, decay, thresholds and sweeps', async () => {
    nowMs = START;
    const ws = await workspace('model');
    const people = await contacts(ws, 6);
    const scoring = engine();
    await scoring.updateSettings(ws, { halfLifeDays: 14, thresholds: [80, 20, 50] });
    const inputs: ScoringRuleInput[] = [
      { name: 'Pricing page', when: { event: 'page_viewed', where: [{ property: 'path', op: 'eq', value: '/pricing' }] }, points: 10, cap: { points: 25, periodDays: 7 } },
      { name: 'Docs page', when: { event: 'page_viewed', where: [{ property: 'page.tags', op: 'contains', value: 'docs' }] }, points: 2, cap: { points: 5, periodDays: 1 } },
      { name: 'Email opened', when: { event: 'email_opened' }, points: 3 },
      { name: 'Demo requested', when: { event: 'demo_requested' }, points: 50, cap: { points: 50, periodDays: 30 } },
      { name: 'Big purchase', when: { event: 'purchase', where: [{ property: 'amount', op: 'gte', value: 100 }] }, points: 25 },
      { name: 'Unsubscribed', when: { event: 'unsubscribed' }, points: -20 },
    ];
    const created = [];
    for (const input of inputs) created.push(await scoring.createRule(ws, input));
    const model = new Model(
      created.map((rule, i) => {
        const input = inputs[i]!;
        const when = input.when as { event: string; where?: ModelFilter[] };
        return { id: rule.id, event: when.event, where: when.where ?? [], points: input.points, ...(input.cap && { cap: input.cap }) };
      }),
      14,
      [20, 50, 80],
    );

    // SCORING_SEED=n replays another stream.
    const next = random(Number(process.env.SCORING_SEED ?? 20250101));
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
    const kinds: Array<() => { name: string; properties: Record<string, unknown> }> = [
      () => ({ name: 'page_viewed', properties: { path: pick(['/pricing', '/blog', '/pricing', '/docs']) } }),
      () => ({ name: 'page_viewed', properties: { path: '/pricing' } }),
      () => ({ name: 'page_viewed', properties: { path: '/pricing' } }),
      () => ({ name: 'page_viewed', properties: { path: '/docs/x', page: { tags: pick([['docs'], ['docs', 'api'], ['blog']]) } } }),
      () => ({ name: 'email_opened', properties: {} }),
      () => ({ name: 'demo_requested', properties: {} }),
      () => ({ name: 'purchase', properties: { amount: pick([20, 99, 100, 250]) } }),
      () => ({ name: 'unsubscribed', properties: {} }),
      () => ({ name: 'unscored_event', properties: {} }),
    ];

    let modelSweepCrossings = 0;
    let engineSweepCrossings = 0;
    let fullyCapped = 0;
    for (let step = 0; step < 300; step++) {
      // Bursts (no time passing), hours, and gaps of up to 12 days.
      const r = next();
      nowMs += r < 0.3 ? 0 : r < 0.9 ? Math.floor(next() * 0.6 * DAY) : Math.floor(next() * 12 * DAY);
      const contactId = pick(people);
      const roll = next();
      if (roll < 0.05) {
        const amount = Math.round(next() * 40) - 20;
        const change = await scoring.adjust(ws, contactId, { add: amount }, { source: 'api', reason: 'manual' });
        const expected = model.add(contactId, amount, nowMs);
        close(change.after, expected.after, `step ${step} adjust`);
        assert.deepEqual(change.crossings, expected.crossings, `step ${step} adjust crossings`);
      } else if (roll < 0.1) {
        engineSweepCrossings += (await scoring.sweep(ws)).crossings;
        modelSweepCrossings += model.sweep(nowMs);
        assert.equal(engineSweepCrossings, modelSweepCrossings, `step ${step} sweep`);
      } else if (roll < 0.3) {
        // A routed batch: several events, some for the same contact, scored in one call. The
        // model applies them one by one; per contact the batch must end the same way.
        const batch = Array.from({ length: 2 + Math.floor(next() * 6) }, () => ({ contactId: pick(people.slice(0, 3)), ...pick(kinds)() }));
        const changes = await scoring.applyEvents(ws, batch.map((e) => ({ ...event(e.name, e.properties), contactId: e.contactId })));
        const expected = new Map<string, { before: number; after: number; crossings: ScoreCrossing[] }>();
        for (const e of batch) {
          const one = model.applyEvent(e.contactId, e.name, e.properties, nowMs);
          if (!one) continue;
          const soFar = expected.get(e.contactId);
          expected.set(e.contactId, { before: soFar?.before ?? one.before, after: one.after, crossings: [...(soFar?.crossings ?? []), ...one.crossings] });
        }
        assert.deepEqual(changes.map((c) => c.contactId).sort(), [...expected.keys()].sort(), `step ${step}: scored contacts of the batch`);
        for (const change of changes) {
          const want = expected.get(change.contactId)!;
          close(change.before, want.before, `step ${step} batch before`);
          close(change.after, want.after, `step ${step} batch after`);
          assert.deepEqual(change.crossings, want.crossings, `step ${step} batch crossings`);
          if (change.delta === 0) fullyCapped++;
        }
      } else {
        const e = pick(kinds)();
        const change = await scoring.applyEvent(ws, contactId, { ...event(e.name, e.properties) });
        const expected = model.applyEvent(contactId, e.name, e.properties, nowMs);
        if (!expected) {
          assert.equal(change, null, `step ${step}: ${e.name} matches no rule`);
          continue;
        }
        assert.ok(change, `step ${step}: ${e.name} should score`);
        close(change.before, expected.before, `step ${step} before`);
        close(change.after, expected.after, `step ${step} after`);
        close(change.delta, expected.delta, `step ${step} delta`);
        assert.deepEqual(change.crossings, expected.crossings, `step ${step} crossings`);
        if (expected.delta === 0) fullyCapped++;
      }
    }

    nowMs += 3 * DAY;
    let crossingsSeen = 0;
    for (const contactId of people) {
      const explained = (await scoring.explain(ws, contactId, { limit: 10_000 }))!;
      close(explained.score, model.score(contactId, nowMs), 'final score');
      // The ledger explains the score: every delta, decayed to now, sums to it.
      close(
        explained.ledger.reduce((sum, l) => sum + l.delta * 2 ** (-(nowMs - Date.parse(l.at)) / DAY / 14), 0),
        explained.score,
        'ledger sum',
      );
      close(
        explained.byRule.reduce((sum, b) => sum + b.current, 0),
        explained.score,
        'byRule sum',
      );
      const emitted = await crossedEvents(contactId);
      const expected = model.emitted.get(contactId) ?? [];
      assert.equal(emitted.length, expected.length, 'one $score_crossed event per crossing');
      emitted.forEach((e, i) => {
        assert.equal(e.threshold, expected[i]!.threshold);
        assert.equal(e.direction, expected[i]!.direction);
        close(e.score, expected[i]!.score, 'crossing score');
        assert.ok(e.outbox, 'each crossing has an outbox row');
      });
      crossingsSeen += emitted.length;
    }
    assert.ok(crossingsSeen > 10, `the stream should cross thresholds often (saw ${crossingsSeen})`);
    assert.ok(modelSweepCrossings > 0, 'some crossings should come from sweeps alone');
    const [partly] = await db('score_ledger').where({ workspace_id: ws }).andWhere('reason', 'like', '%capped%').count({ n: '*' });
    assert.ok(fullyCapped > 0 && Number(partly!.n) > 0, `caps should bind fully and partly (${fullyCapped}, ${partly!.n})`);
  });
});

describe('caps', () => {
  test('a cap limits a rule per rolling period, and time passing re-opens it', async () => {
    nowMs = START;
    const ws = await workspace('caps');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.createRule(ws, { name: 'Visit', when: { event: 'visit' }, points: 4, cap: { points: 10, periodDays: 7 } });
    const deltas: number[] = [];
    for (let i = 0; i < 4; i++) deltas.push((await scoring.applyEvent(ws, c!, event('visit')))!.delta);
    assert.deepEqual(deltas, [4, 4, 2, 0]);

    nowMs += 3 * DAY; // still inside the window that started at START
    assert.equal((await scoring.applyEvent(ws, c!, event('visit')))!.delta, 0);
    nowMs = START + 7 * DAY; // the window is (now - 7d, now]: the awards at START have left it
    assert.equal((await scoring.applyEvent(ws, c!, event('visit')))!.delta, 4);
    assert.equal((await scoring.applyEvent(ws, c!, event('visit')))!.delta, 4);
    assert.equal((await scoring.applyEvent(ws, c!, event('visit')))!.delta, 2);
    const explained = (await scoring.explain(ws, c!))!;
    assert.equal(explained.score, 20);
    assert.match(explained.ledger[2]!.reason!, /capped at 10 per 7 days/);
    assert.deepEqual(
      explained.byRule.map((b) => ({ name: b.rule?.name, total: b.total, entries: b.entries })),
      [{ name: 'Visit', total: 20, entries: 6 }],
    );
  });

  test('a negative rule is capped by magnitude', async () => {
    nowMs = START;
    const ws = await workspace('negative-cap');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.createRule(ws, { name: 'Bounce', when: { event: 'bounced' }, points: -15, cap: { points: 20, periodDays: 30 } });
    const deltas = [];
    for (let i = 0; i < 3; i++) deltas.push((await scoring.applyEvent(ws, c!, event('bounced')))!.delta);
    assert.deepEqual(deltas, [-15, -5, 0]);
  });
});

describe('decay', () => {
  test('a score halves every half-life, and the ledger still explains it', async () => {
    nowMs = START;
    const ws = await workspace('decay');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.updateSettings(ws, { halfLifeDays: 10 });
    await scoring.createRule(ws, { name: 'Signup', when: { event: 'signup' }, points: 100 });
    await scoring.applyEvent(ws, c!, event('signup'));
    nowMs += 10 * DAY;
    close((await scoring.explain(ws, c!))!.score, 50);
    nowMs += 10 * DAY;
    close((await scoring.explain(ws, c!))!.score, 25);
    const change = (await scoring.applyEvent(ws, c!, event('signup')))!;
    close(change.before, 25);
    close(change.after, 125);
    nowMs += 5 * DAY;
    const explained = (await scoring.explain(ws, c!))!;
    close(explained.score, 125 * 0.5 ** 0.5);
    close(explained.storedValue, 125);
    assert.equal(explained.asOf, new Date(START + 20 * DAY).toISOString());
    close(
      explained.ledger.reduce((sum, l) => sum + l.current, 0),
      explained.score,
    );
    close(explained.ledger[0]!.current, 100 * 0.5 ** 2.5);
  });

  test('without a half-life scores do not decay; changing the half-life keeps scores continuous', async () => {
    nowMs = START;
    const ws = await workspace('no-decay');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.adjust(ws, c!, { set: 40 }, { source: 'api', reason: 'import' });
    nowMs += 365 * DAY;
    assert.equal((await scoring.explain(ws, c!))!.score, 40);
    await scoring.updateSettings(ws, { halfLifeDays: 30 });
    assert.equal((await scoring.explain(ws, c!))!.score, 40, 'turning decay on does not apply it retroactively');
    nowMs += 30 * DAY;
    close((await scoring.explain(ws, c!))!.score, 20);
    await scoring.updateSettings(ws, { halfLifeDays: 60 });
    nowMs += 60 * DAY;
    close((await scoring.explain(ws, c!))!.score, 10);
  });
});

describe('one decay formula', () => {
  test('TypeScript, the SQL form and the SQL of the segment engine agree', async () => {
    nowMs = START;
    const ws = await workspace('formula');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.adjust(ws, c!, { set: 73.5 }, { source: 'api', reason: 'seed' });
    for (const halfLifeDays of [null, 0.5, 7, 30]) {
      await db('scoring_settings').insert({ workspace_id: ws, half_life_days: halfLifeDays }).onConflict('workspace_id').merge();
      for (const ageDays of [-1, 0, 0.25, 3, 45.5]) {
        const now = new Date(START + ageDays * DAY);
        const segment = decayedScoreSql({ workspaceId: ws, now, alias: 'cs' });
        const [row] = (
          await db.raw(
            `SELECT ${decayedScoreRaw(db, now, { value: 'cs.value', asOf: 'cs.as_of', halfLifeDays: 'ss.half_life_days' }).toQuery()} AS ours, ${segment.text} AS theirs
               FROM contact_scores cs JOIN scoring_settings ss ON ss.workspace_id = cs.workspace_id WHERE cs.contact_id = ?`,
            [...segment.bindings, c!] as never,
          )
        ).rows;
        const expected = decayedScore(73.5, new Date(START), now, halfLifeDays);
        close(row.ours, expected, `ours, half-life ${halfLifeDays}, age ${ageDays}`);
        close(row.theirs, expected, `segments, half-life ${halfLifeDays}, age ${ageDays}`);
      }
    }
  });
});

describe('thresholds', () => {
  test('crossings up and down emit $score_crossed events with outbox rows, sweep finds decay crossings', async () => {
    nowMs = START;
    const ws = await workspace('thresholds');
    const [c, other] = await contacts(ws, 2);
    const scoring = engine();
    await scoring.updateSettings(ws, { halfLifeDays: 10, thresholds: [50, 80] });
    await scoring.createRule(ws, { name: 'Demo', when: { event: 'demo' }, points: 90 });

    const up = (await scoring.applyEvent(ws, c!, event('demo')))!;
    assert.deepEqual(up.crossings, [
      { threshold: 50, direction: 'up' },
      { threshold: 80, direction: 'up' },
    ]);
    assert.deepEqual((await scoring.explain(ws, c!))!.above, [50, 80]);
    assert.deepEqual(await scoring.sweep(ws), { crossings: 0 });

    // 90 * 0.5^(2/10) = 78.3: below 80 with no event at all; only sweep notices.
    nowMs += 2 * DAY;
    assert.deepEqual(await scoring.sweep(ws), { crossings: 1 });
    assert.deepEqual(await scoring.sweep(ws), { crossings: 0 }, 'a crossing is emitted once');
    assert.deepEqual((await scoring.explain(ws, c!))!.above, [50]);

    // Below 50 after ~8.5 days.
    nowMs += 7 * DAY;
    assert.ok((await scoring.sweep()).crossings >= 1, 'a sweep over every workspace finds it too');
    let emitted = await crossedEvents(c!);
    assert.deepEqual(
      emitted.map((e) => [e.threshold, e.direction, e.outbox]),
      [
        [50, 'up', true],
        [80, 'up', true],
        [80, 'down', true],
        [50, 'down', true],
      ],
    );
    close(emitted[2]!.score, 90 * 0.5 ** 0.2);
    const row = await db('events').where({ contact_id: c!, name: '$score_crossed' }).orderBy('occurred_at', 'desc').first('occurred_at', 'workspace_id');
    assert.equal((row.occurred_at as Date).toISOString(), new Date(nowMs).toISOString());
    assert.equal(row.workspace_id, ws);

    // Back up: both thresholds crossed again by one event.
    assert.deepEqual((await scoring.applyEvent(ws, c!, event('demo')))!.crossings, [
      { threshold: 50, direction: 'up' },
      { threshold: 80, direction: 'up' },
    ]);
    // Decay below 80 then an event back above it, with no sweep in between: the change reports
    // the decay crossing first, so what is emitted does not depend on when sweeps run.
    nowMs += 8.5 * DAY; // 138.2 * 0.5^0.85 = 76.8, then +5
    await scoring.createRule(ws, { name: 'Small', when: { event: 'small' }, points: 5 });
    const back = (await scoring.applyEvent(ws, c!, event('small')))!;
    assert.ok(back.before < 80 && back.after >= 80, `76.8 → 81.8, got ${back.before} → ${back.after}`);
    assert.deepEqual(back.crossings, [
      { threshold: 80, direction: 'down' },
      { threshold: 80, direction: 'up' },
    ]);
    emitted = await crossedEvents(c!);
    assert.deepEqual(
      emitted.slice(6).map((e) => [e.threshold, e.direction]),
      [
        [80, 'down'],
        [80, 'up'],
      ],
    );
    close(emitted[6]!.score, back.before);
    close(emitted[7]!.score, back.after);
    assert.equal((await crossedEvents(other!)).length, 0);
  });

  test('new thresholds do not fire for contacts already above them; removed ones are forgotten', async () => {
    nowMs = START;
    const ws = await workspace('threshold-settings');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.adjust(ws, c!, { set: 60 }, { source: 'api', reason: 'import' });
    await scoring.updateSettings(ws, { thresholds: [50, 70] });
    assert.deepEqual((await scoring.explain(ws, c!))!.above, [50]);
    assert.deepEqual(await scoring.sweep(ws), { crossings: 0 });
    assert.deepEqual((await scoring.adjust(ws, c!, { add: 15 }, { source: 'node', reason: 'update score', node: 'Bump' })).crossings, [{ threshold: 70, direction: 'up' }]);
    await scoring.updateSettings(ws, { thresholds: [70] });
    assert.deepEqual((await scoring.adjust(ws, c!, { subtract: 30 }, { source: 'api', reason: 'x' })).crossings, [{ threshold: 70, direction: 'down' }]);
    assert.equal((await crossedEvents(c!)).length, 2);
  });
});

describe('adjustments and the ledger', () => {
  test('set, add and subtract write ledger rows with their source and reason', async () => {
    nowMs = START;
    const ws = await workspace('adjust');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.adjust(ws, c!, { set: 10 }, { source: 'api', reason: 'import' });
    await scoring.adjust(ws, c!, { add: 5, subtract: 2 }, { source: 'node', reason: 'update score', node: 'Score +3' });
    const change = await scoring.adjust(ws, c!, { set: 1 }, { source: 'api', reason: 'reset' });
    assert.deepEqual({ before: change.before, after: change.after, delta: change.delta }, { before: 13, after: 1, delta: -12 });
    const explained = (await scoring.explain(ws, c!))!;
    assert.deepEqual(
      explained.ledger.map((l) => [l.delta, l.scoreAfter, l.source, l.reason, l.rule]),
      [
        [10, 10, 'api', 'import', undefined],
        [3, 13, 'node', 'update score (node Score +3)', undefined],
        [-12, 1, 'api', 'reset', undefined],
      ],
    );
    assert.deepEqual(
      explained.byRule.map((b) => [b.source, b.rule, b.total]).sort(),
      [
        ['api', null, -2],
        ['node', null, 3],
      ],
    );
  });

  test('an idempotency key makes a change happen once, even when both attempts race', async () => {
    nowMs = START;
    const ws = await workspace('idempotent');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.updateSettings(ws, { thresholds: [15] });
    const meta = { source: 'node' as const, reason: 'whitepaper', node: 'Score +10', workflow: 'Nurture', idempotencyKey: 'journey-1:3:Score +10:0' };
    const [first, second] = await Promise.all([scoring.adjust(ws, c!, { add: 10 }, meta), scoring.adjust(ws, c!, { add: 10 }, meta)]);
    assert.deepEqual([first.before, first.after, second.before, second.after], [0, 10, 0, 10], 'both attempts answer the one change');
    const third = await scoring.adjust(ws, c!, { add: 10 }, meta);
    assert.deepEqual([third.before, third.after, third.crossings], [0, 10, []]);
    const other = await scoring.adjust(ws, c!, { add: 10 }, { ...meta, idempotencyKey: 'journey-1:5:Score +10:0' });
    assert.deepEqual([other.before, other.after, other.crossings], [10, 20, [{ threshold: 15, direction: 'up' }]]);
    const explained = (await scoring.explain(ws, c!))!;
    assert.equal(explained.score, 20);
    assert.deepEqual(explained.ledger.map((l) => [l.delta, l.reason]), [
      [10, 'whitepaper (node Score +10, workflow Nurture)'],
      [10, 'whitepaper (node Score +10, workflow Nurture)'],
    ]);
    // Keys are per workspace: another workspace may use the same one.
    const other2 = await workspace('idempotent-other');
    const [d] = await contacts(other2, 1);
    assert.equal((await scoring.adjust(other2, d!, { add: 4 }, meta)).after, 4);
  });

  test('unknown contacts and other workspaces are refused', async () => {
    const ws = await workspace('scoped');
    const other = await workspace('scoped-other');
    const [c] = await contacts(other, 1);
    const scoring = engine();
    await scoring.createRule(ws, { name: 'Any', when: { event: 'x' }, points: 1 });
    await assert.rejects(scoring.adjust(ws, c!, { add: 1 }, { source: 'api', reason: 'x' }), ScoreContactNotFoundError);
    assert.equal(await scoring.applyEvent(ws, c!, event('x')), null);
    assert.equal(await scoring.applyEvent(other, c!, event('x')), null, 'rules are workspace-scoped');
    assert.equal(await scoring.explain(ws, c!), null);
    assert.equal(await scoring.explain(ws, 'not-a-uuid'), null);
    assert.equal((await scoring.explain(other, c!))!.score, 0);
  });
});

describe('rules', () => {
  test('CRUD is workspace-scoped, names are unique, inactive rules do not score', async () => {
    nowMs = START;
    const ws = await workspace('crud');
    const other = await workspace('crud-other');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    const rule = await scoring.createRule(ws, { name: 'Open', when: { event: 'open' }, points: 1 });
    assert.deepEqual(rule, { id: rule.id, name: 'Open', when: { event: 'open' }, points: 1, cap: null, active: true, createdAt: rule.createdAt });
    await assert.rejects(scoring.createRule(ws, { name: 'Open', when: { event: 'other' }, points: 1 }), ScoringRuleConflictError);
    await scoring.createRule(other, { name: 'Open', when: { event: 'open' }, points: 1 });
    assert.equal((await scoring.listRules(ws)).length, 1);
    assert.equal(await scoring.getRule(other, rule.id), null);
    assert.equal(await scoring.updateRule(other, rule.id, { points: 5 }), null);

    const updated = (await scoring.updateRule(ws, rule.id, { points: 5, cap: { points: 7, periodDays: 1 } }))!;
    assert.deepEqual([updated.points, updated.cap], [5, { points: 7, periodDays: 1 }]);
    assert.deepEqual([(await scoring.applyEvent(ws, c!, event('open')))!.delta, (await scoring.applyEvent(ws, c!, event('open')))!.delta], [5, 2]);
    assert.equal((await scoring.updateRule(ws, rule.id, { cap: null }))!.cap, null);
    await scoring.updateRule(ws, rule.id, { active: false });
    assert.equal(await scoring.applyEvent(ws, c!, event('open')), null);
    await assert.rejects(scoring.updateRule(ws, rule.id, { when: { condition: {} } as never }));
    assert.equal(await scoring.deleteRule(other, rule.id), false);
    assert.equal(await scoring.deleteRule(ws, rule.id), true);
    assert.deepEqual(await scoring.listRules(ws), []);
    const explained = (await scoring.explain(ws, c!))!;
    assert.equal(explained.score, 7, 'points a deleted rule awarded stay');
    assert.deepEqual(explained.byRule[0]!.rule, { id: rule.id, name: null });
  });

  test('several rules can match one event, each with its own ledger row', async () => {
    nowMs = START;
    const ws = await workspace('multi');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.createRule(ws, { name: 'Any purchase', when: { event: 'purchase' }, points: 5 });
    await scoring.createRule(ws, { name: 'Big purchase', when: { event: 'purchase', where: [{ property: 'amount', op: 'gt', value: 100 }] }, points: 20 });
    assert.equal((await scoring.applyEvent(ws, c!, event('purchase', { amount: 50 })))!.delta, 5);
    assert.equal((await scoring.applyEvent(ws, c!, event('purchase', { amount: 500 })))!.delta, 25);
    const explained = (await scoring.explain(ws, c!))!;
    assert.deepEqual(
      explained.ledger.map((l) => [l.rule?.name, l.delta, l.scoreAfter, l.reason]),
      [
        ['Any purchase', 5, 5, 'Any purchase: purchase'],
        ['Any purchase', 5, 10, 'Any purchase: purchase'],
        ['Big purchase', 20, 30, 'Big purchase: purchase'],
      ],
    );
  });
});

describe('transactions', () => {
  test("inside the caller's transaction a score commits or rolls back with it", async () => {
    nowMs = START;
    const ws = await workspace('tx');
    const [c] = await contacts(ws, 1);
    const scoring = engine();
    await scoring.updateSettings(ws, { thresholds: [5] });
    await scoring.createRule(ws, { name: 'Hit', when: { event: 'hit' }, points: 10 });
    await assert.rejects(
      db.transaction(async (tx) => {
        assert.equal((await scoring.applyEvent(ws, c!, event('hit'), { tx }))!.after, 10);
        throw new Error('the drain failed');
      }),
      /the drain failed/,
    );
    assert.equal((await scoring.explain(ws, c!))!.score, 0);
    assert.equal((await crossedEvents(c!)).length, 0, 'no crossing event survives a rollback');
    await db.transaction(async (tx) => {
      await scoring.applyEvent(ws, c!, event('hit'), { tx });
      await scoring.adjust(ws, c!, { add: 1 }, { source: 'node', reason: 'r' }, { tx });
    });
    assert.equal((await scoring.explain(ws, c!))!.score, 11);
    assert.equal((await crossedEvents(c!)).length, 1);
  });
});

describe('concurrency', () => {
  test('concurrent events for one contact lose no points and respect the cap', async () => {
    nowMs = START;
    const ws = await workspace('concurrent');
    const [c, d] = await contacts(ws, 2);
    const scoring = engine();
    await scoring.updateSettings(ws, { thresholds: [25] });
    await scoring.createRule(ws, { name: 'Click', when: { event: 'click' }, points: 1 });
    await scoring.createRule(ws, { name: 'Capped', when: { event: 'capped' }, points: 10, cap: { points: 55, periodDays: 1 } });
    await Promise.all(Array.from({ length: 30 }, () => scoring.applyEvent(ws, c!, event('click'))));
    await Promise.all(Array.from({ length: 30 }, () => scoring.applyEvent(ws, d!, event('capped'))));
    assert.equal((await scoring.explain(ws, c!))!.score, 30);
    assert.equal((await scoring.explain(ws, d!))!.score, 55);
    assert.equal((await scoring.explain(ws, c!, { limit: 100 }))!.ledger.length, 30);
    assert.equal((await crossedEvents(c!)).length, 1, 'the threshold is crossed exactly once');
  });
});
