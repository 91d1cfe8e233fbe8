#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
// Locates libtorch for the native build. Order: $LIBTORCH (a folder with include/ and lib/,
// as in the official libtorch zip or a pip-installed torch package), then the system's
// Debian/Ubuntu `libtorch-dev`. Used by binding.gyp (`--include`, `--libdir`, `--defines`)
// and by scripts/build-native.mjs (no flag: prints a JSON description, or fails with advice).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const HELP = `alpha-dpo needs libtorch (PyTorch's C++ library), version 1.13 or 2.x, and could not find it.
Do one of:
  - on Debian/Ubuntu, as root:   apt-get install libtorch-dev      (or run: bash scripts/setup.sh)
  - point LIBTORCH at a libtorch folder that has include/ and lib/, for example
      export LIBTORCH=/opt/libtorch                 # the official libtorch zip, CPU or CUDA
      export LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
then run npm install again.`;

function fromFolder(root, source) {
  const dir = resolve(root);
  const apiInclude = join(dir, 'include', 'torch', 'csrc', 'api', 'include');
  const libdir = join(dir, 'lib');
  const hasLib = existsSync(libdir) && readdirSync(libdir).some((f) => /^libtorch_cpu\.(so|dylib)/.test(f));
  if (!existsSync(join(dir, 'include', 'ATen', 'ATen.h')) || !existsSync(apiInclude) || !hasLib) {
    return null;
  }
  return { source, include: [join(dir, 'include'), apiInclude], libdir, versionHeader: join(apiInclude, 'torch', 'version.h') };
}

function systemLibtorch() {
  const candidates = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
  const apiInclude = '/usr/include/torch/csrc/api/include';
  if (!existsSync('/usr/include/ATen/ATen.h') || !existsSync(apiInclude)) return null;
  const libdir = candidates.find((d) => existsSync(join(d, 'libtorch_cpu.so')));
  if (!libdir) return null;
  return { source: 'system', include: ['/usr/include', apiInclude], libdir, versionHeader: join(apiInclude, 'torch', 'version.h') };
}

function version(header) {
  if (!existsSync(header)) return 'unknown';
  const text = readFileSync(header, 'utf8');
  const part = (name) => text.match(new RegExp(`#define TORCH_VERSION_${name} (\\d+)`))?.[1];
  return [part('MAJOR'), part('MINOR'), part('PATCH')].join('.');
}

// libtorch is built either with the old (0) or the new (1) libstdc++ string ABI; we must match it.
function cxx11Abi(libdir) {
  try {
    const symbols = execFileSync('nm', ['-D', '--defined-only', join(libdir, 'libc10.so')], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return symbols.includes('__cxx11') ? 1 : 0;
  } catch {
    return 1;
  }
}

export function findLibtorch() {
  let found = null;
  if (process.env.LIBTORCH) {
    found = fromFolder(process.env.LIBTORCH, 'LIBTORCH');
    if (!found) {
      throw new Error(
        `LIBTORCH=${process.env.LIBTORCH} is not a libtorch folder: it needs include/ATen/ATen.h, include/torch/csrc/api/include and lib/libtorch_cpu.so.\n${HELP}`,
      );
    }
  } else {
    found = systemLibtorch();
  }
  if (!found) throw new Error(HELP);
  const v = version(found.versionHeader);
  const [major, minor] = v.split('.').map(Number);
  if (!(major === 2 || (major === 1 && minor >= 13))) {
    throw new Error(`libtorch ${v} found (${found.source}) but alpha-dpo needs 1.13 or 2.x.\n${HELP}`);
  }
  return { ...found, version: v, cxx11Abi: cxx11Abi(found.libdir) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let info;
  try {
    info = findLibtorch();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  const flag = process.argv[2];
  // /usr/include is already on the compiler's path; naming it again breaks #include_next.
  if (flag === '--include') console.log(info.include.filter((d) => d !== '/usr/include').join(' '));
  else if (flag === '--libdir') console.log(info.libdir);
  else if (flag === '--abi') console.log(info.cxx11Abi);
  // CUDA builds register their kernels from libtorch_cuda/libc10_cuda: link them (no-as-needed) when present.
  else if (flag === '--cuda-libs') {
    const libs = ['torch_cuda', 'c10_cuda'].filter((l) => existsSync(join(info.libdir, `lib${l}.so`)));
    console.log(libs.map((l) => `-l${l}`).join(' '));
  } else console.log(JSON.stringify(info));
}
