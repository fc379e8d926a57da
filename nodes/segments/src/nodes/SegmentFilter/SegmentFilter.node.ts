import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode, NodeError, toNodeError, type NodeContext, type NodeItem, type NodeOutput, type SegmentRef } from '@campaignos/sdk';
import { requireCampaign, textParameter } from '../../campaign.js';

const EXAMPLE_CONDITION = `{
  "and": [
    { "score": { "op": "gte", "value": 50 } },
    { "event": "pricing_viewed", "withinDays": 7 }
  ]
}`;

/**
 * Routes each item by whether its contact is in a saved segment now (stored membership, kept
 * current by the runtime) or matches an inline condition: output 0 ("true") or 1 ("false"),
 * like n8n's If node.
 */
export const SegmentFilter = defineNode({
  group: 'segment',
  description: {
    displayName: 'CampaignOS Segment Filter',
    name: 'segmentFilter',
    icon: 'file:segment.svg',
    group: ['transform'],
    version: 1,
    subtitle: '={{ $parameter.mode === "segment" ? "in " + $parameter.segment : "inline condition" }}',
    description: "Routes items by the contact's segment membership or an inline segment condition",
    defaults: { name: 'CampaignOS Segment Filter' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
    outputNames: ['true', 'false'],
    credentials: [{ name: 'campaignOsApi', required: true }],
    properties: [
      {
        displayName: 'Check',
        name: 'mode',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'Saved Segment', value: 'segment', description: 'Whether the contact is a member of a segment now' },
          { name: 'Inline Condition', value: 'condition', description: 'Whether the contact matches a condition written here' },
        ],
        default: 'segment',
      },
      {
        displayName: 'Segment',
        name: 'segment',
        type: 'string',
        required: true,
        default: '',
        placeholder: 'Hot leads',
        description: 'The segment ID or its exact name',
        displayOptions: { show: { mode: ['segment'] } },
      },
      {
        displayName: 'Condition (JSON)',
        name: 'condition',
        type: 'json',
        required: true,
        default: '',
        placeholder: EXAMPLE_CONDITION,
        description: 'A condition in the CampaignOS segment language: and/or/not over attribute, event, score, list, consent... leaves.',
        displayOptions: { show: { mode: ['condition'] } },
      },
    ],
  },
  execute: async (ctx) => {
    const matched: NodeItem[] = [];
    const unmatched: NodeItem[] = [];
    const items = ctx.getInputItems();
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      try {
        const inSegment = await requireCampaign(ctx, i).inSegment(i, segmentRef(ctx, i));
        (inSegment ? matched : unmatched).push({ json: item.json, pairedItem: { item: i } });
      } catch (error) {
        const nodeError = toNodeError(error, i);
        if (!ctx.continueOnFail()) throw nodeError;
        // As n8n's If node does: a failed item leaves through "false", carrying its error.
        unmatched.push({ json: { ...item.json, error: { code: nodeError.code, message: nodeError.message } }, pairedItem: { item: i } });
      }
    }
    return [matched, unmatched] satisfies NodeOutput;
  },
});

function segmentRef(ctx: NodeContext, i: number): SegmentRef {
  const mode = ctx.getParameter<string>('mode', i, 'segment');
  if (mode === 'segment') return { segment: textParameter(ctx, 'segment', 'Segment', i) };
  if (mode !== 'condition') throw new NodeError('INVALID_PARAMETER', `Parameter "Check" must be "segment" or "condition", not "${String(mode)}"`, { itemIndex: i });
  return { condition: parseCondition(ctx.getParameter<unknown>('condition', i, ''), i) };
}

/** The JSON parameter arrives as text (typed in the editor) or as an object (from an expression). */
export function parseCondition(value: unknown, itemIndex: number): Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string') {
    if (value.trim() === '') throw new NodeError('INVALID_PARAMETER', 'Parameter "Condition (JSON)" is empty', { itemIndex });
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new NodeError('INVALID_PARAMETER', `Parameter "Condition (JSON)" is not valid JSON: ${(error as Error).message}`, { itemIndex });
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new NodeError('INVALID_PARAMETER', 'Parameter "Condition (JSON)" must be a JSON object such as { "score": { "op": "gte", "value": 50 } }', { itemIndex });
  }
  return parsed as Record<string, unknown>;
}
