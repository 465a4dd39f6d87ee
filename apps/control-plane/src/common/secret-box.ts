import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';

/** Thrown when a value must be sealed but PORTCULLIS_SECRET_KEY is not configured. */
export class SecretKeyMissingError extends Error {
  constructor() {
    super('PORTCULLIS_SECRET_KEY is not set: credential values cannot be stored; use a secretRef or set the key');
  }
}

/**
 * Seals connection credentials at rest with AES-256-GCM under PORTCULLIS_SECRET_KEY.
 * Sealed form: `iv.tag.ciphertext`, each base64url. Error messages never carry the plaintext.
 */
@Injectable()
export class SecretBox {
  private readonly key: Buffer | undefined;

  constructor(config: AppConfig) {
    if (config.secretKey === undefined) return;
    const key = Buffer.from(config.secretKey, 'base64');
    if (key.length !== 32) throw new Error('PORTCULLIS_SECRET_KEY must be 32 bytes, base64-encoded');
    this.key = key;
  }

  get canSeal(): boolean {
    return this.key !== undefined;
  }

  seal(plain: string): string {
    const key = this.requireKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url')).join('.');
  }

  open(sealed: string): string {
    const key = this.requireKey();
    const [iv, tag, ciphertext] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
    if (!iv || !tag || !ciphertext || iv.length !== 12 || tag.length !== 16) {
      throw new Error('sealed secret is malformed');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('sealed secret does not open with PORTCULLIS_SECRET_KEY (wrong key or tampered)');
    }
  }

  private requireKey(): Buffer {
    if (!this.key) throw new SecretKeyMissingError();
    return this.key;
  }
}
