// The requester's side of the character device protocol with grants (3.1.6 libdriver, as VFS speaks it):
// one sendrec per request, the driver's TASK_REPLY status as the result, and the I/O vector layout of
// DEV_GATHER_S / DEV_SCATTER_S. Entry points: devOpen, devClose, devRead, devWrite, devGather, devScatter,
// devIoctl, encodeIovec, decodeIovec, IovecEntry.
// DIVERGES: the requester is its own grant owner (ioEndpt = itself) where MINIX's VFS passed its own endpoint.
import {
  DEV_CLOSE,
  DEV_GATHER_S,
  DEV_IOCTL_S,
  DEV_OPEN,
  DEV_READ_S,
  DEV_SCATTER_S,
  DEV_WRITE_S,
  TASK_REPLY,
} from '../include/com.ts';
import type { Payload } from '../include/ipc.ts';
import { numField } from '../include/ipc.ts';
import { IOVEC_ENTRY_BYTES } from '../include/memdev.ts';
import type { Proc } from './proc.ts';

/** One I/O vector entry: a grant of the requester's buffer and the bytes it holds (what is left after the request). */
export interface IovecEntry {
  /** The grant id (to the driver) of the buffer. */
  grant: number;
  /** Bytes; the driver writes back what it did not transfer. */
  size: number;
}

const TWO32 = 0x1_0000_0000;

/** The driver's status (bytes moved, OK or an errno), or the IPC error of the sendrec. */
async function devRequest(p: Proc, driver: number, m: Payload): Promise<number> {
  const r = await p.sendrec(driver, m);
  return r.type === TASK_REPLY ? numField(r, 'repStatus') : r.type;
}

/** Position fields: low and high 32 bits of a byte offset (POSITION, HIGHPOS). */
const positionOf = (position: number): { position: number; highpos: number } => ({
  position: position % TWO32,
  highpos: Math.floor(position / TWO32),
});

/** DEV_OPEN of `minor`: OK, or ENXIO (no such minor). */
export function devOpen(p: Proc, driver: number, minor: number): Promise<number> {
  return devRequest(p, driver, { type: DEV_OPEN, device: minor, ioEndpt: p.endpoint });
}

/** DEV_CLOSE of `minor`: OK, or ENXIO (no such minor), EINVAL (not open). */
export function devClose(p: Proc, driver: number, minor: number): Promise<number> {
  return devRequest(p, driver, { type: DEV_CLOSE, device: minor, ioEndpt: p.endpoint });
}

/** A transfer request: `count` is bytes (READ_S, WRITE_S) or vector entries (GATHER_S, SCATTER_S). */
function ioRequest(
  p: Proc,
  driver: number,
  type: number,
  minor: number,
  position: number,
  grant: number,
  count: number,
): Promise<number> {
  return devRequest(p, driver, {
    type,
    device: minor,
    ioEndpt: p.endpoint,
    count,
    ioGrant: grant,
    ...positionOf(position),
  });
}

/** DEV_READ_S: reads up to `count` bytes at `position` into the buffer granted by `grant`; the bytes read or an errno. */
export function devRead(
  p: Proc,
  driver: number,
  minor: number,
  position: number,
  grant: number,
  count: number,
): Promise<number> {
  return ioRequest(p, driver, DEV_READ_S, minor, position, grant, count);
}

/** DEV_WRITE_S: writes up to `count` bytes at `position` from the buffer granted by `grant`; the bytes written or an errno. */
export function devWrite(
  p: Proc,
  driver: number,
  minor: number,
  position: number,
  grant: number,
  count: number,
): Promise<number> {
  return ioRequest(p, driver, DEV_WRITE_S, minor, position, grant, count);
}

/**
 * DEV_GATHER_S: reads at `position` into the `entries` buffers of the I/O vector granted (read-write) by
 * `vecGrant`; OK or an errno. The driver writes each entry's untransferred size back into the vector.
 */
export function devGather(
  p: Proc,
  driver: number,
  minor: number,
  position: number,
  vecGrant: number,
  entries: number,
): Promise<number> {
  return ioRequest(p, driver, DEV_GATHER_S, minor, position, vecGrant, entries);
}

/** DEV_SCATTER_S: writes at `position` from the vector's buffers, like {@link devGather}; OK or an errno. */
export function devScatter(
  p: Proc,
  driver: number,
  minor: number,
  position: number,
  vecGrant: number,
  entries: number,
): Promise<number> {
  return ioRequest(p, driver, DEV_SCATTER_S, minor, position, vecGrant, entries);
}

/** DEV_IOCTL_S: I/O control `request` on `minor` with its argument behind `grant`; OK or an errno. */
export function devIoctl(
  p: Proc,
  driver: number,
  minor: number,
  request: number,
  grant: number,
): Promise<number> {
  return devRequest(p, driver, {
    type: DEV_IOCTL_S,
    device: minor,
    ioEndpt: p.endpoint,
    request,
    ioGrant: grant,
  });
}

/** The bytes of an I/O vector (IOVEC_ENTRY_BYTES per entry). */
export function encodeIovec(entries: readonly IovecEntry[]): Uint8Array {
  const bytes = new Uint8Array(entries.length * IOVEC_ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  entries.forEach((e, i) => {
    view.setInt32(i * IOVEC_ENTRY_BYTES, e.grant, true);
    view.setUint32(i * IOVEC_ENTRY_BYTES + 4, e.size >>> 0, true);
  });
  return bytes;
}

/** The entries of an I/O vector's bytes (as many whole entries as they hold). */
export function decodeIovec(bytes: Uint8Array): IovecEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: IovecEntry[] = [];
  for (let at = 0; at + IOVEC_ENTRY_BYTES <= bytes.length; at += IOVEC_ENTRY_BYTES) {
    out.push({ grant: view.getInt32(at, true), size: view.getUint32(at + 4, true) });
  }
  return out;
}
