import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Realm roles the control plane knows. */
export type Role = 'admin' | 'steward' | 'auditor';

/** The caller, taken from a validated access token. */
export interface AuthenticatedUser {
  subject: string;
  username: string | undefined;
  roles: string[];
  groups: string[];
  /** When the access token expires (its `exp`). */
  tokenExpiresAt: Date | undefined;
}

export const PUBLIC_KEY = 'portcullis:public';
export const ROLES_KEY = 'portcullis:roles';

/** The route needs no token (health checks). Everything else does. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The caller needs at least one of these realm roles (403 otherwise). On a class or a handler. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** The authenticated caller of this request. */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthenticatedUser => {
  const user = ctx.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
  if (!user) throw new Error('@CurrentUser() used on a @Public() route');
  return user;
});

/** How the caller is named in audit entries and `createdBy` fields. */
export function actorName(user: AuthenticatedUser): string {
  return user.username ?? user.subject;
}
