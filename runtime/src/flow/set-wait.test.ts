import test from 'node:test';
import assert from 'node:assert/strict';
import type { NodeItem } from '@campaignos/sdk';
import { resolveWait, runControlNode } from './control-nodes.js';
import { WorkflowExpressions } from './expressions.js';
import { N8nNode } from './workflow-json.js';
import { node, testRegistry, trigger, workflow } from './fixtures.test.js';

function run(setNode: ReturnType<typeof node>, items: NodeItem[]): NodeItem[] {
  const wf = workflow([trigger('Signup'), setNode], [['Signup', setNode.name]]);
  const expressions = new WorkflowExpressions(wf, testRegistry());
  const parsed = wf.nodes.find((n) => n.name === setNode.name)!;
  const outputs = runControlNode({ node: parsed, items, resolve: expressions.resolverFor(parsed.name, items, { Signup: [items] }) });
  assert.equal(outputs.length, 1);
  return outputs[0]!;
}

const assign = (name: string, type: string, value: unknown) => ({ id: name, name, type, value });
const set = (name: string, version: number, assignments: unknown[], extra: Record<string, unknown> = {}) =>
  node(name, 'n8n-nodes-base.set', version, { assignments: { assignments }, options: {}, ...extra });

// The input item and expected outputs of n8n's own Set 3.3 conversion test
// (nodes-base/nodes/Set/test/Set.v3_3.workflow.json, outputs pinned from a real n8n run).
const typed: NodeItem = {
  json: {
    string: { test2: 'hello', test3: ' ', test5: '3', test7: '3.14', test8: 'TRUE', test9: 'false', test10: '1', test11: '["apples", "oranges"]', test13: '[1, 2]', test14: '{"a": 1, "b": { "c": 10, "d": "test"}}', test18: '0' },
    number: { test1: 52472, test2: -1, test3: 0, test4: 1.334535, test7: 1 },
    boolean: { test3: true, test4: false },
    array: { test13: [1, 2, 3, 4] },
    object: { obj: { objKey: 2, objArray: [1, 2, 3, 4], objBool: true } },
  },
};

test('Set 3.3 converts assignment types exactly as n8n does', () => {
  const [item] = run(
    set('Convert', 3.3, [
      assign('numberToString1', 'string', '={{ $json.number.test1 }}'),
      assign('boolToString2', 'string', '={{ $json.boolean.test4 }}'),
      assign('arrayToString1', 'string', '={{ $json.array.test13 }}'),
      assign('objectToString1', 'string', '={{ $json.object.obj }}'),
      assign('stringToNumber2', 'number', '={{ $json.string.test7 }}'),
      assign('boolToNumber1', 'number', '={{ $json.boolean.test3 }}'),
      assign('stringToBoolean1', 'boolean', '={{ $json.string.test8 }}'),
      assign('stringToBoolean5', 'boolean', '={{ $json.string.test18 }}'),
      assign('numberToBoolean2', 'boolean', '={{ $json.number.test7 }}'),
      assign('stringToArray1', 'array', '={{ $json.string.test11 }}'),
      assign('stringToArray2', 'array', '={{ $json.string.test13 }}'),
      assign('stringToObject1', 'object', '={{ $json.string.test14 }}'),
      assign('missing', 'number', '={{ $json.nothing }}'),
    ]),
    [typed],
  );
  assert.deepEqual(item!.json, {
    numberToString1: '52472',
    boolToString2: 'false',
    arrayToString1: '[1,2,3,4]',
    objectToString1: '{"objKey":2,"objArray":[1,2,3,4],"objBool":true}',
    stringToNumber2: 3.14,
    boolToNumber1: 1,
    stringToBoolean1: true,
    stringToBoolean5: false,
    numberToBoolean2: true,
    stringToArray1: ['apples', 'oranges'],
    stringToArray2: [1, 2],
    stringToObject1: { a: 1, b: { c: 10, d: 'test' } },
    missing: null,
  });
  assert.deepEqual(item!.pairedItem, { item: 0 });
});

test('Set: an invalid conversion is a clear error, or passes through with ignoreConversionErrors', () => {
  const strict = set('To Number', 3.3, [assign('stringToNumber1', 'number', '={{ $json.string.test2 }}')]);
  assert.throws(() => run(strict, [typed]), (error: Error & { description?: string }) => {
    assert.match(error.message, /^Edit Fields "To Number": 'stringToNumber1' expects a number but we got 'hello' \[item 0\]$/);
    assert.match(error.description ?? '', /Ignore Type Conversion Errors/);
    return true;
  });
  const loose = set('To Number1', 3.3, [assign('stringToNumber1', 'number', '={{ $json.string.test2 }}'), assign('arrayToNumber1', 'number', '={{ $json.array.test13 }}')], {
    options: { ignoreConversionErrors: true },
  });
  assert.deepEqual(run(loose, [typed])[0]!.json, { stringToNumber1: 'hello', arrayToNumber1: [1, 2, 3, 4] });
});

const contact: NodeItem = { json: { email: 'ada@example.com', plan: 'pro', age: 36, profile: { city: 'London' } } };

test('Set 3.4: dot notation nests fields unless options.dotNotation is false', () => {
  const nested = run(set('Nest', 3.4, [assign('profile.tier', 'string', '={{ $json.plan }}'), assign('tags[0]', 'string', 'new')], { includeOtherFields: true }), [contact]);
  assert.deepEqual(nested[0]!.json, { email: 'ada@example.com', plan: 'pro', age: 36, profile: { city: 'London', tier: 'pro' }, tags: ['new'] });
  const flat = run(set('Flat', 3.4, [assign('profile.tier', 'string', '={{ $json.plan }}')], { options: { dotNotation: false } }), [contact]);
  assert.deepEqual(flat[0]!.json, { 'profile.tier': 'pro' });
});

test('Set 3.4: which input fields are kept (none, all, selected, except)', () => {
  const score = [assign('score', 'number', '={{ $json.age * 2 }}')];
  assert.deepEqual(run(set('None', 3.4, score), [contact])[0]!.json, { score: 72 });
  assert.deepEqual(run(set('All', 3.4, score, { includeOtherFields: true }), [contact])[0]!.json, { ...contact.json, score: 72 });
  assert.deepEqual(run(set('Selected', 3.4, score, { includeOtherFields: true, include: 'selected', includeFields: 'email, profile.city' }), [contact])[0]!.json, {
    email: 'ada@example.com',
    city: 'London',
    score: 72,
  });
  assert.deepEqual(run(set('Except', 3.4, score, { includeOtherFields: true, include: 'except', excludeFields: 'age,profile' }), [contact])[0]!.json, {
    email: 'ada@example.com',
    plan: 'pro',
    score: 72,
  });
  assert.deepEqual(contact.json.profile, { city: 'London' }, 'the input item is not modified');
});

test('Set raw mode: JSON with {{ }} pieces, and n8n’s lenient JSON repair', () => {
  const raw = node('Raw', 'n8n-nodes-base.set', 3.4, {
    mode: 'raw',
    jsonOutput: '={\n  "greeting": "Hi {{ $json.email.split("@")[0] }}",\n  "profile": {{ $json.profile }},\n  "age": {{ $json.age }}\n}',
    options: {},
  });
  assert.deepEqual(run(raw, [contact])[0]!.json, { greeting: 'Hi ada', profile: { city: 'London' }, age: 36 });
  const lenient = node('Lenient', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: "{ source: 'journey', }", includeOtherFields: true, options: {} });
  assert.deepEqual(run(lenient, [contact])[0]!.json, { ...contact.json, source: 'journey' });
  const broken = node('Broken', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: '{ "a": ', options: {} });
  assert.throws(() => run(broken, [contact]), /Edit Fields "Broken": the 'JSON Output' in item 0 contains invalid JSON/);
});

// resolveWait: parameters as n8n exports them (values equal to the defaults omitted).
const waitNode = (version: number, parameters: Record<string, unknown>) => N8nNode.parse(node('Wait', 'n8n-nodes-base.wait', version, parameters, { webhookId: 'f0c1d7e2-0000-4000-8000-000000000000' }));
const now = new Date('2025-06-01T12:00:00Z');
const identity = (value: unknown) => value;

test('Wait: n8n defaults differ by version (v1: 1 hour, v1.1: 5 seconds)', () => {
  assert.deepEqual(resolveWait({ node: waitNode(1, {}), resolve: identity, now }), { kind: 'sleep', ms: 3_600_000 });
  assert.deepEqual(resolveWait({ node: waitNode(1.1, {}), resolve: identity, now }), { kind: 'sleep', ms: 5_000 });
  assert.deepEqual(resolveWait({ node: waitNode(1.1, { amount: 2 }), resolve: identity, now }), { kind: 'sleep', ms: 2_000 });
  assert.deepEqual(resolveWait({ node: waitNode(1.1, { amount: 3, unit: 'days' }), resolve: identity, now }), { kind: 'sleep', ms: 3 * 86_400_000 });
  assert.deepEqual(resolveWait({ node: waitNode(1, { amount: 1.5, unit: 'minutes' }), resolve: identity, now }), { kind: 'sleep', ms: 90_000 });
});

test('Wait: an expression amount is resolved and converted like n8n validateType', () => {
  const wf = workflow([trigger('Signup'), node('Wait', 'n8n-nodes-base.wait', 1.1, { amount: '={{ $json.delay }}', unit: 'hours' })], [['Signup', 'Wait']]);
  const items: NodeItem[] = [{ json: { delay: '2' } }];
  const resolve = new WorkflowExpressions(wf, testRegistry()).resolverFor('Wait', items, { Signup: [items] });
  assert.deepEqual(resolveWait({ node: wf.nodes[1]!, item: items[0], resolve, now }), { kind: 'sleep', ms: 7_200_000 });
  assert.throws(() => resolveWait({ node: waitNode(1.1, { amount: -1 }), resolve: identity, now }), /Wait "Wait": invalid wait amount -1/);
});

test('Wait: specificTime waits until then, and a past time means 0', () => {
  const at = (dateTime: string, timeZone?: string) => resolveWait({ node: waitNode(1.1, { resume: 'specificTime', dateTime }), resolve: identity, now, timeZone });
  assert.deepEqual(at('2025-06-01T13:30:00Z'), { kind: 'sleep', ms: 90 * 60_000 });
  assert.deepEqual(at('2025-06-01T14:00:00', 'Europe/Berlin'), { kind: 'sleep', ms: 0 }, '14:00 in Berlin is 12:00 UTC');
  assert.deepEqual(at('2025-06-02T14:00:00', 'Europe/Berlin'), { kind: 'sleep', ms: 86_400_000 });
  assert.deepEqual(at('2024-01-01T00:00:00Z'), { kind: 'sleep', ms: 0 });
  assert.throws(() => at('next tuesday'), /Wait "Wait": dateTime "next tuesday" is not a valid date/);
});

test('Wait: webhook and form resumes are refused', () => {
  assert.throws(
    () => resolveWait({ node: waitNode(1.1, { resume: 'webhook', httpMethod: 'POST', options: {} }), resolve: identity, now }),
    /^Error: Wait "Wait": resume=webhook is not supported by CampaignOS journeys; use timeInterval or specificTime$|Wait "Wait": resume=webhook is not supported by CampaignOS journeys; use timeInterval or specificTime/,
  );
  assert.throws(() => resolveWait({ node: waitNode(1.1, { resume: 'form' }), resolve: identity, now }), /resume=form is not supported/);
});

test('runControlNode passes a Wait node’s items through (the sleep is the journey’s)', () => {
  const items: NodeItem[] = [{ json: { a: 1 } }];
  assert.deepEqual(runControlNode({ node: waitNode(1.1, {}), items, resolve: identity }), [[{ json: { a: 1 }, pairedItem: { item: 0 } }]]);
});
