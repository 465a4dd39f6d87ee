import type { StatementFacts, TableRef } from '../sql/analyze.js';
import type { StatementKind } from '../sql/kinds.js';

export const GUARDRAIL_IDS = [
  'drop',
  'truncate',
  'delete-without-where',
  'update-without-where',
  'alter-system',
  'copy-program',
  'copy-server-file',
  'server-file-functions',
  'foreign-connections',
  'create-extension',
  'load-library',
  'role-changes',
  'parser-settings',
  'vector-mass-delete',
  'dynamic-sql',
  'unknown-prepared-statement',
] as const;
export type GuardrailId = (typeof GUARDRAIL_IDS)[number];

export interface GuardrailSettings {
  /** Tables holding embeddings where a DELETE must name its rows by id. */
  vectorTables: readonly string[];
  /** Columns that identify a row of a vector table. */
  vectorIdColumns: readonly string[];
}

interface Guardrail {
  id: GuardrailId;
  /** Returns why the statement is refused, or undefined. */
  check(s: StatementFacts, settings: GuardrailSettings): string | undefined;
}

const SERVER_FILE_FUNCTIONS = new Set([
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_dir',
  'pg_stat_file',
  'pg_ls_logdir',
  'pg_ls_waldir',
  'pg_ls_tmpdir',
  'pg_ls_archive_statusdir',
  'pg_ls_logicalsnapdir',
  'pg_ls_logicalmapdir',
  'pg_ls_replslotdir',
  'lo_import',
  'lo_export',
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'pg_file_sync',
  'pg_logdir_ls',
]);
// Functions that run SQL given to them as text, out of the parser's sight.
const SQL_TEXT_FUNCTIONS = new Set([
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  // Read tables named as text, or whole schemas and databases: rules on tables never see them.
  'table_to_xml',
  'table_to_xml_and_xmlschema',
  'schema_to_xml',
  'schema_to_xml_and_xmlschema',
  'database_to_xml',
  'database_to_xml_and_xmlschema',
  'cursor_to_xml',
  'ts_stat',
  'ts_rewrite',
]);
const FOREIGN_KINDS = new Set<StatementKind>([
  'CREATE_SERVER',
  'ALTER_SERVER',
  'USER_MAPPING',
  'FOREIGN_DATA_WRAPPER',
  'IMPORT_FOREIGN_SCHEMA',
  'CREATE_FOREIGN_TABLE',
  'SUBSCRIPTION',
]);
const ROLE_KINDS = new Set<StatementKind>([
  'CREATE_ROLE',
  'ALTER_ROLE',
  'DROP_ROLE',
  'GRANT',
  'REVOKE',
  'ALTER_DEFAULT_PRIVILEGES',
  'REASSIGN_OWNED',
  'ALTER_OWNER',
]);
const ROLE_SETTINGS = new Set(['role', 'session_authorization']);
/**
 * Client encodings whose multibyte characters may end in an ASCII byte such as a backslash or a
 * quote, by PostgreSQL's spellings with case and punctuation dropped (as it compares them).
 */
const UNSAFE_ENCODINGS = new Set([
  'sjis', 'shiftjis', 'mskanji', 'win932', 'windows932', 'shiftjis2004',
  'big5', 'win950', 'windows950',
  'gbk', 'win936', 'windows936', 'cp936',
  'uhc', 'win949', 'windows949', 'cp949',
  'gb18030', 'johab',
]);
const ON_VALUES = new Set(['on', 'true', 'yes', '1', 't', 'y']);

/** Whether a client encoding, in any of PostgreSQL's spellings, may end a character in an ASCII byte. */
export function unsafeClientEncoding(name: string): boolean {
  return UNSAFE_ENCODINGS.has(name.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

const bare = (fn: string) => fn.slice(fn.lastIndexOf('.') + 1);
const name = (t: TableRef | undefined) => (t ? (t.schema ? `${t.schema}.${t.name}` : t.name) : 'a table');
const called = (s: StatementFacts, test: (fn: string) => boolean) => s.functions.find((f) => test(bare(f)));

const GUARDRAILS: Guardrail[] = [
  { id: 'drop', check: (s) => (s.kind === 'DROP' ? 'DROP statements are not allowed' : undefined) },
  { id: 'truncate', check: (s) => (s.kind === 'TRUNCATE' ? 'TRUNCATE is not allowed' : undefined) },
  {
    id: 'delete-without-where',
    check: (s) =>
      s.kind === 'DELETE' && !s.hasWhere
        ? `DELETE from ${name(s.target)} without a WHERE clause is not allowed`
        : undefined,
  },
  {
    id: 'update-without-where',
    check: (s) =>
      s.kind === 'UPDATE' && !s.hasWhere
        ? `UPDATE of ${name(s.target)} without a WHERE clause is not allowed`
        : undefined,
  },
  { id: 'alter-system', check: (s) => (s.kind === 'ALTER_SYSTEM' ? 'ALTER SYSTEM is not allowed' : undefined) },
  { id: 'copy-program', check: (s) => (s.copy?.program ? 'COPY ... PROGRAM is not allowed' : undefined) },
  {
    id: 'copy-server-file',
    check: (s) => (s.copy?.serverFile ? 'COPY to or from a file on the database server is not allowed' : undefined),
  },
  {
    id: 'server-file-functions',
    check: (s) => {
      const fn = called(s, (f) => SERVER_FILE_FUNCTIONS.has(f));
      return fn ? `${fn}() reads or writes files on the database server and is not allowed` : undefined;
    },
  },
  {
    id: 'foreign-connections',
    check: (s) => {
      if (FOREIGN_KINDS.has(s.kind))
        return 'connections to other servers (foreign servers, user mappings, subscriptions) are not allowed';
      const fn = called(s, (f) => f.startsWith('dblink') || f.startsWith('postgres_fdw'));
      return fn ? `${fn}() connects to another server and is not allowed` : undefined;
    },
  },
  {
    id: 'create-extension',
    check: (s) =>
      s.kind === 'CREATE_EXTENSION' || s.kind === 'ALTER_EXTENSION'
        ? 'creating or changing extensions is not allowed'
        : undefined,
  },
  { id: 'load-library', check: (s) => (s.kind === 'LOAD' ? 'LOAD of a server library is not allowed' : undefined) },
  {
    id: 'role-changes',
    check: (s) => {
      if (ROLE_KINDS.has(s.kind)) return 'role and privilege changes are not allowed';
      const setting = s.settings.find((x) => ROLE_SETTINGS.has(x));
      return setting ? `changing ${setting} is not allowed` : undefined;
    },
  },
  {
    // The agent reads SQL as UTF-8 with standard strings: a server reading it otherwise could end
    // a string where the policy sees text, and run what it never saw.
    id: 'parser-settings',
    check: (s) => {
      for (const { name, value } of s.settingValues) {
        if (name === '*') return 'set_config with a setting name computed at run time cannot be checked';
        if (name === 'client_encoding' && (value === undefined || unsafeClientEncoding(value))) {
          return `client_encoding ${value ?? '(computed)'} would make the server read SQL differently from the policy`;
        }
        if (name === 'standard_conforming_strings' && (value === undefined || !ON_VALUES.has(value.toLowerCase()))) {
          return 'standard_conforming_strings must stay on: with it off the server reads SQL differently from the policy';
        }
      }
      return undefined;
    },
  },
  {
    id: 'vector-mass-delete',
    check: (s, cfg) => {
      const deletes = s.kind === 'DELETE' || (s.kind === 'MERGE' && s.mergeDeletes);
      if (!deletes || !s.target || !cfg.vectorTables.some((t) => matchesTable(t, s.target!, true))) return undefined;
      if (s.kind === 'MERGE') return `MERGE ... DELETE on vector table ${name(s.target)} is not allowed; delete by id`;
      if (s.whereNarrowsBy.some((c) => cfg.vectorIdColumns.includes(c))) return undefined;
      return `DELETE from vector table ${name(s.target)} must name its rows by ${cfg.vectorIdColumns.join(' or ')} (e.g. WHERE id = ... or id IN (...))`;
    },
  },
  {
    id: 'dynamic-sql',
    check: (s) => {
      if (s.dynamicSql)
        return `${s.kind === 'DO' ? 'DO block' : 'function body'} runs dynamic SQL (EXECUTE), which cannot be checked`;
      if (s.opaqueBody)
        return `${s.kind === 'DO' ? 'DO block' : 'function body'} in language "${s.language}" cannot be checked`;
      const fn = called(s, (f) => SQL_TEXT_FUNCTIONS.has(f));
      return fn ? `${fn}() reads tables or runs SQL given as text, which cannot be checked` : undefined;
    },
  },
  {
    id: 'unknown-prepared-statement',
    check: (s) =>
      s.unresolvedExecute ? `EXECUTE of prepared statement "${s.executeName}" whose PREPARE was not seen` : undefined,
  },
];

/**
 * A bare "name" matches that table in any schema; "schema.name" matches it written with that
 * schema. `loose` (for masks and refusals, never for allow rules) also matches it written without
 * a schema, which the search path may resolve to it, and in any letter case: SQL folds unquoted
 * names to lower case, so a policy's "Customers" means the table its writer calls Customers.
 */
export function matchesTable(pattern: string, t: TableRef, loose = false): boolean {
  const same = nameComparer(loose);
  const dot = pattern.lastIndexOf('.');
  if (dot === -1) return same(pattern, t.name);
  return same(pattern.slice(dot + 1), t.name) && (same(pattern.slice(0, dot), t.schema) || (loose && t.schema === undefined));
}

/** Names compared as masks and refusals compare them: in any letter case (see matchesTable). */
export function sameIgnoringCase(a: string, b: string | undefined): boolean {
  return b !== undefined && (a === b || a.toLowerCase() === b.toLowerCase());
}

const sameExactly = (a: string, b: string | undefined): boolean => a === b;

/** How a rule compares a name it lists with one a statement uses: `loose` as matchesTable says. */
export function nameComparer(loose: boolean): (listed: string, used: string | undefined) => boolean {
  return loose ? sameIgnoringCase : sameExactly;
}

/** The first guardrail (not relaxed) that refuses the statement. */
export function checkGuardrails(
  s: StatementFacts,
  settings: GuardrailSettings,
  relaxed: ReadonlySet<string>,
): { id: GuardrailId; reason: string } | undefined {
  for (const g of GUARDRAILS) {
    if (relaxed.has(g.id)) continue;
    const reason = g.check(s, settings);
    if (reason) return { id: g.id, reason };
  }
  return undefined;
}
