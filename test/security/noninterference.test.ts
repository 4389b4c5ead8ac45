// Noninterference: the same random program (test/security/program.ts) runs twice on fresh systems with the same
// seed and schedule; only the secret in V's pages 6–7 differs, and no operation of V's ever touches, grants or
// copies those pages. The attacker A's view — its results, its memory after every operation, and every trace
// event of its own (IPC, kernel calls and their results, faults, with their step numbers) — must be identical.
// A control run in which V does grant a secret page to A shows that the comparison sees a leak.
import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { CPF_READ } from '../../src/include/safecopies.ts';
import { trackOf } from '../../src/sim/trace.ts';
import { PAGE, pagesOf, secWorld } from './secworld.ts';
import { Runner, programArb } from './program.ts';
import type { Op } from './program.ts';

const SECRET_PAGE = 6;
const V = 0;
const A = 2;

/** Whether V's operation would read, grant or overwrite its secret pages (declassification, not a leak). */
function touchesSecret(op: Op): boolean {
  if (op.who !== V) return false;
  const end = (page: number, bytes: number): number => page * PAGE + bytes;
  switch (op.k) {
    case 'write':
    case 'unmap':
      return op.page >= SECRET_PAGE;
    case 'grant':
      return end(op.page, op.off + op.len) > SECRET_PAGE * PAGE;
    case 'copy':
      return end(op.page, Math.min(op.bytes, 2 * PAGE)) > SECRET_PAGE * PAGE;
    case 'map':
      return op.page + op.pages > SECRET_PAGE;
    default:
      return false;
  }
}

/** A's view of one run: results, memory after every operation, and its own trace events. */
async function observe(
  ops: readonly Op[],
  secret: number,
): Promise<{ results: (number | null | 'skip')[]; memory: string[]; events: string[] }> {
  const w = await secWorld({ trace: 'memory' });
  const v = w.actors[V];
  if (v === undefined) throw new Error('no V');
  const bytes = new Uint8Array(2 * PAGE).map((_, i) => (i * 131 + secret * 17 + (i >> 7)) & 0xff);
  await v.do((p) => p.write(v.buf + SECRET_PAGE * PAGE, bytes));
  const r = new Runner(w);
  const results: (number | null | 'skip')[] = [];
  const memory: string[] = [];
  const from = w.sys.trace.length;
  for (const raw of ops) {
    const op = r.byHolder(raw) ?? raw;
    results.push(touchesSecret(op) ? 'skip' : await r.apply(op));
    w.sys.sanityCheck();
    memory.push(Buffer.from(pagesOf(w, A)).toString('base64'));
  }
  const ep = w.actors[A]?.ep;
  const events = w.sys.trace
    .slice(from)
    .filter((e) => trackOf(e) === ep || (e.kind === 'ipc' && e.to === ep))
    .map((e) => JSON.stringify(e));
  return { results, memory, events };
}

const secrets = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
  .filter(([a, b]) => a !== b);

describe('noninterference', () => {
  fcTest.prop([programArb, secrets], { numRuns: Number(process.env.SECURITY_RUNS ?? 8), timeout: 60_000 })(
    "A's view does not depend on V's ungranted secret",
    async (ops, [s1, s2]) => {
      const a = await observe(ops, s1);
      const b = await observe(ops, s2);
      expect(b.results).toEqual(a.results);
      expect(b.memory).toEqual(a.memory);
      expect(b.events).toEqual(a.events);
    },
  );

  it('control: a secret page V does grant to A shows in its view (the comparison can fail)', async () => {
    const leak: Op[] = [
      { k: 'grant', who: V, to: { actor: A }, page: SECRET_PAGE, off: 0, len: PAGE, access: CPF_READ },
      { k: 'copy', who: A, byHolder: false, to: false, h: { pick: 0 }, off: 0, bytes: 64, page: 0 },
    ];
    // The control runs without the touchesSecret filter, which would skip V's grant.
    const run = async (secret: number): Promise<string> => {
      const w = await secWorld({ trace: null });
      const v = w.actors[V];
      if (v === undefined) throw new Error('no V');
      await v.do((p) => p.write(v.buf + SECRET_PAGE * PAGE, new Uint8Array(PAGE).fill(secret)));
      const r = new Runner(w);
      for (const op of leak) await r.apply(op);
      return Buffer.from(pagesOf(w, A)).toString('base64');
    };
    expect(await run(1)).not.toEqual(await run(2));
  });
});
