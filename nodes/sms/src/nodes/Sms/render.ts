import { Liquid, type Template } from 'liquidjs';
import { NodeError, templateVariables as sharedVariables, type ContactView } from '@campaignos/sdk';

// The same Liquid setup as the email node's plain-text parts: no HTML escaping (an SMS is
// plain text), no file system, and bounds on what one render may cost.
const liquid = new Liquid({ strictFilters: true, templates: {}, parseLimit: 1_000_000, renderLimit: 1_000, memoryLimit: 10_000_000 });

/** Most message templates a process keeps parsed. */
export const TEMPLATE_CACHE_SIZE = 500;
const parsed = new Map<string, Template[]>();

export type TemplateVariables = Record<string, unknown>;

/**
 * Renders a message body (Liquid) for one contact; parsing is cached per template source.
 * Throws `TEMPLATE_INVALID` for a syntax error (the message names line and column) or a
 * failed render.
 *
 * @example
 * renderSms('Hi {{ contact.firstName }}, your code is {{ event.properties.code }}', variables);
 */
export function renderSms(source: string, variables: TemplateVariables): string {
  let templates = parsed.get(source);
  if (!templates) {
    try {
      templates = liquid.parse(source);
    } catch (error) {
      throw new NodeError('TEMPLATE_INVALID', `Liquid error in the message: ${(error as Error).message}`, { cause: error });
    }
    if (parsed.size >= TEMPLATE_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
    parsed.set(source, templates);
  }
  try {
    return (liquid.renderSync(templates, variables) as string).trim();
  } catch (error) {
    throw new NodeError('TEMPLATE_INVALID', `Liquid render failed: ${(error as Error).message}`, { cause: error });
  }
}

export interface VariableSources {
  contact: ContactView | Record<string, unknown> | undefined;
  event: unknown;
  item: Record<string, unknown>;
}

/**
 * The variables a message sees, the same as the email node's: `contact` (its fields,
 * `attributes`, and each attribute at top level: `contact.firstName`), `event` (`name`,
 * `properties`), `item`.
 */
export function templateVariables(sources: VariableSources): TemplateVariables {
  return sharedVariables(sources);
}
