import type { EntityType, Finding } from '../entities.js';
import { CONTEXT_WINDOW } from '../detectors/context.js';
import { applyFindings, type MaskContext } from './text.js';
import { maskInText } from './styles.js';

/** Longest tail held back while waiting for the next chunk (except inside a secret, see below). */
export const MAX_HOLD = 64;

// Tails that could still grow into a match, each anchored at the end of the pending text.
const TAILS: RegExp[] = [
  /[+(]?(?:\d[\d ().\/-]*)?$/, // cards, SSNs, phones, numeric dates, IPv4, record numbers
  /[A-Za-z0-9._%+\-@:\/=]+$/, // e-mail, secrets, URLs with passwords, IBAN and IPv6 groups, words
  /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){0,8} ?$/, // IBAN with spaces
  /\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.? ?$|\b[A-Z][a-z]+(?:[-'][A-Za-z]+)? (?:[A-Z]\. ?)?[A-Za-z'-]*$/, // names
  /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,? ?(?:\d{1,2}(?:st|nd|rd|th)?,? ?)?\d{0,3}$/i, // March 12, 19
  /\b\d{1,2}(?:st|nd|rd|th)? (?:of )?[A-Za-z]{0,9}\.?,? ?\d{0,3}$/, // 12 March 19
  /\b(?:password|passwd|pwd|pass|key|secret|token)["']?\s{0,3}[:=]?\s{0,3}["']?$/i, // password: |
  /-----BEGIN[A-Z ]*-{0,5}$|-{1,5}[A-Z]{0,5}$/, // a private key header in progress
];
// Token-like runs that are secrets from their first characters on; masked as they stream.
const SECRET_PREFIX =
  /^(?:eyJ|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|sk-|[sr]k_(?:live|test)_|AKIA|ASIA|AIza|npm_|SG\.)/;
const TOKEN_CHAR = /[A-Za-z0-9_\-.+/=]/;
const PEM_BEGIN = /-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----/;
const PEM_END = /-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----/;

export interface StreamMasker {
  /** Takes the next chunk; returns the text that is now safe to send (possibly ""). */
  push(chunk: string): string;
  /** No more chunks: returns the rest, masked. */
  end(): string;
  /** How many values of each entity were masked so far. */
  counts(): Partial<Record<EntityType, number>>;
}

/**
 * Masks text that arrives in pieces (SSE tokens, chunked bodies). It holds back only a tail that
 * could still become a match (at most MAX_HOLD characters), so a card number split as "4111 11" |
 * "11 1111 1111" is never sent unmasked. A secret longer than MAX_HOLD (a JWT, a private key) is
 * replaced as soon as it is recognised and the rest of it is swallowed as it arrives.
 */
export function createStreamMasker(ctx: MaskContext): StreamMasker {
  let carry = ''; // raw text already sent, kept for context words only
  let pending = '';
  let swallow: 'none' | 'token' | 'pem' = 'none';
  const counts: Partial<Record<EntityType, number>> = {};

  const count = (f: Finding) => (counts[f.entity] = (counts[f.entity] ?? 0) + 1);
  const sent = (raw: string) => (carry = (carry + raw).slice(-CONTEXT_WINDOW));
  const secretMark = (value: string) => maskInText(value, 'SECRET', ctx.styleOf('SECRET'), ctx.hashKey);

  function drain(final: boolean): string {
    let out = '';
    for (;;) {
      if (swallow === 'pem') {
        const m = PEM_END.exec(pending);
        if (!m) {
          pending = final ? '' : pending.slice(-48); // may hold the start of the END line
          return out;
        }
        pending = pending.slice(m.index + m[0].length);
        swallow = 'none';
        continue;
      }
      if (swallow === 'token') {
        let i = 0;
        while (i < pending.length && TOKEN_CHAR.test(pending[i]!)) i++;
        pending = pending.slice(i);
        if (pending.length === 0) return out;
        swallow = 'none';
        continue;
      }
      const text = carry + pending;
      const off = carry.length;
      const found = ctx.scanner.scan(text, ctx.entities).filter((f) => f.start >= off);
      let hold = final ? text.length : holdStart(text, off);
      for (const f of found) {
        if (f.end >= text.length && !final) hold = Math.min(hold, f.start);
        else if (f.start < hold && f.end > hold) hold = f.start;
      }
      if (text.length - hold > MAX_HOLD) {
        const tail = text.slice(hold);
        const pem = PEM_BEGIN.exec(tail);
        if (pem || SECRET_PREFIX.test(tail) || found.some((f) => f.entity === 'SECRET' && f.start === hold)) {
          out += emit(text, off, hold, found) + secretMark(tail);
          counts.SECRET = (counts.SECRET ?? 0) + 1;
          carry = '';
          pending = pem ? tail.slice(pem.index + pem[0].length) : tail;
          swallow = pem ? 'pem' : 'token';
          continue;
        }
        hold = text.length - MAX_HOLD;
        const straddling = found.find((f) => f.start < hold && f.end > hold);
        if (straddling) hold = straddling.start;
      }
      out += emit(text, off, hold, found);
      pending = text.slice(hold);
      return out;
    }
  }

  function emit(text: string, off: number, upTo: number, found: readonly Finding[]): string {
    if (upTo <= off) return '';
    const inside = found.filter((f) => f.end <= upTo);
    inside.forEach(count);
    const masked = applyFindings(text.slice(0, upTo), inside, ctx, off);
    sent(text.slice(off, upTo));
    return masked;
  }

  return {
    push(chunk) {
      pending += chunk;
      return drain(false);
    },
    end() {
      const rest = drain(true);
      pending = '';
      return rest;
    },
    counts: () => ({ ...counts }),
  };
}

// How far back a tail is looked for: further than MAX_HOLD, so that a long run is seen from its
// start and a secret prefix ("eyJ", "ghp_") is recognised.
const LOOK_BACK = 4 * MAX_HOLD;

function holdStart(text: string, off: number): number {
  const from = Math.max(off, text.length - LOOK_BACK);
  const window = text.slice(from);
  let hold = text.length;
  for (const re of TAILS) {
    const m = re.exec(window);
    if (m) hold = Math.min(hold, from + m.index);
  }
  return hold;
}
