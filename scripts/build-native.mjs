#!/usr/bin/env node
// Builds the libtorch addon (build/Release/alpha_dpo_native.node). Runs on `npm install`.
// Fails with one message that says what to install or set when libtorch cannot be found.
//   npm run build:native                         # build/Release/alpha_dpo_native.node
//   npm run build:native -- --out DIR            # DIR/build/Release/alpha_dpo_native.node, build/ untouched
// --out builds a second addon, e.g. against another libtorch (LIBTORCH=...), next to the normal
// one; run with ALPHA_DPO_ADDON=DIR/build/Release/alpha_dpo_native.node to load it instead.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { c10dSupport, findLibtorch } from './find-libtorch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let out = null;
if (args[0] === '--out' && args.length === 2) out = resolve(args[1]);
else if (args.length > 0) {
  console.error('usage: npm run build:native [-- --out DIR]');
  process.exit(2);
}
let info;
try {
  info = findLibtorch();
} catch (e) {
  console.error(`\n${e.message}\n`);
  process.exit(1);
}
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  console.error('alpha-dpo: node-gyp is missing; run npm install first.');
  process.exit(1);
}
// node-gyp always builds into ./build, so a second build runs in DIR, where binding.gyp and the
// folders it reads (sources, this script's folder, node_modules) are links to the package's own.
let cwd = root;
if (out) {
  mkdirSync(out, { recursive: true });
  for (const name of ['binding.gyp', 'native', 'scripts', 'node_modules']) {
    const link = join(out, name);
    const there = lstatSync(link, { throwIfNoEntry: false });
    if (there && !there.isSymbolicLink()) {
      console.error(`alpha-dpo: ${link} exists and is not a link made by --out; give --out a folder of its own.`);
      process.exit(2);
    }
    // Made afresh each time: a link left by another checkout would build that checkout's sources.
    if (there) unlinkSync(link);
    symlinkSync(join(root, name), link);
  }
  cwd = out;
}
const addon = join(cwd, 'build', 'Release', 'alpha_dpo_native.node');
console.log(`alpha-dpo: building the native addon against libtorch ${info.version} (${info.source}: ${info.libdir}) into ${addon}`);
const c10d = c10dSupport(info);
console.log(
  c10d.gloo
    ? `alpha-dpo: with torch.distributed (c10d: gloo${c10d.nccl ? ', nccl' : ''})`
    : `alpha-dpo: without torch.distributed: missing ${c10d.missing.join('; ')}`,
);
const jobs = process.env.JOBS ?? 'max';
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--jobs=${jobs}`], { cwd, stdio: 'inherit' });
process.exit(r.status ?? 1);
