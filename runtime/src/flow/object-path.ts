// Lodash's `get`/`set`/`unset` path semantics (what n8n's Set node uses for dot notation),
// without the dependency: `a.b[0].c`, `a["b.c"]`, and a key that exists verbatim wins over
// its parsed form.

type Container = Record<string, unknown> | unknown[];

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function toPath(key: string, target: unknown): string[] {
  if (isContainer(target) && key in target) return [key];
  if (!/[.[\]]/.test(key)) return [key];
  const path: string[] = [];
  const re = /[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))/g;
  if (key.charCodeAt(0) === 46 /* . */) path.push('');
  key.replace(re, (match: string, num: string | undefined, quote: string | undefined, quoted: string | undefined) => {
    path.push(quote ? (quoted ?? '').replace(/\\(\\)?/g, '$1') : (num ?? match));
    return match;
  });
  return path;
}

const isIndex = (key: string | undefined): boolean => key !== undefined && /^(?:0|[1-9]\d*)$/.test(key);

export function getPath(target: unknown, key: string): unknown {
  let current: unknown = target;
  for (const part of toPath(key, target)) {
    if (!isContainer(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Sets a value, creating objects (or arrays before an index) on the way, like lodash `set`. */
export function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const path = toPath(key, target);
  if (path.some((part) => UNSAFE_KEYS.has(part))) return;
  let current: Record<string, unknown> = target;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    if (i === path.length - 1) {
      current[part] = value;
      return;
    }
    const next = current[part];
    if (!isContainer(next)) current[part] = isIndex(path[i + 1]) ? [] : {};
    current = current[part] as Record<string, unknown>;
  }
}

export function unsetPath(target: Record<string, unknown>, key: string): void {
  const path = toPath(key, target);
  const last = path.pop();
  if (last === undefined) return;
  let current: unknown = target;
  for (const part of path) {
    if (!isContainer(current)) return;
    current = (current as Record<string, unknown>)[part];
  }
  if (isContainer(current)) delete (current as Record<string, unknown>)[last];
}
