import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { AppConfig } from '../config/app-config.js';
import { SecretBox, SecretKeyMissingError } from './secret-box.js';

const box = (key?: string) => new SecretBox(new AppConfig(key === undefined ? {} : { PORTCULLIS_SECRET_KEY: key }));

test('seals to iv.tag.ciphertext that opens to the value, never containing it', () => {
  const b = box(randomBytes(32).toString('base64'));
  const sealed = b.seal('hunter2-and-more');
  assert.equal(sealed.split('.').length, 3);
  assert.ok(!sealed.includes('hunter2'));
  assert.notEqual(b.seal('hunter2-and-more'), sealed, 'a fresh IV each time');
  assert.equal(b.open(sealed), 'hunter2-and-more');
});

test('a tampered value or another key does not open', () => {
  const b = box(randomBytes(32).toString('base64'));
  const sealed = b.seal('value');
  const [iv, tag, ct] = sealed.split('.');
  const flipped = Buffer.from(ct!, 'base64url');
  flipped[0]! ^= 1;
  assert.throws(() => b.open([iv, tag, flipped.toString('base64url')].join('.')), /wrong key or tampered/);
  assert.throws(() => box(randomBytes(32).toString('base64')).open(sealed), /wrong key or tampered/);
  assert.throws(() => b.open('garbage'), /malformed/);
});

test('without a key nothing is sealed; a key of the wrong size is refused at start', () => {
  assert.throws(() => box().seal('value'), SecretKeyMissingError);
  assert.equal(box().canSeal, false);
  assert.throws(() => box(randomBytes(16).toString('base64')), /32 bytes/);
});
