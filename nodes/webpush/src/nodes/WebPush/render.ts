import { Liquid, type Template } from 'liquidjs';
import { NodeError, templateVariables as sharedVariables, type ContactView } from '@campaignos/sdk';

// Notifications are plain text shown by the browser, so nothing is HTML-escaped. `templates: {}`
// replaces the file system: `{% include %}` and `{% render %}` can never read a file.
const liquid = new Liquid({ strictFilters: true, templates: {}, parseLimit: 100_000, renderLimit: 1_000, memoryLimit: 10_000_000 });

const MAX_CACHED = 1_000;
const parsed = new Map<string, Template[]>();

export type TemplateVariables = Record<string, unknown>;

/** Renders one Liquid snippet (a title, a body, a URL); parsed templates are cached by source. */
export function renderSnippet(source: string, variables: TemplateVariables, what: string): string {
  if (!source.includes('{')) return source;
  let template = parsed.get(source);
  if (!template) {
    try {
      template = liquid.parse(source);
    } catch (error) {
      throw new NodeError('TEMPLATE_INVALID', `Liquid error in ${what}: ${(error as Error).message}`, { cause: error });
    }
    if (parsed.size >= MAX_CACHED) parsed.delete(parsed.keys().next().value!);
    parsed.set(source, template);
  }
  try {
    return liquid.renderSync(template, variables) as string;
  } catch (error) {
    throw new NodeError('TEMPLATE_INVALID', `Liquid render of ${what} failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The variables a notification sees, as in the email node: `contact` (its fields, `attributes`,
 * and each attribute at top level: `contact.firstName`), `event` (`name`, `properties`), `item`.
 */
export function templateVariables(sources: { contact: ContactView | Record<string, unknown> | undefined; event: unknown; item: Record<string, unknown> }): TemplateVariables {
  return sharedVariables(sources);
}
