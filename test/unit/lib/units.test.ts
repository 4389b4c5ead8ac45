import { describe, expect, it } from 'vitest';
import { isPageAligned, pageOf, pagesFor, roundDownPage, roundUpPage } from '../../../src/lib/units.ts';
import { Panic, assert, panic } from '../../../src/lib/assert.ts';

describe('units', () => {
  it('rounds to pages', () => {
    expect(roundUpPage(0)).toBe(0);
    expect(roundUpPage(1)).toBe(4096);
    expect(roundDownPage(4097)).toBe(4096);
    expect(pagesFor(4097)).toBe(2);
    expect(pageOf(0xfffff000)).toBe(0xfffff);
    expect(isPageAligned(8192)).toBe(true);
    expect(isPageAligned(8193)).toBe(false);
  });
});

describe('assert', () => {
  it('panics with the message', () => {
    expect(() => panic('broken')).toThrow(Panic);
    expect(() => assert(false, () => 'lazy')).toThrow('lazy');
    expect(() => assert(true, 'fine')).not.toThrow();
  });
});
