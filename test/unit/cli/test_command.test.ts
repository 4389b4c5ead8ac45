// `grantvm test [suite]`: every check printed as passed/failed, exit status 0 iff all passed; an unknown suite
// is a usage error (status 2).
import { describe, expect, it } from 'vitest';
import { cliHost } from '../../helpers/cli-host.ts';

// The command lines run in one host process, as in a process of their own but without a Node start each.
const host = cliHost();
const grantvm = (...args: string[]) => host.grantvm(args);

describe('grantvm test', () => {
  it('test safecopy prints every check as passed and exits 0', async () => {
    const r = await grantvm('test', 'safecopy');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/passed {2}\[cow off\] REQUESTOR: SAFECOPY 0x8000: OK, buf\[0\] = 100/);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.stdout).not.toMatch(/failed {2}/);
  });

  it('an unknown suite is a usage error naming the suites', async () => {
    const r = await grantvm('test', 'no-such-suite');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown suite 'no-such-suite' \(suites: .*safecopy.*safemap.*all\)/);
  });
});
