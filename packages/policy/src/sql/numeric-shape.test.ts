import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BYPASS_CASES } from '../testing/bypass-cases.js';
import { analyzeSql, init } from './analyze.js';
import { numericShape } from './numeric-shape.js';

describe('numericShape', () => {
  it('replaces numeric constants and nothing else', () => {
    const cases: Array<[string, string | undefined]> = [
      ['SELECT abalance FROM pgbench_accounts WHERE aid = 81234;', 'SELECT abalance FROM pgbench_accounts WHERE aid = 0;'],
      ['select 1.5, .25, 3e10, 2E-3, 0x1F, 1_000', 'select 0, 0, 0, 0, 0, 0'],
      ['select * from t1 where c2 = 7', 'select * from t1 where c2 = 0'],
      ['select $1, $22 from x', undefined],
      ["select '12', 'it''s 3', E'a\\'4' , 5", "select '12', 'it''s 3', E'a\\'4' , 0"],
      ['select "col 9" from "t 8" where a = 9', 'select "col 9" from "t 8" where a = 0'],
      ['DO $$BEGIN PERFORM 1; END$$', undefined],
      ['DO $body$ DROP TABLE t1; $body$; select 2', 'DO $body$ DROP TABLE t1; $body$; select 0'],
      ['select 1 -- 42\n, 2 /* 3 /* 4 */ 5 */ , 6', 'select 0 -- 42\n, 0 /* 3 /* 4 */ 5 */ , 0'],
      ['select 1abc', undefined],
      ["select 'unterminated 1", undefined],
      ['select no_numbers from here', undefined],
    ];
    for (const [sql, shape] of cases) assert.equal(numericShape(sql), shape, sql);
  });
});

describe('analyses shared by numeric shape', () => {
  before(() => init());

  it('give every bypass case and twin, with other numbers, the facts of its own parse', () => {
    for (const [forbidden, , twin] of BYPASS_CASES) {
      for (const sql of [forbidden, twin]) {
        const shape = numericShape(sql);
        if (shape === undefined || shape === sql) continue;
        analyzeSql(sql); // seen once: its shape is cached
        const viaShape = analyzeSql(shape); // other numbers: answered from the cache
        const parsed = analyzeSql(`${shape} `); // a text of its own shape: parsed afresh
        const strip = (a: ReturnType<typeof analyzeSql>) => ({ ...a, statements: a.statements.map(({ text: _t, ...s }) => s) });
        assert.deepEqual(strip(viaShape), strip(parsed), sql);
      }
    }
  });

  it('never shares an analysis between texts that differ in more than numbers', () => {
    analyzeSql('SELECT * FROM t1 WHERE id = 5');
    const other = analyzeSql('SELECT * FROM t2 WHERE id = 6');
    assert.deepEqual(other.statements[0]!.tables, [{ name: 't2' }]);
    analyzeSql("DO $$BEGIN PERFORM 1; END$$");
    const body = analyzeSql('DO $$BEGIN DROP TABLE customers; END$$');
    assert.ok(body.statements.some((s) => s.kind === 'DROP'));
  });
});
