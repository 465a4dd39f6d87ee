import { PgType } from '@portcullis/policy';

/**
 * The text of a binary-format value that can hold an entity outside text columns: bigint,
 * numeric, and one-dimensional or nested arrays of those or of text and JSON (elements joined with
 * commas, as the text format's `{a,b}` would show them). Undefined for other types and for bytes
 * that are not what the type says.
 *
 * Hand-written: pg-types' binary parsers give numeric as a JavaScript number, which loses the
 * digits of a 16-digit card number, and have no bound on what they allocate.
 */
export function binaryValueText(typeOid: number, buffer: Buffer, start: number, end: number): string | undefined {
  const element = ARRAY_ELEMENTS.get(typeOid);
  if (element !== undefined) return arrayText(element, buffer, start, end);
  return scalarText(typeOid, buffer, start, end);
}

/** Array type OID → element type OID (pg_type.typarray), for the element types decoded here. */
const ARRAY_ELEMENTS = new Map<number, number>([
  [1016, PgType.int8],
  [1231, PgType.numeric],
  [1009, PgType.text],
  [1015, PgType.varchar],
  [1014, PgType.bpchar],
  [1003, PgType.name],
  [1002, PgType.char],
  [143, PgType.xml],
  [199, PgType.json],
  [3807, PgType.jsonb],
]);

const TEXT_ELEMENTS: ReadonlySet<number> = new Set([
  PgType.text,
  PgType.varchar,
  PgType.bpchar,
  PgType.name,
  PgType.char,
  PgType.xml,
  PgType.json,
]);

function scalarText(typeOid: number, buffer: Buffer, start: number, end: number): string | undefined {
  const length = end - start;
  switch (typeOid) {
    case PgType.int8:
      return length === 8 ? buffer.readBigInt64BE(start).toString() : undefined;
    case PgType.numeric:
      return numericText(buffer, start, end);
    case PgType.jsonb:
      return length > 0 && buffer[start] === 1 ? buffer.toString('utf8', start + 1, end) : undefined;
    default:
      return TEXT_ELEMENTS.has(typeOid) ? buffer.toString('utf8', start, end) : undefined;
  }
}

const NUMERIC_NEGATIVE = 0x4000;
const NUMERIC_POSITIVE = 0x0000;
/**
 * Runs of zero groups past the stored digits (1e131071 is ten bytes) are written out this far at
 * most: 20 zeros already part any entity (at most 19 digits) from what follows, so the text
 * reads the same to the detectors, and its length stays within twice the value's bytes.
 */
const MAX_ZERO_GROUPS = 5;

/**
 * numeric_send: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000 digits; the
 * value is the sum of digit[i] × 10000^(weight − i). Printed as numeric_out prints it (dscale
 * decimals), except that long zero runs are cut short and stored digits past dscale, which
 * PostgreSQL never sends, are kept rather than dropped. NaN and ±Infinity hold no digits.
 */
function numericText(buffer: Buffer, start: number, end: number): string | undefined {
  if (end - start < 8) return undefined;
  const ndigits = buffer.readInt16BE(start);
  const weight = buffer.readInt16BE(start + 2);
  const sign = buffer.readUInt16BE(start + 4);
  const dscale = buffer.readInt16BE(start + 6);
  if (ndigits < 0 || dscale < 0 || end - start !== 8 + 2 * ndigits) return undefined;
  if (sign !== NUMERIC_POSITIVE && sign !== NUMERIC_NEGATIVE) return undefined;
  const group = (i: number): string => String(buffer.readInt16BE(start + 8 + 2 * i)).padStart(4, '0');
  const zeroGroups = (count: number): string => '0000'.repeat(Math.min(Math.max(count, 0), MAX_ZERO_GROUPS));

  let integer = '0';
  if (weight >= 0 && ndigits > 0) {
    const stored = Math.min(weight, ndigits - 1);
    integer = String(buffer.readInt16BE(start + 8));
    for (let i = 1; i <= stored; i++) integer += group(i);
    integer += zeroGroups(weight - stored);
  }
  let fraction = zeroGroups(-weight - 1);
  for (let i = Math.max(weight + 1, 0); i < ndigits; i++) fraction += group(i);
  const significant = fraction.replace(/0+$/, '').length;
  const decimals = Math.max(dscale, significant);
  fraction =
    fraction.length >= decimals
      ? fraction.slice(0, decimals)
      : fraction + '0'.repeat(Math.min(decimals - fraction.length, 4 * MAX_ZERO_GROUPS));
  return `${sign === NUMERIC_NEGATIVE ? '-' : ''}${integer}${fraction ? `.${fraction}` : ''}`;
}

/**
 * array_send: ndim, has-nulls flag, element type (int32 each), then (size, lower bound) per
 * dimension, then every element as an int32 length (−1 for NULL) and its bytes.
 */
function arrayText(element: number, buffer: Buffer, start: number, end: number): string | undefined {
  if (end - start < 12) return undefined;
  const ndim = buffer.readInt32BE(start);
  if (ndim < 0 || ndim > 6 || buffer.readInt32BE(start + 8) !== element) return undefined;
  let offset = start + 12 + 8 * ndim;
  if (offset > end) return undefined;
  const texts: string[] = [];
  while (offset + 4 <= end) {
    const length = buffer.readInt32BE(offset);
    offset += 4;
    if (length < 0) continue;
    if (offset + length > end) return undefined;
    const text = scalarText(element, buffer, offset, offset + length);
    if (text === undefined) return undefined;
    texts.push(text);
    offset += length;
  }
  return offset === end ? texts.join(',') : undefined;
}
