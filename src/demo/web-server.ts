/**
 * The `web` front end: HTTP/1.1 on node:http, calling `emoji` and `voting` over gRPC.
 *
 *   GET  /                    the voting page (self-contained HTML)
 *   GET  /ready               200 once listening (readinessProbe)
 *   GET  /api/list            [{shortcode, unicode}]
 *   GET|POST /api/vote?choice=:shortcode:
 *                             200 {voted}; 400 without choice; 404 unknown emoji;
 *                             500 for :doughnut: (the voting service always fails it)
 *   GET  /api/leaderboard     [{shortcode, unicode, votes}], most votes first
 *
 * A failing backend maps to a status by its gRPC code (see `httpStatusForGrpc`), so
 * the mesh's HTTP metrics and the gRPC metrics tell the same story.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import { voteMethodName } from './emoji-catalog.ts';
import { DemoGrpcClient } from './grpc-client.ts';
import { DEFAULT_GRACE_MS, type ListenOptions, type RunningServer } from './grpc-server.ts';
import {
  serviceDefinitions, type FindByShortcodeResponse, type ListAllEmojiResponse, type ResultsResponse,
} from './service-definitions.ts';
import { WEB_PAGE } from './web-page.ts';

/** Options of {@link startWebServer}. */
export type WebServerOptions = ListenOptions & {
  /** `host:port` of the emoji service, e.g. `emoji-svc.emojivoto:8080`. */
  emojiTarget: string;
  /** `host:port` of the voting service, e.g. `voting-svc.emojivoto:8080`. */
  votingTarget: string;
  /** Receives one line per event worth a log (start, stop, unexpected backend errors). Default: discard. */
  log?: (line: string) => void;
};

/** At most one line about failing backends per this many ms. */
const FAILURE_LOG_EVERY_MS = 5_000;

/** An answer of the API before it is written: status and JSON body. */
type Answer = { status: number; body: unknown };

/**
 * The HTTP status for a failed gRPC call: NOT_FOUND → 404, UNAVAILABLE → 503,
 * DEADLINE_EXCEEDED → 504, anything else (the doughnut's UNKNOWN included) → 500.
 */
export function httpStatusForGrpc(code: number | undefined): number {
  switch (code) {
    case grpcStatus.NOT_FOUND: return 404;
    case grpcStatus.INVALID_ARGUMENT: return 400;
    case grpcStatus.UNAVAILABLE: return 503;
    case grpcStatus.DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

/** Starts the web server and its two gRPC channels; resolves once it listens. */
export async function startWebServer(opts: WebServerOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const defs = serviceDefinitions();
  const emoji = new DemoGrpcClient(opts.emojiTarget, defs.emoji);
  const voting = new DemoGrpcClient(opts.votingTarget, defs.voting);

  const api = {
    async list(): Promise<Answer> {
      const res = await emoji.call<ListAllEmojiResponse>('ListAll', {});
      return { status: 200, body: res.list.map((e) => ({ shortcode: e.shortcode, unicode: e.unicode })) };
    },
    async vote(choice: string | null): Promise<Answer> {
      if (choice === null || choice === '') {
        return { status: 400, body: { error: 'Add ?choice=:shortcode: to the vote, e.g. /api/vote?choice=:joy:' } };
      }
      // Ask emoji first, as the original does: every vote is then two gRPC hops.
      const found = await emoji.call<FindByShortcodeResponse>('FindByShortcode', { shortcode: choice });
      const shortcode = found.emoji?.shortcode ?? choice;
      await voting.call<object>(voteMethodName(shortcode), {});
      return { status: 200, body: { voted: shortcode } };
    },
    async leaderboard(): Promise<Answer> {
      const { results } = await voting.call<ResultsResponse>('Results', {});
      // One FindByShortcode per result, in parallel: the fan-out the original has.
      const rows = await Promise.all(results.map(async (r) => {
        const found = await emoji.call<FindByShortcodeResponse>('FindByShortcode', { shortcode: r.shortcode });
        return { shortcode: r.shortcode, unicode: found.emoji?.unicode ?? '', votes: r.votes };
      }));
      return { status: 200, body: rows };
    },
  };

  // A backend that is down fails every request: one line per FAILURE_LOG_EVERY_MS, with a count, not a flood.
  const failures = { lastMs: -Infinity, suppressed: 0 };
  function logFailure(line: string): void {
    const now = Date.now();
    if (now - failures.lastMs < FAILURE_LOG_EVERY_MS) {
      failures.suppressed++;
      return;
    }
    log(failures.suppressed > 0 ? `${line} (and ${failures.suppressed} more failures since the last such line)` : line);
    failures.lastMs = now;
    failures.suppressed = 0;
  }

  async function route(req: IncomingMessage): Promise<Answer | { status: number; html: string } | { status: number; text: string }> {
    const url = new URL(req.url ?? '/', 'http://web');
    const method = req.method ?? 'GET';
    const readOnly = method === 'GET' || method === 'HEAD';
    switch (url.pathname) {
      case '/':
      case '/index.html':
        return readOnly ? { status: 200, html: WEB_PAGE } : methodNotAllowed(method);
      case '/ready':
        return readOnly ? { status: 200, text: 'ready\n' } : methodNotAllowed(method);
      case '/api/list':
        return readOnly ? api.list() : methodNotAllowed(method);
      case '/api/vote':
        return readOnly || method === 'POST' ? api.vote(url.searchParams.get('choice')) : methodNotAllowed(method);
      case '/api/leaderboard':
        return readOnly ? api.leaderboard() : methodNotAllowed(method);
      default:
        return { status: 404, body: { error: `Use /api/list, /api/vote or /api/leaderboard: "${url.pathname}" is not a page` } };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: Awaited<ReturnType<typeof route>>;
    try {
      answer = await route(req);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const status = httpStatusForGrpc(typeof code === 'number' ? code : undefined);
      const message = (err as { details?: unknown }).details ?? (err instanceof Error ? err.message : String(err));
      // The doughnut's failure is the demo working as meant; anything else is worth a line.
      if (code !== grpcStatus.UNKNOWN && code !== grpcStatus.NOT_FOUND) logFailure(`web: ${req.method ?? 'GET'} ${req.url ?? '/'} failed with ${status}: ${String(message).trim()}`);
      answer = { status, body: { error: String(message) } };
    }
    if ('html' in answer) send(res, answer.status, 'text/html; charset=utf-8', answer.html);
    else if ('text' in answer) send(res, answer.status, 'text/plain; charset=utf-8', answer.text);
    else send(res, answer.status, 'application/json', `${JSON.stringify(answer.body)}\n`);
  }

  const server = createServer((req, res) => {
    // Requests have no body we read; drain it so keep-alive connections stay usable.
    req.resume();
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  log(`web: listening on ${opts.host}:${port} (HTTP; emoji at ${opts.emojiTarget}, voting at ${opts.votingTarget})`);

  let closing: Promise<void> | undefined;
  return {
    host: opts.host,
    port,
    close(graceMs = DEFAULT_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          emoji.close();
          voting.close();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function methodNotAllowed(method: string): Answer {
  return { status: 405, body: { error: `Use GET (or POST for votes): "${method}" is not supported here` } };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}
