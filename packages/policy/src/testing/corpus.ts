// A labelled corpus for detector tests and the benchmark. Values are generated (deterministic
// PRNG) or well-known test values; none belongs to a real person.

export interface Sample {
  text: string;
  /** Values that must be found, with their entity; empty for negatives. */
  expect: { entity: string; value: string }[];
}

let seed = 42;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
}
const digits = (n: number) => Array.from({ length: n }, () => rand(10)).join('');
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;

function luhnComplete(prefix: string, length: number): string {
  const body = prefix + digits(length - prefix.length - 1);
  for (let c = 0; c < 10; c++) {
    const candidate = body + c;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let d = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) return candidate;
  }
  return body;
}

function group(num: string, sizes: number[], sep: string): string {
  const out: string[] = [];
  let i = 0;
  for (const s of sizes) {
    out.push(num.slice(i, i + s));
    i += s;
  }
  if (i < num.length) out.push(num.slice(i));
  return out.join(sep);
}

function ibanFor(country: string, bban: string): string {
  const rearranged = bban + country + '00';
  const numeric = rearranged.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let mod = 0;
  for (const ch of numeric) mod = (mod * 10 + Number(ch)) % 97;
  const check = String(98 - mod).padStart(2, '0');
  return country + check + bban;
}

const letters = (n: number) => Array.from({ length: n }, () => String.fromCharCode(65 + rand(26))).join('');

export function cards(): string[] {
  const specs: [string, number, number[]][] = [
    ['4', 16, [4, 4, 4, 4]],
    ['51', 16, [4, 4, 4, 4]],
    ['55', 16, [4, 4, 4, 4]],
    ['2221', 16, [4, 4, 4, 4]],
    ['2720', 16, [4, 4, 4, 4]],
    ['34', 15, [4, 6, 5]],
    ['37', 15, [4, 6, 5]],
    ['6011', 16, [4, 4, 4, 4]],
    ['65', 16, [4, 4, 4, 4]],
    ['3530', 16, [4, 4, 4, 4]],
    ['36', 14, [4, 6, 4]],
    ['4', 19, [4, 4, 4, 4, 3]],
  ];
  const out: string[] = [];
  for (let i = 0; i < 48; i++) {
    const [prefix, len, sizes] = specs[i % specs.length]!;
    const n = luhnComplete(prefix, len);
    out.push(i % 3 === 0 ? n : group(n, sizes, i % 3 === 1 ? ' ' : '-'));
  }
  return out;
}

export function ssns(): string[] {
  const out: string[] = [];
  while (out.length < 40) {
    const area = 1 + rand(899);
    if (area === 666) continue;
    const g = 1 + rand(99);
    const s = 1 + rand(9999);
    out.push(`${String(area).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`);
  }
  return out;
}

export function ibans(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 10; i++) out.push(ibanFor('DE', digits(18)));
  for (let i = 0; i < 8; i++) out.push(ibanFor('GB', letters(4) + digits(14)));
  for (let i = 0; i < 8; i++) out.push(ibanFor('NL', letters(4) + digits(10)));
  for (let i = 0; i < 6; i++) out.push(ibanFor('AT', digits(16)));
  return out.map((v, i) => (i % 2 === 0 ? v : v.replace(/(.{4})(?=.)/g, '$1 ')));
}

const FIRST = ['john', 'mary', 'ana', 'wei', 'priya', 'oliver', 'sofia', 'david', 'fatima', 'lucas'];
const LAST = ['smith', 'garcia', 'chen', 'patel', 'novak', 'okafor', 'mueller', 'tanaka', 'rossi', 'kim'];
const DOMAINS = ['example.com', 'mail.example.org', 'corp.example.co.uk', 'test.io', 'uni.example.edu'];
export function emails(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 40; i++) {
    const f = pick(FIRST);
    const l = pick(LAST);
    const local = [`${f}.${l}`, `${f}${rand(99)}`, `${f[0]}${l}`, `${f}+news`, `${f}_${l}`][i % 5]!;
    out.push(`${local}@${pick(DOMAINS)}`);
  }
  return out;
}

export const PHONES = [
  '(415) 555-2671',
  '415-555-2671',
  '415.555.2671',
  '+1 415 555 2671',
  '+1-212-555-0198',
  '(212) 736-5000',
  '312-555-0142',
  '+1 (646) 555-0177',
  '617 555 0123',
  '+1 650 253 0000',
  '(202) 456-1111',
  '305-555-0110',
  '+44 20 7946 0958',
  '+44 161 496 0753',
  '+49 30 901820',
  '+49 89 636 48018',
  '+33 1 42 68 53 00',
  '+33 6 12 34 56 78',
  '+81 3-1234-5678',
  '+61 2 9374 4000',
  '+34 912 34 56 78',
  '+39 06 6988 4000',
  '+31 20 794 6000',
  '+46 8 505 600 00',
  '+91 22 2288 2288',
  '+55 11 3040 2000',
  '+1 416 555 0123',
  '+353 1 679 0000',
  '+41 44 668 18 00',
  '+48 22 123 45 67',
];

export const SECRETS = [
  'AKIAIOSFODNN7EXAMPLE',
  'ASIAY34FZKBOKMUTVV7A',
  'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
  'gho_9aZbXcYdWeVfUgThSiRjQkPlOmNnMoLpKqJr',
  'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd',
  'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  'xoxp-1234567890-abcdefABCDEF-0987654321',
  'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  'rk_test_51H8hGfJkLmNoPqRsTuVwXyZ',
  'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY',
  'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z',
  'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345',
  'npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
  'glpat-xY7zAbCdEf12GhIjKl34',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ\nAbCdEfGhIjKlMnOpQrStUvWxYz0123456789==\n-----END RSA PRIVATE KEY-----',
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----',
];

export function samples(): Sample[] {
  const s: Sample[] = [];
  const pos = (entity: string, value: string, text: string) => s.push({ text, expect: [{ entity, value }] });

  const cardTpl = [
    'Card number: {}',
    'paid with {} yesterday',
    'visa {} exp 04/29',
    '{}',
    'cc={};',
    'Charge {} for $12.50',
  ];
  cards().forEach((v, i) => pos('CREDIT_CARD', v, cardTpl[i % cardTpl.length]!.replace('{}', v)));

  const ssnTpl = ['SSN: {}', 'social security number {} on file', 'employee {} onboarding', 'ssn {}'];
  ssns().forEach((v, i) => {
    const value = i % 5 === 4 ? v.replace(/-/g, '') : v; // unformatted ones come with context words
    pos('US_SSN', value, (i % 5 === 4 ? 'Her SSN is {}' : ssnTpl[i % ssnTpl.length]!).replace('{}', value));
  });

  const emailTpl = ['Contact {} for details', 'From: {}', '<{}>', 'reply to {}.', '"email":"{}"'];
  emails().forEach((v, i) => pos('EMAIL', v, emailTpl[i % emailTpl.length]!.replace('{}', v)));

  const phoneTpl = ['Call me at {}', 'phone: {}', 'mobile {} (after 5pm)', 'Office {}', 'tel {}'];
  PHONES.forEach((v, i) => pos('PHONE', v, phoneTpl[i % phoneTpl.length]!.replace('{}', v)));

  const ibanTpl = ['IBAN: {}', 'please wire to {} by Friday', 'Account {}', '{}'];
  ibans().forEach((v, i) => pos('IBAN', v, ibanTpl[i % ibanTpl.length]!.replace('{}', v)));

  const ips = [
    '192.168.1.20',
    '10.0.0.1',
    '172.16.254.3',
    '8.8.8.8',
    '203.0.113.195',
    '2001:db8::1',
    'fe80::1ff:fe23:4567:890a',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    '::ffff:192.0.2.128',
    '100.64.12.9',
    '198.51.100.7',
    '2606:4700:4700::1111',
  ];
  const ipTpl = ['client ip {} connected', 'remote_addr={}', 'from {} port 443', 'host {} unreachable'];
  ips.forEach((v, i) => pos('IP_ADDRESS', v, ipTpl[i % ipTpl.length]!.replace('{}', v)));

  const dobs = [
    '12 March 1990',
    '1985-07-04',
    '03/15/1978',
    'July 4, 1976',
    '1st of May 2001',
    '21.09.1964',
    '2000-02-29',
    'Dec 5, 1999',
  ];
  const dobTpl = ['born on {}', 'DOB: {}', 'date of birth {}', 'Birthday: {}'];
  dobs.forEach((v, i) => pos('DATE_OF_BIRTH', v, dobTpl[i % dobTpl.length]!.replace('{}', v)));
  dobs.forEach((v, i) => pos('DATE_OF_BIRTH', v, dobTpl[(i + 1) % dobTpl.length]!.replace('{}', v)));

  const mrns = ['00123456', 'MR-7654321', '4455667788', 'A1234567', '99887766'];
  const mrnTpl = ['MRN: {}', 'medical record {} updated', 'patient id {}'];
  mrns.forEach((v, i) => pos('MEDICAL_RECORD_NUMBER', v, mrnTpl[i % mrnTpl.length]!.replace('{}', v)));
  mrns.forEach((v, i) => pos('MEDICAL_RECORD_NUMBER', v, mrnTpl[(i + 1) % mrnTpl.length]!.replace('{}', v)));

  const secretTpl = ['export TOKEN={}', 'config: {}', 'key {} leaked', '{}'];
  SECRETS.forEach((v, i) => pos('SECRET', v, secretTpl[i % secretTpl.length]!.replace('{}', v)));
  pos('SECRET', 'hunter2!x', 'password=hunter2!x');
  pos('SECRET', 'Tr0ub4dor&3', '{"password": "Tr0ub4dor&3"}');
  pos('SECRET', 's3cr3tP4ss', 'postgres://app:s3cr3tP4ss@db.internal:5432/prod');
  pos('SECRET', 'q8Zr2LmV9xT4bN7wK1pD5sF3', 'api_key: q8Zr2LmV9xT4bN7wK1pD5sF3');
  pos('SECRET', 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA', 'client_secret=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA');

  const people = [
    'John Smith',
    'Mary Johnson',
    'Maria Garcia',
    'David Lee',
    'Jennifer Brown',
    "Michael O'Brien",
    'Sarah Chen',
    'Robert Taylor',
    'Emily Davis',
    'James Wilson',
    'Priya Patel',
    'Thomas Mueller',
    'Olivia Martin',
    'Daniel Kim',
    'Laura Rossi',
  ];
  const personTpl = [
    'Patient {} was admitted.',
    'Dear {},',
    'signed by {} on Monday',
    '{} called about the invoice',
    'Customer name: {}',
  ];
  people.forEach((v, i) => pos('PERSON', v, personTpl[i % personTpl.length]!.replace('{}', v)));
  pos('PERSON', 'Whitfield', 'seen by Dr. Whitfield today');
  pos('PERSON', 'Okonkwo', 'Mrs. Okonkwo asked for a refund');

  // Several entities in one text.
  const card = cards()[0]!;
  s.push({
    text: `Customer Jane Doe (jane.doe@example.com, 415-555-0133) paid with ${card}; SSN 078-05-1121.`,
    expect: [
      { entity: 'PERSON', value: 'Jane Doe' },
      { entity: 'EMAIL', value: 'jane.doe@example.com' },
      { entity: 'PHONE', value: '415-555-0133' },
      { entity: 'CREDIT_CARD', value: card },
      { entity: 'US_SSN', value: '078-05-1121' },
    ],
  });

  for (const text of NEGATIVES) s.push({ text, expect: [] });
  return s;
}

export const NEGATIVES = [
  // GUIDs and hashes
  'request id 123e4567-e89b-12d3-a456-426614174000 finished',
  '550e8400-e29b-41d4-a716-446655440000',
  'trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7',
  'commit 9fceb02d0ae598e95dc970b74767f19372d61af8',
  'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'etag "33a64df551425fcc55e4d42a148795d9f25f89d4"',
  'md5 d41d8cd98f00b204e9800998ecf8427e',
  'uuid: f47ac10b-58cc-4372-a567-0e02b2c3d479',
  // order numbers, invoices, tracking, SKUs
  'Order #100234 shipped',
  'order ORD-2024-000123 confirmed',
  'Invoice INV-20240501-0042 is due',
  'ticket JIRA-4521 closed',
  'tracking 1Z999AA10123456784',
  'SKU 8806094943013 in stock',
  'PO 4500012345 approved',
  'ref 20240501123456',
  'order number 73920018374 received',
  'Booking ref XK7P2Q for 2 guests',
  'Case 00012345 escalated',
  'batch 2024050112 done',
  // timestamps and dates without birth words
  '2024-05-01 12:30:45',
  '2024-05-01T12:30:45.123Z',
  '[2024-05-01T12:00:00Z] INFO request served',
  'Mon, 01 Jan 2024 10:00:00 GMT',
  'meeting on 12 March 2024',
  'due 03/15/2025',
  'epoch 1714566645',
  'timestamp 1714566645123',
  'updated_at=2023-11-05 08:15:00+00',
  'Q3 2024 results',
  'from 2020-01-01 to 2020-12-31',
  'at 10:45:30 PM',
  'duration 01:02:03.456',
  // version strings
  'version 1.2.3',
  'v2.10.4-beta.1',
  'node v20.19.0',
  'release 1.2.3.4',
  'version 10.0.19045.3570',
  'chrome/124.0.6367.91',
  'libpg-query 18.1.5',
  'build 2024.05.01.1',
  'pnpm 12.4.2',
  'python 3.12.3',
  'api/v1/users/42',
  'semver ^4.6.7',
  // log lines
  'GET /api/v1/items?page=2 200 35ms',
  'INFO worker-3 processed 1532 jobs in 8.2s',
  'WARN pool exhausted: 20/20 connections busy',
  'ERROR code=53400 after 1000 rows',
  'pid=48213 tid=48220 mem=1048576KB',
  'latency p50=12ms p99=340ms n=1000000',
  '127 packets transmitted, 127 received, 0% packet loss',
  'Listening on port 15432',
  'retry 3/5 in 2000ms',
  'GC pause 12.5ms heap 512MB/2048MB',
  'bytes_sent=4096000 bytes_recv=8192000',
  'exit status 137',
  // numbers and amounts
  'Total: $1,234,567.89',
  'population 8336817',
  'ISBN 978-0-306-40615-7',
  'phone-ish 12345',
  'zip 94103-1234',
  'account balance 4500.00 EUR',
  'pi is 3.14159265358979',
  'count 1234567890123',
  'id 4111111111111112',
  'nums 1234 5678 9012 3456',
  'coordinates 37.7749, -122.4194',
  'ratio 16:9',
  'temperature 21.5C',
  '1,000,000 rows',
  'matrix 3x3x3',
  // words that look like names or secrets but are not
  'The Quick Brown Fox',
  'Monday Morning Meeting',
  'New York City',
  'Annual Report',
  'Hello World',
  'Machine Learning Pipeline',
  'Please Review',
  'token=abc',
  'password reset link sent',
  'the secret sauce is love',
  'key=value',
  'api_key=${API_KEY}',
  'Bearer <redacted>',
  'sk-',
  'ghp_short',
  // code and paths
  'SELECT * FROM users WHERE id = 42',
  '/var/lib/postgresql/15/main',
  'C:\\Program Files\\App',
  'import { z } from "zod"',
  'color #ff8800',
  'rgba(255, 128, 0, 0.5)',
  'mac 00:1a:2b:3c:4d:5e',
  'a:b:c',
  'ratio 1:2:3',
  'git@github.com-repo',
  'user@localhost',
  'not-an-email@',
  '@mention in chat',
  'x@y',
  'foo@bar',
  'https://example.com/path?q=1',
  'DE89 is a prefix',
  'GB82 WEST',
  'IBAN check failed',
  'NL00ABCD0000000000',
  'DE00370400440532013000',
  'SSN 000-12-3456 is invalid',
  '666-45-6789',
  '123-00-6789',
  '987-65-4321',
  '900-12-3456',
];
