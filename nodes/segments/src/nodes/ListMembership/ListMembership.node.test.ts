import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNodeError } from '@campaignos/sdk';
import { createMockContext, runNode } from '@campaignos/sdk/testing';
import { ListMembership } from './ListMembership.node.js';

describe('ListMembership', () => {
  it('is an n8n node with one output that needs the CampaignOS API credential in n8n', () => {
    const { description, group } = ListMembership.campaignos.definition;
    assert.equal(group, 'segment');
    assert.equal(description.name, 'listMembership');
    assert.deepEqual(description.outputs, ['main']);
    assert.deepEqual(description.credentials, [{ name: 'campaignOsApi', required: true }]);
    assert.deepEqual(
      (description.properties[0]?.options as Array<{ value: string }>).map((o) => o.value),
      ['add', 'remove'],
    );
  });

  it('adds the contact to the list and says so on the item', async () => {
    const ctx = createMockContext({ items: [{ json: { contact: { id: 'c-1' } } }], parameters: { operation: 'add', list: ' Hot ' }, campaign: { lists: ['Newsletter'] } });
    const [out] = await runNode(ListMembership, ctx);
    assert.deepEqual([...ctx.campaignState.lists].sort(), ['Hot', 'Newsletter']);
    assert.deepEqual(out, [{ json: { contact: { id: 'c-1' }, list: { list: 'Hot', member: true } }, pairedItem: { item: 0 } }]);
  });

  it('removes the contact from the list', async () => {
    const ctx = createMockContext({ parameters: { operation: 'remove', list: 'Hot' }, campaign: { lists: ['Hot', 'Newsletter'] } });
    const [out] = await runNode(ListMembership, ctx);
    assert.deepEqual([...ctx.campaignState.lists], ['Newsletter']);
    assert.deepEqual(out?.[0]?.json.list, { list: 'Hot', member: false });
  });

  it('refuses an empty list name and an unknown operation', async () => {
    for (const parameters of [{ operation: 'add', list: '' }, { operation: 'toggle', list: 'Hot' }]) {
      const ctx = createMockContext({ parameters, campaign: {} });
      await assert.rejects(runNode(ListMembership, ctx), (error: unknown) => isNodeError(error) && error.code === 'INVALID_PARAMETER' && error.itemIndex === 0);
    }
  });

  it('passes a host error through with its code, or as an error item with continue on fail', async () => {
    const ctx = createMockContext({ parameters: { operation: 'add', list: 'Hot' }, campaign: {} });
    const failing = {
      ...ctx,
      campaign: { ...ctx.campaign!, setListMembership: async () => { throw Object.assign(new Error('boom'), { code: 'ECONNRESET' }); } },
      continueOnFail: () => true,
    };
    const [out] = await runNode(ListMembership, failing);
    assert.deepEqual(out?.[0]?.json.error, { code: 'INTERNAL', message: 'boom' });
  });
});
