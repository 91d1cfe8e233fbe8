// Chat templates: the model's Jinja template rendered with @huggingface/jinja and the variables
// transformers passes (apply_chat_template → render_jinja_template): messages,
// add_generation_prompt, the special tokens as strings (bos_token, eos_token, ...,
// additional_special_tokens), plus any extra keyword arguments (enable_thinking, ...);
// raise_exception and strftime_now are @huggingface/jinja's globals. Blocks are trimmed and
// left-stripped (trim_blocks, lstrip_blocks) as transformers' Jinja environment does. Where the
// library differs from Python's jinja2 it is patched (patches/README.md).
//
// A template comes from a model folder, so it is untrusted input that can loop for ever
// (nested for-loops) or exhaust the heap ({{ range(10**9)|length }} aborts V8 with a fatal error,
// which no try/catch survives). Rendering therefore runs in a worker thread that the caller
// waits on synchronously (Atomics.wait) and terminates past a time limit, with its own heap
// limit, so a hostile template costs at most `timeMs` and `heapMb` and ends in a
// ChatTemplateError naming its file. Counting loop iterations or output size inside the
// interpreter instead would need a hook at every construct that can grow (loops, string and list
// concatenation, filters, macros, recursion) and would still leave unknown ones open; the worker
// bounds all of them. The output length is also checked in the worker, and range() refuses more
// than 10^6 elements (patches/README.md), so the common blow-ups fail at once with a precise
// message rather than at the time or heap limit.
// The cost is a message round trip per render (tens of microseconds) and one thread per process.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { Template } from '@huggingface/jinja';
import { RENDER_THREAD_SOURCE, type RenderReply, type RenderRequest } from './chat-template-worker.js';
import { ChatTemplateError } from './errors.js';
import type { SpecialTokens } from './special-tokens.js';
import type { ChatMessage } from './tokenizer.js';

/** Bounds on rendering one conversation. Real templates need well under 1% of each. */
export interface ChatTemplateLimits {
  /** Wall-clock milliseconds for one render (the render thread's start-up is not counted). */
  timeMs: number;
  /** Heap of the render thread, in MiB (V8's old generation). */
  heapMb: number;
  /** Characters of the rendered text. */
  maxOutputChars: number;
}

export const DEFAULT_CHAT_TEMPLATE_LIMITS: Readonly<ChatTemplateLimits> = Object.freeze({
  timeMs: 10_000,
  heapMb: 512,
  maxOutputChars: 16 * 1024 * 1024,
});

/** How long the render thread may take to start (load its module) before rendering is refused. */
const START_TIMEOUT_MS = 30_000;

/**
 * The template to use from tokenizer_config.json's `chat_template`: a string, or a list of
 * { name, template } of which transformers takes the one named "default". null when absent.
 */
export function selectChatTemplate(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((t) => typeof t === 'object' && t !== null && (t as { name?: unknown }).name === 'default') as
      | { template?: unknown }
      | undefined;
    if (named !== undefined && typeof named.template === 'string') return named.template;
    throw new ChatTemplateError(`${where}: chat_template is a list without a template named "default"`);
  }
  throw new ChatTemplateError(`${where}: chat_template must be a string or a list of { name, template }`);
}

/** The render thread, shared by all templates of the process; replaced after it is terminated. */
class RenderThread {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  /** [0]: seq of the last reply written; [1]: 1 once the thread has started. */
  readonly #signal = new Int32Array(new SharedArrayBuffer(8));
  readonly heapMb: number;
  #seq = 0;

  constructor(heapMb: number) {
    this.heapMb = heapMb;
    const { port1, port2 } = new MessageChannel();
    this.#worker = new Worker(RENDER_THREAD_SOURCE, {
      eval: true,
      workerData: { port: port2, signal: this.#signal, jinja: import.meta.resolve('@huggingface/jinja') },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    // A thread that runs out of heap emits 'error' once the caller is back in the event loop;
    // unhandled, that would end the process. The render that caused it has already failed.
    this.#worker.on('error', () => {});
    this.#worker.unref();
    port1.unref();
    this.#port = port1;
    const started = Atomics.wait(this.#signal, 1, 0, START_TIMEOUT_MS) !== 'timed-out' && Atomics.load(this.#signal, 1) === 1;
    if (!started) {
      const why =
        (receiveMessageOnPort(port1)?.message as { error?: string } | undefined)?.error ?? `no answer within ${START_TIMEOUT_MS / 1000} s`;
      this.close();
      throw new Error(`the chat template thread did not start: ${why}`);
    }
  }

  /** The reply, or null when the time limit passed (the thread is then terminated and unusable). */
  render(request: Omit<RenderRequest, 'seq'>, timeMs: number): RenderReply | null {
    const seq = ++this.#seq;
    this.#port.postMessage({ ...request, seq } satisfies RenderRequest);
    const deadline = performance.now() + timeMs;
    for (;;) {
      const done = Atomics.load(this.#signal, 0);
      if (done === seq) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.close();
        return null;
      }
      Atomics.wait(this.#signal, 0, done, left);
    }
    const reply = receiveMessageOnPort(this.#port)?.message as RenderReply | undefined;
    if (reply === undefined || reply.seq !== seq) throw new Error(`chat template thread: reply ${reply?.seq} for request ${seq}`);
    return reply;
  }

  close(): void {
    void this.#worker.terminate();
  }
}

let thread: RenderThread | null = null;
let patchChecked = false;

/**
 * Warns once when @huggingface/jinja is not the patched version (patches/README.md): installed as
 * a dependency of another project, alpha-dpo cannot patch it, and templates may then render
 * differently from transformers. Python: '' != false is True.
 */
function warnIfUnpatched(): void {
  if (patchChecked) return;
  patchChecked = true;
  if (new Template("{{ '' != false }}").render({}) !== 'True') {
    process.emitWarning(
      '@huggingface/jinja is not patched: chat templates may render differently from transformers ' +
        "(e.g. '' != false, strip('\\n')); apply alpha-dpo's patches/ with patch-package",
      { code: 'AlphaDpoJinjaUnpatched' },
    );
  }
}

export class ChatTemplate {
  readonly source: string;
  /** The file the template came from, named in every error. */
  readonly where: string;
  readonly limits: Readonly<ChatTemplateLimits>;

  constructor(source: string, where: string, limits: Partial<ChatTemplateLimits> = {}) {
    this.source = source;
    this.where = where;
    this.limits = { ...DEFAULT_CHAT_TEMPLATE_LIMITS, ...limits };
    try {
      // Parsed here too so that a broken template fails when the folder loads (parsing is linear).
      new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`${where}: the chat template does not parse: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The rendered text, exactly as transformers' apply_chat_template(tokenize=False). */
  render(
    messages: readonly ChatMessage[],
    options: { addGenerationPrompt: boolean; special: SpecialTokens; kwargs?: Readonly<Record<string, unknown>> },
  ): string {
    // As transformers: the special tokens, then the keyword arguments (which override them).
    const variables: Record<string, unknown> = {
      ...options.special.tokens,
      additional_special_tokens: options.special.additional,
      ...options.kwargs,
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: options.addGenerationPrompt,
    };
    const { timeMs, heapMb, maxOutputChars } = this.limits;
    warnIfUnpatched();
    let reply: RenderReply | null;
    try {
      if (thread === null || thread.heapMb !== heapMb) {
        thread?.close();
        thread = null;
        thread = new RenderThread(heapMb);
      }
      reply = thread.render({ source: this.source, variables, maxOutputChars }, timeMs);
    } catch (e) {
      // The thread did not start, or postMessage refused a value it cannot copy (a function
      // among the kwargs; the thread is then fine).
      throw new ChatTemplateError(`${this.where}: the chat template could not be rendered: ${(e as Error).message}`, { cause: e });
    }
    if (reply === null) {
      thread = null;
      throw new ChatTemplateError(
        `${this.where}: the chat template did not finish within ${timeMs / 1000} s or ran out of its ${heapMb} MiB of memory ` +
          '(a loop that never ends or a value that grows without bound?); fix the template or use another one',
      );
    }
    // Includes the template's own raise_exception('...') message.
    if ('error' in reply) throw new ChatTemplateError(`${this.where}: the chat template failed on these messages: ${reply.error}`);
    return reply.text;
  }
}
