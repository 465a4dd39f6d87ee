export * from './common.js';
export * from './agents.js';
export * from './connections.js';
export * from './grants.js';
export * from './sessions.js';
export * from './audit.js';
export * from './identities.js';
export * from './me.js';
