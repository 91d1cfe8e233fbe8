// `alpha-dpo dashboard`'s web server (node:http). It serves a fixed set of resources and
// nothing else: the page, its five assets, /api/runs (everything read so far, as JSON) and
// /api/events (server-sent events: a `hello` with everything, then `rows` as metrics.jsonl
// files grow and `info` when a run's summary or checkpoints change). URLs never become file
// paths, so no request can reach another file. It listens on 127.0.0.1 unless told otherwise,
// and then answers only requests addressed to a loopback name (a web page elsewhere cannot
// read it through DNS rebinding).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DashboardListenError } from './errors.js';
import { type PageAsset, pageAssets, readAsset } from './page-assets.js';
import { groupsOf, pageData } from './page-data.js';
import { livePageHtml } from './page-html.js';
import type { RunInfo } from './run-info.js';
import { openRuns, type RunSource } from './run-source.js';

export interface DashboardOptions {
  /** Address to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 6066; 0 picks a free one). */
  port?: number;
  /** How often metrics.jsonl files are checked for new lines, in ms (default 1000). */
  pollMs?: number;
  /** How often summaries and checkpoint lists are re-read, in ms (default 5000). */
  infoMs?: number;
}

export const DEFAULT_PORT = 6066;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

// Page security: scripts and data only from this server, nothing from elsewhere.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export class DashboardServer {
  readonly runs: RunSource[];
  private readonly server: Server;
  private readonly clients = new Set<ServerResponse>();
  private readonly infos: (RunInfo | null)[];
  private readonly infoJson: string[];
  private readonly assets: Map<string, PageAsset>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly loopbackOnly: boolean;
  private polling = false;
  private readonly title: string;

  private constructor(runs: RunSource[], infos: RunInfo[], loopbackOnly: boolean) {
    this.runs = runs;
    this.infos = infos;
    this.infoJson = infos.map((i) => JSON.stringify(i));
    this.loopbackOnly = loopbackOnly;
    const { styles, scripts } = pageAssets();
    this.assets = new Map([...styles, ...scripts].map((a) => [a.path, a]));
    this.title = `alpha-dpo: ${runs.map((r) => r.name).join(', ')}`;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`internal error: ${(e as Error).message}\n`);
      });
    });
  }

  /** Reads the runs once, then listens. Resolves when the server accepts connections. */
  static async start(dirs: readonly string[], options: DashboardOptions = {}): Promise<DashboardServer> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? DEFAULT_PORT;
    const runs = await openRuns(dirs);
    for (const run of runs) await run.refresh();
    const infos = await Promise.all(runs.map((r) => r.info()));
    const dashboard = new DashboardServer(runs, infos, isLoopback(host));
    await new Promise<void>((resolveListen, reject) => {
      dashboard.server.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') {
          reject(
            new DashboardListenError(`port ${port} is in use on ${host}: pass --port N with another port (--port 0 picks a free one)`),
          );
        } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
          reject(
            new DashboardListenError(
              `cannot listen on ${host}: not an address of this machine (the default, 127.0.0.1, serves this machine only)`,
            ),
          );
        } else reject(e);
      });
      dashboard.server.listen(port, host, () => resolveListen());
    });
    dashboard.timers.push(setInterval(() => void dashboard.poll(), options.pollMs ?? 1000));
    dashboard.timers.push(setInterval(() => void dashboard.pollInfo(), options.infoMs ?? 5000));
    // An SSE comment now and then keeps proxies and idle-connection timeouts from closing the stream.
    dashboard.timers.push(setInterval(() => dashboard.keepAlive(), 15_000));
    return dashboard;
  }

  /** The address to open in a browser. */
  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}/`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.clients) c.end();
    this.clients.clear();
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Reads new metrics lines of every run and sends them to every open page. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [index, run] of this.runs.entries()) {
        const update = await run.refresh();
        if (update.kind === 'none') continue;
        this.broadcast('rows', { run: index, reset: update.reset, rows: update.rows, status: run.status, groups: groupsOf(this.runs) });
      }
    } finally {
      this.polling = false;
    }
  }

  /** Re-reads summaries and checkpoint lists; sends those that changed. */
  async pollInfo(): Promise<void> {
    for (const [index, run] of this.runs.entries()) {
      const info = await run.info();
      const json = JSON.stringify(info);
      if (json === this.infoJson[index]) continue;
      this.infos[index] = info;
      this.infoJson[index] = json;
      this.broadcast('info', { run: index, info });
    }
  }

  private keepAlive(): void {
    for (const client of this.clients) client.write(': keep-alive\n\n');
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.clients) client.write(message);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (this.loopbackOnly && !isLoopback(hostHeader)) {
      res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('this dashboard answers only requests to 127.0.0.1 or localhost\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('only GET\n');
      return;
    }
    // The path exactly as sent (no URL resolution: '//x' or '/a/../b' match no resource).
    const path = (req.url ?? '/').split('?')[0] as string;
    const headers = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP });
      res.end(req.method === 'HEAD' ? undefined : livePageHtml(this.title));
      return;
    }
    const asset = this.assets.get(path);
    if (asset) {
      const text = await readAsset(asset);
      res.writeHead(200, { ...headers, 'Content-Type': asset.contentType });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path === '/api/runs') {
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(pageData(this.runs, this.infos)));
      return;
    }
    if (path === '/api/events') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
      res.write(`event: hello\ndata: ${JSON.stringify(pageData(this.runs, this.infos))}\n\n`);
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
      return;
    }
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }
}
