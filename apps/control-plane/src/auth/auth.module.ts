import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard.js';
import { DisabledIdentities } from './disabled-identities.js';
import { IdentitySightings } from './identity-sightings.js';
import { TokenVerifier } from './token-verifier.js';

@Module({
  providers: [TokenVerifier, IdentitySightings, DisabledIdentities, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenVerifier],
})
export class AuthModule {}
