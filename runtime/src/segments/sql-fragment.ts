// A piece of SQL and its bindings. Everything a user typed (names, paths, values) is a binding;
// only code constants are ever part of `text`, which the `sql` tag guarantees by construction.

const FRAGMENT = Symbol.for('campaignos.sql-fragment');

export interface SqlFragment {
  readonly [FRAGMENT]: true;
  /** SQL with knex `?` placeholders. */
  readonly text: string;
  readonly bindings: readonly unknown[];
}

function fragment(text: string, bindings: readonly unknown[]): SqlFragment {
  return { [FRAGMENT]: true, text, bindings };
}

export function isFragment(value: unknown): value is SqlFragment {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FRAGMENT] === true;
}

/**
 * Tagged template: interpolated fragments are inlined, anything else becomes a `?` binding.
 *
 * @example sql`e.name = ${name} AND e.occurred_at >= ${since}::timestamptz`
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  let text = '';
  const bindings: unknown[] = [];
  strings.forEach((chunk, i) => {
    // knex reads `?` and `??` as placeholders: a literal one in static text would shift bindings.
    if (chunk.includes('?')) throw new Error(`a literal "?" in SQL text: ${chunk}`);
    text += chunk;
    if (i < values.length) {
      const value = values[i];
      if (isFragment(value)) {
        text += value.text;
        bindings.push(...value.bindings);
      } else {
        text += '?';
        bindings.push(value);
      }
    }
  });
  return fragment(text, bindings);
}

/** Joins fragments with a constant separator (`' AND '`, `', '`). */
export function joinSql(parts: readonly SqlFragment[], separator: string): SqlFragment {
  if (separator.includes('?')) throw new Error('a literal "?" in SQL text');
  return fragment(parts.map((p) => p.text).join(separator), parts.flatMap((p) => p.bindings));
}

/** A constant SQL snippet from code (never from input). */
export function rawSql(text: string): SqlFragment {
  if (text.includes('?')) throw new Error(`a literal "?" in SQL text: ${text}`);
  return fragment(text, []);
}
