import { ForbiddenException, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { PUBLIC_KEY, ROLES_KEY, type AuthenticatedUser, type Role } from './decorators.js';
import { DisabledIdentities } from './disabled-identities.js';
import { IdentitySightings } from './identity-sightings.js';
import { TokenVerifier } from './token-verifier.js';

/**
 * Global: every route needs a valid bearer token unless marked @Public(); @Roles(...) then needs
 * one of the listed realm roles. Fails closed: no token, a bad token, a disabled identity or a
 * missing role is refused.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly sightings: IdentitySightings,
    private readonly disabled: DisabledIdentities,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Only HTTP is served through Nest (agents use their own gRPC server): anything else is refused
    // rather than let through unauthenticated, should a gateway ever be added.
    if (context.getType() !== 'http') return false;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const req = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1]) throw new UnauthorizedException('a bearer token is required');
    const user = await this.verifier.verify(match[1]);
    if (!user) throw new UnauthorizedException('the bearer token is not valid');
    if (await this.disabled.isDisabled(user.subject)) throw new ForbiddenException('identity is disabled');
    req.user = user;
    this.sightings.seen(user);

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.some((role) => user.roles.includes(role))) {
      throw new ForbiddenException(`needs one of the roles: ${roles.join(', ')}`);
    }
    return true;
  }
}
