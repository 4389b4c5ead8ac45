import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:http';
import type { Server } from 'node:http';
import { parsePort, serveStatic } from '../../../src/cli/commands/ui.ts';
import { UsageError } from '../../../src/cli/options.ts';
import { grantvm } from '../../helpers/cli.ts';

describe('grantvm ui', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grantvm-ui-'));
  let server: Server;
  let base = '';

  beforeAll(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>view</title>');
    writeFileSync(join(dir, 'assets', 'a.js'), 'export {};');
    writeFileSync(join(tmpdir(), 'grantvm-ui-secret.txt'), 'TOP-SECRET-42');
    server = await serveStatic(dir, '127.0.0.1', 0);
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  });

  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the bundle with content types; index.html for /; 404 for a missing file', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>view</title>');
    const js = await fetch(`${base}/assets/a.js`);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
  });

  it('never serves a file outside the bundle', async () => {
    // a raw request path, which fetch would normalise
    for (const path of ['/../grantvm-ui-secret.txt', '/%2e%2e/grantvm-ui-secret.txt', '/assets/..%2f..%2fgrantvm-ui-secret.txt']) {
      const { status, body } = await new Promise<{ status: number; body: string }>((ok, fail) => {
        get({ host: '127.0.0.1', port: Number(new URL(base).port), path }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => ok({ status: res.statusCode ?? 0, body: b }));
        }).on('error', fail);
      });
      expect(status, path).not.toBe(200);
      expect(body, path).not.toContain('TOP-SECRET-42');
    }
  });

  it('--port takes 0..65535; a missing bundle says how to build it and exits 1', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8377')).toBe(8377);
    expect(() => parsePort('70000')).toThrow(UsageError);
    expect(() => parsePort('x')).toThrow(UsageError);
    const r = grantvm(['ui', '--dir', join(dir, 'missing')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('npm run build:web');
    const bad = grantvm(['ui', '--port', 'x']);
    expect(bad.status).toBe(2);
  });
});
