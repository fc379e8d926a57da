import { createHash } from 'node:crypto';
import mjml2html from 'mjml';
import { Liquid, type Template } from 'liquidjs';
import { NodeError, templateVariables as sharedVariables, type ContactView } from '@campaignos/sdk';
import { htmlToText } from './plain-text.js';

// A full MJML compile costs milliseconds; a Liquid render of the compiled HTML costs
// microseconds. So MJML runs once per template version (keyed by the source's hash) and only
// Liquid runs per contact.

export interface EmailTemplate {
  /** Liquid; rendered without HTML escaping (header values are not HTML). */
  subject: string;
  /** An MJML document with Liquid placeholders; outputs are HTML-escaped. */
  mjml: string;
  /** Optional plain-text version (Liquid). Derived from the HTML when empty. */
  text?: string;
}

export type TemplateVariables = Record<string, unknown>;

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface RenderCacheStats {
  /** MJML compiles since start (or the last `clearRenderCache`). */
  compiles: number;
  /** Compiled templates currently cached. */
  size: number;
}

/** Most template versions a process keeps compiled. */
export const TEMPLATE_CACHE_SIZE = 500;

const LIMITS = {
  // A template is operator input: bound what one render may cost.
  parseLimit: 5_000_000,
  renderLimit: 2_000,
  memoryLimit: 50_000_000,
} as const;

// `templates: {}` replaces the file system: `{% include %}` or `{% render %}` can never read a file.
const htmlLiquid = new Liquid({ outputEscape: 'escape', strictFilters: true, templates: {}, ...LIMITS });
const plainLiquid = new Liquid({ strictFilters: true, templates: {}, ...LIMITS });

const UNSUBSCRIBE_FOOTER = `
    <mj-section padding="8px 0">
      <mj-column>
        <mj-text align="center" font-size="12px" color="#888888">
          <a href="{{ unsubscribe_url }}" style="color:#888888">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  `;

interface CompiledBody {
  html: Template[];
  /** Text part derived from the compiled HTML; null when the derived text is not valid Liquid. */
  text: Template[] | null;
}

class LruCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

// Holds promises, so concurrent first renders of one version share one compile.
const bodies = new LruCache<Promise<CompiledBody>>(TEMPLATE_CACHE_SIZE);
const snippets = new LruCache<Template[]>(TEMPLATE_CACHE_SIZE * 2);
let compiles = 0;
let lastSource = '';
let lastKey = '';

/** How often MJML ran and how many compiled versions are cached; tests and benchmarks read it. */
export function renderCacheStats(): RenderCacheStats {
  return { compiles, size: bodies.size };
}

/** Forgets every compiled template (tests; a process never needs it). */
export function clearRenderCache(): void {
  bodies.clear();
  snippets.clear();
  compiles = 0;
  lastSource = '';
  lastKey = '';
}

/** True when the template links to `{{ unsubscribe_url }}` itself. */
export function hasUnsubscribeLink(source: string): boolean {
  return source.includes('unsubscribe_url');
}

/** Adds a small unsubscribe footer before `</mj-body>` unless the template already has a link. */
export function withUnsubscribeFooter(mjml: string): string {
  if (hasUnsubscribeLink(mjml)) return mjml;
  const end = mjml.lastIndexOf('</mj-body>');
  if (end < 0) return mjml; // not MJML; the compile reports it
  return mjml.slice(0, end) + UNSUBSCRIBE_FOOTER + mjml.slice(end);
}

/** A template compiled once; `render` runs per contact. */
export interface CompiledEmail {
  renderSubject(variables: TemplateVariables): Promise<string>;
  render(variables: TemplateVariables): Promise<RenderedEmail>;
}

export interface CompileOptions {
  /** Append an unsubscribe footer (HTML) and line (text) when the template has no link. */
  unsubscribeFooter?: boolean;
}

/**
 * Compiles (or finds compiled) the subject, MJML body and text part of a template.
 * Throws `TEMPLATE_INVALID` naming the line for MJML validation errors and Liquid syntax errors.
 */
export async function compileEmail(template: EmailTemplate, options: CompileOptions = {}): Promise<CompiledEmail> {
  const footer = options.unsubscribeFooter === true;
  const mjml = footer ? withUnsubscribeFooter(template.mjml) : template.mjml;
  const subject = parseSnippet(template.subject, 'subject');
  const customText = template.text?.trim() ? template.text : undefined;
  const text =
    customText === undefined
      ? undefined
      : parseSnippet(footer && !hasUnsubscribeLink(customText) ? `${customText}\n\nUnsubscribe: {{ unsubscribe_url }}` : customText, 'text');
  const body = await compileBody(mjml);

  // renderSync: with includes disabled nothing in a template is asynchronous, and the sync
  // path skips liquidjs's promise machinery (~20 µs instead of ~30 µs for a typical body).
  const renderAll = (variables: TemplateVariables): RenderedEmail => {
    const html: string = htmlLiquid.renderSync(body.html, variables);
    let renderedText: string;
    if (text) renderedText = plainLiquid.renderSync(text, variables);
    else if (body.text) renderedText = plainLiquid.renderSync(body.text, variables);
    else renderedText = htmlToText(html);
    return { subject: oneLine(plainLiquid.renderSync(subject, variables)), html, text: renderedText };
  };
  return {
    renderSubject: async (variables) => guardRender(() => oneLine(plainLiquid.renderSync(subject, variables))),
    render: async (variables) => guardRender(() => renderAll(variables)),
  };
}

/** Render-time failures (a filter on a wrong type, the render limit) are template errors too. */
function guardRender<T>(render: () => T): T {
  try {
    return render();
  } catch (error) {
    throw new NodeError('TEMPLATE_INVALID', `Liquid render failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Renders one email: a pure function of the template and the variables (compiles are cached).
 * When `variables.unsubscribe_url` is set and the template has no link to it, a footer is added.
 *
 * @example
 * const { subject, html, text } = await renderEmail({
 *   subject: 'Welcome, {{ contact.firstName }}',
 *   mjml: '<mjml><mj-body>...</mj-body></mjml>',
 *   variables: { contact: { firstName: 'Ada' }, unsubscribe_url: 'https://example.com/u/1' },
 * });
 */
export async function renderEmail(input: EmailTemplate & { variables: TemplateVariables }): Promise<RenderedEmail> {
  const unsubscribe = input.variables.unsubscribe_url;
  const compiled = await compileEmail(input, { unsubscribeFooter: typeof unsubscribe === 'string' && unsubscribe !== '' });
  return compiled.render(input.variables);
}

export interface VariableSources {
  contact: ContactView | Record<string, unknown> | undefined;
  event: unknown;
  item: Record<string, unknown>;
  unsubscribeUrl?: string;
}

/**
 * The variables a template sees: `contact` (its fields, `attributes`, and each attribute at
 * top level: `contact.firstName`), `event` (`name`, `properties`), `item`, `unsubscribe_url`.
 */
export function templateVariables(sources: VariableSources): TemplateVariables {
  return { ...sharedVariables(sources), unsubscribe_url: sources.unsubscribeUrl ?? '' };
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function compileBody(mjml: string): Promise<CompiledBody> {
  // The same source string arrives for every contact of a batch; skip re-hashing it.
  const key = mjml === lastSource ? lastKey : sha256(mjml);
  lastSource = mjml;
  lastKey = key;
  const cached = bodies.get(key);
  if (cached) return cached;
  const compiling = compileMjml(mjml);
  bodies.set(key, compiling);
  // A failed compile is not kept: the next item reports the same error without stale state.
  compiling.catch(() => bodies.delete(key));
  return compiling;
}

async function compileMjml(mjml: string): Promise<CompiledBody> {
  // Liquid syntax is checked on the source first so the error names the line the author wrote.
  parseLiquid(htmlLiquid, mjml, 'MJML template');
  compiles++;
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    // Includes are off: a template must not read files from the server.
    result = await mjml2html(mjml, { validationLevel: 'soft', ignoreIncludes: true, keepComments: false });
  } catch (error) {
    throw new NodeError('TEMPLATE_INVALID', `MJML could not be compiled: ${(error as Error).message}`, { cause: error });
  }
  if (result.errors.length > 0) {
    const lines = result.errors.slice(0, 5).map((e) => `line ${e.line}: ${e.message}`);
    const more = result.errors.length > 5 ? ` (and ${result.errors.length - 5} more)` : '';
    throw new NodeError('TEMPLATE_INVALID', `MJML template is invalid: ${lines.join('; ')}${more}`);
  }
  const html = parseLiquid(htmlLiquid, result.html, 'compiled HTML');
  let text: Template[] | null;
  try {
    text = plainLiquid.parse(htmlToText(result.html));
  } catch {
    text = null; // rare (a Liquid tag that contains markup): derive the text per contact instead
  }
  return { html, text };
}

function parseSnippet(source: string, what: string): Template[] {
  const key = `${what}\u0000${source}`;
  const cached = snippets.get(key);
  if (cached) return cached;
  const parsed = parseLiquid(plainLiquid, source, what);
  snippets.set(key, parsed);
  return parsed;
}

function parseLiquid(liquid: Liquid, source: string, what: string): Template[] {
  try {
    return liquid.parse(source);
  } catch (error) {
    // liquidjs messages end with "line:N, col:M".
    throw new NodeError('TEMPLATE_INVALID', `Liquid error in ${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** Header values are one line: newlines in a rendered subject would be header injection. */
function oneLine(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
