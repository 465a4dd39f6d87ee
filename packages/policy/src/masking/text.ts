import type { EntityType, Finding, MaskStyle } from '../entities.js';
import type { Scanner } from '../detectors/scanner.js';
import { maskInText } from './styles.js';

export interface MaskOptions {
  scanner: Scanner;
  /** Entities to mask; every entity the scanner knows when omitted. */
  entities?: Iterable<EntityType>;
  /** Style for entities without their own; default "redact". */
  style?: MaskStyle;
  styles?: Partial<Record<EntityType, MaskStyle>>;
  /** HMAC key for the "hash" style (from the agent's secrets, never from the policy). */
  hashKey?: string | Uint8Array;
}

/** Prepared masking settings; build once per decision or response, reuse for every chunk. */
export interface MaskContext {
  readonly scanner: Scanner;
  readonly entities: ReadonlySet<EntityType>;
  styleOf(entity: EntityType): MaskStyle;
  readonly hashKey?: string | Uint8Array;
}

export function createMaskContext(options: MaskOptions): MaskContext {
  const entities = new Set(options.entities ?? options.scanner.entities);
  const style = options.style ?? 'redact';
  const styles = options.styles ?? {};
  const ctx: MaskContext = {
    scanner: options.scanner,
    entities,
    styleOf: (entity) => styles[entity] ?? style,
    hashKey: options.hashKey,
  };
  // Fail when the context is built, not in the middle of a response.
  if (options.hashKey === undefined && [...entities].some((e) => ctx.styleOf(e) === 'hash')) {
    throw new Error('masking style "hash" needs a hash key');
  }
  return ctx;
}

/** Where something was masked; never the value itself. Offsets are in the input text. */
export type MaskedFinding = Omit<Finding, 'confidence'>;

export interface MaskResult {
  text: string;
  findings: MaskedFinding[];
}

export function maskText(text: string, ctx: MaskContext): MaskResult {
  const found = ctx.scanner.scan(text, ctx.entities);
  if (found.length === 0) return { text, findings: [] };
  return {
    text: applyFindings(text, found, ctx),
    findings: found.map(({ entity, start, end }) => ({ entity, start, end })),
  };
}

/** Replaces each finding (sorted, non-overlapping) in `text` by its masked form. */
export function applyFindings(text: string, found: readonly Finding[], ctx: MaskContext, offset = 0): string {
  let out = '';
  let pos = offset;
  for (const f of found) {
    out +=
      text.slice(pos, f.start) + maskInText(text.slice(f.start, f.end), f.entity, ctx.styleOf(f.entity), ctx.hashKey);
    pos = f.end;
  }
  return out + text.slice(pos);
}

/**
 * Masks every string (and every number that reads as PII, e.g. a card number sent as a JSON
 * number) inside a parsed JSON value. Keys are left alone. Returns a new value.
 */
export function maskJson(value: unknown, ctx: MaskContext, counts?: Map<EntityType, number>): unknown {
  if (typeof value === 'string') return maskAndCount(value, ctx, counts);
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) >= 1_000_000) {
    const s = String(value);
    const masked = maskAndCount(s, ctx, counts);
    return masked === s ? value : masked;
  }
  if (Array.isArray(value)) return value.map((v) => maskJson(v, ctx, counts));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = maskJson((value as Record<string, unknown>)[k], ctx, counts);
    return out;
  }
  return value;
}

/** `maskText`'s text, with what it masked added to `counts` (entity → values masked). */
export function maskAndCount(s: string, ctx: MaskContext, counts?: Map<EntityType, number>): string {
  const found = ctx.scanner.scan(s, ctx.entities);
  if (found.length === 0) return s;
  if (counts) for (const f of found) counts.set(f.entity, (counts.get(f.entity) ?? 0) + 1);
  return applyFindings(s, found, ctx);
}
