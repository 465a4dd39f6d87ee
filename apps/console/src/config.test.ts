import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEV_CONFIG, parseConsoleConfig } from './config.js';

describe('console config', () => {
  it('reads issuer and client id, dropping a trailing slash', () => {
    assert.deepEqual(parseConsoleConfig({ issuer: 'https://id.example.com/realms/acme/', clientId: 'console' }), {
      issuer: 'https://id.example.com/realms/acme',
      clientId: 'console',
    });
  });

  it('falls back to the dev IdP field by field for missing or malformed values', () => {
    assert.deepEqual(parseConsoleConfig(null), DEV_CONFIG);
    assert.deepEqual(parseConsoleConfig({ issuer: 'javascript:alert(1)', clientId: '' }), DEV_CONFIG);
    assert.deepEqual(parseConsoleConfig({ clientId: 'other' }), { issuer: DEV_CONFIG.issuer, clientId: 'other' });
  });
});
