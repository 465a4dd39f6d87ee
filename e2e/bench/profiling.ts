import { join } from 'node:path';

/**
 * Environment for a process under benchmark: with BENCH_PROFILE=<dir>, it preloads cpu-profile.mjs
 * and writes its CPU profile there on exit (NODE_OPTIONS refuses `--cpu-prof` itself).
 */
export const profiled: NodeJS.ProcessEnv = process.env.BENCH_PROFILE
  ? {
      NODE_OPTIONS: `--import ${join(import.meta.dirname, 'cpu-profile.mjs')}`,
      BENCH_PROFILE: process.env.BENCH_PROFILE,
    }
  : {};
