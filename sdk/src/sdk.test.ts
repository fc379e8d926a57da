import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IExecuteFunctions } from 'n8n-workflow';
import { defineNode, eachItem, isDefinedNode, isNodeError, NodeError, toNodeError } from './index.js';
import { createMockContext, runNode } from './testing/index.js';

const Greeter = defineNode({
  group: 'action',
  description: {
    displayName: 'Greeter',
    name: 'greeter',
    group: ['transform'],
    version: 1,
    description: 'Says hello',
    defaults: { name: 'Greeter' },
    inputs: ['main'],
    outputs: ['main'],
    properties: [{ displayName: 'Greeting', name: 'greeting', type: 'string', default: 'Hello' }],
  } as never,
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      const name = item.json.name;
      if (typeof name !== 'string') throw new NodeError('INVALID_PARAMETER', 'item has no name');
      return { json: { text: `${ctx.getParameter<string>('greeting', i)}, ${name}` } };
    }),
});

test('defineNode makes an n8n node class that hosts recognise without instanceof', () => {
  assert.equal(typeof Greeter, 'function');
  assert.equal(new Greeter().description.name, 'greeter');
  assert.equal(isDefinedNode(Greeter), true);
  assert.equal(isDefinedNode(class {}), false);
  assert.equal(Greeter.campaignos.apiVersion, 1);
});

test('runs against the mock context, with continue-on-fail turning errors into items', async () => {
  const ok = await runNode(Greeter, createMockContext({ items: [{ json: { name: 'Ada' } }], parameters: { greeting: 'Hi' } }));
  assert.deepEqual(ok, [[{ json: { text: 'Hi, Ada' }, pairedItem: { item: 0 } }]]);

  await assert.rejects(runNode(Greeter, createMockContext({ items: [{ json: {} }], parameters: { greeting: 'Hi' } })), (e: unknown) => isNodeError(e) && e.code === 'INVALID_PARAMETER');

  const tolerant = await runNode(Greeter, createMockContext({ items: [{ json: {} }, { json: { name: 'Bo' } }], parameters: { greeting: 'Hi' }, continueOnFail: true }));
  assert.equal(tolerant[0]!.length, 2);
  assert.deepEqual(tolerant[0]![0]!.json.error, { code: 'INVALID_PARAMETER', message: 'item has no name' });
  assert.equal(tolerant[0]![1]!.json.text, 'Hi, Bo');
});

test('inside n8n, errors become NodeOperationErrors that keep the code and the item index', async () => {
  const fns = {
    getNode: () => ({ name: 'Greeter', type: 'x.greeter', typeVersion: 1, parameters: {}, id: '1', position: [0, 0] }),
    getInputData: () => [{ json: { name: 'Ada' } }, { json: {} }],
    getNodeParameter: () => 'Hello',
    continueOnFail: () => false,
    logger: console,
    helpers: {},
  } as unknown as IExecuteFunctions;
  const instance = new Greeter();
  await assert.rejects(instance.execute!.call(fns), (error: Error & { context?: { itemIndex?: number } }) => {
    assert.equal(error.name, 'NodeOperationError');
    assert.match(error.message, /^INVALID_PARAMETER: item has no name/);
    assert.equal(error.context?.itemIndex, 1);
    return true;
  });
});

test('error codes carry their retryability, and anything thrown is normalised', () => {
  assert.equal(new NodeError('RATE_LIMITED', 'slow down').retryable, true);
  assert.equal(new NodeError('INVALID_CREDENTIALS', 'no').retryable, false);
  assert.equal(new NodeError('PROVIDER_UNAVAILABLE', 'final', { retryable: false }).retryable, false);
  const normalised = toNodeError(new TypeError('boom'), 3);
  assert.equal(normalised.code, 'INTERNAL');
  assert.equal(normalised.itemIndex, 3);
  assert.equal(isNodeError({ code: 'RATE_LIMITED' }), false);
});

test("a provider's Retry-After survives normalisation, and nonsense is dropped", () => {
  const limited = new NodeError('RATE_LIMITED', 'provider answered 429', { retryAfterMs: 30_000 });
  assert.equal(limited.retryAfterMs, 30_000);
  const withItem = toNodeError(limited, 3);
  assert.equal(withItem.itemIndex, 3);
  assert.equal(withItem.retryAfterMs, 30_000);
  assert.equal(new NodeError('RATE_LIMITED', 'x', { retryAfterMs: Number.NaN }).retryAfterMs, undefined);
  assert.equal(new NodeError('RATE_LIMITED', 'x', { retryAfterMs: -5 }).retryAfterMs, undefined);
});
