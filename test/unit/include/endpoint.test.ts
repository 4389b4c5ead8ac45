import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import {
  ANY,
  ENDPOINT_GENERATION_SIZE,
  MAX_GENERATION,
  NONE,
  SELF,
  endpointGeneration,
  endpointSlot,
  makeEndpoint,
  nextGeneration,
} from '../../../src/include/endpoint.ts';
import { bareKernel } from '../../helpers/bare.ts';
import { EDEADSRCDST, OK } from '../../../src/include/errno.ts';
import { ANY as ANY_EP } from '../../../src/include/endpoint.ts';

describe('endpoints', () => {
  it('use the reference constants', () => {
    expect(ENDPOINT_GENERATION_SIZE).toBe(36558);
    expect(MAX_GENERATION).toBe(58740);
    expect([ANY, NONE, SELF]).toEqual([0x7ace, 0x6ace, 0x8ace]);
  });

  test.prop([fc.integer({ min: 0, max: MAX_GENERATION }), fc.integer({ min: -4, max: 1023 })])(
    'slot and generation round-trip',
    (gen, slot) => {
      const e = makeEndpoint(gen, slot);
      expect(endpointSlot(e)).toBe(slot);
      expect(endpointGeneration(e)).toBe(gen);
    },
  );

  it('generations wrap to 1 after the maximum', () => {
    expect(nextGeneration(MAX_GENERATION)).toBe(1);
    expect(nextGeneration(0)).toBe(1);
    expect(nextGeneration(5)).toBe(6);
  });

  it('magic endpoints are never live', () => {
    const { k } = bareKernel();
    for (const e of [ANY, NONE, SELF]) expect(k.liveProc(e)).toBeNull();
  });

  it("a stale endpoint never reaches the slot's next occupant", async () => {
    const { k, spawn } = bareKernel();
    const first = spawn(30, 'first', async (p) => {
      await p.receive(ANY_EP);
    });
    const old = first.endpoint;
    k.terminate(first.kp, { code: 0, signal: 9 });
    const second = k.createProcess({ slot: 30, name: 'second', program: async () => undefined });
    expect(second.endpoint).not.toBe(old);
    expect(endpointSlot(second.endpoint)).toBe(30);
    expect(endpointGeneration(second.endpoint)).toBe(endpointGeneration(old) + 1);
    expect(k.liveProc(old)).toBeNull();
    const res: number[] = [];
    spawn(31, 'sender', async (p) => {
      res.push(await p.send(old, { type: 1 }));
      res.push(await p.notify(old));
    });
    await k.run();
    expect(res).toEqual([EDEADSRCDST, EDEADSRCDST]);
    expect(res).not.toContain(OK);
  });
});
