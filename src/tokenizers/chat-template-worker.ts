// The code of the thread that renders chat templates for chat-template.ts, which waits on it
// synchronously and terminates it past the time limit. It is JavaScript kept as a string and
// started with `eval: true` so that it runs the same from src/ (through tsx, whose loader a worker
// thread does not get) and from dist/. Protocol: workerData = { port, signal, jinja (the URL of
// @huggingface/jinja) }. signal[1] becomes 1 once the module has loaded (2 and a { error } message
// if it failed). Each request { seq, source, variables, maxOutputChars } arrives on
// port; the reply { seq, text } or { seq, error } goes back on it, then signal[0] is set to seq and
// notified (the caller sleeps in Atomics.wait on it).

export interface RenderRequest {
  seq: number;
  source: string;
  variables: Record<string, unknown>;
  /** Most characters of the rendered text. */
  maxOutputChars: number;
}

export type RenderReply = { seq: number; text: string } | { seq: number; error: string };

export const RENDER_THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, signal, jinja } = workerData;

function signalStarted(state) {
  Atomics.store(signal, 1, state);
  Atomics.notify(signal, 1);
}

import(jinja).then(
  ({ Template }) => {
    // Parsed templates by source: a process renders one or a few templates many times.
    const parsed = new Map();
    port.on('message', (request) => {
      let reply;
      try {
        let template = parsed.get(request.source);
        if (template === undefined) {
          if (parsed.size >= 16) parsed.clear();
          template = new Template(request.source);
          parsed.set(request.source, template);
        }
        const text = template.render(request.variables);
        reply = text.length > request.maxOutputChars
          ? { seq: request.seq, error: 'the rendered text has ' + text.length + ' characters; the limit is ' + request.maxOutputChars }
          : { seq: request.seq, text };
      } catch (e) {
        reply = { seq: request.seq, error: e instanceof Error ? e.message : String(e) };
      }
      port.postMessage(reply);
      Atomics.store(signal, 0, request.seq);
      Atomics.notify(signal, 0);
    });
    signalStarted(1);
  },
  (e) => {
    port.postMessage({ error: String(e) });
    signalStarted(2);
  },
);
`;
