// sys_vircopy (src/kernel/system/do_vircopy.ts) between processes' boot extents: SELF on either side, the byte
// counts it takes (EDOM otherwise), dead endpoints (EINVAL) and ranges outside memory (EFAULT, nothing copied).
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../../helpers/grantworld.ts';
import { SELF } from '../../../../src/include/endpoint.ts';
import { EDOM, EFAULT, EINVAL, OK } from '../../../../src/include/errno.ts';
import { SYS_VIRCOPY } from '../../../../src/include/com.ts';

const MiB = 1024 * 1024;

function setup() {
  const w = grantWorld({ ramBytes: 8 * MiB });
  const a = w.actor(20, 'A');
  const b = w.actor(21, 'B');
  a.poke(a.base, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  const copy = (m: Record<string, number>) =>
    a.do(
      async (p) =>
        (
          await p.kernelCall({
            type: SYS_VIRCOPY,
            srcEndpoint: SELF,
            dstEndpoint: b.ep,
            srcAddr: a.base,
            dstAddr: b.base,
            bytes: 4,
            ...m,
          })
        ).type,
    );
  return { w, a, b, copy };
}

describe('sys_vircopy', () => {
  it('copies between two processes named by endpoint or SELF, up to the last byte of an extent', async () => {
    const { a, b, copy } = setup();
    expect(await copy({})).toBe(OK);
    expect([...b.peek(b.base, 5)]).toEqual([1, 2, 3, 4, 0]);
    expect(
      await copy({
        srcEndpoint: b.ep,
        dstEndpoint: SELF,
        srcAddr: b.base + 1,
        dstAddr: a.base + MiB - 2,
        bytes: 2,
      }),
    ).toBe(OK);
    expect([...a.peek(a.base + MiB - 2, 2)]).toEqual([2, 3]);
    expect(
      await copy({ srcEndpoint: a.ep, dstEndpoint: SELF, srcAddr: a.base + 4, dstAddr: a.base, bytes: 0 }),
    ).toBe(OK);
    expect([...a.peek(a.base, 1)]).toEqual([1]);
  });

  it('a dead endpoint is EINVAL, a byte count that is not a natural number EDOM, a range outside memory EFAULT', async () => {
    const { a, b, copy } = setup();
    const results = [
      await copy({ srcEndpoint: 999 }),
      await copy({ dstEndpoint: 999 }),
      await copy({ bytes: -1 }),
      await copy({ bytes: 1.5 }),
      await copy({ srcAddr: a.base + MiB - 2 }),
      await copy({ dstAddr: b.base + MiB - 3 }),
      await copy({ dstAddr: b.base - 1 }),
      await copy({ srcAddr: -1 }),
      await copy({ dstAddr: -1 }),
    ];
    expect(results).toEqual([EINVAL, EINVAL, EDOM, EDOM, EFAULT, EFAULT, EFAULT, EFAULT, EFAULT]);
    expect([...b.peek(b.base - 1, 6), ...b.peek(b.base + MiB - 3, 3)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('reads a read-only source page; a read-only destination page is EFAULT', async () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A', { paged: true });
    const b = w.actor(21, 'B', { paged: true });
    a.mapPage(a.base, false);
    b.mapPage(b.base);
    b.mapPage(b.base + 4096, false);
    a.poke(a.base, Uint8Array.of(5, 6, 7));
    const copy = (da: number) =>
      b.do(
        async (p) =>
          (
            await p.kernelCall({
              type: SYS_VIRCOPY,
              srcEndpoint: a.ep,
              dstEndpoint: SELF,
              srcAddr: a.base,
              dstAddr: da,
              bytes: 3,
            })
          ).type,
      );
    expect(await copy(b.base)).toBe(OK);
    expect(await copy(b.base + 4096)).toBe(EFAULT);
    expect([...b.peek(b.base, 3), ...b.peek(b.base + 4096, 3)]).toEqual([5, 6, 7, 0, 0, 0]);
  });
});
