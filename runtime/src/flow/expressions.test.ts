import test from 'node:test';
import assert from 'node:assert/strict';
import { isNodeError, type NodeItem } from '@campaignos/sdk';
import { WorkflowExpressions, type JourneyRunData } from './expressions.js';
import { EMAIL_TYPE, node, testRegistry, trigger, workflow } from './fixtures.test.js';

// Signup → Enrich (Set) → Send welcome: the Set changed the item, so `$json` in "Send welcome"
// is the enriched item while `$('Signup').item` reaches back to the trigger's item.
const wf = workflow(
  [
    trigger('Signup'),
    node('Enrich', 'n8n-nodes-base.set', 3.4, {
      assignments: { assignments: [{ id: 'a1', name: 'firstName', value: '={{ $json.name.split(" ")[0] }}', type: 'string' }] },
      options: {},
    }),
    node('Send welcome', EMAIL_TYPE, 1, {
      subject: '=Welcome {{ $json.firstName }}!',
      bodyHtml: '=<p>We will write to {{ $("Signup").item.json.email }}</p>',
      options: { replyTo: '={{ $node["Signup"].json.email }}' },
    }),
  ],
  [
    ['Signup', 'Enrich'],
    ['Enrich', 'Send welcome'],
  ],
);

const signupItems: NodeItem[] = [{ json: { email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro', age: 36 } }];
const enrichItems: NodeItem[] = [{ json: { firstName: 'Ada' }, pairedItem: { item: 0 } }];
const runData: JourneyRunData = { Signup: [signupItems], Enrich: [enrichItems] };
const expressions = new WorkflowExpressions(wf, testRegistry());

const resolve = (value: unknown, nodeName = 'Send welcome', items = enrichItems) =>
  expressions.resolveParameter({ nodeName, value, items, itemIndex: 0, runData });

test('$json, $("Node").item and $node["Node"] resolve against earlier outputs', () => {
  assert.equal(resolve('=Welcome {{ $json.firstName }}!'), 'Welcome Ada!');
  assert.equal(resolve('={{ $("Signup").item.json.email }}'), 'ada@example.com');
  assert.equal(resolve('={{ $node["Signup"].json.plan }}'), 'pro');
  assert.equal(resolve('={{ $input.item.json.firstName }}'), 'Ada');
  assert.equal(resolve('={{ $("Signup").first().json.age + 1 }}'), 37);
});

test('values keep their type, nested parameters resolve, literals pass through', () => {
  assert.equal(resolve('={{ $("Signup").item.json.age }}'), 36);
  assert.deepEqual(resolve({ to: '={{ $("Signup").item.json.email }}', tags: ['welcome', '={{ $json.firstName }}'], n: 3 }), {
    to: 'ada@example.com',
    tags: ['welcome', 'Ada'],
    n: 3,
  });
  assert.equal(resolve('plain text {{ not an expression }}'), 'plain text {{ not an expression }}');
  assert.equal(resolve(42), 42);
});

test('$now, $today, DateTime and n8n extension functions work as in n8n', () => {
  const now = resolve('={{ $now.toMillis() }}') as number;
  assert.ok(Math.abs(now - Date.now()) < 5_000);
  assert.equal(resolve('={{ $today.hour }}'), 0);
  assert.equal(resolve('={{ DateTime.fromISO("2024-03-01T10:00:00Z").toUTC().plus({ days: 1 }).toISODate() }}'), '2024-03-02');
  assert.equal(resolve('={{ $json.firstName.toUpperCase() }}'), 'ADA');
  assert.equal(resolve('={{ [3, 4].sum() }}'), 7);
  assert.equal(resolve('={{ "ada@example.com".isEmail() }}'), true);
  // Nested DateTimes become strings, as n8n-core's cleanupParameterData does.
  assert.equal(typeof (resolve({ at: '={{ $now }}' }) as { at: unknown }).at, 'string');
});

test('expressions use the workflow time zone, UTC when it has none', () => {
  assert.equal(expressions.timeZone, 'UTC');
  assert.equal(resolve('={{ $now.zoneName }}'), 'UTC');
  const berlin = new WorkflowExpressions({ ...wf, settings: { timezone: 'Europe/Berlin' } }, testRegistry());
  assert.equal(berlin.resolveParameter({ nodeName: 'Send welcome', value: '={{ $now.zoneName }}', items: enrichItems, itemIndex: 0, runData }), 'Europe/Berlin');
  assert.equal(new WorkflowExpressions(wf, testRegistry(), { defaultTimeZone: 'Asia/Tokyo' }).timeZone, 'Asia/Tokyo');
});

test('getNodeParameter applies the description defaults and validateType', () => {
  const get = (name: string, fallback?: unknown) => expressions.getNodeParameter('Send welcome', name, enrichItems, 0, runData, fallback);
  assert.equal(get('subject'), 'Welcome Ada!');
  assert.equal(get('format'), 'html');
  assert.equal(get('priority'), 1);
  assert.equal(get('trackOpens'), true);
  assert.equal(get('options.replyTo'), 'ada@example.com');
  assert.equal(get('options.maxRetries', 5), 5);
  assert.throws(() => get('nope'), /has no parameter "nope"/);
});

test('a failing expression names the node and parameter', () => {
  const fail = (value: string) => () => expressions.resolveParameter({ nodeName: 'Send welcome', value, items: enrichItems, itemIndex: 0, runData, parameterName: 'subject' });
  assert.throws(fail('={{ $("Nope").item.json.x }}'), (error: Error) => {
    assert.ok(isNodeError(error));
    assert.match(error.message, /^Expression in "Send welcome"\.subject failed: .*Nope/);
    return true;
  });
  assert.throws(fail('={{ 1 + }}'), /^Error: Expression in "Send welcome"\.subject failed: invalid syntax|Expression in "Send welcome"\.subject failed: invalid syntax/);
  assert.throws(fail('={{ $json.firstName( }}'), /Expression in "Send welcome"\.subject failed/);
});

test('expressions cannot read the worker environment', () => {
  process.env.CAMPAIGNOS_TEST_SECRET = 'hunter2';
  assert.throws(() => resolve('={{ $env.CAMPAIGNOS_TEST_SECRET }}'), /access to env vars denied/);
  assert.notEqual(resolve('={{ process.env.CAMPAIGNOS_TEST_SECRET }}'), 'hunter2');
});

test('items without pairedItem are paired the way n8n assigns them', () => {
  const unpaired: JourneyRunData = { Signup: [signupItems], Enrich: [[{ json: { firstName: 'Ada' } }]] };
  const value = expressions.resolveParameter({ nodeName: 'Send welcome', value: '={{ $("Signup").item.json.email }}', items: unpaired.Enrich![0]!, itemIndex: 0, runData: unpaired });
  assert.equal(value, 'ada@example.com');
});

test('per-evaluation cost', (t) => {
  const rounds = 2_000;
  const subject = '=Welcome {{ $json.firstName }}, {{ $("Signup").item.json.email }}';
  resolve(subject);
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) resolve(subject);
  const perEvalMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
  const literalStarted = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) resolve('no expression here');
  const literalMs = Number(process.hrtime.bigint() - literalStarted) / 1e6 / rounds;
  const ctorStarted = process.hrtime.bigint();
  new WorkflowExpressions(wf, testRegistry());
  const ctorMs = Number(process.hrtime.bigint() - ctorStarted) / 1e6;
  t.diagnostic(`expression with $json + $("Signup").item: ${(perEvalMs * 1000).toFixed(0)} µs/evaluation; literal: ${(literalMs * 1000).toFixed(2)} µs; constructor: ${ctorMs.toFixed(2)} ms`);
  assert.ok(perEvalMs < 5, `an evaluation took ${perEvalMs} ms`);
});
