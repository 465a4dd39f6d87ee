import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { carryKeys, firstKeys } from './item-keys.js';
import { moveItem, removeItem, setIn } from './policy-draft.js';

// As the editor sees them: the draft is parsed again from its JSON text after every edit.
const reparsed = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const rules = () => ({
  rules: [
    { id: 'a', action: 'allow' },
    { id: 'b', action: 'block' },
    { id: 'c', action: 'allow' },
  ],
});
const keysAfter = (edit: (d: Record<string, unknown>) => Record<string, unknown>) => {
  const before = rules();
  const after = reparsed(edit(before)).rules as unknown[];
  return carryKeys(firstKeys(before.rules), after).keys;
};

describe('keys of list items', () => {
  it('follow their items when one moves or one is removed', () => {
    assert.deepEqual(
      keysAfter((d) => moveItem(d, ['rules'], 2, 1)),
      [0, 2, 1],
    );
    assert.deepEqual(
      keysAfter((d) => removeItem(d, ['rules'], 0)),
      [1, 2],
    );
  });

  it('stay with an item that is edited, and a new item gets a new key', () => {
    assert.deepEqual(
      keysAfter((d) => setIn(d, ['rules', 1, 'id'], 'x')),
      [0, 1, 2],
    );
    assert.deepEqual(
      keysAfter((d) => setIn(d, ['rules', 0], { id: 'b', action: 'block' })),
      [0, 1, 2],
      'even when the edit makes it equal to another item',
    );
    const added = carryKeys(firstKeys(rules().rules), [...rules().rules, { id: 'd' }]);
    assert.deepEqual(added.keys, [0, 1, 2, 3]);
    const removedThenAdded = carryKeys(carryKeys(added, added.items.slice(1)), [...added.items.slice(1), { id: 'e' }]);
    assert.deepEqual(removedThenAdded.keys, [1, 2, 3, 4], 'a key is never given twice');
  });
});
