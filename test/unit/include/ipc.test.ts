import { describe, expect, it } from 'vitest';
import { copyMessage, numField } from '../../../src/include/ipc.ts';
import type { Endpoint } from '../../../src/include/endpoint.ts';

describe('copyMessage', () => {
  it('is a new record with every field of the payload and the kernel-set source last', () => {
    const payload = { type: 3, grant: 7, len: 4096, name: 'x' };
    const m = copyMessage(payload, 21 as Endpoint);
    expect(m).not.toBe(payload);
    expect(m).toEqual({ type: 3, grant: 7, len: 4096, name: 'x', source: 21 });
    expect(Object.keys(m)).toEqual(['type', 'grant', 'len', 'name', 'source']);
    payload.grant = 8;
    expect(m.grant).toBe(7);
  });

  it('cannot be given a forged source, and keeps type first whatever the payload order', () => {
    const m = copyMessage({ source: 5, v: 1, type: 9 }, 21 as Endpoint);
    expect(m.source).toBe(21);
    expect(Object.keys(m)[0]).toBe('type');
    expect(numField(m, 'v')).toBe(1);
  });
});
