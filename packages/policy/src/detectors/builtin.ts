import type { Finding } from '../entities.js';
import { clamp01, hasContext } from './context.js';
import { digitsOf, iban, ipv4, ipv6, luhn, ssn } from './validators.js';

/** One detector: appends what it finds in `text` to `out`. Pure and reentrant. */
export interface Detector {
  readonly entity: string;
  find(text: string, out: Finding[]): void;
}

/**
 * Every match of a global regex in `text`, as `matchAll` gives them, without the new regex that
 * `matchAll` builds on every call (it showed in profiles of scans of short strings). Uses the
 * regex's lastIndex, so one regex must not be scanned with it from within itself.
 */
export function allMatches(re: RegExp, text: string): RegExpExecArray[] {
  const found: RegExpExecArray[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    found.push(m);
    // An empty match does not move lastIndex: step over it (a whole code point in unicode mode).
    if (m[0].length === 0)
      re.lastIndex += (re.unicode || re.flags.includes('v')) && isPairAt(text, re.lastIndex) ? 2 : 1;
  }
  return found;
}

function isPairAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
}

/** Counts ASCII digits, stopping early once `enough` is reached (a cheap prefilter). */
export function countDigits(text: string, enough: number): number {
  let n = 0;
  for (let i = 0; i < text.length && n < enough; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

// ---- CREDIT_CARD -----------------------------------------------------------------------------

const CARD_CONTEXT = ['card', 'credit', 'visa', 'mastercard', 'amex', 'cc', 'payment', 'pan'];
// 13-19 digits, single spaces or dashes allowed between digits; grouping is checked afterwards.
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d]|-\d)/g;

function knownCardPrefix(d: string): boolean {
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  const p3 = Number(d.slice(0, 3));
  if (d[0] === '4') return d.length === 13 || d.length === 16 || d.length === 19; // Visa
  if (p2 >= 51 && p2 <= 55) return d.length === 16; // Mastercard
  if (p4 >= 2221 && p4 <= 2720) return d.length === 16;
  if (p2 === 34 || p2 === 37) return d.length === 15; // Amex
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return d.length >= 16; // Discover
  if (p4 >= 3528 && p4 <= 3589) return d.length >= 16; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38) return d.length >= 14; // Diners
  if (p2 === 62) return d.length >= 16; // UnionPay
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return d.length >= 12; // Maestro
  return false;
}

/**
 * Separated numbers must be grouped like printed cards: 4-4-4-4(-3), 4-6-5 or 4-6-4. `raw` is a
 * CARD match: digits with single spaces or dashes between them.
 */
function cardGrouping(raw: string): boolean {
  const lens: number[] = [];
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 32 || c === 45) {
      lens.push(n);
      n = 0;
    } else n++;
  }
  if (lens.length === 0) return true;
  lens.push(n);
  if (lens.length === 3 && lens[0] === 4 && lens[1] === 6 && (n === 5 || n === 4)) return true;
  return lens.every((len, i) => len === 4 || (i === lens.length - 1 && len >= 1 && len <= 4));
}

export const creditCard: Detector = {
  entity: 'CREDIT_CARD',
  find(text, out) {
    if (countDigits(text, 13) < 13) return;
    for (const m of allMatches(CARD, text)) {
      const raw = m[0];
      const digits = digitsOf(raw);
      if (digits.length < 13 || digits.length > 19 || !cardGrouping(raw) || !luhn(digits)) continue;
      const start = m.index;
      let confidence = knownCardPrefix(digits) ? 0.9 : 0.4;
      if (hasContext(text, start, CARD_CONTEXT)) confidence += 0.3;
      out.push({ entity: 'CREDIT_CARD', start, end: start + raw.length, confidence: clamp01(confidence) });
    }
  },
};

// ---- US_SSN ----------------------------------------------------------------------------------

const SSN_CONTEXT = ['ssn', 'social security', 'social sec', 'ss#', 'taxpayer', 'tin'];
const SSN = /(?<![\d-])\d{3}([- ]?)\d{2}\1\d{4}(?![\d]|-\d)/g;

export const usSsn: Detector = {
  entity: 'US_SSN',
  find(text, out) {
    if (countDigits(text, 9) < 9) return;
    for (const m of allMatches(SSN, text)) {
      if (!ssn(m[0])) continue;
      const start = m.index;
      let confidence = m[1] ? 0.6 : 0.3;
      if (hasContext(text, start, SSN_CONTEXT)) confidence += 0.4;
      out.push({ entity: 'US_SSN', start, end: start + m[0].length, confidence: clamp01(confidence) });
    }
  },
};

// ---- EMAIL -----------------------------------------------------------------------------------

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/;

/** Expands around each '@' instead of scanning local parts from every position (stays linear). */
export const email: Detector = {
  entity: 'EMAIL',
  find(text, out) {
    let at = text.indexOf('@');
    while (at !== -1) {
      let s = at;
      while (s > 0 && at - s < 64 && LOCAL_CHAR.test(text[s - 1]!)) s--;
      while (s < at && (text[s] === '.' || text[s] === '-')) s++;
      const dm = DOMAIN.exec(text.slice(at + 1, at + 256));
      // user:password@host in a URL is a credential, not an address (the SECRET detector has it).
      const scheme = text.lastIndexOf('://', s);
      const inUrl = text[s - 1] === ':' && scheme !== -1 && !/\s/.test(text.slice(scheme, s));
      if (s < at && dm && !inUrl) {
        out.push({ entity: 'EMAIL', start: s, end: at + 1 + dm[0].length, confidence: 0.95 });
      }
      at = text.indexOf('@', at + 1);
    }
  },
};

// ---- IBAN ------------------------------------------------------------------------------------

const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g;

export const ibanDetector: Detector = {
  entity: 'IBAN',
  find(text, out) {
    if (countDigits(text, 2) < 2) return; // the check digits
    for (const m of allMatches(IBAN, text)) {
      if (!iban(m[0])) continue;
      out.push({ entity: 'IBAN', start: m.index, end: m.index + m[0].length, confidence: 0.95 });
    }
  },
};

// ---- IP_ADDRESS ------------------------------------------------------------------------------

const IP_CONTEXT = ['ip', 'address', 'host', 'client', 'remote', 'src', 'dst', 'from'];
const VERSION_CONTEXT = ['version', 'ver ', 'v.', 'release', 'build'];
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)/g;
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]*(?![\w:])/g;

export const ipAddress: Detector = {
  entity: 'IP_ADDRESS',
  find(text, out) {
    if (atLeast(text, '.', 3)) {
      for (const m of allMatches(IPV4, text)) {
        if (!ipv4(m[0])) continue;
        const start = m.index;
        let confidence = 0.7;
        if (text[start - 1] === 'v' || text[start - 1] === 'V' || hasContext(text, start, VERSION_CONTEXT, 16))
          confidence = 0.2;
        else if (hasContext(text, start, IP_CONTEXT)) confidence += 0.2;
        out.push({ entity: 'IP_ADDRESS', start, end: start + m[0].length, confidence });
      }
    }
    if (atLeast(text, ':', 2)) {
      for (const m of allMatches(IPV6, text)) {
        const v = m[0].endsWith('.') ? m[0].slice(0, -1) : m[0];
        if (!/[0-9A-Fa-f]/.test(v) || !ipv6(v)) continue;
        out.push({ entity: 'IP_ADDRESS', start: m.index, end: m.index + v.length, confidence: 0.85 });
      }
    }
  },
};

/** Whether `char` occurs `n` times or more in `text`: both address forms need several separators. */
function atLeast(text: string, char: string, n: number): boolean {
  for (let i = text.indexOf(char); i !== -1; i = text.indexOf(char, i + 1)) if (--n === 0) return true;
  return false;
}

// ---- DATE_OF_BIRTH ---------------------------------------------------------------------------

const DOB_CONTEXT = ['born', 'dob', 'd.o.b', 'date of birth', 'birth date', 'birthdate', 'birthday', 'birth'];
const MONTH = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\\.?';
const DATE = new RegExp(
  `\\b(?:\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}|\\d{1,2}[-/.]\\d{1,2}[-/.](?:\\d{4}|\\d{2})|${MONTH} \\d{1,2}(?:st|nd|rd|th)?,? \\d{4}|\\d{1,2}(?:st|nd|rd|th)? (?:of )?${MONTH},? \\d{4})\\b`,
  'gi',
);

/** Dates are everywhere (timestamps, logs): only a date right after a birth word counts. */
export const dateOfBirth: Detector = {
  entity: 'DATE_OF_BIRTH',
  find(text, out) {
    if (countDigits(text, 4) < 4) return; // the shortest date, 1/2/34, has four digits
    for (const m of allMatches(DATE, text)) {
      if (!hasContext(text, m.index, DOB_CONTEXT, 32)) continue;
      out.push({ entity: 'DATE_OF_BIRTH', start: m.index, end: m.index + m[0].length, confidence: 0.85 });
    }
  },
};

// ---- MEDICAL_RECORD_NUMBER and custom regex detectors -----------------------------------------

export interface PatternDetectorSpec {
  entity: string;
  pattern: string;
  flags?: string;
  validator?: (value: string) => boolean;
  contextWords?: readonly string[];
  /** Confidence without context words; context adds `contextBoost`. */
  confidence: number;
  contextBoost: number;
  /** Fewest digits any match of `pattern` holds: texts with fewer are not searched. */
  minDigits?: number;
}

export function patternDetector(spec: PatternDetectorSpec): Detector {
  const flags = new Set((spec.flags ?? '').split(''));
  flags.add('g');
  flags.delete('y');
  const re = new RegExp(spec.pattern, [...flags].join(''));
  const words = (spec.contextWords ?? []).map((w) => w.toLowerCase());
  return {
    entity: spec.entity,
    find(text, out) {
      if (spec.minDigits && countDigits(text, spec.minDigits) < spec.minDigits) return;
      for (const m of allMatches(re, text)) {
        if (m[0].length === 0) continue;
        if (spec.validator && !spec.validator(m[0])) continue;
        let confidence = spec.confidence;
        if (hasContext(text, m.index, words)) confidence += spec.contextBoost;
        if (confidence <= 0) continue;
        out.push({ entity: spec.entity, start: m.index, end: m.index + m[0].length, confidence: clamp01(confidence) });
      }
    },
  };
}

export const DEFAULT_MRN = {
  pattern: '\\b(?:[A-Z]{1,3}-?)?\\d{6,10}\\b',
  minDigits: 6,
  contextWords: [
    'mrn',
    'medical record',
    'patient id',
    'patient no',
    'patient number',
    'chart no',
    'chart number',
    'record no',
  ],
};
