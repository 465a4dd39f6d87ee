import { sameDocument } from './policy-draft.js';

/*
 * React keys for the items of a list the policy editor shows (rules, body conditions…), so that
 * what a row holds on its own (an open "HTTP requests" section, text being typed) follows its item
 * when items are moved up or down or one before it is removed, instead of staying at the slot.
 *
 * The keys live beside the draft, never in it: the document saved (and shown in the JSON view) is
 * unchanged. The draft is parsed again from its JSON text on every edit, so items have no lasting
 * identity to go by; an edit changes at most one item, though, and moving or removing changes
 * none, so an item keeps the key of the item it equals as a document (the one at its own place
 * first, then any other). An item equal to none left is the one just edited and takes the key of
 * the unmatched item at its place, or else, an added item, a new key.
 */

export interface ItemKeys {
  items: readonly unknown[];
  keys: readonly number[];
  /** The next new key. */
  next: number;
}

export function firstKeys(items: readonly unknown[]): ItemKeys {
  return { items, keys: items.map((_, i) => i), next: items.length };
}

/** The keys of `items`, given those of the list they were edited from. */
export function carryKeys(before: ItemKeys, items: readonly unknown[]): ItemKeys {
  const taken = new Set<number>();
  const from: (number | undefined)[] = items.map((item, i) => {
    if (i >= before.items.length || !sameDocument(item, before.items[i])) return undefined;
    taken.add(i);
    return i;
  });
  items.forEach((item, i) => {
    if (from[i] !== undefined) return;
    const j = before.items.findIndex((old, k) => !taken.has(k) && sameDocument(item, old));
    if (j >= 0) {
      taken.add(j);
      from[i] = j;
    }
  });
  let next = before.next;
  const keys = items.map((_, i) => {
    const j = from[i] ?? (i < before.items.length && !taken.has(i) ? i : undefined);
    if (j === undefined) return next++;
    taken.add(j);
    return before.keys[j]!;
  });
  return { items, keys, next };
}
