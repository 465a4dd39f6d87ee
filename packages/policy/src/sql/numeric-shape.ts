/**
 * `sql` with every numeric literal replaced by `0`, or undefined when it has none (or when the
 * text is unusual enough that we would rather not say).
 *
 * Why: clients that inline constants (pgbench -S, psql users, some ORMs) send a new text for
 * every statement, and parsing is the costly step of a decision. Replacing one numeric constant
 * by another never changes a parse tree's shape, so every fact the analysis reports (kinds,
 * tables, columns, functions, WHERE/LIMIT, bodies) is the same for two texts with the same shape.
 * Strings, quoted identifiers, dollar-quoted bodies and comments are copied verbatim, and digits
 * that belong to an identifier (`t1`) or a parameter (`$1`) are not literals, so a table or a
 * function body can never share a shape with another one.
 */
export function numericShape(sql: string): string | undefined {
  let out = '';
  let copiedUpTo = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === QUOTE) {
      // E'...' strings take backslash escapes; the prefix letter sits right before the quote.
      const escaped = i > 0 && (sql.charCodeAt(i - 1) | 0x20) === 0x65 && !isIdentChar(sql.charCodeAt(i - 2));
      const end = skipQuoted(sql, i, QUOTE, escaped);
      if (end < 0) return undefined;
      i = end;
    } else if (c === DOUBLE_QUOTE) {
      const end = skipQuoted(sql, i, DOUBLE_QUOTE, false);
      if (end < 0) return undefined;
      i = end;
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const end = skipBlockComment(sql, i);
      if (end < 0) return undefined;
      i = end;
    } else if (c === DOLLAR && !isIdentChar(sql.charCodeAt(i - 1))) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 65));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        if (close < 0) return undefined;
        i = close + tag[0].length;
      } else {
        i++; // a parameter ($1): its digits are skipped below as part of an identifier-like run
      }
    } else if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)))) {
      if (isIdentChar(sql.charCodeAt(i - 1)) || sql.charCodeAt(i - 1) === DOLLAR) {
        i++;
        continue;
      }
      const end = numberEnd(sql, i);
      // `1abc` and friends: not worth second-guessing the lexer.
      if (isIdentChar(sql.charCodeAt(end)) || sql.charCodeAt(end) === DOT) return undefined;
      out += sql.slice(copiedUpTo, i) + '0';
      copiedUpTo = end;
      i = end;
    } else {
      i++;
    }
  }
  return copiedUpTo === 0 ? undefined : out + sql.slice(copiedUpTo);
}

const QUOTE = 39;
const DOUBLE_QUOTE = 34;
const DASH = 45;
const SLASH = 47;
const STAR = 42;
const DOLLAR = 36;
const DOT = 46;
const BACKSLASH = 92;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** NaN (before the start or past the end) is not an identifier character. */
function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

/** Index just past the closing quote (doubled quotes are escapes), or -1 if it never closes. */
function skipQuoted(sql: string, start: number, quote: number, backslashEscapes: boolean): number {
  for (let i = start + 1; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    if (backslashEscapes && c === BACKSLASH) {
      i++;
    } else if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) i++;
      else return i + 1;
    }
  }
  return -1;
}

/** Block comments nest in PostgreSQL. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  for (let i = start; i < sql.length - 1; i++) {
    if (sql.charCodeAt(i) === SLASH && sql.charCodeAt(i + 1) === STAR) {
      depth++;
      i++;
    } else if (sql.charCodeAt(i) === STAR && sql.charCodeAt(i + 1) === SLASH) {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Integer, decimal or exponent forms, with PostgreSQL 16's `_` separators and 0x/0o/0b. */
function numberEnd(sql: string, start: number): number {
  const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/.exec(
    sql.slice(start, start + 128),
  );
  return start + (m ? m[0].length : 1);
}
