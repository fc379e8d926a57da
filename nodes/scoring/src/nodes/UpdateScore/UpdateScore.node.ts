import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode, eachItem, NodeError, type NodeContext, type ScoreChange } from '@campaignos/sdk';

const OPERATIONS = ['add', 'subtract', 'set'] as const;

/**
 * Changes the item's contact's lead score: add, subtract or set, with a reason that lands in the
 * score ledger. Threshold crossings it causes emit `$score_crossed` like any other change.
 */
export const UpdateScore = defineNode({
  group: 'score',
  description: {
    displayName: 'CampaignOS Score',
    name: 'updateScore',
    icon: 'file:score.svg',
    group: ['transform'],
    version: 1,
    subtitle: '={{ $parameter.operation + " " + $parameter.points }}',
    description: "Adds to, subtracts from or sets the contact's lead score, with a reason",
    defaults: { name: 'CampaignOS Score' },
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
          { name: 'Add', value: 'add', description: 'Add points to the score', action: 'Add points to the score' },
          { name: 'Subtract', value: 'subtract', description: 'Take points off the score', action: 'Subtract points from the score' },
          { name: 'Set', value: 'set', description: 'Make the score exactly this value', action: 'Set the score' },
        ],
        default: 'add',
      },
      {
        displayName: 'Points',
        name: 'points',
        type: 'number',
        required: true,
        default: 10,
        description: 'How many points to add or subtract, or the new score',
      },
      {
        displayName: 'Reason',
        name: 'reason',
        type: 'string',
        required: true,
        default: '',
        placeholder: 'Downloaded the pricing whitepaper',
        description: 'Why the score changes; shown in the score ledger',
      },
    ],
  },
  execute: (ctx) =>
    eachItem(ctx, async (item, i) => {
      const change = readChange(ctx, i);
      if (!ctx.campaign) {
        throw new NodeError(
          'UNSUPPORTED_HOST',
          `"${ctx.node.name}" needs a CampaignOS runtime: select a "CampaignOS API" credential (in n8n) or run the workflow as a CampaignOS journey`,
          { itemIndex: i },
        );
      }
      const { previous, score } = await ctx.campaign.changeScore(i, change);
      return { json: { ...item.json, score, previous } };
    }),
});

function readChange(ctx: NodeContext, i: number): ScoreChange {
  const operation = ctx.getParameter<string>('operation', i, 'add');
  if (!(OPERATIONS as readonly string[]).includes(operation)) {
    throw new NodeError('INVALID_PARAMETER', `Parameter "Operation" must be one of ${OPERATIONS.join(', ')}, not "${String(operation)}"`, { itemIndex: i });
  }
  const raw = ctx.getParameter<unknown>('points', i);
  const points = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof points !== 'number' || !Number.isFinite(points)) {
    throw new NodeError('INVALID_PARAMETER', `Parameter "Points" must be a number (got ${JSON.stringify(raw)})`, { itemIndex: i });
  }
  if (operation !== 'set' && points < 0) {
    throw new NodeError('INVALID_PARAMETER', `Parameter "Points" must not be negative for "${operation}" (use the other operation)`, { itemIndex: i });
  }
  const reason = ctx.getParameter<unknown>('reason', i, '');
  if (typeof reason !== 'string' || reason.trim() === '') throw new NodeError('INVALID_PARAMETER', 'Parameter "Reason" is empty: say why the score changes', { itemIndex: i });
  if (reason.length > 500) throw new NodeError('INVALID_PARAMETER', `Parameter "Reason" is ${reason.length} characters; at most 500`, { itemIndex: i });
  return { operation: operation as ScoreChange['operation'], points, reason: reason.trim() };
}
