import type { ContactView } from './context.js';

/** Where a message template's variables come from. */
export interface TemplateSources {
  contact: ContactView | Record<string, unknown> | undefined;
  event: unknown;
  item: Record<string, unknown>;
}

/**
 * The variables every CampaignOS channel template sees: `contact` (its fields, `attributes`, and
 * each attribute at top level: `contact.firstName`), `event` (`name`, `properties`), `item`.
 *
 * @example
 * templateVariables({ contact: { email: 'ada@example.com', attributes: { firstName: 'Ada' } }, event: undefined, item: {} })
 * // → { contact: { firstName: 'Ada', email: 'ada@example.com', ... }, event: { name: null, properties: {} }, item: {} }
 */
export function templateVariables(sources: TemplateSources): Record<string, unknown> {
  const contact = isRecord(sources.contact) ? sources.contact : {};
  const attributes = isRecord(contact.attributes) ? contact.attributes : {};
  const event = isRecord(sources.event) ? sources.event : {};
  return {
    contact: {
      // Attributes first: a custom attribute named `email` or `phone` must not hide the real one.
      ...attributes,
      id: contact.id ?? null,
      email: contact.email ?? null,
      externalId: contact.externalId ?? null,
      phone: contact.phone ?? null,
      timeZone: contact.timeZone ?? null,
      attributes,
    },
    event: { ...event, name: event.name ?? null, properties: isRecord(event.properties) ? event.properties : {} },
    item: sources.item,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
