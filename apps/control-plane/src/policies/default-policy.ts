import { hkdfSync } from 'node:crypto';
import type { PolicyInput } from '@portcullis/policy';

/**
 * The policy in force while none was ever saved: version 0, built in code rather than seeded by
 * a migration, so that it follows the code (new guardrails, new detectors) until someone writes
 * a policy of their own; the first PUT is version 1 and from then on every version is a row.
 *
 * Guardrails on; results are masked (CREDIT_CARD, US_SSN, EMAIL, PHONE) for everyone except
 * members of the `admins` group. `masking.entities` would apply to every allowed response,
 * admins' too, so the exemption is written as two ordered rules instead.
 */
export const DEFAULT_POLICY: PolicyInput = {
  version: 0,
  defaultAction: 'allow',
  rules: [
    { id: 'admins-unmasked', description: 'admins see values as stored', match: { groups: ['admins'] }, action: 'allow' },
    {
      id: 'mask-pii',
      description: 'card numbers, SSNs, e-mail addresses and phone numbers are masked in results',
      action: 'mask',
      mask: { entities: ['CREDIT_CARD', 'US_SSN', 'EMAIL', 'PHONE'], style: 'redact' },
    },
  ],
  guardrails: { enabled: true },
};

/**
 * The key of the `hash` masking style: HKDF-SHA256 of PORTCULLIS_SECRET_KEY, so it is stable per
 * deployment (hashed values still join) and is never stored or returned by REST. Without a
 * secret key there is none: `hash` then uses an empty key (documented; set the key in production).
 */
export function maskingHashKey(secretKey: string | undefined): string {
  if (!secretKey) return '';
  return Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'base64'), Buffer.alloc(0), 'portcullis masking', 32)).toString('hex');
}
