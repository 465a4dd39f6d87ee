import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScanner } from '../detectors/scanner.js';
import { createMaskContext, maskText } from './text.js';
import { createStreamMasker, MAX_HOLD } from './stream.js';
import { SECRETS } from '../testing/corpus.js';

const ctx = createMaskContext({ scanner: createScanner() });

// One stream per entity type, the value in the middle of ordinary text.
const STREAMS: [entity: string, value: string, text: string][] = [
  ['CREDIT_CARD', '4111 1111 1111 1111', 'Sure! The card on file is 4111 1111 1111 1111, expiring soon.'],
  ['CREDIT_CARD', '378282246310005', 'Amex 378282246310005 was charged'],
  ['CREDIT_CARD', '5555-5555-5555-4444', 'mc:5555-5555-5555-4444'],
  ['US_SSN', '078-05-1121', 'Her SSN is 078-05-1121 per the file.'],
  ['US_SSN', '078051121', 'SSN 078051121'],
  ['EMAIL', 'jane.doe@example.com', 'Write to jane.doe@example.com today'],
  ['PHONE', '(415) 555-2671', 'Call (415) 555-2671 now'],
  ['PHONE', '+44 20 7946 0958', 'London office: +44 20 7946 0958.'],
  ['IBAN', 'DE89 3704 0044 0532 0130 00', 'Pay to DE89 3704 0044 0532 0130 00 please'],
  ['IP_ADDRESS', '192.168.10.20', 'client ip 192.168.10.20 logged in'],
  ['IP_ADDRESS', '2001:db8::8a2e:370:7334', 'from 2001:db8::8a2e:370:7334 ok'],
  ['DATE_OF_BIRTH', '12 March 1990', 'She was born on 12 March 1990 in Oslo'],
  ['MEDICAL_RECORD_NUMBER', '00123456', 'MRN: 00123456 admitted'],
  ['PERSON', 'John Smith', 'Patient John Smith was discharged'],
  ['SECRET', 'AKIAIOSFODNN7EXAMPLE', 'aws key AKIAIOSFODNN7EXAMPLE in config'],
  ['SECRET', 'hunter2!x', 'password=hunter2!x done'],
  ['SECRET', SECRETS[14]!, `token ${SECRETS[14]} end`], // a JWT longer than the hold limit
  ['SECRET', SECRETS[15]!.split('\n')[1]!, `key:\n${SECRETS[15]}\nbye`], // a private key block
];

function leaks(out: string, value: string): boolean {
  if (out.includes(value)) return true;
  const digits = value.replace(/\D/g, '');
  return digits.length >= 9 && out.replace(/\D/g, '').includes(digits) && !value.match(/[A-Za-z]/);
}

function run(chunks: string[]): { out: string; maxHeld: number } {
  const m = createStreamMasker(ctx);
  let out = '';
  let fed = 0;
  let maxHeld = 0;
  for (const c of chunks) {
    fed += c.length;
    out += m.push(c);
    maxHeld = Math.max(maxHeld, fed - out.length);
  }
  return { out: out + m.end(), maxHeld };
}

test('every split point: no unmasked value is ever emitted, and the result matches maskText', () => {
  for (const [entity, value, text] of STREAMS) {
    const whole = maskText(text, ctx).text;
    assert.ok(!whole.includes(value), `${entity} not masked in one piece: ${whole}`);
    for (let i = 0; i <= text.length; i++) {
      const { out } = run([text.slice(0, i), text.slice(i)]);
      assert.ok(!leaks(out, value), `${entity} leaked when split at ${i}: ${JSON.stringify(out)}`);
      if (value.length <= MAX_HOLD) assert.equal(out, whole, `${entity} split at ${i}`);
    }
  }
});

test('three-way splits and one character at a time', () => {
  for (const [entity, value, text] of STREAMS) {
    const single = run([...text]);
    assert.ok(!leaks(single.out, value), `${entity} leaked char by char: ${single.out}`);
    for (let i = 1; i < text.length; i += 3) {
      for (let j = i + 1; j < text.length; j += 5) {
        const { out } = run([text.slice(0, i), text.slice(i, j), text.slice(j)]);
        assert.ok(!leaks(out, value), `${entity} leaked split at ${i},${j}: ${out}`);
      }
    }
  }
});

test('the card from the issue: "4111 11" then "11 1111 1111"', () => {
  const m = createStreamMasker(ctx);
  const first = m.push('card 4111 11');
  const second = m.push('11 1111 1111');
  const rest = m.end();
  assert.ok(!first.includes('4111') && !second.includes('1111'));
  assert.equal(first + second + rest, 'card [CREDIT_CARD]');
  assert.deepEqual(m.counts(), { CREDIT_CARD: 1 });
});

test('plain text flows with a bounded hold-back', () => {
  const words = 'The quick brown fox jumps over the lazy dog and keeps running through the field. '.repeat(20);
  const { out, maxHeld } = run(words.match(/.{1,7}/gs)!);
  assert.equal(out, words);
  assert.ok(maxHeld <= MAX_HOLD + 7, `held ${maxHeld}`);
});
