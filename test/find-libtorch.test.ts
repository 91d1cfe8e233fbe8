// scripts/find-libtorch.mjs on fake libtorch folders laid out like the real ones: the version,
// the C++ standard and the refusals binding.gyp and build-native.mjs act on. Each folder holds
// only the files the script reads (headers, an empty libtorch_cpu.so, version files).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const scripts = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts');
const work = mkdtempSync(join(tmpdir(), 'find-libtorch-'));
after(() => rmSync(work, { recursive: true, force: true }));

function fakeLibtorch(name: string, files: Record<string, string>): string {
  const root = join(work, name);
  const all = { 'include/ATen/ATen.h': '', 'include/torch/csrc/api/include/torch/torch.h': '', 'lib/libtorch_cpu.so': '', ...files };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function find(libtorch: string, flag?: string, script = join(scripts, 'find-libtorch.mjs')) {
  const r = spawnSync(process.execPath, [script, ...(flag ? [flag] : [])], {
    env: { ...process.env, LIBTORCH: libtorch },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

const macros = (major: number, minor: number, patch: number) =>
  `#pragma once\n#define TORCH_VERSION_MAJOR ${major}\n#define TORCH_VERSION_MINOR ${minor}\n#define TORCH_VERSION_PATCH ${patch}\n`;

test('1.13 layout: the macros in torch/version.h, C++17 (its CMake package asks for 14, the addon needs 17)', () => {
  const root = fakeLibtorch('v1.13', {
    'include/torch/csrc/api/include/torch/version.h': macros(1, 13, 1),
    'share/cmake/Torch/TorchConfig.cmake': 'set_target_properties(torch PROPERTIES\n    CXX_STANDARD 14\n)\n',
  });
  const r = find(root);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).version, '1.13.1');
  assert.equal(find(root, '--std').stdout, 'c++17');
});

test('2.13 layout (the pip wheel): torch/version.h only includes torch/headeronly/version.h; C++20 as its CMake package says', () => {
  // The two files as in torch-2.13.0+cpu: the old header guards an #include of the new one.
  const root = fakeLibtorch('v2.13', {
    'include/torch/csrc/api/include/torch/version.h':
      '#if !defined(TORCH_STABLE_ONLY) && !defined(TORCH_TARGET_VERSION)\n#include <torch/headeronly/version.h>\n\n#else\n#error "no"\n#endif\n',
    'include/torch/headeronly/version.h': macros(2, 13, 0),
    'share/cmake/Torch/TorchConfig.cmake': 'set_target_properties(torch PROPERTIES\n    CXX_STANDARD 20\n)\n',
  });
  const r = find(root);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).version, '2.13.0');
  assert.equal(find(root, '--std').stdout, 'c++20');
});

test('no version macros in the headers: a pip torch’s version.py, or the libtorch zip’s build-version', () => {
  const pip = fakeLibtorch('pip-only', {
    'include/torch/csrc/api/include/torch/version.h': '#pragma once\n',
    'version.py': "__version__ = '2.5.1+cpu'\n",
  });
  assert.equal(JSON.parse(find(pip).stdout).version, '2.5.1');
  const zip = fakeLibtorch('zip-only', { 'build-version': '2.4.0+cu121\n' });
  assert.equal(JSON.parse(find(zip).stdout).version, '2.4.0');
});

test('refusals name the reason: an old version, an unreadable version, a folder that is not libtorch', () => {
  const old = find(fakeLibtorch('v1.12', { 'include/torch/csrc/api/include/torch/version.h': macros(1, 12, 1) }));
  assert.equal(old.status, 1);
  assert.match(old.stderr, /libtorch 1\.12\.1 found \(LIBTORCH\) but alpha-dpo needs 1\.13 or 2\.x/);
  const unknown = find(
    fakeLibtorch('no-version', { 'include/torch/csrc/api/include/torch/version.h': '#include <torch/nowhere/version.h>\n' }),
  );
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /its version cannot be read/);
  const empty = find(join(work, 'not-there'));
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /is not a libtorch folder: it needs include\/ATen\/ATen\.h/);
});

test('run through a link to scripts/ (how build-native.mjs --out builds a second addon), it still prints its answer', () => {
  const root = fakeLibtorch('linked', { 'include/torch/csrc/api/include/torch/version.h': macros(2, 1, 0) });
  const out = join(work, 'out');
  mkdirSync(out);
  symlinkSync(scripts, join(out, 'scripts'));
  const r = find(root, '--libdir', join(out, 'scripts', 'find-libtorch.mjs'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, join(root, 'lib'));
});
