import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode } from '@campaignos/sdk';
import { allowReentryProperty, campaignApiCredentials, passEnrolmentThrough } from '../enrolment.js';
import { parseCampaignEvent } from '../EventTrigger/EventTrigger.node.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Starts a journey when a contact enters (or leaves) a dynamic segment. The runtime records
 * each transition as a `$segment_entered` / `$segment_exited` event with the segment's id and
 * name, so this trigger subscribes to those.
 */
export const SegmentTrigger = defineNode({
  group: 'trigger',
  trigger: {
    subscribe: (parameters) => {
      const segment = typeof parameters.segment === 'string' ? parameters.segment.trim() : '';
      if (!segment) return 'the segment (its id or name) is required';
      const on = parameters.on ?? 'entered';
      if (on !== 'entered' && on !== 'exited') return `"on" must be entered or exited, not ${String(on)}`;
      return {
        event: on === 'entered' ? '$segment_entered' : '$segment_exited',
        properties: UUID.test(segment) ? { segmentId: segment.toLowerCase() } : { segmentName: segment },
        allowReentry: parameters.allowReentry !== false,
      };
    },
  },
  description: {
    displayName: 'CampaignOS Segment Trigger',
    name: 'segmentTrigger',
    icon: 'file:campaignos.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{ $parameter.on + " " + $parameter.segment }}',
    description: 'Starts a journey when a contact enters or leaves a CampaignOS segment',
    defaults: { name: 'CampaignOS Segment Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: campaignApiCredentials,
    webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'campaignos-segment' }],
    properties: [
      {
        displayName: 'Segment',
        name: 'segment',
        type: 'string',
        required: true,
        default: '',
        placeholder: 'Engaged trial users',
        description: 'The segment, by ID or by name',
      },
      {
        displayName: 'On',
        name: 'on',
        type: 'options',
        options: [
          { name: 'Entered', value: 'entered', description: 'When a contact starts matching the segment' },
          { name: 'Exited', value: 'exited', description: 'When a contact stops matching the segment' },
        ],
        default: 'entered',
      },
      allowReentryProperty(true, 'Whether a contact who enters the segment again starts the journey again'),
    ],
  },
  execute: passEnrolmentThrough,
  webhook: (body, params) => {
    const item = parseCampaignEvent(body);
    const wanted = params('on') === 'exited' ? '$segment_exited' : '$segment_entered';
    const segment = String(params('segment'));
    const props = item?.event.properties ?? {};
    if (!item || item.event.name !== wanted || (props.segmentId !== segment && props.segmentName !== segment)) return null;
    return [{ json: { ...item } }];
  },
});
