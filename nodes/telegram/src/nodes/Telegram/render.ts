import { Liquid, type Template } from 'liquidjs';
import { NodeError, templateVariables as sharedVariables, type ContactView } from '@campaignos/sdk';

export type ParseMode = 'none' | 'HTML' | 'MarkdownV2';

export const PARSE_MODES: readonly ParseMode[] = ['none', 'HTML', 'MarkdownV2'];

export type TemplateVariables = Record<string, unknown>;

const LIMITS = {
  // A template is operator input: bound what one render may cost.
  parseLimit: 1_000_000,
  renderLimit: 1_000,
  memoryLimit: 20_000_000,
} as const;

/** Characters MarkdownV2 reserves (https://core.telegram.org/bots/api#markdownv2-style). */
const MARKDOWN_V2_SPECIAL = /[_*[\]()~`>#+\-=|{}.!\\]/g;

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * Placeholder values are escaped for the parse mode, so a contact named `<b>Ada` or `Ada_1`
 * cannot break the message's formatting; the template's own markup is left as written.
 */
function escaperFor(mode: ParseMode): ((value: unknown) => string) | undefined {
  if (mode === 'HTML') return (value) => String(value).replace(/[&<>"]/g, (c) => HTML_ENTITIES[c]!);
  if (mode === 'MarkdownV2') return (value) => String(value).replace(MARKDOWN_V2_SPECIAL, (c) => `\\${c}`);
  return undefined;
}

// `templates: {}` replaces the file system: `{% include %}` or `{% render %}` can never read a file.
const engines: Record<ParseMode, Liquid> = {
  none: new Liquid({ strictFilters: true, templates: {}, ...LIMITS }),
  HTML: new Liquid({ strictFilters: true, templates: {}, outputEscape: escaperFor('HTML'), ...LIMITS }),
  MarkdownV2: new Liquid({ strictFilters: true, templates: {}, outputEscape: escaperFor('MarkdownV2'), ...LIMITS }),
};

const MAX_CACHED = 500;
const parsed = new Map<string, Template[]>();

/**
 * Renders a message text (Liquid) for one contact; the parsed template is cached per source.
 * Throws `TEMPLATE_INVALID` for Liquid syntax and render errors.
 *
 * @example
 * renderText('Hi {{ contact.firstName }}', 'HTML', { contact: { firstName: 'Ada' } }) // 'Hi Ada'
 */
export function renderText(source: string, mode: ParseMode, variables: TemplateVariables): string {
  const key = `${mode}\u0000${source}`;
  let template = parsed.get(key);
  if (!template) {
    try {
      template = engines[mode].parse(source);
    } catch (error) {
      throw new NodeError('TEMPLATE_INVALID', `Liquid error in text: ${(error as Error).message}`);
    }
    if (parsed.size >= MAX_CACHED) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, template);
  }
  try {
    return engines[mode].renderSync(template, variables) as string;
  } catch (error) {
    throw new NodeError('TEMPLATE_INVALID', `Liquid render failed: ${(error as Error).message}`);
  }
}

export interface VariableSources {
  contact: ContactView | Record<string, unknown> | undefined;
  event: unknown;
  item: Record<string, unknown>;
}

/**
 * The variables a text sees, as in the email node: `contact` (its fields, `attributes`, and
 * each attribute at top level: `contact.firstName`), `event` (`name`, `properties`), `item`.
 */
export function templateVariables(sources: VariableSources): TemplateVariables {
  return sharedVariables(sources);
}
