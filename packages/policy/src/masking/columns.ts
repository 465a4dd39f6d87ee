import { createHmac } from 'node:crypto';
import type { EntityType, MaskStyle } from '../entities.js';
import { maskAndCount, maskJson, type MaskContext } from './text.js';
import { keyedHash, partial } from './styles.js';

/** PostgreSQL type OIDs (pg_type.oid) the column masker knows. */
export const PgType = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  inet: 869,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
  unknown: 705,
} as const;

const TEXT_TYPES = new Set<number>([
  PgType.text,
  PgType.varchar,
  PgType.bpchar,
  PgType.name,
  PgType.char,
  PgType.unknown,
  PgType.xml,
]);
const INT_TYPES = new Map<number, number>([
  [PgType.int2, 2],
  [PgType.int4, 4],
  [PgType.int8, 8],
  [PgType.numeric, 8],
  [PgType.float4, 4],
  [PgType.float8, 8],
]);
const DATE_TYPES = new Set<number>([PgType.date, PgType.timestamp, PgType.timestamptz]);

/**
 * What a masked column of a given type carries. The rule: the client always receives either a
 * valid value of the column's own type or NULL, never a string where a number is expected
 * (drivers would fail to decode the row).
 *  - text-like (text, varchar, char, name, xml, unknown): the masked text for every style.
 *  - json/jsonb: a JSON string holding the masked text; "null" gives SQL NULL.
 *  - integers, numeric, floats: "hash" gives a stable integer derived from the keyed hash (fits
 *    the type, so joins and counts keep working); every other style gives NULL (a zero would be
 *    a lie that sums and averages would silently use).
 *  - uuid: "hash" gives a stable UUID derived from the keyed hash; others NULL.
 *  - date/timestamp/timestamptz: "partial" keeps the year (YYYY-01-01); others NULL.
 *  - every other type (bool, bytea, inet, arrays, types of extensions): NULL.
 * In the binary wire format only text-like columns keep a value (their binary form is the same
 * UTF-8 text); every other type becomes NULL rather than re-encoding binary values.
 */
export type ColumnMaskKind = 'null' | 'text' | 'json-string' | 'integer' | 'uuid' | 'year-date';

export function columnMaskKind(typeOid: number, style: MaskStyle, format: 'text' | 'binary' = 'text'): ColumnMaskKind {
  if (style === 'null') return 'null';
  if (TEXT_TYPES.has(typeOid)) return 'text';
  if (format === 'binary') return 'null';
  if (typeOid === PgType.json || typeOid === PgType.jsonb) return 'json-string';
  if (INT_TYPES.has(typeOid)) return style === 'hash' ? 'integer' : 'null';
  if (typeOid === PgType.uuid) return style === 'hash' ? 'uuid' : 'null';
  if (DATE_TYPES.has(typeOid)) return style === 'partial' ? 'year-date' : 'null';
  return 'null';
}

/**
 * Masks one column value given in PostgreSQL's text format. Returns the text to send, or null
 * for SQL NULL. `hashKey` is required for the "hash" style. `label` names what was masked in the
 * redacted form (e.g. the column name, "[REDACTED:email]"); defaults to "REDACTED".
 */
export function maskColumnValue(
  raw: string | null,
  typeOid: number,
  style: MaskStyle,
  options: { hashKey?: string | Uint8Array; format?: 'text' | 'binary'; label?: string } = {},
): string | null {
  if (raw === null) return null;
  const kind = columnMaskKind(typeOid, style, options.format);
  if (kind === 'null') return null;
  if (style === 'hash' && options.hashKey === undefined) throw new Error('masking style "hash" needs a hash key');
  const key = options.hashKey!;
  switch (kind) {
    case 'text':
      return maskedText(raw, style, key, options.label);
    case 'json-string':
      return JSON.stringify(maskedText(raw, style, key, options.label));
    case 'integer': {
      const bytes = INT_TYPES.get(typeOid)!;
      const digest = createHmac('sha256', key).update(raw).digest();
      const n = bytes === 2 ? digest.readInt16BE(0) : bytes === 4 ? digest.readInt32BE(0) : digest.readBigInt64BE(0);
      return String(n);
    }
    case 'uuid': {
      const h = createHmac('sha256', key).update(raw.toLowerCase()).digest('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    }
    case 'year-date': {
      const year = /^\d{4,}/.exec(raw)?.[0];
      if (!year) return null;
      if (typeOid === PgType.date) return `${year}-01-01`;
      return typeOid === PgType.timestamptz ? `${year}-01-01 00:00:00+00` : `${year}-01-01 00:00:00`;
    }
  }
  return null;
}

function maskedText(raw: string, style: MaskStyle, key: string | Uint8Array, label = 'REDACTED'): string {
  if (style === 'partial') return partial(raw);
  if (style === 'hash') return keyedHash(key, raw);
  return `[${label}]`;
}

/**
 * Entity masking for one DataRow cell in text format: text-like columns get the masked text,
 * json/jsonb the masked document, and any other type that holds a finding (a card number in a
 * bigint) gets `maskColumnValue` in the finding's style, so the row still decodes.
 */
export function maskCell(
  raw: string | null,
  typeOid: number,
  ctx: MaskContext,
  counts?: Map<EntityType, number>,
): string | null {
  if (raw === null) return null;
  if (TEXT_TYPES.has(typeOid)) {
    return maskAndCount(raw, ctx, counts);
  }
  if (typeOid === PgType.json || typeOid === PgType.jsonb) {
    try {
      return JSON.stringify(maskJson(JSON.parse(raw), ctx, counts));
    } catch {
      return null; // not JSON after all: send nothing rather than something unmasked
    }
  }
  const found = ctx.scanner.scan(raw, ctx.entities)[0];
  if (!found) return raw;
  if (counts) counts.set(found.entity, (counts.get(found.entity) ?? 0) + 1);
  return maskColumnValue(raw, typeOid, ctx.styleOf(found.entity), { hashKey: ctx.hashKey });
}
