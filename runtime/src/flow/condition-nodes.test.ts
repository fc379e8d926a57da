import test from 'node:test';
import assert from 'node:assert/strict';
import type { NodeItem } from '@campaignos/sdk';
import { runControlNode } from './control-nodes.js';
import { WorkflowExpressions, type JourneyRunData } from './expressions.js';
import { N8nNode } from './workflow-json.js';
import { node, testRegistry, trigger, workflow } from './fixtures.test.js';

// Condition blocks as n8n ≥ 1.50 exports them for If 2.2 / Filter 2.2 / Switch 3.2.
const options = (extra: Record<string, unknown> = {}) => ({ caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2, ...extra });
const condition = (leftValue: unknown, type: string, operation: string, rightValue: unknown = '', extra: Record<string, unknown> = {}) => ({
  id: `c-${type}-${operation}`,
  leftValue,
  rightValue,
  operator: { type, operation, ...extra },
});
const conditions = (list: unknown[], combinator = 'and', opts = options()) => ({ options: opts, conditions: list, combinator });

const contacts: NodeItem[] = [
  { json: { email: 'ada@example.com', plan: 'pro', age: 36, vip: true } },
  { json: { email: 'bob@example.com', plan: 'free', age: 17, vip: false } },
  { json: { email: 'cy@example.com', plan: 'Pro', age: '41', vip: 'true' } },
];

/** Runs one control node placed after the trigger, with real expression resolution. */
function run(controlNode: ReturnType<typeof node>, items: NodeItem[] = contacts): NodeItem[][] {
  const wf = workflow([trigger('Signup'), controlNode], [['Signup', controlNode.name]]);
  const expressions = new WorkflowExpressions(wf, testRegistry());
  const runData: JourneyRunData = { Signup: [items] };
  const parsed = wf.nodes.find((n) => n.name === controlNode.name)!;
  return runControlNode({ node: parsed, items, resolve: expressions.resolverFor(parsed.name, items, runData) });
}

const emails = (items: NodeItem[] | undefined) => (items ?? []).map((item) => item.json.email);

test('If v2.2: string equals on $json sends items to true (0) and false (1)', () => {
  const [yes, no] = run(node('Is pro?', 'n8n-nodes-base.if', 2.2, { conditions: conditions([condition('={{ $json.plan }}', 'string', 'equals', 'pro')]), options: {} }));
  assert.deepEqual(emails(yes), ['ada@example.com']);
  assert.deepEqual(emails(no), ['bob@example.com', 'cy@example.com']);
  assert.deepEqual(yes![0]!.pairedItem, { item: 0 });
});

test('If: ignore case comes from the stored filter options', () => {
  const [yes] = run(node('Is pro?', 'n8n-nodes-base.if', 2.2, {
    conditions: conditions([condition('={{ $json.plan }}', 'string', 'equals', 'pro')], 'and', options({ caseSensitive: false })),
    options: { ignoreCase: true },
  }));
  assert.deepEqual(emails(yes), ['ada@example.com', 'cy@example.com']);
});

test('If: number and boolean conditions reading the trigger item with $("Signup").item', () => {
  const adultVip = node('Adult VIP?', 'n8n-nodes-base.if', 2.2, {
    conditions: conditions(
      [
        condition('={{ $("Signup").item.json.age }}', 'number', 'gte', 18),
        condition('={{ $("Signup").item.json.vip }}', 'boolean', 'true', '', { singleValue: true }),
      ],
      'and',
      options({ typeValidation: 'loose' }),
    ),
    looseTypeValidation: true,
    options: {},
  });
  const [yes, no] = run(adultVip);
  // Loose validation converts "41" and "true" the way n8n does.
  assert.deepEqual(emails(yes), ['ada@example.com', 'cy@example.com']);
  assert.deepEqual(emails(no), ['bob@example.com']);
});

test('If: strict type validation fails on a string number and says how to fix it', () => {
  const strict = node('Adult?', 'n8n-nodes-base.if', 2.2, { conditions: conditions([condition('={{ $json.age }}', 'number', 'gt', 17)]), options: {} });
  assert.throws(() => run(strict), (error: Error & { itemIndex?: number; description?: string }) => {
    assert.match(error.message, /^If "Adult\?": Wrong type: '41' is a string but was expecting a number \[condition 0, item 2\]/);
    assert.equal(error.itemIndex, 2);
    return true;
  });
  const [, no] = run({ ...strict, continueOnFail: true });
  assert.deepEqual(emails(no), ['bob@example.com', 'cy@example.com'], 'continue on fail sends the failing item to false');
});

test('If v2 (older export without typeValidation) compares loosely, like n8n', () => {
  const old = node('Count', 'n8n-nodes-base.if', 2, {
    conditions: { options: { caseSensitive: true, leftValue: '' }, conditions: [condition('={{ $json.age }}', 'number', 'gt', '40')], combinator: 'or' },
    options: {},
  });
  const [yes] = run(old);
  assert.deepEqual(emails(yes), ['cy@example.com']);
});

test('If 2.3 uses filter evaluation v3: an empty string is an empty number', () => {
  const items: NodeItem[] = [{ json: { email: 'a@example.com', score: '' } }, { json: { email: 'b@example.com', score: 3 } }];
  const emptyScore = (version: number) =>
    node('No score?', 'n8n-nodes-base.if', version, { conditions: conditions([condition('={{ $json.score }}', 'number', 'empty', '', { singleValue: true })], 'and', options({ version: version >= 2.3 ? 3 : 2 })) });
  assert.deepEqual(emails(run(emptyScore(2.3), items)[0]), ['a@example.com']);
  assert.throws(() => run(emptyScore(2.2), items), /Wrong type: '' is a string but was expecting a number/);
});

test('If without conditions sends everything to true, as n8n does', () => {
  const [yes, no] = run(node('Empty', 'n8n-nodes-base.if', 2.2, {}));
  assert.equal(yes!.length, 3);
  assert.equal(no!.length, 0);
});

test('Filter v2.1 keeps matching items on its only output', () => {
  const outputs = run(node('Adults', 'n8n-nodes-base.filter', 2.1, { conditions: conditions([condition('={{ $json.email }}', 'string', 'endsWith', '@example.com'), condition('={{ Number($json.age) }}', 'number', 'gte', 18)]), options: {} }));
  assert.equal(outputs.length, 1);
  assert.deepEqual(emails(outputs[0]), ['ada@example.com', 'cy@example.com']);
});

const planRules = (fallbackOutput?: unknown, extra: Record<string, unknown> = {}) =>
  node('Route by plan', 'n8n-nodes-base.switch', 3.2, {
    rules: {
      values: [
        { conditions: conditions([condition('={{ $json.plan }}', 'string', 'equals', 'pro')]), renameOutput: true, outputKey: 'Pro' },
        { conditions: conditions([condition('={{ $json.vip }}', 'boolean', 'true', '', { singleValue: true })], 'and', options({ typeValidation: 'loose' })), renameOutput: true, outputKey: 'VIP' },
      ],
    },
    looseTypeValidation: true,
    options: fallbackOutput === undefined ? { ...extra } : { fallbackOutput, ...extra },
  });

test('Switch v3.2 rules: first matching rule wins, no fallback drops the rest', () => {
  const outputs = run(planRules());
  assert.equal(outputs.length, 2);
  assert.deepEqual(outputs.map(emails), [['ada@example.com'], ['cy@example.com']]);
});

test('Switch rules: an "extra" fallback output, a rule fallback, and all matching outputs', () => {
  assert.deepEqual(run(planRules('extra')).map(emails), [['ada@example.com'], ['cy@example.com'], ['bob@example.com']]);
  assert.deepEqual(run(planRules(0)).map(emails), [['ada@example.com', 'bob@example.com'], ['cy@example.com']]);
  assert.deepEqual(run(planRules('none', { allMatchingOutputs: true })).map(emails), [['ada@example.com'], ['ada@example.com', 'cy@example.com']]);
});

test('Switch without rules uses n8n default rule, which matches everything', () => {
  assert.deepEqual(run(node('Default', 'n8n-nodes-base.switch', 3, {})).map(emails), [['ada@example.com', 'bob@example.com', 'cy@example.com']]);
});

test('Switch expression mode routes by the computed output index', () => {
  const byAge = node('By age', 'n8n-nodes-base.switch', 3.2, { mode: 'expression', numberOutputs: 3, output: '={{ $json.age >= 18 ? 0 : 1 }}' });
  assert.deepEqual(run(byAge).map(emails), [['ada@example.com', 'cy@example.com'], ['bob@example.com'], []]);
  const broken = node('Broken', 'n8n-nodes-base.switch', 3.2, { mode: 'expression', numberOutputs: 2, output: '={{ 2 }}' });
  assert.throws(() => run(broken), /Switch "Broken": the output 2 is not allowed/);
});

test('a disabled control node passes its input to its first output', () => {
  const outputs = run(node('Off', 'n8n-nodes-base.if', 2.2, { conditions: conditions([condition('={{ false }}', 'boolean', 'true', '', { singleValue: true })]) }, { disabled: true }));
  assert.equal(outputs.length, 1);
  assert.equal(outputs[0]!.length, 3);
});

test('an unsupported type version is refused when run', () => {
  const v1 = N8nNode.parse(node('Old', 'n8n-nodes-base.if', 1, {}));
  assert.throws(() => runControlNode({ node: v1, items: contacts, resolve: (v) => v }), /version 1 is not supported \(supported: 2, 2.1, 2.2, 2.3\)/);
});
