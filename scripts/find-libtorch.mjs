#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
// Locates libtorch for the native build. Order: $LIBTORCH (a folder with include/ and lib/,
// as in the official libtorch zip or a pip-installed torch package), then the system's
// Debian/Ubuntu `libtorch-dev`. Used by binding.gyp (`--include`, `--libdir`, `--abi`, `--std`, `--cuda-libs`)
// and by scripts/build-native.mjs (no flag: prints a JSON description, or fails with advice).
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  // Besides the headers: the libtorch zip's `build-version` and a pip torch's `version.py`.
  const versionFiles = [join(dir, 'build-version'), join(dir, 'version.py')];
  return {
    source,
    include: [join(dir, 'include'), apiInclude],
    libdir,
    versionFiles,
    cmakeConfig: join(dir, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'),
  };
}

function systemLibtorch() {
  const candidates = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
  const apiInclude = '/usr/include/torch/csrc/api/include';
  if (!existsSync('/usr/include/ATen/ATen.h') || !existsSync(apiInclude)) return null;
  const libdir = candidates.find((d) => existsSync(join(d, 'libtorch_cpu.so')));
  if (!libdir) return null;
  return {
    source: 'system',
    include: ['/usr/include', apiInclude],
    libdir,
    versionFiles: [],
    cmakeConfig: join(libdir, 'cmake', 'Torch', 'TorchConfig.cmake'),
  };
}

// The version the compiler will see: the TORCH_VERSION_* macros reached from <torch/version.h>,
// looked up the way the compiler looks it up. 1.13 defines them in that file; 2.13 moved them to
// torch/headeronly/version.h and left an #include behind, which is followed here.
function versionFromHeaders(include, name = 'torch/version.h', seen = new Set()) {
  const file = include.map((d) => join(d, name)).find((f) => existsSync(f));
  if (!file || seen.has(file) || seen.size > 8) return null;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const part = (p) => text.match(new RegExp(`^\\s*#\\s*define\\s+TORCH_VERSION_${p}\\s+(\\d+)`, 'm'))?.[1];
  const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  if (major !== undefined && minor !== undefined) return `${major}.${minor}.${patch ?? 0}`;
  for (const m of text.matchAll(/^\s*#\s*include\s*[<"]([^>"]*version\.h)[>"]/gm)) {
    const v = versionFromHeaders(include, m[1], seen);
    if (v) return v;
  }
  return null;
}

// When no header says it: "2.13.0+cpu" in build-version, `__version__ = '2.13.0+cpu'` in version.py.
function versionFromFiles(files) {
  for (const file of files) {
    if (!existsSync(file)) continue;
    const m = readFileSync(file, 'utf8').match(/^(?:__version__\s*=\s*['"])?(\d+)\.(\d+)\.(\d+)/m);
    if (m) return `${m[1]}.${m[2]}.${m[3]}`;
  }
  return null;
}

// The C++ standard libtorch's headers are written for, as its CMake package asks of its users
// (1.13: 14, 2.13: 20; its headers use C++20 features). The addon itself needs C++17.
function cxxStandard(cmakeConfig) {
  const wanted = existsSync(cmakeConfig) ? Number(readFileSync(cmakeConfig, 'utf8').match(/CXX_STANDARD\s+(\d+)/)?.[1] ?? 17) : 17;
  return Math.max(17, wanted);
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

// c10d (torch.distributed's engine) in this libtorch: the process-group headers, Gloo's headers
// (Debian ships them in libgloo-dev; the pip wheel has Gloo built in but no headers) and the
// ProcessGroupGloo symbols in libtorch_cpu. NCCL when libtorch_cuda has ProcessGroupNCCL and
// nccl.h is on the include path. Returns { gloo, nccl, missing } (missing: what to install).
export function c10dSupport(info) {
  const header = (name) => [...info.include, '/usr/include'].some((d) => existsSync(join(d, name)));
  const exports = (lib, symbol) => {
    try {
      const out = execFileSync('nm', ['-DC', '--defined-only', join(info.libdir, lib)], {
        encoding: 'utf8',
        maxBuffer: 512 << 20,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return out.includes(symbol);
    } catch {
      return false;
    }
  };
  const missing = [];
  if (!header('torch/csrc/distributed/c10d/ProcessGroupGloo.hpp')) missing.push('the c10d headers (torch/csrc/distributed/c10d)');
  if (!header('gloo/algorithm.h')) missing.push("Gloo's headers (Debian/Ubuntu: apt-get install libgloo-dev)");
  if (missing.length === 0 && !exports('libtorch_cpu.so', 'c10d::ProcessGroupGloo::ProcessGroupGloo')) {
    missing.push(`ProcessGroupGloo in ${join(info.libdir, 'libtorch_cpu.so')} (a libtorch built without distributed support)`);
  }
  const gloo = missing.length === 0;
  const nccl =
    gloo &&
    existsSync(join(info.libdir, 'libtorch_cuda.so')) &&
    (header('nccl.h') || existsSync('/usr/local/cuda/include/nccl.h')) &&
    exports('libtorch_cuda.so', 'c10d::ProcessGroupNCCL::ProcessGroupNCCL');
  return { gloo, nccl, missing };
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
  const { versionFiles, cmakeConfig, ...where } = found;
  const v = versionFromHeaders(found.include) ?? versionFromFiles(versionFiles);
  if (!v) {
    throw new Error(
      `libtorch found (${found.source}: ${found.include[0]}) but its version cannot be read: no TORCH_VERSION_MAJOR/MINOR in ` +
        `torch/version.h nor in the version headers it includes, and no build-version or version.py beside it. Is the install complete?\n${HELP}`,
    );
  }
  const [major, minor] = v.split('.').map(Number);
  if (!(major === 2 || (major === 1 && minor >= 13))) {
    throw new Error(`libtorch ${v} found (${found.source}) but alpha-dpo needs 1.13 or 2.x.\n${HELP}`);
  }
  return { ...where, version: v, cxx11Abi: cxx11Abi(found.libdir), cxxStandard: cxxStandard(cmakeConfig) };
}

// Run as a script (argv[1] may be a link: build-native.mjs --out runs it through one).
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  let info;
  try {
    info = findLibtorch();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  const flag = process.argv[2];
  // /usr/include is already on the compiler's path; naming it again breaks #include_next.
  // ProcessGroupNCCL.hpp needs the CUDA runtime's headers too.
  if (flag === '--include') {
    const dirs = info.include.filter((d) => d !== '/usr/include');
    if (existsSync('/usr/local/cuda/include') && c10dSupport(info).nccl) dirs.push('/usr/local/cuda/include');
    console.log(dirs.join(' '));
  } else if (flag === '--libdir') console.log(info.libdir);
  else if (flag === '--abi') console.log(info.cxx11Abi);
  else if (flag === '--std') console.log(`c++${info.cxxStandard}`);
  // Defines for native/src/distributed.cc: nothing when c10d or Gloo is missing (the addon then
  // builds without torch.distributed and says so at run time).
  else if (flag === '--c10d') {
    const c = c10dSupport(info);
    console.log([c.gloo && 'ALPHA_DPO_C10D_GLOO', c.nccl && 'ALPHA_DPO_C10D_NCCL'].filter(Boolean).join(' '));
  }
  // CUDA builds register their kernels from libtorch_cuda/libc10_cuda: link them (no-as-needed) when present.
  else if (flag === '--cuda-libs') {
    const libs = ['torch_cuda', 'c10_cuda'].filter((l) => existsSync(join(info.libdir, `lib${l}.so`)));
    console.log(libs.map((l) => `-l${l}`).join(' '));
  } else console.log(JSON.stringify(info));
}
