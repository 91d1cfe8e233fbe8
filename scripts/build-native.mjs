#!/usr/bin/env node
// Builds the libtorch addon (build/Release/alpha_dpo_native.node). Runs on `npm install`.
// Fails with one message that says what to install or set when libtorch cannot be found.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLibtorch } from './find-libtorch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let info;
try {
  info = findLibtorch();
} catch (e) {
  console.error(`\n${e.message}\n`);
  process.exit(1);
}
console.log(`alpha-dpo: building the native addon against libtorch ${info.version} (${info.source}: ${info.libdir})`);
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  console.error('alpha-dpo: node-gyp is missing; run npm install first.');
  process.exit(1);
}
const jobs = process.env.JOBS ?? 'max';
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--jobs=${jobs}`], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
