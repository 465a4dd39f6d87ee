import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDraft,
  describeField,
  fieldDomId,
  fieldOf,
  messagesByField,
  parseIssuePath,
  placeIssues,
  serverIssues,
} from './policy-issues.js';

const draft = {
  defaultAction: 'allow',
  rules: [
    { id: 'admins-unmasked', match: { groups: ['admins'] }, action: 'allow' },
    { id: 'api-reads', match: { httpMethods: ['GET', 'get'] }, action: 'allow' },
    {
      id: 'mask-cards',
      action: 'mask',
      mask: { entities: ['CREDIT_CARD'], columns: [{ column: 'ssn', style: 'sparkle' }] },
    },
  ],
  detectors: { custom: [{ name: 'BADGE', pattern: '(a+)+' }], medicalRecord: { pattern: '(' } },
};

describe('policy issue paths → editor fields', () => {
  it('puts an issue on a list item on the list field, naming the item by its value', () => {
    assert.deepEqual(fieldOf(['rules', 1, 'match', 'httpMethods', 1]), {
      field: ['rules', 1, 'match', 'httpMethods'],
      item: 1,
    });
    const [problem] = placeIssues(
      [{ path: ['rules', 1, 'match', 'httpMethods', 1], message: 'must be an upper-case HTTP method' }],
      draft,
    );
    assert.deepEqual(problem, {
      field: ['rules', 1, 'match', 'httpMethods'],
      where: 'Rule 2 (api-reads) › HTTP methods',
      message: '"get": must be an upper-case HTTP method',
    });
  });

  it('puts an issue on a field of a list of objects on that field, inside its row', () => {
    const [problem] = placeIssues(
      [{ path: ['rules', 2, 'mask', 'columns', 0, 'style'], message: 'Invalid option' }],
      draft,
    );
    assert.deepEqual(problem?.field, ['rules', 2, 'mask', 'columns', 0, 'style']);
    assert.equal(problem?.where, 'Rule 3 (mask-cards) › Column mask 1 › Style');
    assert.equal(problem?.message, 'Invalid option', 'a field that is not a list names no item');
  });

  it('gives what no field holds to the closest section: an unknown key, a part only the JSON edits', () => {
    assert.deepEqual(fieldOf(['rules', 0, 'match']).field, ['rules', 0, 'match']);
    assert.deepEqual(fieldOf(['detectors', 'medicalRecord', 'pattern']).field, ['detectors']);
    assert.deepEqual(fieldOf(['rules', 4]).field, ['rules', 4]);
    assert.equal(describeField(['rules', 4], draft), 'Rule 5', 'a rule without an id is named by number');
  });

  it('gives an issue outside every field (an unknown top-level key) to the whole policy', () => {
    assert.deepEqual(fieldOf([]), { field: [], item: undefined });
    assert.deepEqual(fieldOf(['rulez']), { field: [], item: undefined });
    assert.equal(describeField([], draft), 'Policy');
    assert.equal(fieldDomId([]), 'policy-json', 'the JSON view shows what the form cannot');
  });

  it('gives each field a distinct DOM id', () => {
    const ids = [
      ['rules', 1, 'match', 'httpMethods'],
      ['rules', 11, 'match', 'httpMethods'],
      ['rules', 1, 'match', 'httpPaths'],
      ['defaultAction'],
    ].map(fieldDomId);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(fieldDomId(['rules', 1, 'match', 'httpMethods']), 'pf-rules-1-match-httpMethods');
  });

  it('groups several messages of one field together', () => {
    const problems = placeIssues(
      [
        { path: ['rules', 1, 'match', 'httpMethods', 1], message: 'must be an upper-case HTTP method' },
        { path: ['rules', 1, 'match', 'httpMethods', 0], message: 'another' },
        { path: ['defaultAction'], message: 'Invalid option' },
      ],
      draft,
    );
    const byField = messagesByField(problems);
    assert.deepEqual(byField.get('rules.1.match.httpMethods'), [
      '"get": must be an upper-case HTTP method',
      '"GET": another',
    ]);
    assert.deepEqual(byField.get('defaultAction'), ['Invalid option']);
  });
});

describe("the control plane's issue paths", () => {
  it('reads formatPath output back into the path zod gave', () => {
    assert.deepEqual(parseIssuePath('rules[2].match.httpMethods[0]'), ['rules', 2, 'match', 'httpMethods', 0]);
    assert.deepEqual(parseIssuePath('detectors.custom[0].pattern'), ['detectors', 'custom', 0, 'pattern']);
    assert.deepEqual(parseIssuePath('rules.2.mask'), ['rules', 2, 'mask']);
    assert.deepEqual(parseIssuePath('(policy)'), []);
    assert.deepEqual(parseIssuePath(''), []);
  });

  it('places a server issue on the same field as the same issue found here', () => {
    const local = placeIssues(checkDraft(draft), draft);
    const server = placeIssues(
      serverIssues([{ path: 'rules[1].match.httpMethods[1]', message: 'must be an upper-case HTTP method' }]),
      draft,
    );
    assert.deepEqual(
      server[0],
      local.find((p) => p.where.includes('HTTP methods')),
    );
  });
});

describe('checking a draft with the shared schema', () => {
  it('finds what the control plane would refuse, each with its path', () => {
    const paths = checkDraft(draft).map((i) => i.path.join('.'));
    assert.ok(paths.includes('rules.1.match.httpMethods.1'), paths.join(' '));
    assert.ok(paths.includes('rules.2.mask.columns.0.style'), paths.join(' '));
    assert.ok(paths.includes('detectors.custom.0.pattern'), paths.join(' '));
    assert.ok(paths.includes('detectors.medicalRecord.pattern'), paths.join(' '));
  });

  it("ignores the document's version, as the control plane does, and accepts a valid policy", () => {
    assert.deepEqual(checkDraft({ version: 'v-whatever', defaultAction: 'block' }), []);
    assert.deepEqual(checkDraft({}), []);
  });

  it('reports the checks that span rules: duplicate ids, mask without "mask"', () => {
    const issues = checkDraft({
      rules: [
        { id: 'a', action: 'mask' },
        { id: 'a', action: 'allow', mask: {} },
      ],
    });
    const placed = placeIssues(issues, {}).map((p) => `${p.field.join('.')}: ${p.message}`);
    assert.deepEqual(placed.sort(), [
      'rules.0.mask: a mask rule needs "mask"',
      'rules.1.id: duplicate rule id "a"',
      'rules.1.mask: only mask rules take "mask" (action is allow)',
    ]);
  });
});
