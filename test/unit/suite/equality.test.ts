// The typed-array equality tester of every test file (test/helpers/equality-setup.ts): it answers only for equal typed
// arrays of one kind, and toEqual still fails, as Vitest decides, on every other pair.
import { describe, expect, it } from 'vitest';
import { equalTypedArrays } from '../../helpers/equality-setup.ts';

const page = (byte: number): Uint8Array => new Uint8Array(4096).fill(byte);

describe('equalTypedArrays', () => {
  it('is added to the worker by the setup file', () => {
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('grantvm.equalTypedArrays')]).toBe(true);
  });

  it('answers true for equal typed arrays of one kind, undefined for anything else', () => {
    expect(equalTypedArrays(page(1), page(1))).toBe(true);
    expect(equalTypedArrays(Uint32Array.of(1, 2), Uint32Array.of(1, 2))).toBe(true);
    expect(equalTypedArrays(page(1), page(2))).toBeUndefined();
    expect(equalTypedArrays(page(1), page(1).subarray(1))).toBeUndefined();
    expect(equalTypedArrays(Buffer.from(page(1)), page(1))).toBeUndefined();
    expect(equalTypedArrays(Uint8Array.of(1), Int8Array.of(1))).toBeUndefined();
    expect(equalTypedArrays(Float64Array.of(0), Float64Array.of(-0))).toBeUndefined();
    expect(equalTypedArrays([1, 2], [1, 2])).toBeUndefined();
    const tagged = Object.assign(page(1), { tag: 'x' });
    expect(equalTypedArrays(tagged, page(1))).toBeUndefined();
  });

  it('leaves toEqual failing where the arrays differ, and passing where they are equal', () => {
    const changed = page(1);
    changed[4000] = 2;
    expect(() => {
      expect(changed).toEqual(page(1));
    }).toThrow(/deeply equal/);
    expect(() => {
      expect({ bytes: changed }).toEqual({ bytes: page(1) });
    }).toThrow(/deeply equal/);
    expect(() => {
      expect(Float64Array.of(0)).toEqual(Float64Array.of(-0));
    }).toThrow(/deeply equal/);
    expect(() => {
      expect(Buffer.from(page(1))).toStrictEqual(page(1));
    }).toThrow(/strictly equal/);
    expect({ bytes: page(1), n: 1 }).toEqual({ bytes: page(1), n: 1 });
    expect(page(1)).toStrictEqual(page(1));
  });
});
