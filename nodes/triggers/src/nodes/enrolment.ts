import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';
import type { NodeContext, NodeOutput } from '@campaignos/sdk';

/**
 * What every CampaignOS trigger does when the runtime runs it: the runtime has already matched
 * the event and applied the re-entry rule, so the trigger hands the enrolment item on and
 * expressions downstream see `$json.event` and `$json.contact`.
 */
export async function passEnrolmentThrough(ctx: NodeContext): Promise<NodeOutput> {
  return [ctx.getInputItems().map((item, i) => ({ json: item.json, pairedItem: { item: i } }))];
}

/** The re-entry switch every trigger offers, with its default and a description of what re-enters. */
export function allowReentryProperty(byDefault: boolean, description: string): INodeProperties {
  return { displayName: 'Allow Re-Entry', name: 'allowReentry', type: 'boolean', default: byDefault, description };
}

/**
 * Inside n8n every CampaignOS trigger talks to a runtime: event triggers register a webhook
 * subscription, the schedule trigger reads segment members. The runtime itself ignores it.
 */
export const campaignApiCredentials: INodeCredentialDescription[] = [{ name: 'campaignOsApi', required: true }];
