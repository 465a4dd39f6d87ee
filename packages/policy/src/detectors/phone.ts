import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Detector } from './builtin.js';
import { countDigits } from './builtin.js';
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

/** Phone numbers valid for their region (libphonenumber-js, full metadata); national ones read in `region`. */
export function phoneDetector(region: string): Detector {
  const defaultCountry = region as CountryCode;
  return {
    entity: 'PHONE',
    find(text, out) {
      if (countDigits(text, 7) < 7) return;
      for (const m of text.matchAll(CANDIDATE)) {
        const digits = countDigits(m[0], 16);
        if (digits < 7 || digits > 15) continue;
        const dateLike = m[0][0] !== '+' && DATE_LIKE.test(m[0]);
        if (SSN_SHAPE.test(m[0])) continue;
        // The candidate is tight already, so parsing it whole is enough (and twice as fast as
        // findPhoneNumbersInText, which searches again inside it).
        if (!parsePhoneNumberFromString(m[0], defaultCountry)?.isValid()) continue;
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
