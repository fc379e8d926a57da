import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNodeError, NodeError } from '@campaignos/sdk';
import { createMockContext, runNode } from '@campaignos/sdk/testing';
import { UpdateScore } from './UpdateScore.node.js';

describe('UpdateScore', () => {
  it('is an n8n node that needs the CampaignOS API credential in n8n', () => {
    const { description, group } = UpdateScore.campaignos.definition;
    assert.equal(group, 'score');
    assert.equal(description.name, 'updateScore');
    assert.equal(description.displayName, 'CampaignOS Score');
    assert.deepEqual(description.credentials, [{ name: 'campaignOsApi', required: true }]);
    assert.deepEqual(description.properties.map((p) => p.name), ['operation', 'points', 'reason']);
  });

  it('adds points with the reason and puts score and previous on the item', async () => {
    const ctx = createMockContext({
      items: [{ json: { contact: { id: 'c-1' } } }],
      parameters: { operation: 'add', points: 10, reason: ' whitepaper ' },
      campaign: { score: 5 },
    });
    const [out] = await runNode(UpdateScore, ctx);
    assert.deepEqual(ctx.scoreChanges, [{ operation: 'add', points: 10, reason: 'whitepaper' }]);
    assert.deepEqual(out, [{ json: { contact: { id: 'c-1' }, score: 15, previous: 5 }, pairedItem: { item: 0 } }]);
  });

  it('subtracts and sets', async () => {
    const sub = createMockContext({ parameters: { operation: 'subtract', points: 3, reason: 'bounced' }, campaign: { score: 5 } });
    assert.deepEqual((await runNode(UpdateScore, sub))[0]?.[0]?.json, { score: 2, previous: 5 });
    const set = createMockContext({ parameters: { operation: 'set', points: -4, reason: 'reset' }, campaign: { score: 5 } });
    assert.deepEqual((await runNode(UpdateScore, set))[0]?.[0]?.json, { score: -4, previous: 5 });
  });

  it('refuses bad parameters before touching the score', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ operation: 'add', points: 'ten', reason: 'x' }, /"Points" must be a number/],
      [{ operation: 'add', points: -1, reason: 'x' }, /must not be negative/],
      [{ operation: 'add', points: 1, reason: '   ' }, /"Reason" is empty/],
      [{ operation: 'multiply', points: 1, reason: 'x' }, /add, subtract, set/],
    ];
    for (const [parameters, message] of cases) {
      const ctx = createMockContext({ parameters, campaign: { score: 0 } });
      await assert.rejects(runNode(UpdateScore, ctx), (error: unknown) => isNodeError(error) && error.code === 'INVALID_PARAMETER' && message.test(error.message));
      assert.deepEqual(ctx.scoreChanges, []);
    }
  });

  it('needs CampaignOS services, and passes the host errors on with their code', async () => {
    const bare = createMockContext({ parameters: { operation: 'add', points: 1, reason: 'x' } });
    await assert.rejects(runNode(UpdateScore, bare), (error: unknown) => isNodeError(error) && error.code === 'UNSUPPORTED_HOST');

    const ctx = createMockContext({ parameters: { operation: 'add', points: 1, reason: 'x' }, campaign: {} });
    const gone = { ...ctx, campaign: { ...ctx.campaign!, changeScore: async () => { throw new NodeError('CONTACT_NOT_FOUND', 'Contact c-1 no longer exists'); } } };
    await assert.rejects(runNode(UpdateScore, gone), (error: unknown) => isNodeError(error) && error.code === 'CONTACT_NOT_FOUND' && error.itemIndex === 0);
  });
});
