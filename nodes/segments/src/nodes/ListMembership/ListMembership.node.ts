import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode, eachItem, NodeError } from '@campaignos/sdk';
import { requireCampaign, textParameter } from '../../campaign.js';

/**
 * Adds the item's contact to a static list, or removes it. Idempotent: adding a member or
 * removing a non-member changes nothing. Segments built on the list follow the change.
 */
export const ListMembership = defineNode({
  group: 'segment',
  description: {
    displayName: 'CampaignOS List',
    name: 'listMembership',
    icon: 'file:list.svg',
    group: ['transform'],
    version: 1,
    subtitle: '={{ ($parameter.operation === "remove" ? "remove from " : "add to ") + $parameter.list }}',
    description: 'Adds the contact to a static list or removes it',
    defaults: { name: 'CampaignOS List' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'campaignOsApi', required: true }],
    properties: [
      {
        displayName: 'Operation',
        name: 'operation',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'Add', value: 'add', description: 'Add the contact to the list', action: 'Add the contact to a list' },
          { name: 'Remove', value: 'remove', description: 'Remove the contact from the list', action: 'Remove the contact from a list' },
        ],
        default: 'add',
      },
      {
        displayName: 'List',
        name: 'list',
        type: 'string',
        required: true,
        default: '',
        placeholder: 'Hot leads',
        description: 'The list ID or its exact name',
      },
    ],
  },
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      const operation = ctx.getParameter<string>('operation', i, 'add');
      if (operation !== 'add' && operation !== 'remove') {
        throw new NodeError('INVALID_PARAMETER', `Parameter "Operation" must be "add" or "remove", not "${String(operation)}"`, { itemIndex: i });
      }
      const list = textParameter(ctx, 'list', 'List', i);
      await requireCampaign(ctx, i).setListMembership(i, list, operation === 'add');
      return { json: { ...item.json, list: { list, member: operation === 'add' } } };
    }),
});
