export { Public, Roles, CurrentUser, actorName, type AuthenticatedUser, type Role } from './decorators.js';
