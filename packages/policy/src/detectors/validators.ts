import { isValidIBAN } from 'ibantools';

/** The ASCII digits of `s`, in order. */
export function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) out += s[i];
  }
  return out;
}

/** Luhn (mod 10) over the digits of `s`, ignoring any other character. */
export function luhn(s: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits > 0 && sum % 10 === 0;
}

/** IBAN checksum and country format (ibantools), ignoring spaces. */
export function iban(s: string): boolean {
  return isValidIBAN(s.replace(/[\s-]/g, '').toUpperCase());
}

/**
 * US Social Security Number validity: area not 000, 666 or 900-999; group not 00; serial not 0000.
 * `s` holds exactly nine digits, possibly with separators.
 */
export function ssn(s: string): boolean {
  const d = digitsOf(s);
  if (d.length !== 9) return false;
  const area = Number(d.slice(0, 3));
  const group = d.slice(3, 5);
  const serial = d.slice(5);
  return area !== 0 && area !== 666 && area < 900 && group !== '00' && serial !== '0000';
}

/** IPv4 dotted quad with every octet 0-255 and no leading zeros. */
export function ipv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === '0')) return false;
    if (Number(p) > 255) return false;
  }
  return true;
}

/** IPv6 text form (RFC 4291 section 2.2), including `::` compression and a trailing IPv4. */
export function ipv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (i === all.length - 1 && g.includes('.')) {
      if (!ipv4(g)) return false;
      count += 2;
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
    count++;
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export const VALIDATORS = { luhn, iban, ssn } as const;
export type ValidatorName = keyof typeof VALIDATORS;
