import { createHmac } from 'node:crypto';
import type { EntityType, MaskStyle } from '../entities.js';

/** Hex characters of the keyed hash kept in masked output (64 bits: collisions are negligible for joins). */
export const HASH_HEX_LENGTH = 16;

/**
 * Keyed HMAC-SHA256 of a value, as short stable hex. Separators are removed first so that
 * "4111 1111 1111 1111" and "4111-1111-1111-1111" hash alike (joins and counts still work).
 */
export function keyedHash(key: string | Uint8Array, value: string): string {
  const normalized = /^[\d\s().+-]+$/.test(value) ? value.replace(/\D/g, '') : value.trim().toLowerCase();
  return createHmac('sha256', key).update(normalized).digest('hex').slice(0, HASH_HEX_LENGTH);
}

/** Keeps the last four letters or digits, stars the others, keeps separators as they are. */
export function partial(value: string, entity?: EntityType): string {
  if (entity === 'EMAIL') {
    const at = value.indexOf('@');
    return `${value[0]}***${value.slice(at)}`;
  }
  let keep = 4;
  let out = '';
  for (let i = value.length - 1; i >= 0; i--) {
    const c = value[i]!;
    if (/[A-Za-z0-9]/.test(c)) {
      out = (keep > 0 ? c : '*') + out;
      keep--;
    } else {
      out = c + out;
    }
  }
  // Short values would be shown whole: star them entirely instead.
  return value.replace(/[^A-Za-z0-9]/g, '').length <= 4 ? value.replace(/[A-Za-z0-9]/g, '*') : out;
}

/** The replacement for one value found inside text. */
export function maskInText(
  value: string,
  entity: EntityType,
  style: MaskStyle,
  hashKey: string | Uint8Array | undefined,
): string {
  switch (style) {
    case 'redact':
      return `[${entity}]`;
    case 'partial':
      return partial(value, entity);
    case 'hash':
      if (hashKey === undefined) throw new Error('masking style "hash" needs a hash key');
      return `[${entity}:${keyedHash(hashKey, value)}]`;
    case 'null':
      return '';
  }
}
