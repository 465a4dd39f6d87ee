import { allMatches, type Detector } from './builtin.js';
import { entropy } from './validators.js';

/**
 * A small curated rule set in the style of gitleaks' rules (provider prefixes with fixed
 * lengths), kept here because the maintained npm rule sets (secretlint's) are plugins of their
 * own linter rather than plain patterns. Each entry: an anchored-by-prefix pattern; `group`
 * names the capture holding the secret when the prefix (e.g. "password=") must stay visible.
 */
interface SecretRule {
  id: string;
  re: RegExp;
  /** Cheap substring test before running the regex. */
  hint: string | RegExp;
  group?: number;
  check?: (value: string) => boolean;
}

const RULES: SecretRule[] = [
  { id: 'aws-access-key-id', hint: /A[KS]IA|ABIA|ACCA/, re: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/g },
  {
    id: 'private-key',
    hint: 'PRIVATE KEY',
    re: /-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,8192}?(?:-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { id: 'jwt', hint: 'eyJ', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { id: 'github-token', hint: /gh[pousr]_/, re: /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g },
  { id: 'github-fine-grained', hint: 'github_pat_', re: /\bgithub_pat_[A-Za-z0-9_]{60,255}\b/g },
  { id: 'gitlab-token', hint: 'glpat-', re: /\bglpat-[A-Za-z0-9_-]{20,}\b/g },
  { id: 'slack-token', hint: 'xox', re: /\bxox[abposr]-[A-Za-z0-9-]{10,250}/g },
  { id: 'slack-webhook', hint: 'hooks.slack.com', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9_/]{20,}/g },
  {
    id: 'stripe-key',
    hint: /[sr]k_(?:live|test)_|pk_live_/,
    re: /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,247}\b/g,
  },
  { id: 'google-api-key', hint: 'AIza', re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { id: 'anthropic-key', hint: 'sk-ant-', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { id: 'openai-key', hint: 'sk-', re: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g },
  { id: 'npm-token', hint: 'npm_', re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { id: 'sendgrid-key', hint: 'SG.', re: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g },
  { id: 'twilio-key', hint: 'SK', re: /\bSK[0-9a-f]{32}\b/g },
  // user:password@ in URLs (database connection strings, basic auth): only the password.
  { id: 'url-password', hint: '://', re: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:@/]{1,64}:([^\s@/]{1,128})@/g, group: 1 },
  // password=..., "password": "..." — any value; people pick low-entropy passwords.
  {
    id: 'password-assignment',
    hint: /pass|pwd/i,
    re: /\b(?:password|passwd|pwd|pass)["']?\s{0,3}[:=]\s{0,3}["']?([^\s"',;&]{4,128})/gi,
    group: 1,
  },
  // key/secret/token=... only when the value looks random (entropy), to spare "token=abc".
  {
    id: 'generic-secret',
    hint: /key|secret|token|auth/i,
    re: /\b[\w.-]{0,20}(?:api[_-]?key|secret|token|auth[_-]?key|access[_-]?key|client[_-]?secret)["']?\s{0,3}[:=]\s{0,3}["']?([A-Za-z0-9+/_.=-]{16,256})/gi,
    group: 1,
    check: (v) => entropy(v) >= 3.5,
  },
];

export const SECRET_RULE_IDS = RULES.map((r) => r.id);

/**
 * Every rule's hint in one regex per case mode: most texts hold none, and two searches cost less
 * than one per rule. (Hints carry no flag but `i`.)
 */
function anyHint(ignoreCase: boolean): RegExp {
  const sources: string[] = [];
  for (const { hint } of RULES) {
    if (typeof hint !== 'string') {
      if (hint.ignoreCase === ignoreCase) sources.push(hint.source);
    } else if (!ignoreCase) sources.push(hint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
  return new RegExp(sources.join('|') || '(?!)', ignoreCase ? 'i' : '');
}
const HINT_CASED = anyHint(false);
const HINT_ANY_CASE = anyHint(true);

export const secret: Detector = {
  entity: 'SECRET',
  find(text, out) {
    if (!HINT_CASED.test(text) && !HINT_ANY_CASE.test(text)) return;
    for (const rule of RULES) {
      if (typeof rule.hint === 'string' ? !text.includes(rule.hint) : !rule.hint.test(text)) continue;
      for (const m of allMatches(rule.re, text)) {
        const value = rule.group ? m[rule.group] : m[0];
        if (!value || (rule.check && !rule.check(value))) continue;
        const start = rule.group ? m.index + m[0].lastIndexOf(value) : m.index;
        out.push({ entity: 'SECRET', start, end: start + value.length, confidence: 0.9 });
      }
    }
  },
};
