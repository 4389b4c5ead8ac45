// Models the memory driver (drivers/memory/memory.c under libdriver's driver_task, DRIVER_STD, at c5b309ff0):
// /dev/ram and /dev/ram0-5 (RAM disks in the driver's own preallocated mmap memory, sized by MIOCRAMSIZE),
// /dev/mem (physical memory, each transfer's range mapped with VM_MAP_PHYS), /dev/kmem (the kernel image, mapped
// at start), /dev/null and /dev/zero, served over the character device protocol with grants.
// Entry points: createMemoryDriver, MemoryDriverInfo.
// DIVERGES (docs/reference/memory-driver.md): /dev/mem ends at the end of RAM and maps a transfer's range at once
// instead of one page window; /dev/kmem works (3.1.6 had its mapping disabled); bad grants, a bad I/O vector, a
// close of a closed minor and MIOCRAMSIZE on a minor that is no RAM disk get an errno where MINIX panicked or
// went on; /dev/boot and /dev/imgrd hold no image (EIO); notifications get no reply.
import {
  DEV_CLOSE,
  DEV_GATHER_S,
  DEV_IOCTL_S,
  DEV_OPEN,
  DEV_READ_S,
  DEV_SCATTER_S,
  DEV_WRITE_S,
  NOTIFY_MESSAGE,
  TASK_REPLY,
} from '../../include/com.ts';
import { ANY } from '../../include/endpoint.ts';
import { EBUSY, EINVAL, EIO, ENOMEM, ENOTTY, ENXIO, OK } from '../../include/errno.ts';
import type { Message } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import {
  BOOT_DEV,
  IMGRD_DEV,
  IOVEC_ENTRY_BYTES,
  KMEM_DEV,
  MEM_DEV,
  MIOCRAMSIZE,
  NR_DEVS,
  NR_IOREQS,
  NULL_DEV,
  ZERO_DEV,
} from '../../include/memdev.ts';
import { MAP_ANON, MAP_PREALLOC } from '../../include/vm.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import { decodeIovec, encodeIovec } from '../../libsys/chardev.ts';
import type { IovecEntry } from '../../libsys/chardev.ts';
import type { Program, Proc } from '../../libsys/proc.ts';
import { vmMapPhys, vmMmap, vmMunmap, vmUnmapPhys } from '../../libsys/vm.ts';

/** What the driver learns at start (MINIX: sys_getkinfo and its own image): the machine and where its data lies. */
export interface MemoryDriverInfo {
  /** Bytes of RAM: the size of /dev/mem. */
  ramBytes: number;
  /** Physical address of the kernel image: where /dev/kmem starts. */
  kernelBase: number;
  /** Bytes of the kernel image: the size of /dev/kmem. */
  kernelBytes: number;
  /** Virtual address of the driver's data segment, where its static buffers live. */
  dataBase: number;
}

/** How a minor device moves bytes. 'none': a device without backing (/dev/boot, /dev/imgrd). */
type DevKind = 'ram' | 'mem' | 'kmem' | 'null' | 'zero' | 'none';

/** One minor device: its kind, size in bytes, where the driver reaches it (0: not set up) and its open count. */
interface Dev {
  readonly kind: DevKind;
  size: number;
  vaddr: number;
  open: number;
}

/** The buffer size of /dev/zero's feed (ZERO_BUF_SIZE). */
const ZERO_BUF_BYTES = 1024;
/** /dev/mem maps at most this much physical memory per step of a transfer. */
const MEM_WINDOW_BYTES = 64 * PAGE_SIZE;
const TWO32 = 0x1_0000_0000;

interface Driver {
  readonly p: Proc;
  readonly devs: Dev[];
  /** The static buffers in the data segment: /dev/zero's feed, the I/O vector, an ioctl argument. */
  readonly zeroBuf: number;
  readonly iovecBuf: number;
  readonly argBuf: number;
}

/** One step of a transfer: `count` bytes at device `position` to/from the grant at `offset`. */
interface Step {
  readonly ioEndpt: number;
  readonly grant: number;
  readonly offset: number;
  readonly position: number;
  readonly count: number;
  /** DEV_GATHER_S (device → requester) rather than DEV_SCATTER_S. */
  readonly gather: boolean;
}

/** Bytes moved by one step (> 0 when count > 0), null at end of device, or an errno. */
type Mover = (d: Driver, dev: Dev, s: Step) => Promise<number | null>;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** COUNT is a C int in MINIX's message: a count outside [0, 2^31) is a bad argument. */
const isCount = (v: unknown): v is number => isInt(v) && v >= 0 && v <= 0x7fffffff;

/** The safecopy one step makes between the driver's `addr` and the requester's grant. */
function copy(d: Driver, s: Step, addr: number, n: number, offset = s.offset): Promise<number> {
  return s.gather
    ? d.p.sys.safecopyTo(s.ioEndpt, s.grant, offset, addr, n)
    : d.p.sys.safecopyFrom(s.ioEndpt, s.grant, offset, addr, n);
}

/** RAM disks and /dev/kmem: a copy from the driver's own mapping of the device. */
const virtualMove: Mover = async (d, dev, s) => {
  if (dev.vaddr === 0) return EIO;
  if (s.position >= dev.size) return null;
  const n = Math.min(s.count, dev.size - s.position);
  const r = await copy(d, s, dev.vaddr + s.position, n);
  return r === OK ? n : r;
};

/** /dev/mem: map the physical range, copy, unmap. */
const physMove: Mover = async (d, dev, s) => {
  if (s.position >= dev.size) return null;
  const pageStart = s.position - (s.position % PAGE_SIZE);
  const n = Math.min(s.count, dev.size - s.position, pageStart + MEM_WINDOW_BYTES - s.position);
  const window = Math.ceil((s.position + n - pageStart) / PAGE_SIZE) * PAGE_SIZE;
  const vaddr = await vmMapPhys(d.p, pageStart, window);
  if (vaddr < 0) return vaddr;
  const r = await copy(d, s, vaddr + (s.position - pageStart), n);
  await vmUnmapPhys(d.p, vaddr);
  return r === OK ? n : r;
};

/** /dev/zero: reads copy the zero feed chunk by chunk; writes are swallowed. */
const zeroMove: Mover = async (d, _dev, s) => {
  if (!s.gather) return s.count;
  for (let done = 0; done < s.count; done += ZERO_BUF_BYTES) {
    const r = await copy(d, s, d.zeroBuf, Math.min(ZERO_BUF_BYTES, s.count - done), s.offset + done);
    if (r !== OK) return r;
  }
  return s.count;
};

const movers: Readonly<Record<DevKind, Mover>> = {
  ram: virtualMove,
  kmem: virtualMove,
  mem: physMove,
  zero: zeroMove,
  // /dev/null: always at end for reads, swallows writes.
  null: (_d, _dev, s) => Promise.resolve(s.gather ? null : s.count),
  none: () => Promise.resolve(EIO),
};

/**
 * m_transfer: works through the vector, shrinking each entry's size by what moved. OK at the end of the vector
 * or of the device (a position with high bits is past the end of every finite device); an errno stops it.
 */
async function transfer(
  d: Driver,
  dev: Dev,
  ioEndpt: number,
  gather: boolean,
  position: number,
  iov: IovecEntry[],
): Promise<number> {
  if (position >= TWO32 && dev.kind !== 'null' && dev.kind !== 'zero') return OK;
  let pos = position;
  for (const v of iov) {
    for (let offset = 0; v.size > 0;) {
      const n = await movers[dev.kind](d, dev, {
        ioEndpt,
        grant: v.grant,
        offset,
        position: pos,
        count: v.size,
        gather,
      });
      if (n === null) return OK;
      if (n < 0) return n;
      pos += n;
      offset += n;
      v.size -= n;
    }
  }
  return OK;
}

/** m_prepare: the minor device, or null. */
function prepare(d: Driver, minor: unknown): Dev | null {
  return isInt(minor) ? (d.devs[minor] ?? null) : null;
}

/** The byte offset of a request (POSITION, HIGHPOS), or -1 when the fields are not 32-bit unsigned numbers. */
function positionOf(m: Message): number {
  const lo = m.position;
  const hi = m.highpos ?? 0;
  return isInt(lo) && isInt(hi) && lo >= 0 && lo < TWO32 && hi >= 0 && hi < TWO32 ? hi * TWO32 + lo : -1;
}

/** do_rdwt: DEV_READ_S / DEV_WRITE_S, one buffer; the bytes moved or an errno. */
async function doRdwt(d: Driver, m: Message): Promise<number> {
  const count = m.count;
  const position = positionOf(m);
  if (!isCount(count) || position < 0) return EINVAL;
  const dev = prepare(d, m.device);
  if (dev === null) return ENXIO;
  const iov = [{ grant: numField(m, 'ioGrant'), size: count }];
  const r = await transfer(d, dev, numField(m, 'ioEndpt'), m.type === DEV_READ_S, position, iov);
  return r === OK ? count - (iov[0]?.size ?? 0) : r;
}

/** do_vrdwt: DEV_GATHER_S / DEV_SCATTER_S; the vector comes from and goes back to the sender. OK or an errno. */
async function doVrdwt(d: Driver, m: Message): Promise<number> {
  const count = m.count;
  const position = positionOf(m);
  if (!isCount(count) || position < 0) return EINVAL;
  const bytes = Math.min(count, NR_IOREQS) * IOVEC_ENTRY_BYTES;
  const vecGrant = numField(m, 'ioGrant');
  if (bytes > 0) {
    const c = await d.p.sys.safecopyFrom(m.source, vecGrant, 0, d.iovecBuf, bytes);
    if (c !== OK) return c;
  }
  const dev = prepare(d, m.device);
  if (dev === null) return ENXIO;
  const iov = decodeIovec(await d.p.read(d.iovecBuf, bytes));
  const r = await transfer(d, dev, numField(m, 'ioEndpt'), m.type === DEV_GATHER_S, position, iov);
  if (bytes > 0) {
    await d.p.write(d.iovecBuf, encodeIovec(iov));
    const c = await d.p.sys.safecopyTo(m.source, vecGrant, 0, d.iovecBuf, bytes);
    if (c !== OK) return c;
  }
  return r;
}

/** m_do_open: counts the opens of a minor. */
function doOpen(d: Driver, m: Message): Promise<number> {
  const dev = prepare(d, m.device);
  if (dev === null) return Promise.resolve(ENXIO);
  dev.open++;
  return Promise.resolve(OK);
}

/** m_do_close. */
function doClose(d: Driver, m: Message): Promise<number> {
  const dev = prepare(d, m.device);
  if (dev === null) return Promise.resolve(ENXIO);
  if (dev.open < 1) return Promise.resolve(EINVAL);
  dev.open--;
  return Promise.resolve(OK);
}

/** m_ioctl: MIOCRAMSIZE; every other request is unknown (ENOTTY). */
function doIoctl(d: Driver, m: Message): Promise<number> {
  return m.request === MIOCRAMSIZE ? ramSize(d, m) : Promise.resolve(ENOTTY);
}

/**
 * MIOCRAMSIZE: (re)creates a RAM disk of the u32 size behind the grant, as preallocated anonymous memory of the
 * driver's. The same size again is a no-op; otherwise the requester's open must be the only one (EBUSY).
 */
async function ramSize(d: Driver, m: Message): Promise<number> {
  const dev = prepare(d, m.device);
  if (dev === null) return ENXIO;
  if (dev.kind !== 'ram') return EINVAL;
  const c = await d.p.sys.safecopyFrom(numField(m, 'ioEndpt'), numField(m, 'ioGrant'), 0, d.argBuf, 4);
  if (c !== OK) return c;
  const size = await d.p.readU32(d.argBuf);
  if (dev.vaddr !== 0 && dev.size === size) return OK;
  if (dev.open !== 1) return EBUSY;
  if (dev.vaddr !== 0) {
    await vmMunmap(d.p, dev.vaddr, dev.size);
    dev.vaddr = 0;
  }
  const at = await vmMmap(d.p, 0, size, MAP_PREALLOC | MAP_ANON);
  if (at < 0) return ENOMEM;
  dev.vaddr = at;
  dev.size = size;
  return OK;
}

type Handler = (d: Driver, m: Message) => Promise<number>;

/** driver_task's dispatch: every other request type gets EINVAL. */
const requests: Readonly<Record<number, Handler>> = {
  [DEV_OPEN]: doOpen,
  [DEV_CLOSE]: doClose,
  [DEV_IOCTL_S]: doIoctl,
  [DEV_READ_S]: doRdwt,
  [DEV_WRITE_S]: doRdwt,
  [DEV_GATHER_S]: doVrdwt,
  [DEV_SCATTER_S]: doVrdwt,
};

const kindOf = (minor: number): DevKind => {
  if (minor === MEM_DEV) return 'mem';
  if (minor === KMEM_DEV) return 'kmem';
  if (minor === NULL_DEV) return 'null';
  if (minor === ZERO_DEV) return 'zero';
  return minor === BOOT_DEV || minor === IMGRD_DEV ? 'none' : 'ram';
};

/** sef_cb_init_fresh: the devices, /dev/kmem mapped, the zero feed cleared. */
async function initDriver(p: Proc, info: MemoryDriverInfo): Promise<Driver> {
  const devs = Array.from({ length: NR_DEVS }, (_, minor): Dev => ({
    kind: kindOf(minor),
    size: 0,
    vaddr: 0,
    open: 0,
  }));
  const mem = devs[MEM_DEV];
  const kmem = devs[KMEM_DEV];
  if (mem !== undefined) mem.size = info.ramBytes;
  const kvaddr = info.kernelBytes > 0 ? await vmMapPhys(p, info.kernelBase, info.kernelBytes) : -1;
  if (kmem !== undefined && kvaddr > 0) {
    kmem.vaddr = kvaddr;
    kmem.size = info.kernelBytes;
  }
  const d: Driver = {
    p,
    devs,
    zeroBuf: info.dataBase,
    iovecBuf: info.dataBase + ZERO_BUF_BYTES,
    argBuf: info.dataBase + ZERO_BUF_BYTES + NR_IOREQS * IOVEC_ENTRY_BYTES,
  };
  await p.write(d.zeroBuf, new Uint8Array(ZERO_BUF_BYTES));
  return d;
}

/** The memory driver's program: start, then serve requests forever, replying TASK_REPLY by asynchronous send. */
export function createMemoryDriver(info: MemoryDriverInfo): Program {
  return async (p) => {
    const d = await initDriver(p, info);
    for (;;) {
      const m = await p.receive(ANY);
      if (m.type === NOTIFY_MESSAGE) continue;
      const handler = requests[m.type];
      const r = handler === undefined ? EINVAL : await handler(d, m);
      await p.senda(m.source, { type: TASK_REPLY, repEndpt: m.ioEndpt, repStatus: r });
    }
  };
}
