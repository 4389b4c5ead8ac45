// System.spawn reports the exit of a program that ends before init has heard its fork returned (found by the
// fault campaign: a VM client killed mid-exec left its handle without an exit, so the workload looked hung).
import { describe, expect, it } from 'vitest';
import { SIGKILL } from '../../../src/include/errno.ts';
import { createSystem } from '../../../src/sim/system.ts';

describe('spawn: a child that ends before init resumes', () => {
  it('killed between its fork and init learning its endpoint: the handle still gets the exit', async () => {
    const sys = await createSystem({ sanity: 'top' });
    const h = sys.spawn(() => Promise.resolve(0), { name: 'early' });
    // init (lowest priority) forks; the child runs first. Stop while init has not yet been told the endpoint.
    const r = await sys.run({ until: () => sys.proc('early') !== null && h.endpoint === null });
    expect(r.reason).not.toBe('idle');
    const child = sys.proc('early');
    expect(child).not.toBeNull();
    expect(sys.kill(child?.endpoint ?? -1, SIGKILL)).toBe(true);
    await sys.run();
    expect(h.endpoint).toBe(child?.endpoint);
    expect(h.exit).toEqual({ code: 0, signal: SIGKILL });
    sys.sanityCheck();
  });

  it('a program that simply runs to its end reports its own status (3) and no signal', async () => {
    const sys = await createSystem({ sanity: 'top' });
    const h = sys.spawn(() => Promise.resolve(3), { name: 'plain' });
    await sys.run();
    expect(h.exit).toEqual({ code: 3, signal: 0 });
  });
});
