// firstDifference and hashWords (src/lib/bytes.ts): word-at-a-time results equal the byte-at-a-time definition,
// for aligned and unaligned views, tails, and arrays of different lengths.
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { firstDifference, hashWords } from '../../../src/lib/bytes.ts';

const naiveDifference = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
};

/** A view at `offset` into a fresh buffer (offsets 1–3 are unaligned). */
const at = (bytes: Uint8Array, offset: number): Uint8Array => {
  const buf = new Uint8Array(bytes.length + offset);
  buf.set(bytes, offset);
  return buf.subarray(offset);
};

describe('firstDifference', () => {
  it('finds a difference in a word, in the tail, at a length, or none', () => {
    const a = new Uint8Array(4099).fill(7);
    expect(firstDifference(a, a.slice())).toBe(-1);
    const b = a.slice();
    b[2050] = 8;
    expect(firstDifference(a, b)).toBe(2050);
    b[2050] = 7;
    b[4098] = 1;
    expect(firstDifference(a, b)).toBe(4098);
    expect(firstDifference(a, a.subarray(0, 100))).toBe(100);
    expect(firstDifference(new Uint8Array(0), new Uint8Array(0))).toBe(-1);
  });

  test.prop([fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), fc.nat(3), fc.nat(3)])(
    'agrees with a byte loop, aligned or not',
    (x, y, ox, oy) => {
      const b = y.length > 0 && x.length > 0 ? Uint8Array.from(x, (v, i) => (i === x.length >> 1 ? (y[0] ?? v) : v)) : y;
      expect(firstDifference(at(x, ox), at(b, oy))).toBe(naiveDifference(x, b));
      expect(firstDifference(at(x, ox), at(x, oy))).toBe(-1);
    },
  );
});

describe('hashWords', () => {
  it('depends on every byte, and on where the bytes sit but not on the view offset', () => {
    const a = new Uint8Array(4096).map((_, i) => i * 31);
    const h = hashWords(a, 0x811c9dc5);
    expect(hashWords(at(a, 2), 0x811c9dc5)).toBe(h);
    for (const i of [0, 1, 2047, 4095]) {
      const b = a.slice();
      b[i] = (b[i] ?? 0) ^ 1;
      expect(hashWords(b, 0x811c9dc5)).not.toBe(h);
    }
    expect(hashWords(a.subarray(0, 4093), 1)).not.toBe(hashWords(a.subarray(0, 4094), 1));
  });
});
