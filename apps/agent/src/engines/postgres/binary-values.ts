import { PgType } from '@portcullis/policy';

/**
 * The text of a binary-format value that can hold an entity outside text columns: integers,
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
  [1005, PgType.int2],
  [1007, PgType.int4],
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
    case PgType.int2:
      return length === 2 ? String(buffer.readInt16BE(start)) : undefined;
    case PgType.int4:
      return length === 4 ? String(buffer.readInt32BE(start)) : undefined;
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
 * numeric_send: ndigits, weight, sign, dscale (int16 each), then ndigits base-10000 digits; the
 * value is the sum of digit[i] × 10000^(weight − i). NaN and ±Infinity hold no digits to find.
 */
function numericText(buffer: Buffer, start: number, end: number): string | undefined {
  if (end - start < 8) return undefined;
  const ndigits = buffer.readInt16BE(start);
  const weight = buffer.readInt16BE(start + 2);
  const sign = buffer.readUInt16BE(start + 4);
  const dscale = buffer.readInt16BE(start + 6);
  if (ndigits < 0 || dscale < 0 || end - start !== 8 + 2 * ndigits) return undefined;
  if (sign !== NUMERIC_POSITIVE && sign !== NUMERIC_NEGATIVE) return undefined;
  const digit = (i: number): number => (i >= 0 && i < ndigits ? buffer.readInt16BE(start + 8 + 2 * i) : 0);
  let integer = '';
  for (let i = 0; i <= weight; i++) integer += i === 0 ? String(digit(i)) : String(digit(i)).padStart(4, '0');
  let fraction = '';
  for (let i = weight + 1; fraction.length < dscale; i++) fraction += String(digit(i)).padStart(4, '0');
  fraction = fraction.slice(0, dscale);
  return `${sign === NUMERIC_NEGATIVE ? '-' : ''}${integer || '0'}${fraction ? `.${fraction}` : ''}`;
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
