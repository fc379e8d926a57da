import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileConditionSql } from './compile.js';
import { analyzeCondition, MAX_DEPTH, MAX_NODES, SegmentCondition, SegmentInput } from './condition.js';

function problems(value: unknown): string[] {
  const result = SegmentCondition.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('SegmentCondition', () => {
  test('accepts every kind of condition', () => {
    const condition = {
      and: [
        { attribute: 'plan', op: 'eq', value: 'pro' },
        { attribute: 'address.city', op: 'in', value: ['Berlin', 'Paris'] },
        { attribute: ['a.b', 'c'], op: 'exists' },
        { attribute: 'signupDate', op: 'within_last', days: 30 },
        { attribute: 'renewsAt', op: 'after', value: '2025-01-31' },
        { field: 'email', op: 'contains', value: '@example.com' },
        { field: 'createdAt', op: 'before', value: '2025-01-31T12:00:00Z' },
        { event: 'purchase', where: [{ property: 'total', op: 'gte', value: 50 }], count: { atLeast: 2 }, withinDays: 30 },
        { event: 'login', between: { from: '2025-01-01', to: '2025-02-01' } },
        { not: { event: 'unsubscribe' } },
        { lastSeen: { op: 'not_within_last', days: 14 } },
        { firstSeen: { op: 'after', value: '2025-01-01', event: 'signup' } },
        { score: { op: 'gte', value: 50 } },
        { list: '8d8ac610-566d-4ef0-9c22-186b2a5ed793' },
        { or: [{ reachable: 'email' }, { reachable: 'telegram' }] },
        { consent: 'sms' },
      ],
    };
    assert.deepEqual(problems(condition), []);
    assert.equal(SegmentCondition.parse(condition), condition);
  });

  test('names the failing node and says what is wrong', () => {
    assert.deepEqual(problems({ and: [{ attribute: 'plan', op: 'eq', value: 'pro' }, { event: 'purchase', count: { atLeast: 3, atMost: 1 } }] }), [
      'and.1.count: atLeast is more than atMost',
    ]);
    assert.deepEqual(problems({ attribute: 'age', op: 'gt', value: 'ten' }), ['value: Invalid input: expected number, received string']);
    assert.match(problems({ attribute: 'age', op: 'bigger', value: 1 })[0]!, /^op: "op" must be one of eq, neq/);
    assert.match(problems({ atribute: 'plan' })[0]!, /^: expected a condition with one of: and, or, not, attribute.*\(got "atribute"\)/);
    assert.match(problems({ attribute: 'plan', op: 'exists', event: 'x' })[0]!, /exactly one of .* \(got attribute and event\); combine them with "and"/);
    assert.deepEqual(problems({ or: [] }), ['or: "or" takes a list of 1 to 50 conditions']);
    assert.match(problems({ not: { score: { op: 'gte' } } })[0]!, /^not\.score\.value: /);
    assert.match(problems({ event: 'x', withinDays: 3, between: { from: '2025-01-01' } })[0]!, /withinDays or between, not both/);
    assert.match(problems({ event: 'x', withinDays: -1 })[0]!, /^withinDays: /);
    assert.match(problems({ list: 'not-a-uuid' })[0]!, /list: expected a list id/);
    assert.match(problems({ reachable: 'fax' })[0]!, /reachable: expected a channel: email, sms, push, telegram/);
    assert.match(problems({ attribute: 'd', op: 'before', value: '31/01/2025' })[0]!, /value: expected an ISO 8601 date/);
    assert.match(problems({ field: 'createdAt', op: 'eq', value: 'x' })[0]!, /op: createdAt is a date field: use before, after/);
    assert.match(problems({ field: 'email', op: 'eq', value: 3 })[0]!, /value: email is a text field/);
    assert.match(problems({ attribute: 'a..b', op: 'exists' })[0]!, /no empty segments/);
    assert.match(problems({ attribute: 'plan', op: 'eq', value: 'pro', extra: 1 })[0]!, /Unrecognized key: "extra"/);
    assert.match(problems('plan = pro')[0]!, /expected a condition object/);
  });

  test('limits depth and size', () => {
    let deep: unknown = { attribute: 'x', op: 'exists' };
    for (let i = 0; i < MAX_DEPTH; i++) deep = { not: deep };
    assert.match(problems(deep)[0]!, new RegExp(`nest at most ${MAX_DEPTH} levels`));
    const wide = { or: Array.from({ length: 5 }, () => ({ and: Array.from({ length: 50 }, () => ({ attribute: 'x', op: 'exists' })) })) };
    assert.deepEqual(problems(wide), [`or.3.and.45: a condition has at most ${MAX_NODES} nodes`]);
  });

  test('embeds in other schemas with prefixed paths', () => {
    const result = SegmentInput.safeParse({ name: 'VIP', condition: { and: [{ score: { op: 'gte', value: 'x' } }] } });
    assert.equal(result.success, false);
    assert.deepEqual(result.error!.issues[0]!.path, ['condition', 'and', 0, 'score', 'value']);
  });
});

describe('analyzeCondition', () => {
  test('reports what a condition reads', () => {
    const a = analyzeCondition({
      or: [
        { attribute: 'plan', op: 'eq', value: 'pro' },
        { not: { event: 'purchase', withinDays: 30 } },
        { lastSeen: { op: 'before', value: '2025-01-01', event: 'login' } },
        { list: '8d8ac610-566d-4ef0-9c22-186b2a5ed793' },
        { consent: 'email' },
      ],
    });
    assert.deepEqual(a, {
      timeRelative: true,
      eventNames: ['login', 'purchase'],
      anyEvent: false,
      attributes: true,
      score: false,
      lists: ['8d8ac610-566d-4ef0-9c22-186b2a5ed793'],
      suppressions: true,
    });
    assert.equal(analyzeCondition({ event: 'x', between: { from: '2025-01-01' } }).timeRelative, false);
    assert.equal(analyzeCondition({ attribute: 'd', op: 'after', value: '2025-01-01' }).timeRelative, false);
    assert.equal(analyzeCondition({ event: 'x', where: [{ property: 'at', op: 'within_next', days: 1 }] }).timeRelative, true);
    assert.equal(analyzeCondition({ firstSeen: { op: 'before', value: '2025-01-01' } }).anyEvent, true);
    assert.deepEqual(analyzeCondition({ score: { op: 'lt', value: 1 } }), {
      timeRelative: true,
      eventNames: [],
      anyEvent: false,
      attributes: false,
      score: true,
      lists: [],
      suppressions: false,
    });
  });
});

describe('compileConditionSql', () => {
  test('puts every value from the condition in bindings, none in the SQL text', () => {
    const evil = `x'); DROP TABLE contacts; --`;
    const condition = SegmentCondition.parse({
      and: [
        { attribute: evil, op: 'eq', value: evil },
        { attribute: ['a', evil], op: 'contains', value: evil },
        { field: 'email', op: 'in', value: [evil] },
        { event: evil, where: [{ property: evil, op: 'neq', value: evil }], count: { atLeast: 2 } },
        { lastSeen: { op: 'within_last', days: 3, event: evil } },
        { consent: 'email' },
      ],
    });
    const compiled = compileConditionSql(condition, { workspaceId: '8d8ac610-566d-4ef0-9c22-186b2a5ed793', now: new Date() });
    assert.doesNotMatch(compiled.text, /DROP/);
    assert.equal(compiled.text.split('?').length - 1, compiled.bindings.length);
    assert.ok(compiled.bindings.some((b) => typeof b === 'string' && b.includes('DROP')));
  });
});
