import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  capDelta,
  crossThresholds,
  decayedScore,
  matchesEventFilters,
  ScoreAdjustment,
  ScoreAdjustmentInput,
  ScoringRuleInput,
  ScoringRulePatch,
  ScoringSettingsInput,
  type EventRuleWhen,
} from './index.js';

describe('rule JSON', () => {
  test('accepts event rules with filters and caps, and attribute rules', () => {
    const event = ScoringRuleInput.parse({
      name: 'Viewed pricing',
      when: { event: 'page_viewed', where: [{ property: 'path', op: 'eq', value: '/pricing' }, { property: 'utm.source', op: 'exists' }] },
      points: 10,
      cap: { points: 30, periodDays: 7 },
    });
    assert.equal(event.points, 10);
    const attribute = ScoringRuleInput.parse({ name: 'Pro plan', when: { condition: { attribute: 'plan', op: 'eq', value: 'pro' } }, points: 20 });
    assert.deepEqual(attribute.when, { condition: { attribute: 'plan', op: 'eq', value: 'pro' } });
    assert.equal(ScoringRuleInput.parse({ name: 'Bounce', when: { event: 'bounced' }, points: -5 }).points, -5);
  });

  test('refuses bad rules with a message that says what is wrong', () => {
    const problems = (input: unknown) => {
      const result = ScoringRuleInput.safeParse(input);
      assert.equal(result.success, false, JSON.stringify(input));
      return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    assert.match(problems({ name: 'x', when: { event: 'e' }, points: 0 }), /points: points must not be 0/);
    assert.match(problems({ name: 'x', when: { event: 'e' }, points: 1, cap: { points: 0, periodDays: 1 } }), /cap\.points/);
    assert.match(problems({ name: 'x', when: { condition: { attribute: 'plan', op: 'exists' } }, points: 1, cap: { points: 1, periodDays: 1 } }), /cap: cap applies to event rules only/);
    problems({ name: 'x', when: { event: 'e', where: [{ property: 'a', op: 'like', value: 1 }] }, points: 1 });
    problems({ name: 'x', when: { event: 'e', where: [{ property: 'a', op: 'in', value: [] }] }, points: 1 });
    problems({ name: 'x', when: { event: 'e', where: [{ property: 'a', op: 'eq' }] }, points: 1 });
    problems({ name: 'x', when: { condition: { nonsense: true } }, points: 1 });
    problems({ name: '', when: { event: 'e' }, points: 1 });
    problems({ name: 'x', when: { event: 'e' }, points: 1, extra: true });
    assert.equal(ScoringRulePatch.safeParse({ cap: null }).success, true);
  });
});

describe('settings and adjustments', () => {
  test('validate', () => {
    assert.equal(ScoringSettingsInput.safeParse({ halfLifeDays: 30, thresholds: [50, 80] }).success, true);
    assert.equal(ScoringSettingsInput.safeParse({ halfLifeDays: null }).success, true);
    assert.equal(ScoringSettingsInput.safeParse({ halfLifeDays: 0 }).success, false);
    assert.equal(ScoringSettingsInput.safeParse({ thresholds: [Infinity] }).success, false);
    assert.equal(ScoreAdjustment.safeParse({ add: 5, subtract: 2 }).success, true);
    assert.equal(ScoreAdjustment.safeParse({ set: 5, add: 1 }).success, false);
    assert.equal(ScoreAdjustment.safeParse({}).success, false);
    assert.equal(ScoreAdjustmentInput.safeParse({ set: 0, reason: 'reset' }).success, true);
    assert.equal(ScoreAdjustmentInput.safeParse({ add: 1 }).success, false);
  });
});

describe('event property filters', () => {
  const props = { path: '/pricing', amount: 120, tags: ['docs', 'api'], utm: { source: 'ads' }, at: '2025-03-01T00:00:00Z', none: null };
  const cases: Array<[unknown, boolean]> = [
    [{ property: 'path', op: 'eq', value: '/pricing' }, true],
    [{ property: 'path', op: 'neq', value: '/pricing' }, false],
    [{ property: 'missing', op: 'neq', value: 'x' }, true],
    [{ property: 'utm.source', op: 'eq', value: 'ads' }, true],
    [{ property: 'utm', op: 'eq', value: { source: 'ads' } }, true],
    [{ property: 'amount', op: 'gt', value: 100 }, true],
    [{ property: 'amount', op: 'gte', value: 120 }, true],
    [{ property: 'amount', op: 'lt', value: 120 }, false],
    [{ property: 'amount', op: 'lte', value: 120 }, true],
    [{ property: 'amount', op: 'gt', value: '100' }, false],
    [{ property: 'at', op: 'gte', value: '2025-02-01' }, true],
    [{ property: 'tags', op: 'contains', value: 'docs' }, true],
    [{ property: 'tags', op: 'contains', value: 'doc' }, false],
    [{ property: 'path', op: 'contains', value: 'pric' }, true],
    [{ property: 'tags[1]', op: 'eq', value: 'api' }, true],
    [{ property: 'utm.source', op: 'exists' }, true],
    [{ property: 'none', op: 'exists' }, false],
    [{ property: 'missing', op: 'exists', value: false }, true],
    [{ property: 'path', op: 'in', value: ['/a', '/pricing'] }, true],
    [{ property: 'amount', op: 'in', value: ['120'] }, false],
  ];
  for (const [filter, expected] of cases) {
    test(`${JSON.stringify(filter)} → ${expected}`, () => {
      const rule = ScoringRuleInput.parse({ name: 'r', when: { event: 'e', where: [filter] }, points: 1 });
      assert.equal(matchesEventFilters((rule.when as EventRuleWhen).where, props), expected);
    });
  }
  test('all filters must pass; no filters always pass', () => {
    assert.equal(matchesEventFilters(undefined, {}), true);
    assert.equal(
      matchesEventFilters(
        [
          { property: 'path', op: 'eq', value: '/pricing' },
          { property: 'amount', op: 'lt', value: 100 },
        ],
        props,
      ),
      false,
    );
  });
});

describe('pure pieces', () => {
  test('caps award only up to the cap, by magnitude for negative rules', () => {
    assert.equal(capDelta(10, 25, 0), 10);
    assert.equal(capDelta(10, 25, 20), 5);
    assert.equal(capDelta(10, 25, 30), 0);
    assert.equal(capDelta(-10, 25, -20), -5);
    assert.equal(capDelta(-10, 25, -25), 0);
  });

  test('threshold crossings: downs from the top, ups from the bottom', () => {
    assert.deepEqual(crossThresholds(85, [], [20, 50, 80]), {
      above: [20, 50, 80],
      crossings: [
        { threshold: 20, direction: 'up' },
        { threshold: 50, direction: 'up' },
        { threshold: 80, direction: 'up' },
      ],
    });
    assert.deepEqual(crossThresholds(10, [20, 50, 80], [20, 50, 80]).crossings, [
      { threshold: 80, direction: 'down' },
      { threshold: 50, direction: 'down' },
      { threshold: 20, direction: 'down' },
    ]);
    assert.deepEqual(crossThresholds(50, [20, 99], [20, 50, 80]), { above: [20, 50], crossings: [{ threshold: 50, direction: 'up' }] });
  });

  test('decay halves per half-life and never runs backwards', () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    assert.equal(decayedScore(100, t0, new Date('2025-01-31T00:00:00Z'), 30), 50);
    assert.equal(decayedScore(100, t0, new Date('2025-03-02T00:00:00Z'), 30), 25);
    assert.equal(decayedScore(100, t0, new Date('2024-12-01T00:00:00Z'), 30), 100);
    assert.equal(decayedScore(100, t0, new Date('2030-01-01T00:00:00Z'), null), 100);
    assert.equal(decayedScore(-40, t0, new Date('2025-01-31T00:00:00Z'), 30), -20);
  });
});
