/** Entity types the built-in detectors find. Custom detectors add their own names. */
export const BUILTIN_ENTITIES = [
  'CREDIT_CARD',
  'US_SSN',
  'EMAIL',
  'PHONE',
  'IBAN',
  'IP_ADDRESS',
  'DATE_OF_BIRTH',
  'MEDICAL_RECORD_NUMBER',
  'SECRET',
  'PERSON',
] as const;

export type BuiltinEntity = (typeof BUILTIN_ENTITIES)[number];
/** A built-in entity or the name of a custom detector (upper snake case). */
export type EntityType = BuiltinEntity | (string & {});

export const MASK_STYLES = ['redact', 'partial', 'hash', 'null'] as const;
export type MaskStyle = (typeof MASK_STYLES)[number];

/** Where a detector found something. Never carries the matched value itself. */
export interface Finding {
  entity: EntityType;
  start: number;
  end: number;
  confidence: number;
}
