#!/usr/bin/env node
// `pnpm test`: build everything, then run every test file of the repo with node:test.
// Unit tests sit next to their code (apps/*/src, packages/*/src), process-level tests in
// apps/*/test and e2e/tests. Files run two at a time; each starts its own processes on free
// ports with its own databases, so they do not interfere.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2);

if (!process.env.SKIP_BUILD) {
  execFileSync('pnpm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

function findTests(dir, out = []) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'generated' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = ['apps', 'packages', 'e2e/tests']
  .flatMap((d) => findTests(join(root, d)))
  .filter((f) => only.length === 0 || only.some((o) => relative(root, f).includes(o)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  [
    // The control plane's migrations import Prisma's schema engine as a WebAssembly module.
    '--experimental-wasm-modules',
    '--import', 'tsx',
    '--test',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    // A hung test fails on its own, named, instead of holding CI until its limit.
    '--test-timeout=600000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'e2e/lib/totals-reporter.mjs')}`, '--test-reporter-destination=stdout',
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
