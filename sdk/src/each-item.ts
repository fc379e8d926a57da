import type { NodeContext, NodeItem } from './context.js';
import { toNodeError } from './errors.js';

/**
 * Runs `fn` for every input item with n8n's error conventions: an error carries its item
 * index, and with "continue on fail" it becomes an `{ error }` item instead of failing the node.
 *
 * @example
 * execute: (ctx) => eachItem(ctx, async (item, i) => ({ json: { ...item.json, sent: true } }))
 */
export async function eachItem(
  ctx: NodeContext,
  fn: (item: NodeItem, itemIndex: number) => Promise<NodeItem | NodeItem[] | null>,
): Promise<NodeItem[][]> {
  const out: NodeItem[] = [];
  const items = ctx.getInputItems();
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    try {
      const result = await fn(item, i);
      if (result === null) continue;
      for (const r of Array.isArray(result) ? result : [result]) out.push({ ...r, pairedItem: { item: i } });
    } catch (error) {
      const nodeError = toNodeError(error, i);
      if (!ctx.continueOnFail()) throw nodeError;
      out.push({ json: { ...item.json, error: { code: nodeError.code, message: nodeError.message } }, pairedItem: { item: i } });
    }
  }
  return [out];
}
