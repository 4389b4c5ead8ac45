// The requester's side of the character device protocol (src/libsys/chardev.ts): message fields, the reply
// status, IPC errors, and the I/O vector layout.
import { describe, expect, it } from 'vitest';
import {
  DEV_CLOSE,
  DEV_GATHER_S,
  DEV_IOCTL_S,
  DEV_OPEN,
  DEV_READ_S,
  DEV_SCATTER_S,
  DEV_WRITE_S,
  TASK_REPLY,
} from '../../../src/include/com.ts';
import { EDEADSRCDST, ENXIO } from '../../../src/include/errno.ts';
import type { Payload } from '../../../src/include/ipc.ts';
import { IOVEC_ENTRY_BYTES } from '../../../src/include/memdev.ts';
import {
  decodeIovec,
  devClose,
  devGather,
  devIoctl,
  devOpen,
  devRead,
  devScatter,
  devWrite,
  encodeIovec,
} from '../../../src/libsys/chardev.ts';
import type { Proc } from '../../../src/libsys/proc.ts';

/** A Proc whose sendrec records the request and answers `reply`. */
function fakeProc(reply: Payload): { p: Proc; sent: Payload[] } {
  const sent: Payload[] = [];
  const p = {
    endpoint: 77,
    sendrec: (_dst: number, m: Payload) => (sent.push(m), Promise.resolve({ ...reply, source: 3 })),
  };
  return { p: p as unknown as Proc, sent };
}

describe('character device requests', () => {
  it('DEV_READ_S splits the position into low and high 32 bits and returns repStatus', async () => {
    const { p, sent } = fakeProc({ type: TASK_REPLY, repEndpt: 77, repStatus: 123 });
    expect(await devRead(p, 3, 1, 2 ** 32 * 2 + 5, 9, 500)).toBe(123);
    expect(sent).toEqual([
      { type: DEV_READ_S, device: 1, ioEndpt: 77, count: 500, ioGrant: 9, position: 5, highpos: 2 },
    ]);
  });

  it('DEV_SCATTER_S counts vector entries; DEV_IOCTL_S carries the request code', async () => {
    const { p, sent } = fakeProc({ type: TASK_REPLY, repStatus: 0 });
    await devScatter(p, 3, 0, 10, 4, 3);
    await devIoctl(p, 3, 0, 0x40046d03, 8);
    expect(sent[0]).toMatchObject({ type: DEV_SCATTER_S, count: 3, ioGrant: 4, position: 10, highpos: 0 });
    expect(sent[1]).toEqual({ type: DEV_IOCTL_S, device: 0, ioEndpt: 77, request: 0x40046d03, ioGrant: 8 });
  });

  it('DEV_OPEN and DEV_CLOSE name the minor and the requester; DEV_WRITE_S and DEV_GATHER_S their type', async () => {
    const { p, sent } = fakeProc({ type: TASK_REPLY, repStatus: ENXIO });
    expect(await devOpen(p, 3, 4)).toBe(ENXIO);
    expect(await devClose(p, 3, 5)).toBe(ENXIO);
    expect(await devWrite(p, 3, 1, 7, 9, 100)).toBe(ENXIO);
    expect(await devGather(p, 3, 2, 2 ** 32, 6, 2)).toBe(ENXIO);
    expect(sent).toEqual([
      { type: DEV_OPEN, device: 4, ioEndpt: 77 },
      { type: DEV_CLOSE, device: 5, ioEndpt: 77 },
      { type: DEV_WRITE_S, device: 1, ioEndpt: 77, count: 100, ioGrant: 9, position: 7, highpos: 0 },
      { type: DEV_GATHER_S, device: 2, ioEndpt: 77, count: 2, ioGrant: 6, position: 0, highpos: 1 },
    ]);
  });

  it('an IPC failure comes back as the error', async () => {
    const { p } = fakeProc({ type: EDEADSRCDST });
    expect(await devRead(p, 3, 1, 0, 9, 1)).toBe(EDEADSRCDST);
  });

  it('an I/O vector is 8 bytes an entry, grant then size, little-endian, and decodes back', () => {
    const entries = [
      { grant: 0x01020304, size: 4096 },
      { grant: -1, size: 0xffffffff },
    ];
    const bytes = encodeIovec(entries);
    expect(bytes.length).toBe(2 * IOVEC_ENTRY_BYTES);
    expect([...bytes.subarray(0, 8)]).toEqual([4, 3, 2, 1, 0, 16, 0, 0]);
    expect(decodeIovec(bytes)).toEqual(entries);
    expect(decodeIovec(bytes.subarray(0, 12))).toEqual([entries[0]]);
  });
});
