// Every ```ts snippet and ```sh command of README.md and docs/*.md works as written:
//   - the TypeScript snippets type-check as a package user's files would: `alpha-dpo` resolves to
//     the package's public entry (src/index.ts, what dist/index.d.ts is built from), with the
//     project's strict compiler settings; a deep import ('./src/...') does not resolve;
//   - the shell commands that are cheap and need nothing absent run (exit 0): --help, info,
//     smoke, data inspect on files that exist; `npx alpha-dpo` and `node dist/cli/main.js` run
//     the command from src/ so nothing stale is tested. The others are listed as skipped with
//     the reason, after cheap checks that still apply to them: every `--flag` of an `alpha-dpo`
//     command is in that subcommand's --help, every `npm run` script exists, every repository
//     path named exists, and a model folder a command reads is one a `train` command of the
//     same block writes (its output_dir) or one that exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './helpers/doc-tables.js';
import { withTempDir } from './helpers/tmp-dir.js';

interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
}

const DOC_FILES = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** Fenced code blocks (``` at any indentation, the indentation removed from the block's lines). */
function fencedBlocks(file: string): Block[] {
  const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++)
      body.push(lines[j]!.slice(Math.min(indent, /^\s*/.exec(lines[j]!)![0].length)));
    blocks.push({ file, line: i + 1, lang: open[2]!, text: body.join('\n') });
    i = j;
  }
  return blocks;
}

const BLOCKS = DOC_FILES.flatMap(fencedBlocks);

describe('TypeScript snippets in the docs', () => {
  const snippets = BLOCKS.filter((b) => b.lang === 'ts' || b.lang === 'typescript');

  test('every ```ts snippet type-checks against the public API of the package', async () => {
    // README (tensor API), data, demo, losses and models each show one: a lost block is a lost check.
    assert.ok(snippets.length >= 5, `found only ${snippets.length} TypeScript snippets`);
    const errors = await withTempDir('alpha-dpo-snippets-', (dir) => {
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      const files = snippets.map((s) => {
        const path = join(dir, `${s.file.replace(/[/.]/g, '_')}_${s.line}.ts`);
        writeFileSync(path, s.text.includes('import ') || s.text.includes('export ') ? s.text : `${s.text}\nexport {};\n`);
        return { path, snippet: s };
      });
      const program = ts.createProgram(
        files.map((f) => f.path),
        {
          target: ts.ScriptTarget.ES2022,
          lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
          module: ts.ModuleKind.NodeNext,
          moduleResolution: ts.ModuleResolutionKind.NodeNext,
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
          paths: { 'alpha-dpo': [join(REPO_ROOT, 'src', 'index.ts')] },
        },
      );
      return ts.getPreEmitDiagnostics(program).flatMap((d) => {
        const file = files.find((f) => f.path === d.file?.fileName);
        if (file === undefined || d.file === undefined || d.start === undefined) return [];
        const { line } = d.file.getLineAndCharacterOfPosition(d.start);
        return [`${file.snippet.file}:${file.snippet.line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`];
      });
    });
    assert.deepEqual(errors, [], errors.join('\n'));
  });
});

// --------------------------------------------------------------------------------------------
// Shell commands

interface Command {
  block: Block;
  /** 1-based line in the document. */
  line: number;
  /** As written, without its comment. */
  text: string;
  /** With `npx alpha-dpo` and `node dist/cli/main.js` written as `alpha-dpo`. */
  normalized: string;
  words: string[];
}

/** Splits a shell command into words: '…', "…" and $'…' quoting, no expansion. Enough for docs. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  const re = /\$'((?:[^'\\]|\\.)*)'|'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of text.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  return words;
}

/** The command lines of the ```sh blocks: comments removed, `\` continuations joined. */
function shellCommands(): Command[] {
  const commands: Command[] = [];
  for (const block of BLOCKS.filter((b) => b.lang === 'sh' || b.lang === 'bash')) {
    const lines = block.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let text = lines[i]!;
      const line = block.line + 1 + i;
      while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + lines[++i]!;
      // A comment starts at a # preceded by whitespace, outside quotes (the docs' quotes hold no #).
      text = text.replace(/(^|\s)#.*$/, '').trim();
      if (text === '') continue;
      const normalized = text.replace(/\bnpx alpha-dpo\b/g, 'alpha-dpo').replace(/\bnode dist\/cli\/main\.js\b/g, 'alpha-dpo');
      commands.push({ block, line, text, normalized, words: shellWords(normalized) });
    }
  }
  return commands;
}

const COMMANDS = shellCommands();
const PACKAGE_SCRIPTS = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The words of each `alpha-dpo …` invocation in a command (there may be several, joined by && or a loop). */
function alphaDpoCalls(command: Command): string[][] {
  const calls: string[][] = [];
  const words = command.words;
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== 'alpha-dpo') continue;
    let j = i + 1;
    while (j < words.length && !['&&', '||', ';', '|', 'done', 'do'].includes(words[j]!.replace(/;$/, ''))) j++;
    calls.push(words.slice(i + 1, j).map((w) => w.replace(/;$/, '')));
  }
  return calls;
}

/** `--flag` names of an alpha-dpo call (values that merely start with '-' do not occur in the docs). */
function flagsOf(args: string[]): string[] {
  return args
    .map((a) => a.replace(/^\[+/, '').replace(/\]+$/, ''))
    .filter((a) => /^--[a-z]/.test(a))
    .map((a) => a.split('=')[0]!);
}

const exists = (path: string) => existsSync(join(REPO_ROOT, path));
const REPO_PATH = /^(\.\/)?(scripts|examples|test|docs|bench|src|codegen|native)\//;

/** Why a command is not run here, or null to run it. Cheap means seconds: help, info, smoke, inspecting files that exist. */
function whyNotRun(command: Command): string | null {
  const w = command.words;
  if (w[0] === 'for' || w[0] === 'while') return 'a loop over whole runs (minutes)';
  if (w[0] === 'export') return 'sets the environment of your shell';
  if (w[0] === 'bash' && w[1] === 'scripts/setup.sh') return 'installs system packages and builds (minutes, root)';
  if (w[0]?.includes('python')) return 'runs a Python fixture generator (needs PyTorch)';
  if (w[0] === 'npm') {
    if (w[1] === 'test') return 'the whole test suite';
    const script = w[1] === 'run' ? w[2] : undefined;
    if (script === 'smoke' && w.length === 3) return null;
    const why: Record<string, string> = {
      demo: 'runs the demo (trains four models: about a minute)',
      'test:unit': 'a test suite',
      lint: 'lints the whole tree (CI runs it)',
      codegen: 'rewrites the generated files',
      build: 'rewrites dist/',
      'build:native': 'rebuilds the addon (minutes)',
      fixtures: 'regenerates fixtures with PyTorch (about a minute)',
    };
    if (script?.startsWith('bench:')) return 'a benchmark (minutes, needs PyTorch)';
    return (script && why[script]) ?? `not a command this test knows to be cheap (${w.slice(0, 3).join(' ')})`;
  }
  if (w[0] !== 'alpha-dpo') return `not a command this test knows to be cheap (${w[0]})`;
  if (w.includes('&&') || w.includes('|')) return 'a pipeline';
  const [sub, ...args] = w.slice(1);
  if (sub === '--help' || sub === '-h' || sub === '--version' || sub === '-v' || args.includes('--help')) return null;
  if (sub === 'info' || sub === 'smoke') return null;
  if (args.some((a) => /^\[?[A-Z][A-Z_]*(\.\.\.|\.[a-z]+)?\]?$/.test(a))) return 'a synopsis with placeholders (DIR, FILE, …)';
  const pathLike = (a: string) => /[/.]/.test(a) && !/^[-\d]/.test(a);
  const absent = args.filter(
    (a, i) => pathLike(a) && !['--out', '--prompt', '--json', '--output_dir'].includes(args[i - 1]!) && !exists(a),
  );
  if (absent.length > 0) return `needs ${absent.join(', ')}, absent here`;
  if (sub === 'data' && args[0] === 'inspect') return null;
  if (sub === 'train' || sub === 'demo') return `${sub} trains models (minutes)`;
  return `alpha-dpo ${sub}: not one of the cheap commands (help, info, smoke, data inspect)`;
}

describe('shell commands in the docs', () => {
  test('the cheap ones run as written; the others are listed with the reason they are skipped', async (t) => {
    assert.ok(COMMANDS.length >= 10, `found only ${COMMANDS.length} shell commands`);
    await withTempDir('alpha-dpo-doc-commands-', (bin) => {
      // `alpha-dpo` on PATH runs the command from src/ (what `npm run build` would compile).
      const wrapper = join(bin, 'alpha-dpo');
      writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(REPO_ROOT, 'src', 'cli', 'main.ts')}" "$@"\n`);
      chmodSync(wrapper, 0o755);
      const failures: string[] = [];
      for (const command of COMMANDS) {
        const where = `${command.block.file}:${command.line}`;
        const why = whyNotRun(command);
        if (why !== null) {
          t.diagnostic(`skipped ${where}: ${command.text}  (${why})`);
          continue;
        }
        const run = spawnSync('bash', ['-c', command.normalized], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
        t.diagnostic(`ran ${where}: ${command.text}  (exit ${run.status})`);
        if (run.status !== 0) failures.push(`${where}: ${command.text}\nexit ${run.status}\n${run.stderr.slice(-2000)}`);
      }
      assert.deepEqual(failures, [], failures.join('\n\n'));
    });
  });

  test('every --flag of an alpha-dpo command in the docs is one its subcommand accepts (its --help)', () => {
    const help = new Map<string, string>();
    const helpOf = (sub: string): string => {
      if (!help.has(sub)) {
        const run = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), sub, '--help'], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        });
        help.set(sub, run.stdout + run.stderr);
      }
      return help.get(sub)!;
    };
    const unknown: string[] = [];
    for (const command of COMMANDS) {
      for (const call of alphaDpoCalls(command)) {
        const sub = call[0];
        if (sub === undefined || sub.startsWith('-')) continue;
        const text = helpOf(sub);
        for (const flag of flagsOf(call.slice(1))) {
          if (flag === '--help') continue;
          // train takes every config key as --key; its help lists the keys by name.
          const known = text.includes(flag) || (sub === 'train' && new RegExp(`^\\s*${flag.slice(2)}\\b`, 'm').test(text));
          if (!known) unknown.push(`${command.block.file}:${command.line}: alpha-dpo ${sub} ${flag}`);
        }
      }
    }
    assert.deepEqual(unknown, []);
  });

  test('npm scripts and repository paths named by the commands exist', () => {
    const missing: string[] = [];
    for (const command of COMMANDS) {
      const w = command.words;
      for (let i = 0; i < w.length; i++) {
        if (w[i] === 'npm' && w[i + 1] === 'run' && w[i + 2] !== undefined && !(w[i + 2]! in PACKAGE_SCRIPTS)) {
          missing.push(`${command.block.file}:${command.line}: npm run ${w[i + 2]}`);
        }
      }
      for (const word of w) {
        if (REPO_PATH.test(word) && !exists(word)) missing.push(`${command.block.file}:${command.line}: ${word}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('no argument counts on an escape the shell does not expand ("\\n" inside double quotes stays a backslash and an n)', () => {
    const literal = COMMANDS.filter((c) => /"[^"]*\\[nt][^"]*"/.test(c.text)).map((c) => `${c.block.file}:${c.line}: ${c.text}`);
    assert.deepEqual(literal, []);
  });

  test('a model folder a command reads is written by a train command of the same block, or exists', () => {
    const problems: string[] = [];
    const blocks = new Set(COMMANDS.map((c) => c.block));
    for (const block of blocks) {
      const written = new Set<string>();
      // Base models of the block's train commands: what a LoRA adapter they write applies to (--model BASE --adapter OUT).
      const bases = new Set<string>();
      for (const command of COMMANDS.filter((c) => c.block === block)) {
        for (const call of alphaDpoCalls(command)) {
          const option = (name: string) => {
            const i = call.indexOf(name);
            return i >= 0 ? call[i + 1] : undefined;
          };
          if (call[0] === 'train' && call[1] !== undefined && exists(call[1])) {
            const config = parseYaml(readFileSync(join(REPO_ROOT, call[1]), 'utf8')) as Record<string, unknown>;
            const outputDir = option('--output_dir') ?? config.output_dir;
            if (typeof outputDir === 'string') written.add(normalize(outputDir));
            const base = option('--model_name_or_path') ?? config.model_name_or_path;
            if (typeof base === 'string') bases.add(normalize(base));
          }
          const reads = call[0] === 'generate' || call[0] === 'score' || call[0] === 'merge';
          const adapter = reads ? option('--adapter') : undefined;
          if (adapter !== undefined && !written.has(normalize(adapter)) && !exists(adapter)) {
            problems.push(`${block.file}:${command.line}: --adapter ${adapter} is not written by this block's train commands`);
          }
          const model = reads ? option('--model') : undefined;
          const isBase = adapter !== undefined && model !== undefined && bases.has(normalize(model));
          if (model !== undefined && !isBase && !/^[A-Z_]+$/.test(model) && !written.has(normalize(model)) && !exists(model)) {
            const folders = [...written].join(', ') || 'none';
            problems.push(
              `${block.file}:${command.line}: --model ${model} is not written by this block's train commands (they write: ${folders})`,
            );
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
