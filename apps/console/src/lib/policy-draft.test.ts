import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendItem,
  getIn,
  moveItem,
  newRule,
  formatList,
  formatScalar,
  formatScalarList,
  parseList,
  parseNumber,
  parseScalar,
  parseScalarList,
  removeItem,
  sameDocument,
  setIn,
  setRuleAction,
} from './policy-draft.js';

const draft = () => ({
  defaultAction: 'allow',
  rules: [
    { id: 'a', match: { groups: ['admins'] }, action: 'allow' },
    { id: 'b', action: 'mask', mask: { entities: ['EMAIL'] } },
  ],
});

describe('editing a draft policy', () => {
  it('sets a field in place without touching the original, keeping key order', () => {
    const before = draft();
    const after = setIn(before, ['rules', 0, 'match', 'httpMethods'], ['GET']);
    assert.deepEqual(getIn(after, ['rules', 0, 'match']), { groups: ['admins'], httpMethods: ['GET'] });
    assert.deepEqual(before, draft(), 'the original draft is unchanged');
    assert.deepEqual(Object.keys((after.rules as object[])[0]!), ['id', 'match', 'action']);
  });

  it('removes a cleared field, and the object it leaves empty, but never a rule or its mask', () => {
    let d = setIn(draft(), ['rules', 0, 'match', 'groups'], undefined);
    assert.deepEqual((d.rules as object[])[0], { id: 'a', action: 'allow' });
    d = setIn(d, ['rules', 1, 'mask', 'entities'], undefined);
    assert.deepEqual(getIn(d, ['rules', 1, 'mask']), {}, 'an empty mask still makes a mask rule');
    d = setIn(setIn(d, ['budgets', 'statement', 'maxRows'], 10), ['budgets', 'statement', 'maxRows'], undefined);
    assert.equal('budgets' in d, false);
  });

  it('adds, moves and removes rules', () => {
    let d = appendItem(draft(), ['rules'], newRule(draft()));
    assert.deepEqual(getIn(d, ['rules', 2]), { id: 'rule-3', action: 'allow' });
    d = moveItem(d, ['rules'], 2, 0);
    assert.deepEqual(
      (d.rules as { id: string }[]).map((r) => r.id),
      ['rule-3', 'a', 'b'],
    );
    assert.equal(moveItem(d, ['rules'], 0, -1), d, 'moving past the ends changes nothing');
    d = removeItem(d, ['rules'], 1);
    assert.deepEqual(
      (d.rules as { id: string }[]).map((r) => r.id),
      ['rule-3', 'b'],
    );
    assert.equal(newRule({ rules: [{ id: 'rule-2' }] }).id, 'rule-3', 'a new rule never reuses an id');
    const conditions = ['rules', 0, 'match', 'httpBody'];
    d = removeItem(setIn(d, conditions, [{ path: '$.model', exists: true }]), conditions, 0);
    assert.equal(getIn(d, ['rules', 0, 'match']), undefined, 'an emptied list goes, and the match it leaves empty');
  });

  it('adds a mask when a rule becomes a mask rule, and drops it when it stops being one', () => {
    let d = setRuleAction(draft(), 0, 'mask');
    assert.deepEqual(getIn(d, ['rules', 0, 'mask']), {});
    d = setRuleAction(d, 1, 'block');
    assert.equal(getIn(d, ['rules', 1, 'mask']), undefined);
    assert.equal(getIn(d, ['rules', 1, 'action']), 'block');
  });

  it('reads list and number fields as typed', () => {
    assert.deepEqual(parseList('GET\n post\n\n PUT \n'), ['GET', 'post', 'PUT']);
    assert.equal(parseList(' \n \n'), undefined);
    assert.equal(parseNumber(''), undefined);
    assert.equal(parseNumber(' 1000 '), 1000);
    assert.equal(parseNumber('ten'), 'ten', 'kept as typed so the schema says what is wrong');
    assert.equal(parseNumber('-2.5'), -2.5);
    for (const text of ['0x10', '1e3', 'Infinity', '.5'])
      assert.equal(parseNumber(text), text, `${text} is not decimal text, so it stays as typed`);
    assert.deepEqual(parseScalarList('gpt-4\n5\ntrue\nnull\n"7"'), ['gpt-4', 5, true, null, '7']);
    for (const value of ['gpt-4', '5', 'true', 5, null, 'say "hi"'])
      assert.deepEqual(parseScalar(formatScalar(value)), value, `${JSON.stringify(value)} reads back as itself`);
  });

  it('reads list fields one item a line, so an item may hold a comma', () => {
    const keywords = ['drop table, truncate', 'ignore previous'];
    assert.equal(formatList(keywords), 'drop table, truncate\nignore previous');
    assert.deepEqual(parseList(formatList(keywords)), keywords);
    assert.deepEqual(
      parseList('  drop table, truncate \r\n\nignore previous\n'),
      keywords,
      'trimmed, blank lines dropped',
    );
    const models = ['gpt-4, mini', 5, 'true'];
    assert.deepEqual(parseScalarList(formatScalarList(models)), models);
  });

  it('compares drafts as documents: key order does not count, values and list order do', () => {
    assert.equal(sameDocument({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), true);
    assert.equal(sameDocument({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(sameDocument({ a: 1 }, { a: 1, b: undefined }), false);
    assert.equal(sameDocument({ a: null }, { a: {} }), false);
  });
});
