import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Detector } from './builtin.js';
import { allMatches, countDigits } from './builtin.js';
import { clamp01, hasContext } from './context.js';

const PHONE_CONTEXT = ['phone', 'tel', 'call', 'mobile', 'cell', 'fax', 'contact', 'whatsapp', 'sms', 'text me'];
// Words before a number that say it is an identifier, not a phone number.
const NOT_PHONE_CONTEXT = ['order', 'invoice', 'ref', 'ticket', '#', 'id:', 'id ', 'no.', 'build', 'version', 'port'];

// Cheap candidate finder: an optional +country code, optional (area), then 2-4 digit groups with
// single separators. libphonenumber only sees these short candidates, never the whole text.
const CANDIDATE = /(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,5}){1,5}(?![\w]|[.-]\d)/g;
// 2024-05-01, 20240501...: dates and date-stamped identifiers, not phone numbers.
const SSN_SHAPE = /^\d{3}-\d{2}-\d{4}$/;
const DATE_LIKE = /^(?:19|20)\d\d[-/.]?(?:0[1-9]|1[0-2])[-/.]?(?:0[1-9]|[12]\d|3[01])/;

// Verdicts remembered per candidate: libphonenumber's parse is the costliest step of a scan, and
// the same candidates come back often (a stream masker rescans its held tail on every token,
// chat clients resend the whole conversation each turn). Bounded, least recently used out first.
const MAX_REMEMBERED = 4096;

/** Phone numbers valid for their region (libphonenumber-js, full metadata); national ones read in `region`. */
export function phoneDetector(region: string): Detector {
  const defaultCountry = region as CountryCode;
  const verdicts = new Map<string, boolean>();
  const isValid = (candidate: string): boolean => {
    let valid = verdicts.get(candidate);
    if (valid !== undefined) {
      verdicts.delete(candidate);
    } else {
      // The candidate is tight already, so parsing it whole is enough (and twice as fast as
      // findPhoneNumbersInText, which searches again inside it).
      valid = parsePhoneNumberFromString(candidate, defaultCountry)?.isValid() ?? false;
      if (verdicts.size >= MAX_REMEMBERED) verdicts.delete(verdicts.keys().next().value!);
    }
    verdicts.set(candidate, valid);
    return valid;
  };
  return {
    entity: 'PHONE',
    find(text, out) {
      if (countDigits(text, 7) < 7) return;
      for (const m of allMatches(CANDIDATE, text)) {
        const digits = countDigits(m[0], 16);
        if (digits < 7 || digits > 15) continue;
        const dateLike = m[0][0] !== '+' && DATE_LIKE.test(m[0]);
        if (SSN_SHAPE.test(m[0])) continue;
        if (!isValid(m[0])) continue;
        const start = m.index;
        let confidence = 0.6;
        if (hasContext(text, start, PHONE_CONTEXT)) confidence += 0.3;
        else if (dateLike) confidence -= 0.5;
        else if (hasContext(text, start, NOT_PHONE_CONTEXT, 12)) confidence -= 0.4;
        out.push({ entity: 'PHONE', start, end: start + m[0].length, confidence: clamp01(confidence) });
      }
    },
  };
}
