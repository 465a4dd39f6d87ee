import type { EntityType, Finding } from '../entities.js';
import {
  creditCard,
  dateOfBirth,
  DEFAULT_MRN,
  email,
  ibanDetector,
  ipAddress,
  patternDetector,
  usSsn,
  type Detector,
} from './builtin.js';
import { person } from './person.js';
import { phoneDetector } from './phone.js';
import { secret } from './secrets.js';
import { VALIDATORS, type ValidatorName } from './validators.js';

export interface CustomDetectorConfig {
  /** Entity name reported and used in mask rules, e.g. EMPLOYEE_ID. */
  name: string;
  pattern: string;
  flags?: string;
  validator?: ValidatorName;
  contextWords?: string[];
  /** Report only when a context word precedes the value. */
  requireContext?: boolean;
}

export interface ScannerConfig {
  /** ISO 3166 region for national phone formats, e.g. "US", "DE". */
  region?: string;
  /** Findings below this confidence are ignored (0..1). */
  minConfidence?: number;
  medicalRecord?: { pattern?: string; contextWords?: string[] };
  custom?: CustomDetectorConfig[];
}

export interface Scanner {
  readonly entities: readonly EntityType[];
  /** Findings sorted by start, without overlaps, at or above the minimum confidence. */
  scan(text: string, only?: ReadonlySet<EntityType>): Finding[];
}

export const DEFAULT_MIN_CONFIDENCE = 0.5;

export function createScanner(config: ScannerConfig = {}): Scanner {
  const minConfidence = config.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const mrn = config.medicalRecord ?? {};
  const detectors: Detector[] = [
    secret,
    creditCard,
    usSsn,
    email,
    ibanDetector,
    phoneDetector(config.region ?? 'US'),
    ipAddress,
    dateOfBirth,
    patternDetector({
      entity: 'MEDICAL_RECORD_NUMBER',
      pattern: mrn.pattern ?? DEFAULT_MRN.pattern,
      contextWords: mrn.contextWords ?? DEFAULT_MRN.contextWords,
      confidence: 0,
      contextBoost: 0.8,
      minDigits: mrn.pattern === undefined ? DEFAULT_MRN.minDigits : undefined,
    }),
    person,
    ...(config.custom ?? []).map((c) =>
      patternDetector({
        entity: c.name,
        pattern: c.pattern,
        flags: c.flags,
        validator: c.validator ? VALIDATORS[c.validator] : undefined,
        contextWords: c.contextWords,
        confidence: c.requireContext ? 0 : 0.8,
        contextBoost: c.requireContext ? 0.8 : 0.2,
      }),
    ),
  ];
  return {
    entities: detectors.map((d) => d.entity),
    scan(text, only) {
      const raw: Finding[] = [];
      for (const d of detectors) {
        if (only && !only.has(d.entity)) continue;
        d.find(text, raw);
      }
      if (raw.length === 0) return raw;
      return resolveOverlaps(raw.filter((f) => f.confidence >= minConfidence));
    },
  };
}

/** Keeps, among overlapping findings, the most confident (then the longest). */
function resolveOverlaps(findings: Finding[]): Finding[] {
  if (findings.length < 2) return findings;
  findings.sort((a, b) => a.start - b.start || b.confidence - a.confidence || b.end - a.end);
  const kept: Finding[] = [];
  for (const f of findings) {
    const last = kept[kept.length - 1];
    if (!last || f.start >= last.end) {
      kept.push(f);
    } else if (
      f.confidence > last.confidence ||
      (f.confidence === last.confidence && f.end - f.start > last.end - last.start)
    ) {
      kept[kept.length - 1] = f;
      // The replacement may now overlap an earlier kept finding too.
      while (kept.length > 1 && kept[kept.length - 2]!.end > f.start) kept.splice(kept.length - 2, 1);
    }
  }
  return kept;
}
