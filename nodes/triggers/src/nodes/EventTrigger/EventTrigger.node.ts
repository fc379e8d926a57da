import { NodeConnectionTypes } from 'n8n-workflow';
import { defineNode } from '@campaignos/sdk';
import { allowReentryProperty, campaignApiCredentials, passEnrolmentThrough } from '../enrolment.js';

/**
 * The enrolment item both hosts hand to the journey: the event that started it and the contact
 * it belongs to. The runtime builds it from its store; inside n8n it arrives as a webhook body.
 */
export interface CampaignEventItem {
  event: { id: string; name: string; properties: Record<string, unknown>; timestamp: string };
  contact: {
    id: string;
    externalId: string | null;
    email: string | null;
    phone: string | null;
    attributes: Record<string, unknown>;
    timeZone: string | null;
  };
}

/**
 * Starts a journey when a contact does something (`signup`, `order_placed`, ...). The runtime
 * routes matching events from its outbox and gives `execute` the enrolment item; inside n8n the
 * node registers a webhook subscription with the runtime, which POSTs the same shape, signed.
 */
export const EventTrigger = defineNode({
  group: 'trigger',
  trigger: {
    subscribe: (parameters) => {
      const event = parameters.event;
      if (typeof event !== 'string' || event.trim() === '') return 'the event name is required';
      if (event.startsWith('$')) return `"${event}" is a system event; use the Segment or Score trigger`;
      return { event, allowReentry: parameters.allowReentry === true };
    },
  },
  description: {
    displayName: 'CampaignOS Event Trigger',
    name: 'eventTrigger',
    icon: 'file:campaignos.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{ "on " + $parameter.event }}',
    description: 'Starts a journey when a contact triggers a CampaignOS event',
    defaults: { name: 'CampaignOS Event Trigger' },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: campaignApiCredentials,
    webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'campaignos-event' }],
    properties: [
      {
        displayName: 'Event',
        name: 'event',
        type: 'string',
        required: true,
        default: '',
        placeholder: 'signup',
        description: 'Name of the event that enrols the contact, as sent to /v1/events',
      },
      allowReentryProperty(false, 'Whether a contact who already went through this journey version may enter it again on a new event'),
    ],
  },

  execute: passEnrolmentThrough,

  webhook: (body, params) => {
    const item = parseCampaignEvent(body);
    if (!item || item.event.name !== params('event')) return null;
    return [{ json: { ...item } }];
  },
});

/**
 * Checks a webhook body once at the edge; anything that is not a CampaignOS event is ignored.
 * The runtime sends `event.occurredAt`; items carry it as `event.timestamp`, as journeys see it.
 */
export function parseCampaignEvent(body: unknown): CampaignEventItem | null {
  if (!isRecord(body) || !isRecord(body.event) || !isRecord(body.contact)) return null;
  const { event, contact } = body;
  if (typeof event.name !== 'string' || event.name === '') return null;
  if (typeof contact.id !== 'string' || contact.id === '') return null;
  return {
    event: {
      id: typeof event.id === 'string' ? event.id : '',
      name: event.name,
      properties: isRecord(event.properties) ? event.properties : {},
      timestamp: typeof event.timestamp === 'string' ? event.timestamp : typeof event.occurredAt === 'string' ? event.occurredAt : new Date().toISOString(),
    },
    contact: {
      id: contact.id,
      externalId: typeof contact.externalId === 'string' ? contact.externalId : null,
      email: typeof contact.email === 'string' ? contact.email : null,
      phone: typeof contact.phone === 'string' ? contact.phone : null,
      attributes: isRecord(contact.attributes) ? contact.attributes : {},
      timeZone: typeof contact.timeZone === 'string' ? contact.timeZone : null,
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
