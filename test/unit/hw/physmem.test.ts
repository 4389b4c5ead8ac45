import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { POISON_BYTE, PhysMem } from '../../../src/hw/physmem.ts';
import { Panic } from '../../../src/lib/assert.ts';
import { GiB, KiB, MiB } from '../../../src/lib/units.ts';

describe('PhysMem construction', () => {
  it('rejects sizes that are not positive page multiples of at most 4 GiB', () => {
    expect(() => new PhysMem(0)).toThrow(Panic);
    expect(() => new PhysMem(4097)).toThrow(Panic);
    expect(() => new PhysMem(-4096)).toThrow(Panic);
    expect(() => new PhysMem(4 * GiB + 4096)).toThrow(Panic);
    expect(() => new PhysMem(64 * KiB, { chunkBytes: 12 * KiB })).toThrow(Panic);
    expect(() => new PhysMem(64 * KiB, { chunkBytes: 2048 })).toThrow(Panic);
  });

  it('builds a 4 GiB machine without host memory and touches only the chunk written', () => {
    const mem = new PhysMem(4 * GiB);
    expect(mem.nFrames).toBe(1 << 20);
    expect(mem.hostBytesAllocated()).toBe(0);
    mem.writeU32(4 * GiB - 4, 0xdeadbeef);
    expect(mem.readU32(4 * GiB - 4)).toBe(0xdeadbeef);
    expect(mem.pteRead(mem.nFrames - 1, 1023)).toBe(0xdeadbeef);
    expect(mem.hostBytesAllocated()).toBe(MiB);
  });
});

describe('PhysMem lazy allocation', () => {
  it('allocates a chunk on the first write only', () => {
    const mem = new PhysMem(64 * MiB);
    const buf = new Uint8Array(8192);
    mem.read(5 * MiB, buf, 0, buf.length);
    expect(mem.readU32(7 * MiB)).toBe(0);
    expect(mem.pteRead(100, 5)).toBe(0);
    mem.zero(0, 64 * MiB);
    mem.copy(MiB, 3 * MiB, 2 * MiB);
    expect(mem.isPoisoned(0, 4096)).toBe(false);
    expect(mem.hostBytesAllocated()).toBe(0);
    expect(buf.every((b) => b === 0)).toBe(true);

    mem.write(MiB + 10, new Uint8Array([1, 2, 3]), 0, 3);
    expect(mem.hostBytesAllocated()).toBe(MiB);
    mem.write(MiB - 1, new Uint8Array([9, 9]), 0, 2); // spans chunks 0 and 1
    expect(mem.hostBytesAllocated()).toBe(2 * MiB);
    mem.pteWrite(3 * 256, 0, 1);
    expect(mem.hostBytesAllocated()).toBe(3 * MiB);
    mem.poison(10 * MiB, 4096);
    expect(mem.hostBytesAllocated()).toBe(4 * MiB);
  });

  it('gives the last chunk only the RAM that remains', () => {
    const mem = new PhysMem(40 * KiB, { chunkBytes: 16 * KiB });
    mem.writeU32(40 * KiB - 4, 7);
    expect(mem.hostBytesAllocated()).toBe(8 * KiB);
  });
});

describe('PhysMem words', () => {
  it('stores u32 little-endian and reads them back unsigned', () => {
    const mem = new PhysMem(64 * KiB);
    mem.writeU32(8, 0x11223344);
    const b = new Uint8Array(4);
    mem.read(8, b, 0, 4);
    expect([...b]).toEqual([0x44, 0x33, 0x22, 0x11]);
    mem.writeU32(12, 0xffffffff);
    expect(mem.readU32(12)).toBe(0xffffffff);
    mem.writeU32(16, -1);
    expect(mem.readU32(16)).toBe(0xffffffff);
  });

  it('pteRead/pteWrite address entry index of a frame', () => {
    const mem = new PhysMem(64 * KiB, { chunkBytes: 8 * KiB });
    mem.pteWrite(5, 1023, 0xfffff007);
    expect(mem.readU32(5 * 4096 + 1023 * 4)).toBe(0xfffff007);
    mem.writeU32(3 * 4096 + 8, 0x1234);
    expect(mem.pteRead(3, 2)).toBe(0x1234);
  });
});

describe('PhysMem bounds', () => {
  const mem = new PhysMem(64 * KiB);
  const buf = new Uint8Array(16);
  it.each([
    ['readU32 past the end', () => mem.readU32(64 * KiB)],
    ['readU32 unaligned', () => mem.readU32(2)],
    ['writeU32 unaligned', () => mem.writeU32(6, 1)],
    ['read crossing the end', () => mem.read(64 * KiB - 8, buf, 0, 16)],
    ['write at negative address', () => mem.write(-1, buf, 0, 1)],
    ['write past the host buffer', () => mem.write(0, buf, 8, 16)],
    ['copy source past the end', () => mem.copy(0, 64 * KiB - 4, 8)],
    ['copy destination past the end', () => mem.copy(64 * KiB - 4, 0, 8)],
    ['zero past the end', () => mem.zero(64 * KiB, 1)],
    ['poison past the end', () => mem.poison(60 * KiB, 8 * KiB)],
    ['isPoisoned past the end', () => mem.isPoisoned(60 * KiB, 8 * KiB)],
    ['pteRead of a frame outside RAM', () => mem.pteRead(16, 0)],
    ['pteRead index 1024', () => mem.pteRead(0, 1024)],
    ['pteWrite negative index', () => mem.pteWrite(0, -1, 0)],
    ['pteWrite fractional frame', () => mem.pteWrite(1.5, 0, 0)],
  ])('%s panics', (_name, f) => {
    expect(f).toThrow(Panic);
  });

  it('names the address in the message', () => {
    expect(() => mem.read(0x10000, buf, 0, 4)).toThrow(/0x10000/);
    expect(() => mem.pteRead(0x20, 3)).toThrow(/0x2000c/);
  });
});

describe('PhysMem host buffers', () => {
  it('accepts zero-length accesses at the end of RAM without allocating', () => {
    const mem = new PhysMem(64 * KiB);
    mem.write(64 * KiB, new Uint8Array(0), 0, 0);
    mem.read(64 * KiB, new Uint8Array(0), 0, 0);
    mem.copy(64 * KiB, 0, 0);
    expect(mem.hostBytesAllocated()).toBe(0);
  });

  it('honours the byteOffset of views passed as source and destination', () => {
    const mem = new PhysMem(64 * KiB, { chunkBytes: 8 * KiB });
    const backing = Uint8Array.from({ length: 20000 }, (_, i) => (i * 13) & 0xff);
    const src = backing.subarray(1000, 19000);
    mem.write(5000, src, 7, 12000); // crosses chunks: the view path
    mem.write(0, src.subarray(0, 4096), 0, 4096); // whole source in one chunk: the direct path
    const out = new Uint8Array(30000).subarray(500);
    mem.read(5000, out, 3, 12000);
    expect(out.subarray(3, 12003)).toEqual(src.subarray(7, 12007));
    mem.read(0, out, 0, 4096); // one whole page: the cached frame view path
    expect(out.subarray(0, 4096)).toEqual(backing.subarray(1000, 5096));
  });
});

describe('PhysMem zero and poison', () => {
  it('poisons and recognises poisoned ranges at any alignment', () => {
    const mem = new PhysMem(64 * KiB, { chunkBytes: 8 * KiB });
    mem.poison(4096, 3 * 4096);
    expect(mem.isPoisoned(4096, 3 * 4096)).toBe(true);
    expect(mem.isPoisoned(4097, 5)).toBe(true);
    expect(mem.isPoisoned(4095, 2)).toBe(false);
    expect(mem.isPoisoned(4096, 0)).toBe(true);
    mem.write(4096 + 8190, new Uint8Array([0]), 0, 1);
    expect(mem.isPoisoned(4096, 3 * 4096)).toBe(false);
    expect(mem.isPoisoned(4096, 8190)).toBe(true);
    expect(mem.isPoisoned(4096 + 8191, 4097)).toBe(true);
    const b = new Uint8Array(1);
    mem.read(5000, b, 0, 1);
    expect(b[0]).toBe(POISON_BYTE);
    mem.zero(4096, 3 * 4096);
    mem.read(5000, b, 0, 1);
    expect(b[0]).toBe(0);
  });
});

/** Deterministic bytes from a seed: fast-check generating 20 KiB arrays byte by byte is too slow. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Index of the first differing byte, or -1 (vitest's deep equality is slow on 40 KiB arrays). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

type Op =
  | { kind: 'write'; pa: number; length: number; seed: number }
  | { kind: 'copy'; dst: number; src: number; length: number }
  | { kind: 'zero'; pa: number; length: number }
  | { kind: 'poison'; pa: number; length: number };

/** RAM of 40 KiB in 8 KiB chunks: ranges cross chunk boundaries often, and the last chunk is full. */
const RAM = 40 * KiB;
const range = fc
  .tuple(fc.nat({ max: RAM }), fc.nat({ max: 20 * KiB }))
  .map(([pa, length]) => ({ pa, length: Math.min(length, RAM - pa) }));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc
    .tuple(range, fc.integer())
    .map(([{ pa, length }, seed]) => ({ kind: 'write' as const, pa, length, seed })),
  fc
    .tuple(fc.nat({ max: RAM }), fc.nat({ max: RAM }), fc.nat({ max: 20 * KiB }))
    .map(([dst, src, length]) => ({
      kind: 'copy' as const,
      dst,
      src,
      length: Math.min(length, RAM - dst, RAM - src),
    })),
  // Short overlapping copies inside one chunk and across a boundary.
  fc
    .tuple(
      fc.integer({ min: 8 * KiB - 600, max: 8 * KiB + 600 }),
      fc.integer({ min: -500, max: 500 }),
      fc.nat({ max: 1000 }),
    )
    .map(([src, delta, length]) => ({ kind: 'copy' as const, dst: src + delta, src, length })),
  // Whole pages from a page-aligned source (a large safecopy's runs): to an aligned or unaligned destination.
  fc
    .tuple(fc.nat({ max: RAM / 4096 - 1 }), fc.nat({ max: RAM - 4096 }), fc.integer({ min: 1, max: 4 }))
    .map(([srcPage, dst, pages]) => {
      const src = srcPage * 4096;
      return { kind: 'copy' as const, dst, src, length: Math.min(pages * 4096, RAM - dst, RAM - src) };
    }),
  range.map(({ pa, length }) => ({ kind: 'zero' as const, pa, length })),
  range.map(({ pa, length }) => ({ kind: 'poison' as const, pa, length })),
);

function applyRef(ref: Uint8Array, o: Op): void {
  if (o.kind === 'write') ref.set(pattern(o.length, o.seed), o.pa);
  else if (o.kind === 'copy') ref.copyWithin(o.dst, o.src, o.src + o.length);
  else ref.fill(o.kind === 'zero' ? 0 : POISON_BYTE, o.pa, o.pa + o.length);
}

function applyMem(mem: PhysMem, o: Op): void {
  if (o.kind === 'write') mem.write(o.pa, pattern(o.length, o.seed), 0, o.length);
  else if (o.kind === 'copy') mem.copy(o.dst, o.src, o.length);
  else if (o.kind === 'zero') mem.zero(o.pa, o.length);
  else mem.poison(o.pa, o.length);
}

describe('PhysMem against a reference Uint8Array', () => {
  it.each([8 * KiB, 4 * KiB, 64 * KiB])(
    'agrees after random write/copy/zero/poison (chunk %i)',
    (chunkBytes) => {
      fc.assert(
        fc.property(
          fc.array(op, { maxLength: 12 }),
          fc.nat({ max: RAM }),
          fc.nat({ max: RAM }),
          (ops, a, b) => {
            const mem = new PhysMem(RAM, { chunkBytes });
            const ref = new Uint8Array(RAM);
            for (const o of ops) {
              applyMem(mem, o);
              applyRef(ref, o);
            }
            const all = new Uint8Array(RAM);
            mem.read(0, all, 0, RAM);
            expect(firstDiff(all, ref)).toBe(-1);
            // A partial read into an offset of the destination.
            const [lo, hi] = a <= b ? [a, b] : [b, a];
            const part = new Uint8Array(hi - lo + 3);
            mem.read(lo, part, 3, hi - lo);
            expect(firstDiff(part.subarray(3), ref.subarray(lo, hi))).toBe(-1);
            expect(mem.isPoisoned(lo, hi - lo)).toBe(ref.subarray(lo, hi).every((x) => x === POISON_BYTE));
          },
        ),
        { numRuns: 150 },
      );
    },
  );
});

describe('PhysMem copies across chunks', () => {
  it('copies a repeated part-frame span afresh each time, and a different span of the same length', () => {
    const mem = new PhysMem(4 * MiB);
    const at = (pa: number, n: number): number[] => {
      const out = new Uint8Array(n);
      mem.read(pa, out, 0, n);
      return [...out];
    };
    mem.write(MiB + 100, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 0, 8);
    mem.copy(3 * MiB, MiB + 100, 8);
    expect(at(3 * MiB, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    mem.write(MiB + 100, new Uint8Array([9, 9]), 0, 2);
    mem.copy(3 * MiB, MiB + 100, 8);
    expect(at(3 * MiB, 8)).toEqual([9, 9, 3, 4, 5, 6, 7, 8]);
    mem.copy(3 * MiB, MiB + 102, 8);
    expect(at(3 * MiB, 8)).toEqual([3, 4, 5, 6, 7, 8, 0, 0]);
    mem.write(2 * MiB + 102, new Uint8Array([42]), 0, 1);
    mem.copy(3 * MiB, 2 * MiB + 102, 8);
    expect(at(3 * MiB, 8)).toEqual([42, 0, 0, 0, 0, 0, 0, 0]);
  });
});
