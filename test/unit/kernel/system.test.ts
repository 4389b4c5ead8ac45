// Kernel-call dispatch (src/kernel/system.ts): kernelCallResult, the result-only entry the sys_safecopy* wrappers
// use, answers every call as kernelCall does — same result, same trace, same counts, same simulated time.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import { EBADREQUEST, ECALLDENIED, OK } from '../../../src/include/errno.ts';
import { GET_WHOAMI, KERNEL_CALL, SYS_GETINFO, SYS_TIMES } from '../../../src/include/com.ts';
import type { Payload } from '../../../src/include/ipc.ts';
import type { Proc } from '../../../src/libsys/proc.ts';

/** Calls of every kind of answer: a reply with fields, a bare result, an unknown call, a call outside the mask. */
const CALLS: Payload[] = [
  { type: SYS_GETINFO, request: GET_WHOAMI },
  { type: SYS_TIMES },
  { type: KERNEL_CALL + 50 },
  { type: KERNEL_CALL - 1 },
];

async function run(call: (p: Proc, m: Payload) => Promise<number>, kernelCalls: 'all' | number[]) {
  const b = bareKernel();
  const results: number[] = [];
  b.spawn(20, 'caller', async (p) => {
    for (const m of CALLS) results.push(await call(p, m));
  }, { ipcTo: 'all', kernelCalls, vmCalls: [] });
  await b.k.run();
  return { results, trace: b.trace, counts: { ...b.k.counts }, cycles: b.k.clock.cycles };
}

describe('kernelCallResult', () => {
  it.each([['every call allowed', 'all' as const], ['no call allowed', [] as number[]]])(
    'answers as kernelCall does: result, trace, counts and simulated time (%s)',
    async (_label, mask) => {
      const full = await run(async (p, m) => (await p.kernelCall(m)).type, mask);
      const lean = await run((p, m) => p.kernelCallResult(m), mask);
      expect(lean).toEqual(full);
      expect(full.trace.filter((e) => e.kind === 'kcall')).toHaveLength(CALLS.length);
      const expected = mask === 'all' ? [OK, OK, EBADREQUEST, EBADREQUEST] : [ECALLDENIED, ECALLDENIED, EBADREQUEST, EBADREQUEST];
      expect(lean.results).toEqual(expected);
    },
  );
});
