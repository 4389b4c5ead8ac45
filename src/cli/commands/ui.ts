// `grantvm ui [--port N] [--host H] [--dir D]`: serves the browser view's static bundle (web/dist, built by
// `npm run build:web`) on localhost and prints its URL. The page needs nothing from the network: the model
// runs in the page's own Web Worker. Entry points: uiCommand, serveStatic.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../options.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** web/dist of this checkout (src/cli/commands/) or of the installed package (dist/src/cli/commands/). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../../web/dist/' : '../../../../web/dist/', import.meta.url));

export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`--port must be an integer in [0, 65535] (0: any free port), got '${text}'`);
  return n;
}

/** A static file server for `dir` on host:port; resolves once it listens (port 0 picks a free one). */
export function serveStatic(dir: string, host: string, port: number): Promise<Server> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      ok(server);
    });
  });
}

/** Why the server could not listen, as one line naming the option to change. */
export function listenProblem(err: unknown, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return `--port ${port}: the port is in use on ${host} (choose another, or 0 for any free port)`;
  if (code === 'EACCES') return `--port ${port}: not allowed to listen there (ports below 1024 need privileges)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL') return `--host ${host}: not an address of this machine`;
  return `cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`;
}

export async function uiCommand(o: { port: number; host: string; dir?: string }): Promise<void> {
  const dir = o.dir ?? DEFAULT_WEB_DIR;
  if (!existsSync(join(dir, 'index.html'))) {
    process.stderr.write(`grantvm ui: no browser bundle in ${dir}; build it first with: npm run build:web\n`);
    process.exitCode = 1;
    return;
  }
  const server = await serveStatic(dir, o.host, o.port).catch((err: unknown) => {
    throw new UsageError(listenProblem(err, o.host, o.port));
  });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : o.port;
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  console.log(`grantvm ui: serving ${dir} at http://${shown}:${port}/ (Ctrl-C to stop)`);
}
