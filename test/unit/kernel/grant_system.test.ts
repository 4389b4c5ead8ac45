// Grants against the real VM server (createSystem): safecopy with CHECK and the COW path, safemap sharing.
// The two parties are user programs promoted to system privileges by the host, driven one action at a time.
// Checklist items 27, 33 (sampled and as a property), 35, 43, 44, 46 with real VM effects.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { OK, SIGSEGV } from '../../../src/include/errno.ts';
import { VM_PROCSTART } from '../../../src/include/vm.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../../src/include/safecopies.ts';
import { VMPTYPE_COWMAP } from '../../../src/include/com.ts';
import { grantSanityCheck } from '../../../src/kernel/system/do_safemap.ts';
import { drivenActor } from '../../helpers/driven.ts';
import { pattern, PAGE } from '../../helpers/bytes.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;

async function world(cow: boolean) {
  const sys = await createSystem({ sanity: 'functions', trace: 'memory', cowSafecopy: cow });
  const g = await drivenActor(sys, 'G', { spawn: { image: { data: 64 * PAGE }, system: true } });
  const r = await drivenActor(sys, 'R', { spawn: { image: { data: 64 * PAGE }, system: true } });
  return { sys, g, r };
}

const check = (sys: System): void => {
  sys.sanityCheck();
  grantSanityCheck(sys.kernel);
};

describe('safecopy against VM', () => {
  for (const cow of [true, false]) {
    it(`27/35 (cow ${cow}): copy into untouched pages; later granter writes are not seen by the requestor`, async () => {
      const { sys, g, r } = await world(cow);
      const n = 5 * PAGE;
      const id = await g.do(async (p) => {
        await p.write(HEAP, pattern(8 * PAGE, 1));
        return (await p.cpf.grantDirect(r.ep, HEAP, 8 * PAGE, CPF_READ | CPF_WRITE)).id;
      });
      expect(id).toBe(0);
      expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 100, HEAP + 100, n))).toBe(OK);
      const cowmaps = sys.trace.filter(
        (e) => e.kind === 'vmreq' && e.op === 'post' && e.reqType === VMPTYPE_COWMAP,
      );
      expect(cowmaps.length).toBe(cow ? 1 : 0);
      check(sys);
      expect([...(await r.do((p) => p.read(HEAP + 100, n)))]).toEqual([
        ...pattern(8 * PAGE, 1).subarray(100, 100 + n),
      ]);
      await g.do((p) => p.write(HEAP + PAGE, new Uint8Array(PAGE).fill(0x99)));
      const after = await r.do((p) => p.read(HEAP + PAGE, PAGE));
      expect([...after]).toEqual([...pattern(8 * PAGE, 1).subarray(PAGE, 2 * PAGE)]);
      // The requestor's own write stays its own.
      await r.do((p) => p.write(HEAP + 2 * PAGE, new Uint8Array(16).fill(0x44)));
      expect([...(await g.do((p) => p.read(HEAP + 2 * PAGE, 16)))]).toEqual([
        ...pattern(8 * PAGE, 1).subarray(2 * PAGE, 2 * PAGE + 16),
      ]);
      check(sys);
    });
  }

  it('33 (sampled): COW on and off give identical bytes and results', async () => {
    const cases: [number, number, number][] = [
      [0, 0, 4 * PAGE],
      [100, 100, 3 * PAGE + 5],
      [100, 101, 2 * PAGE],
      [4095, 4095, PAGE + 2],
      [0, 0, 1],
      [PAGE, 3 * PAGE, 2 * PAGE],
      [7 * PAGE, 0, 2 * PAGE],
    ];
    const results: string[][] = [];
    for (const cow of [true, false]) {
      const { sys, g, r } = await world(cow);
      const id = await g.do(async (p) => {
        await p.write(HEAP, pattern(8 * PAGE, 7));
        return (await p.cpf.grantDirect(r.ep, HEAP, 8 * PAGE, CPF_READ)).id;
      });
      const out: string[] = [];
      for (const [s, d, n] of cases) {
        const res = await r.do((p) => p.sys.safecopyFrom(g.ep, id, s, HEAP + 16 * PAGE + d, n));
        const bytes = await r.do((p) => p.read(HEAP + 16 * PAGE, 8 * PAGE));
        out.push(
          `${res}:${Buffer.from(bytes).toString('base64').length}:${bytes.reduce((a, b) => (a * 31 + b) >>> 0, 0)}`,
        );
      }
      check(sys);
      results.push(out);
    }
    expect(results[0]).toEqual(results[1]);
  });
});

describe('33: COW on and off are observationally identical (property)', () => {
  type Op =
    | { kind: 'copy'; s: number; d: number; n: number }
    | { kind: 'writeDst'; at: number; byte: number }
    | { kind: 'writeSrc'; at: number; byte: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    // Half the copies have source and destination congruent mod 4096, so the COW path is taken when it may be.
    fc
      .record({
        n: fc.integer({ min: 1, max: 4 * PAGE }),
        s: fc.nat(4 * PAGE),
        d: fc.nat(4 * PAGE),
        congruent: fc.boolean(),
        dp: fc.nat(3),
      })
      .map(({ n, s, d, congruent, dp }) => ({
        kind: 'copy' as const,
        s,
        d: congruent ? (s % PAGE) + dp * PAGE : d,
        n,
      })),
    fc
      .record({ at: fc.nat(8 * PAGE - 1), byte: fc.integer({ min: 0, max: 255 }) })
      .map((o) => ({ kind: 'writeDst' as const, ...o })),
    fc
      .record({ at: fc.nat(8 * PAGE - 1), byte: fc.integer({ min: 0, max: 255 }) })
      .map((o) => ({ kind: 'writeSrc' as const, ...o })),
  );

  /** Runs the ops on a fresh system; returns every result and the destination's final bytes. */
  async function play(
    cow: boolean,
    ops: readonly Op[],
  ): Promise<{ results: number[]; dst: number[]; src: number[] }> {
    const { sys, g, r } = await world(cow);
    const id = await g.do(async (p) => {
      await p.write(HEAP, pattern(8 * PAGE, 3));
      return (await p.cpf.grantDirect(r.ep, HEAP, 8 * PAGE, CPF_READ)).id;
    });
    const DST = HEAP + 16 * PAGE;
    const results: number[] = [];
    for (const op of ops) {
      if (op.kind === 'copy')
        results.push(await r.do((p) => p.sys.safecopyFrom(g.ep, id, op.s, DST + op.d, op.n)));
      else if (op.kind === 'writeDst') await r.do((p) => p.writeU8(DST + op.at, op.byte));
      else await g.do((p) => p.writeU8(HEAP + op.at, op.byte));
    }
    const dst = [...(await r.do((p) => p.read(DST, 8 * PAGE)))];
    const src = [...(await g.do((p) => p.read(HEAP, 8 * PAGE)))];
    check(sys);
    return { results, dst, src };
  }

  it('random copies (offsets congruent or not, up to 4 pages) interleaved with writes on both sides', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 6 }), async (ops) => {
        const on = await play(true, ops);
        const off = await play(false, ops);
        expect(on.results).toEqual(off.results);
        expect(on.dst).toEqual(off.dst);
        expect(on.src).toEqual(off.src);
      }),
      { numRuns: Number(process.env.GRANT_COW_DIFF_RUNS ?? 8) },
    );
  });
});

describe('safemap against VM', () => {
  it('44: a writable mapping shares writes both ways; safeunmap leaves the grantee a snapshot', async () => {
    const { sys, g, r } = await world(true);
    const id = await g.do(async (p) => {
      await p.write(HEAP, new Uint8Array(4 * PAGE).fill(20));
      return (await p.cpf.grantDirect(r.ep, HEAP, 4 * PAGE, CPF_READ | CPF_WRITE | CPF_MAP)).id;
    });
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, HEAP + 8 * PAGE, 4 * PAGE, true))).toBe(OK);
    check(sys);
    expect(await r.do((p) => p.readU8(HEAP + 8 * PAGE + 5))).toBe(20);
    await r.do((p) => p.writeU8(HEAP + 8 * PAGE + 5, 10));
    expect(await g.do((p) => p.readU8(HEAP + 5))).toBe(10);
    await g.do((p) => p.writeU8(HEAP + 6, 21));
    expect(await r.do((p) => p.readU8(HEAP + 8 * PAGE + 6))).toBe(21);
    expect(await r.do((p) => p.sys.safeunmap(HEAP + 8 * PAGE))).toBe(OK);
    await g.do((p) => p.writeU8(HEAP + 6, 22));
    expect(await r.do((p) => p.readU8(HEAP + 8 * PAGE + 6))).toBe(21);
    check(sys);
  });

  it('46: cpf_revoke of a MAP grant leaves the grantee a snapshot', async () => {
    const { sys, g, r } = await world(true);
    const id = await g.do(async (p) => {
      await p.write(HEAP, new Uint8Array(PAGE).fill(20));
      return (await p.cpf.grantDirect(r.ep, HEAP, PAGE, CPF_READ | CPF_WRITE | CPF_MAP)).id;
    });
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, HEAP + 8 * PAGE, PAGE, true))).toBe(OK);
    expect(await g.do((p) => p.cpf.revoke(id))).toBe(OK);
    await g.do((p) => p.writeU8(HEAP, 21));
    expect(await r.do((p) => p.readU8(HEAP + 8 * PAGE))).toBe(20);
    check(sys);
  });

  it("43: a read-only mapping shows the owner's writes; a grantee write kills it with SIGSEGV", async () => {
    const { sys, g, r } = await world(true);
    const id = await g.do(async (p) => {
      await p.write(HEAP, new Uint8Array(PAGE).fill(20));
      return (await p.cpf.grantDirect(r.ep, HEAP, PAGE, CPF_READ | CPF_MAP)).id;
    });
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, HEAP + 8 * PAGE, PAGE, false))).toBe(OK);
    await g.do((p) => p.writeU8(HEAP, 30));
    expect(await r.do((p) => p.readU8(HEAP + 8 * PAGE))).toBe(30);
    await expect(r.do((p) => p.writeU8(HEAP + 8 * PAGE, 1))).rejects.toThrow(/did not complete/);
    expect(r.kp.inUse && r.kp.endpoint === r.ep).toBe(false);
    expect(sys.exits.find((x) => x.endpoint === r.ep)?.signal).toBe(SIGSEGV);
    check(sys);
  });
});
