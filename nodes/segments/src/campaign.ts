import { NodeError, type CampaignServices, type NodeContext } from '@campaignos/sdk';

/** The CampaignOS services, or the error that says how to get them. */
export function requireCampaign(ctx: NodeContext, itemIndex: number): CampaignServices {
  if (ctx.campaign) return ctx.campaign;
  throw new NodeError(
    'UNSUPPORTED_HOST',
    `"${ctx.node.name}" needs a CampaignOS runtime: select a "CampaignOS API" credential (in n8n) or run the workflow as a CampaignOS journey`,
    { itemIndex },
  );
}

/** A required text parameter, trimmed. */
export function textParameter(ctx: NodeContext, name: string, label: string, itemIndex: number): string {
  const value = ctx.getParameter<unknown>(name, itemIndex, '');
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value.trim() === '') throw new NodeError('INVALID_PARAMETER', `Parameter "${label}" is empty`, { itemIndex });
  return value.trim();
}
