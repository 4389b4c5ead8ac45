// PhysMem's edges as its callers see them: which writes a watched frame counts (every write method, and only
// those reaching a watched frame), the word views of table walks (frameWords, frameWordsForWrite, clearWords),
// writeFromBuffer, the panics with their messages, and the host memory a chunk costs.
import { describe, expect, it } from 'vitest';
import { POISON_BYTE, PhysMem } from '../../../src/hw/physmem.ts';
import { Panic } from '../../../src/lib/assert.ts';
import { KiB } from '../../../src/lib/units.ts';

const PAGE = 4096;

/** 16 pages in chunks of two pages: frames 2k and 2k+1 share a chunk. */
const small = (): PhysMem => new PhysMem(16 * PAGE, { chunkBytes: 2 * PAGE });

const bytesAt = (mem: PhysMem, pa: number, n: number): number[] => {
  const out = new Uint8Array(n);
  mem.read(pa, out, 0, n);
  return [...out];
};

describe('PhysMem: writes to watched frames', () => {
  it('every kind of write that reaches a watched frame counts once; others and reads do not', () => {
    const mem = small();
    mem.watchFrame(5);
    let n = mem.tableWrites;
    const counts = (f: () => void): number => {
      f();
      const d = mem.tableWrites - n;
      n = mem.tableWrites;
      return d;
    };
    expect(counts(() => mem.writeU32(5 * PAGE + 8, 1))).toBe(1);
    expect(counts(() => mem.writeU32(4 * PAGE + 8, 1))).toBe(0);
    expect(counts(() => mem.write(4 * PAGE + PAGE - 2, Uint8Array.of(1, 2, 3), 0, 3))).toBe(1); // crosses into 5
    expect(counts(() => mem.write(4 * PAGE, Uint8Array.of(1, 2), 0, 2))).toBe(0);
    expect(counts(() => mem.write(6 * PAGE - 1, Uint8Array.of(1, 2), 0, 2))).toBe(1); // last byte of 5, into 6
    expect(counts(() => mem.write(6 * PAGE, Uint8Array.of(1), 0, 1))).toBe(0);
    expect(counts(() => mem.write(5 * PAGE, new Uint8Array(0), 0, 0))).toBe(0);
    expect(counts(() => mem.writeFromBuffer(5 * PAGE, new ArrayBuffer(8), 0, 8))).toBe(1);
    expect(counts(() => mem.copy(5 * PAGE, 0, 16))).toBe(1);
    expect(counts(() => mem.copy(0, 5 * PAGE, 16))).toBe(0);
    expect(counts(() => mem.copy(5 * PAGE, 5 * PAGE, 16))).toBe(0); // a copy onto itself writes nothing
    expect(counts(() => mem.zero(5 * PAGE, 4))).toBe(1);
    expect(counts(() => mem.poison(3 * PAGE, 3 * PAGE))).toBe(1);
    expect(counts(() => mem.poison(3 * PAGE, PAGE))).toBe(0);
    expect(counts(() => mem.pteWrite(5, 3, 7))).toBe(1);
    expect(counts(() => mem.pteWrite(4, 3, 7))).toBe(0);
    expect(counts(() => mem.frameWordsForWrite(5))).toBe(1);
    expect(counts(() => mem.frameWordsForWrite(7))).toBe(0);
    expect(counts(() => mem.clearWords(5, 0, 4))).toBe(1);
    expect(counts(() => mem.clearWords(4, 0, 4))).toBe(0);
    expect(counts(() => mem.read(5 * PAGE, new Uint8Array(8), 0, 8))).toBe(0);
    expect(counts(() => mem.readU32(5 * PAGE))).toBe(0);
    expect(counts(() => mem.pteRead(5, 0))).toBe(0);
  });
});

describe('PhysMem: word views', () => {
  it('frameWords is null for an unwritten chunk, else the live words of the frame', () => {
    const mem = small();
    expect(mem.frameWords(3)).toBeNull();
    mem.writeU32(3 * PAGE + 8, 0xabcd);
    const w = mem.frameWords(3);
    expect(w?.length).toBe(1024);
    expect(w?.[2]).toBe(0xabcd);
    // the other frame of the chunk has a view too (the chunk is allocated), and it is that frame's
    expect(mem.frameWords(2)?.[2]).toBe(0);
    mem.writeU32(3 * PAGE + 12, 5);
    expect(mem.frameWords(3)?.[3]).toBe(5);
    expect(mem.frameWords(3)).toBe(w);
    expect(mem.frameWords(6)).toBeNull();
  });

  it('frameWordsForWrite allocates the chunk and writes reach RAM; clearWords zeroes [from, to)', () => {
    const mem = small();
    const w = mem.frameWordsForWrite(9);
    expect(mem.hostBytesAllocated()).toBe(2 * PAGE);
    w[0] = 0x11223344;
    w[1023] = 7;
    expect(mem.readU32(9 * PAGE)).toBe(0x11223344);
    expect(mem.pteRead(9, 1023)).toBe(7);
    expect(mem.frameWordsForWrite(9)).toBe(w);
    const v = mem.frameWordsForWrite(8);
    v[5] = 9;
    expect(mem.pteRead(8, 5)).toBe(9);
    expect(mem.frameWordsForWrite(9)[1023]).toBe(7);
    for (let i = 0; i < 8; i++) mem.pteWrite(9, i, i + 1);
    mem.clearWords(9, 2, 5);
    expect(Array.from({ length: 8 }, (_, i) => mem.pteRead(9, i))).toEqual([1, 2, 0, 0, 0, 6, 7, 8]);
    mem.clearWords(12, 0, 1024); // never written: stays unallocated
    expect(mem.hostBytesAllocated()).toBe(2 * PAGE);
  });
});

describe('PhysMem: data paths', () => {
  it('writeFromBuffer writes from a byte offset of a buffer, across chunks', () => {
    const mem = small();
    const src = Uint8Array.from({ length: 40 }, (_, i) => i + 1);
    mem.writeFromBuffer(2 * PAGE - 10, src.buffer, 5, 20);
    expect(bytesAt(mem, 2 * PAGE - 11, 22)).toEqual([0, ...src.subarray(5, 25), 0]);
  });

  it('a page-sized write at a page in the middle of a chunk, and a whole-page read of it', () => {
    const mem = new PhysMem(64 * KiB, { chunkBytes: 16 * KiB });
    const page = Uint8Array.from({ length: PAGE }, (_, i) => (i * 13) & 0xff);
    mem.write(PAGE, page, 0, PAGE);
    const back = new Uint8Array(PAGE + 2);
    mem.read(PAGE, back, 1, PAGE);
    expect(back[0]).toBe(0);
    expect(back[PAGE + 1]).toBe(0);
    expect(back.subarray(1, PAGE + 1)).toEqual(page);
    expect(bytesAt(mem, 0, 4)).toEqual([0, 0, 0, 0]);
    expect(bytesAt(mem, 2 * PAGE, 4)).toEqual([0, 0, 0, 0]);
  });

  it('a write from an offset of the source, and of part of it, stays in its range', () => {
    const mem = small();
    const src = Uint8Array.of(1, 2, 3, 4, 5, 6);
    mem.write(100, src, 2, 3);
    mem.write(200, src, 0, 4);
    expect(bytesAt(mem, 99, 5)).toEqual([0, 3, 4, 5, 0]);
    expect(bytesAt(mem, 199, 6)).toEqual([0, 1, 2, 3, 4, 0]);
  });

  it('copy of zero bytes, and a copy from an unwritten chunk into a written one zeroes it', () => {
    const mem = small();
    mem.write(0, Uint8Array.of(9, 9, 9, 9), 0, 4);
    mem.copy(0, 8 * PAGE, 0);
    expect(bytesAt(mem, 0, 4)).toEqual([9, 9, 9, 9]);
    mem.copy(1, 8 * PAGE, 2);
    expect(bytesAt(mem, 0, 4)).toEqual([9, 0, 0, 9]);
    expect(mem.hostBytesAllocated()).toBe(2 * PAGE);
  });

  it('a read of an unwritten chunk gives zeros over whatever the host buffer held', () => {
    const mem = small();
    mem.write(2 * PAGE - 2, Uint8Array.of(7, 7), 0, 2);
    const got = new Uint8Array(16).fill(0xee);
    mem.read(2 * PAGE - 2, got, 1, 6); // two written bytes, then four of the unwritten second chunk
    expect([...got]).toEqual([0xee, 7, 7, 0, 0, 0, 0, ...new Array<number>(9).fill(0xee)]);
  });

  it('a read of one page at an address not on a page boundary gives the bytes there, not a whole frame', () => {
    const mem = small();
    const src = Uint8Array.from({ length: 2 * PAGE }, (_, i) => (i * 13 + 5) & 0xff);
    mem.write(0, src, 0, src.length);
    const got = new Uint8Array(PAGE);
    mem.read(100, got, 0, PAGE);
    expect(got).toEqual(src.subarray(100, 100 + PAGE));
    // and the reads that follow, on the page boundary or elsewhere, are not served from a view made for it
    mem.read(0, got, 0, PAGE);
    expect(got).toEqual(src.subarray(0, PAGE));
    mem.read(200, got, 0, PAGE);
    expect(got).toEqual(src.subarray(200, 200 + PAGE));
  });

  it('a downward copy across chunks (destination above the source) keeps every source byte', () => {
    const mem = small();
    const src = Uint8Array.from({ length: 3 * PAGE }, (_, i) => (i * 7 + 1) & 0xff);
    mem.write(PAGE + 5, src, 0, src.length);
    mem.copy(PAGE + 5 + 1000, PAGE + 5, src.length);
    const got = new Uint8Array(src.length);
    mem.read(PAGE + 5 + 1000, got, 0, got.length);
    expect(got).toEqual(src);
  });

  it('isPoisoned: a range of an unwritten chunk is not; a poisoned one in the second chunk is', () => {
    const mem = small();
    expect(mem.isPoisoned(4 * PAGE, 8)).toBe(false);
    mem.poison(4 * PAGE, 2 * PAGE + 8);
    expect(mem.isPoisoned(4 * PAGE, 2 * PAGE + 8)).toBe(true);
    expect(mem.isPoisoned(4 * PAGE + 1, 2 * PAGE + 7)).toBe(true);
    expect(mem.isPoisoned(4 * PAGE, 2 * PAGE + 9)).toBe(false);
    expect(mem.isPoisoned(6 * PAGE + 3, 6)).toBe(false);
    expect(mem.isPoisoned(6 * PAGE + 2, 6)).toBe(true);
    mem.writeU32(4 * PAGE + 8, POISON_BYTE * 0x01010101 + 1);
    expect(mem.isPoisoned(4 * PAGE, 16)).toBe(false);
    expect(mem.isPoisoned(4 * PAGE + 9, 3)).toBe(true);
  });
});

describe('PhysMem: panics name what was wrong', () => {
  it('accesses outside RAM, misaligned words, bad entries and host buffers', () => {
    const mem = small();
    const ram = 16 * PAGE;
    const panics = (f: () => unknown, text: string | RegExp): void => {
      expect(f).toThrow(Panic);
      expect(f).toThrow(text);
    };
    panics(
      () => mem.readU32(ram),
      'physmem readU32: physical range 0x10000 +4 bytes outside RAM [0, 0x10000)',
    );
    panics(() => mem.readU32(2), 'physmem readU32: physical address 0x2 not 4-byte aligned');
    panics(() => mem.readU32(-4), 'outside RAM');
    panics(() => mem.writeU32(ram - 2, 0), 'physmem writeU32');
    panics(() => mem.writeU32(6, 0), 'not 4-byte aligned');
    panics(() => mem.read(ram - 2, new Uint8Array(4), 0, 4), 'physmem read: physical range 0xfffe +4 bytes');
    panics(
      () => mem.read(0, new Uint8Array(4), 2, 4),
      'physmem read: host buffer range [2, +4) outside buffer of 4 bytes',
    );
    panics(() => mem.read(0, new Uint8Array(4), -1, 2), 'host buffer range');
    panics(() => mem.read(0, new Uint8Array(4), 0.5, 2), 'host buffer range');
    panics(() => mem.read(0, new Uint8Array(4), 0, -1), 'physmem read');
    panics(() => mem.write(0, new Uint8Array(4), 1, 4), 'physmem write: host buffer');
    panics(() => mem.write(0, new Uint8Array(4), 0, 1.5), 'physmem write');
    panics(() => mem.write(1.5, new Uint8Array(4), 0, 1), 'physmem write: physical range');
    panics(
      () => mem.writeFromBuffer(ram, new ArrayBuffer(4), 0, 1),
      'physmem write: physical range 0x10000 +1',
    );
    panics(() => mem.copy(ram - 2, 0, 4), 'physmem copy destination');
    panics(() => mem.copy(0, ram - 2, 4), 'physmem copy source');
    panics(() => mem.copy(0, 0, -1), 'physmem copy destination');
    // Each side's address on its own: negative or fractional, with a range that would otherwise fit.
    panics(() => mem.copy(-4, 0, 4), 'physmem copy destination');
    panics(() => mem.copy(0, -4, 4), 'physmem copy source');
    panics(() => mem.copy(0.5, 0, 4), 'physmem copy destination');
    panics(() => mem.copy(0, 0.5, 4), 'physmem copy source');
    panics(() => mem.zero(ram, 1), 'physmem zero');
    panics(() => mem.poison(-1, 1), 'physmem poison');
    panics(() => mem.isPoisoned(ram - 1, 2), 'physmem isPoisoned');
    panics(
      () => mem.pteRead(16, 0),
      'physmem pteRead: entry 0 of frame 16 (physical 0x10000) outside RAM or table (16 frames, 1024 entries)',
    );
    panics(() => mem.pteRead(0, 1024), 'physmem pteRead: entry 1024 of frame 0');
    panics(() => mem.pteRead(-1, 0), 'physmem pteRead');
    panics(() => mem.pteWrite(16, 0, 1), 'physmem pteWrite');
    panics(() => mem.pteWrite(0, -1, 1), 'physmem pteWrite');
    panics(() => mem.frameWords(16), 'physmem frameWords: entry 0 of frame 16');
    panics(() => mem.frameWords(1.5), 'physmem frameWords');
  });

  it('a zero-length range at the end of RAM is fine; one byte past it is not', () => {
    const mem = small();
    const ram = 16 * PAGE;
    expect(() => mem.zero(ram, 0)).not.toThrow();
    expect(() => mem.copy(ram, ram, 0)).not.toThrow();
    expect(() => mem.read(ram, new Uint8Array(0), 0, 0)).not.toThrow();
    expect(() => mem.zero(ram - 1, 2)).toThrow(Panic);
    expect(() => mem.pteRead(15, 1023)).not.toThrow();
  });

  it('construction: the sizes it accepts and the messages of those it does not', () => {
    expect(() => new PhysMem(16 * PAGE, { chunkBytes: 16 * PAGE })).not.toThrow();
    expect(() => new PhysMem(PAGE, { chunkBytes: PAGE })).not.toThrow();
    expect(() => new PhysMem(PAGE, { chunkBytes: 1024 * 1024 * 1024 })).not.toThrow();
    expect(() => new PhysMem(PAGE, { chunkBytes: 2048 * 1024 * 1024 })).toThrow(
      'physmem: chunkBytes 2147483648 must be a power of two between 4096 and 1073741824',
    );
    expect(() => new PhysMem(PAGE, { chunkBytes: 4096.5 })).toThrow('chunkBytes');
    expect(() => new PhysMem(PAGE + 0.5)).toThrow(
      'physmem: ramBytes 4096.5 must be a positive multiple of 4096 of at most 4 GiB',
    );
    const odd = new PhysMem(5 * PAGE, { chunkBytes: 2 * PAGE });
    odd.writeU32(4 * PAGE, 1);
    expect(odd.hostBytesAllocated()).toBe(PAGE);
    expect(odd.nFrames).toBe(5);
    expect(odd.ramBytes).toBe(5 * PAGE);
    expect(odd.chunkBytes).toBe(2 * PAGE);
  });
});

describe('PhysMem: what the fast paths and caches must not change', () => {
  it('a write of no bytes counts nowhere, and a whole-frame write does not count for the next frame', () => {
    const mem = small();
    mem.watchFrame(5);
    mem.watchFrame(0);
    const before = mem.tableWrites;
    mem.write(5 * PAGE + 8, new Uint8Array(0), 0, 0);
    mem.zero(0, 0);
    mem.writeFromBuffer(5 * PAGE + 3, new ArrayBuffer(4), 0, 0);
    mem.write(4 * PAGE, new Uint8Array(PAGE).fill(9), 0, PAGE);
    mem.zero(4 * PAGE + PAGE - 2, 2);
    expect(mem.tableWrites).toBe(before);
  });

  it('frameWordsForWrite of frame 1 on a fresh machine gives its 1024 words', () => {
    const mem = small();
    const words = mem.frameWordsForWrite(1);
    expect(words.length).toBe(1024);
    words[3] = 0xabcd;
    expect(mem.pteRead(1, 3)).toBe(0xabcd);
  });

  it('page-sized copies across chunks from a frame, then from inside it at two offsets, copy the bytes at each', () => {
    const mem = small();
    const src = Uint8Array.from({ length: 2 * PAGE }, (_, i) => (i * 7 + (i >>> 8)) & 0xff);
    mem.write(0, src, 0, src.length);
    for (const [dst, from] of [
      [2 * PAGE, 0],
      [4 * PAGE, 100],
      [6 * PAGE, 200],
    ] as const) {
      mem.copy(dst, from, PAGE);
      expect(bytesAt(mem, dst, PAGE)).toEqual([...src.subarray(from, from + PAGE)]);
    }
  });

  it('isPoisoned of bytes inside one word reads no byte past the range', () => {
    const mem = small();
    mem.poison(6 * PAGE, 8);
    mem.write(6 * PAGE + 7, Uint8Array.of(0), 0, 1);
    expect(mem.isPoisoned(6 * PAGE + 5, 2)).toBe(true);
    expect(mem.isPoisoned(6 * PAGE + 5, 3)).toBe(false);
  });
});
