import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode } from '@campaignos/sdk';
import { allowReentryProperty, campaignApiCredentials, passEnrolmentThrough } from '../enrolment.js';
import { parseCampaignEvent } from '../EventTrigger/EventTrigger.node.js';

/**
 * Starts a journey when a contact's lead score crosses a threshold, upwards (a hot lead) or
 * downwards (engagement decayed). Thresholds are set per workspace; each crossing is recorded
 * as a `$score_crossed` event.
 */
export const ScoreTrigger = defineNode({
  group: 'trigger',
  trigger: {
    subscribe: (parameters) => {
      const threshold = parameters.threshold;
      if (typeof threshold !== 'number' || !Number.isFinite(threshold)) return 'the threshold must be a number';
      const direction = parameters.direction ?? 'up';
      if (direction !== 'up' && direction !== 'down') return `direction must be up or down, not ${String(direction)}`;
      return { event: '$score_crossed', properties: { threshold, direction }, allowReentry: parameters.allowReentry !== false };
    },
  },
  description: {
    displayName: 'CampaignOS Score Trigger',
    name: 'scoreTrigger',
    icon: 'file:campaignos.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{ "score " + $parameter.direction + " " + $parameter.threshold }}',
    description: "Starts a journey when a contact's score crosses a threshold",
    defaults: { name: 'CampaignOS Score Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: campaignApiCredentials,
    webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'campaignos-score' }],
    properties: [
      {
        displayName: 'Threshold',
        name: 'threshold',
        type: 'number',
        required: true,
        default: 80,
        description: 'One of the workspace thresholds (scoring settings)',
      },
      {
        displayName: 'Direction',
        name: 'direction',
        type: 'options',
        options: [
          { name: 'Up', value: 'up', description: 'The score rises to or above the threshold' },
          { name: 'Down', value: 'down', description: 'The score falls below the threshold' },
        ],
        default: 'up',
      },
      allowReentryProperty(true, 'Whether a contact crossing the threshold again starts the journey again'),
    ],
  },
  execute: passEnrolmentThrough,
  webhook: (body, params) => {
    const item = parseCampaignEvent(body);
    const props = item?.event.properties ?? {};
    if (!item || item.event.name !== '$score_crossed' || props.threshold !== params('threshold') || props.direction !== (params('direction') ?? 'up')) return null;
    return [{ json: { ...item } }];
  },
});
