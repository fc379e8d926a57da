import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNodeError, type NodeItem } from '@campaignos/sdk';
import { createMockContext, runNode } from '@campaignos/sdk/testing';
import { SegmentFilter } from './SegmentFilter.node.js';

const items: NodeItem[] = [{ json: { contact: { id: 'c-1' }, n: 1 } }, { json: { contact: { id: 'c-1' }, n: 2 } }];

async function rejectsWithCode(promise: Promise<unknown>, code: string, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isNodeError(error), `expected a NodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.itemIndex, 0);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('SegmentFilter', () => {
  it('has two outputs named true and false, like n8n If, and needs the CampaignOS API credential in n8n', () => {
    const { description, group } = SegmentFilter.campaignos.definition;
    assert.equal(group, 'segment');
    assert.equal(description.name, 'segmentFilter');
    assert.deepEqual(description.outputs, ['main', 'main']);
    assert.deepEqual(description.outputNames, ['true', 'false']);
    assert.deepEqual(description.credentials, [{ name: 'campaignOsApi', required: true }]);
    assert.deepEqual(description.properties.map((p) => p.name), ['mode', 'segment', 'condition']);
  });

  it('routes every item to "true" when the contact is in the saved segment', async () => {
    const ctx = createMockContext({ items, parameters: { mode: 'segment', segment: 'Hot leads' }, campaign: { segments: ['Hot leads'] } });
    const [yes, no] = await runNode(SegmentFilter, ctx);
    assert.deepEqual(yes, [
      { json: items[0]!.json, pairedItem: { item: 0 } },
      { json: items[1]!.json, pairedItem: { item: 1 } },
    ]);
    assert.deepEqual(no, []);
  });

  it('routes to "false" when the contact is not a member', async () => {
    const ctx = createMockContext({ items: [items[0]!], parameters: { mode: 'segment', segment: 'Hot leads' }, campaign: { segments: ['Cold'] } });
    const [yes, no] = await runNode(SegmentFilter, ctx);
    assert.deepEqual(yes, []);
    assert.deepEqual(no, [{ json: items[0]!.json, pairedItem: { item: 0 } }]);
  });

  it('hands an inline condition, typed as JSON text, to the host as an object', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const ctx = createMockContext({
      items: [items[0]!],
      parameters: { mode: 'condition', condition: '{ "score": { "op": "gte", "value": 50 } }' },
      campaign: { matches: (condition) => (seen.push(condition), true) },
    });
    const [yes] = await runNode(SegmentFilter, ctx);
    assert.equal(yes?.length, 1);
    assert.deepEqual(seen, [{ score: { op: 'gte', value: 50 } }]);
  });

  it('accepts an inline condition that an expression already turned into an object', async () => {
    const ctx = createMockContext({ items: [items[0]!], parameters: { mode: 'condition', condition: { list: 'x' } }, campaign: { matches: () => false } });
    const [yes, no] = await runNode(SegmentFilter, ctx);
    assert.deepEqual([yes?.length, no?.length], [0, 1]);
  });

  it('refuses malformed condition JSON and empty segment names with INVALID_PARAMETER', async () => {
    const broken = createMockContext({ items: [items[0]!], parameters: { mode: 'condition', condition: '{ "score": ' }, campaign: {} });
    await rejectsWithCode(runNode(SegmentFilter, broken), 'INVALID_PARAMETER', /not valid JSON/);
    const list = createMockContext({ items: [items[0]!], parameters: { mode: 'condition', condition: '[1, 2]' }, campaign: {} });
    await rejectsWithCode(runNode(SegmentFilter, list), 'INVALID_PARAMETER', /JSON object/);
    const empty = createMockContext({ items: [items[0]!], parameters: { mode: 'segment', segment: '  ' }, campaign: {} });
    await rejectsWithCode(runNode(SegmentFilter, empty), 'INVALID_PARAMETER', /"Segment" is empty/);
  });

  it('says what is missing when the host has no CampaignOS services', async () => {
    const ctx = createMockContext({ items: [items[0]!], parameters: { mode: 'segment', segment: 'Hot leads' }, node: { name: 'Is hot?' } });
    await rejectsWithCode(runNode(SegmentFilter, ctx), 'UNSUPPORTED_HOST', /"Is hot\?" needs a CampaignOS runtime.*CampaignOS API/);
  });

  it('with continue on fail, a failed item leaves through "false" with its error', async () => {
    const ctx = createMockContext({
      items: [items[0]!],
      parameters: { mode: 'condition', condition: 'nope' },
      campaign: {},
      continueOnFail: true,
    });
    const [yes, no] = await runNode(SegmentFilter, ctx);
    assert.deepEqual(yes, []);
    assert.equal((no?.[0]?.json.error as { code: string }).code, 'INVALID_PARAMETER');
    assert.equal(no?.[0]?.json.n, 1);
  });
});
