// `grantvm test [suite]`: every check printed as passed/failed, exit status 0 iff all passed; an unknown suite
// is a usage error (status 2).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/grantvm.js', import.meta.url));

function grantvm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('grantvm test', () => {
  it('test safecopy prints every check as passed and exits 0', () => {
    const r = grantvm('test', 'safecopy');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/passed {2}\[cow off\] REQUESTOR: SAFECOPY 0x8000: OK, buf\[0\] = 100/);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.stdout).not.toMatch(/failed {2}/);
  });

  it('an unknown suite is a usage error naming the suites', () => {
    const r = grantvm('test', 'no-such-suite');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown suite 'no-such-suite' \(suites: .*safecopy.*safemap.*all\)/);
  });
});
