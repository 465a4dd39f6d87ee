import type { Detector } from './builtin.js';
import { clamp01, hasContext } from './context.js';
import { AMBIGUOUS_GIVEN, GIVEN_NAMES, SURNAMES } from './names.js';

const PERSON_CONTEXT = [
  'name',
  'patient',
  'customer',
  'client',
  'contact',
  'signed',
  'dear',
  'employee',
  'user',
  'author',
  'from:',
  'to:',
  'by ',
];
// A capitalised word, then optionally a middle initial and one or two more capitalised words.
const CANDIDATE =
  /\b(?:(Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.? )?([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)((?: [A-Z]\.)?(?: (?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?|[A-Z]'[A-Z][a-z]+)){0,2})/g;

/**
 * People's names from a given-name and surname dictionary, capitalisation and nearby words:
 * "Jane Doe" (both known) is sure, "Jane Whitfield" (given name known) likely, "Mr. Whitfield"
 * (title) likely, a lone "Jane" only after words like "name" or "dear". The title stays visible.
 */
export const person: Detector = {
  entity: 'PERSON',
  find(text, out) {
    const re = CANDIDATE;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      // Not a name here: the next capitalised word may start one ("Patient John Smith").
      const retry = () => (re.lastIndex = m!.index + m![0].indexOf(m![2]!) + m![2]!.length);
      const title = m[1];
      const first = m[2]!;
      const rest = m[3] ?? '';
      const firstLower = first.toLowerCase();
      const restWords = rest.split(' ').filter((w) => w && !/^[A-Z]\.$/.test(w));
      const knownGiven = GIVEN_NAMES.has(firstLower);
      const knownSurname = restWords.some((w) => SURNAMES.has(w.toLowerCase()));
      let confidence: number;
      if (title) confidence = 0.75;
      else if (knownGiven && knownSurname) confidence = 0.85;
      else if (knownGiven && restWords.length > 0 && !AMBIGUOUS_GIVEN.has(firstLower)) confidence = 0.6;
      else if (knownGiven && !AMBIGUOUS_GIVEN.has(firstLower)) confidence = 0.3;
      else if (SURNAMES.has(firstLower) && restWords.length === 0) confidence = 0.1;
      else {
        retry();
        continue;
      }
      const nameStart = m.index + (title ? m[0].indexOf(first) : 0);
      if (hasContext(text, m.index, PERSON_CONTEXT, 24)) confidence += 0.3;
      if (confidence < 0.3) {
        retry();
        continue;
      }
      out.push({ entity: 'PERSON', start: nameStart, end: m.index + m[0].length, confidence: clamp01(confidence) });
    }
  },
};
