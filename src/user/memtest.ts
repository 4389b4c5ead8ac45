// The memory driver's conformance program (grantvm's own; MINIX 3.1.6 had none): a requester that opens the
// driver's minor devices and reads and writes them through grants over the character device protocol, checking
// every answer against the driver's rules (docs/reference/memory-driver.md): /dev/null, /dev/zero, /dev/mem (video
// memory and the kernel image as the host wrote them), /dev/kmem, a RAM disk set up by MIOCRAMSIZE and read back
// by DEV_GATHER_S, and the errors of bad requests. Entry points: memtest, MemtestMachine.
import { DEV_RQ_BASE } from '../include/com.ts';
import { MEM_PROC_NR } from '../include/endpoint.ts';
import { EBUSY, EINVAL, EIO, ENOTTY, ENXIO, EPERM, OK, errnoName } from '../include/errno.ts';
import {
  BOOT_DEV,
  KMEM_DEV,
  MEM_DEV,
  MIOCRAMSIZE,
  NR_DEVS,
  NULL_DEV,
  RAM_DEV_FIRST,
  RAM_DEV_OLD,
  ZERO_DEV,
} from '../include/memdev.ts';
import { CPF_READ, CPF_WRITE } from '../include/safecopies.ts';
import { VIDEO_MEM_BASE, VIDEO_MEM_BYTES } from '../include/vm.ts';
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
} from '../libsys/chardev.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import { vmMapPhys, vmUnmapPhys } from '../libsys/vm.ts';
import { PAGE, TestFailed, mapBuffer, runTest, sameBytes } from './safetest.ts';
import type { TestReport } from './safetest.ts';

/** What the host set up before the run, so the program can check what the devices show. */
export interface MemtestMachine {
  /** Bytes of RAM (the size of /dev/mem). */
  ramBytes: number;
  /** Bytes of the kernel image (the size of /dev/kmem). */
  kernelBytes: number;
  /** What the host wrote at the start of the kernel image. */
  kernelMarker: Uint8Array;
  /** What the host wrote over the whole of video memory (VIDEO_MEM_BYTES). */
  video: Uint8Array;
}

/** The buffer every device request reads into or writes from: 80 pages, granted whole to the driver. */
const BUF_PAGES = 80;
const RAMDISK_BYTES = 64 * 1024;
const MEM = MEM_PROC_NR;

/** The requester's state: its buffer, the buffer's grant, a page for I/O vectors and ioctl arguments. */
interface Tester {
  readonly p: Proc;
  readonly r: TestReport;
  readonly buf: number;
  readonly gid: number;
  readonly aux: number;
  readonly auxGid: number;
}

const pattern = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed + (i >>> 9)) & 0xff);

/** One check: prints `MEMTEST: test <name> succeeded|failed` and records it; the program goes on either way. */
function expectEq(t: Tester, name: string, got: number, want: number): void {
  const ok = got === want;
  t.r.line(`MEMTEST: test ${name} ${ok ? 'succeeded' : 'failed'}`);
  t.r.check(`MEMTEST: ${name}`, ok, ok ? '' : `got ${errnoName(got)}, expected ${errnoName(want)}`);
}

function expectBytes(t: Tester, name: string, got: Uint8Array, want: Uint8Array): void {
  expectEq(t, name, sameBytes(got, want) ? 1 : 0, 1);
}

/** A grant to the driver, or the program ends. */
async function grant(p: Proc, addr: number, len: number, access: number): Promise<number> {
  const g = await p.cpf.grantDirect(MEM, addr, len, access);
  if (g.id < 0) throw new TestFailed(`MEMTEST: cpf_grant_direct failed: ${errnoName(g.errno)}`);
  return g.id;
}

/** A read at a device's size gives 0 bytes; one from 7 bytes before it gives 7. */
async function endOfDevice(t: Tester, minor: number, name: string, size: number): Promise<void> {
  const { p } = t;
  expectEq(t, `${name}: read at its end gives 0 bytes`, await devRead(p, MEM, minor, size, t.gid, 100), 0);
  expectEq(
    t,
    `${name}: read across its end is cut there`,
    await devRead(p, MEM, minor, size - 7, t.gid, 100),
    7,
  );
}

async function openClose(t: Tester): Promise<void> {
  const { p } = t;
  expectEq(t, 'DEV_OPEN of minor NR_DEVS → ENXIO', await devOpen(p, MEM, NR_DEVS), ENXIO);
  expectEq(t, 'DEV_OPEN of minor -1 → ENXIO', await devOpen(p, MEM, -1), ENXIO);
  expectEq(t, 'DEV_OPEN /dev/null', await devOpen(p, MEM, NULL_DEV), OK);
  expectEq(t, 'DEV_CLOSE /dev/null', await devClose(p, MEM, NULL_DEV), OK);
  expectEq(t, 'DEV_CLOSE of a closed minor → EINVAL', await devClose(p, MEM, NULL_DEV), EINVAL);
  expectEq(t, 'DEV_CLOSE of minor NR_DEVS → ENXIO', await devClose(p, MEM, NR_DEVS), ENXIO);
  const unknown = await p.sendrec(MEM, { type: DEV_RQ_BASE + 12, device: NULL_DEV, ioEndpt: p.endpoint });
  expectEq(
    t,
    'an unknown request type → EINVAL',
    typeof unknown.repStatus === 'number' ? unknown.repStatus : unknown.type,
    EINVAL,
  );
  expectEq(
    t,
    'DEV_IOCTL_S of an unknown request → ENOTTY',
    await devIoctl(p, MEM, NULL_DEV, 0x1234, t.auxGid),
    ENOTTY,
  );
  expectEq(
    t,
    'DEV_READ_S with a negative count → EINVAL',
    await devRead(p, MEM, NULL_DEV, 0, t.gid, -1),
    EINVAL,
  );
  expectEq(t, 'DEV_READ_S of minor NR_DEVS → ENXIO', await devRead(p, MEM, NR_DEVS, 0, t.gid, 1), ENXIO);
  expectEq(t, 'DEV_READ_S of /dev/boot (no image) → EIO', await devRead(p, MEM, BOOT_DEV, 0, t.gid, 1), EIO);
}

async function nullAndZero(t: Tester): Promise<void> {
  const { p } = t;
  expectEq(t, 'read of /dev/null gives 0 bytes', await devRead(p, MEM, NULL_DEV, 0, t.gid, 100), 0);
  expectEq(
    t,
    'write of 100 bytes to /dev/null takes 100',
    await devWrite(p, MEM, NULL_DEV, 0, t.gid, 100),
    100,
  );
  await p.write(t.buf, new Uint8Array(4 * PAGE).fill(0xff));
  expectEq(
    t,
    'read of 3000 bytes of /dev/zero gives 3000',
    await devRead(p, MEM, ZERO_DEV, 5, t.gid, 3000),
    3000,
  );
  const got = await p.read(t.buf, 3001);
  expectEq(
    t,
    'the 3000 bytes are zero and the next one untouched',
    got.subarray(0, 3000).every((b) => b === 0) && got[3000] === 0xff ? 1 : 0,
    1,
  );
  expectEq(
    t,
    'read of /dev/zero at a position past 4 GiB still gives bytes',
    await devRead(p, MEM, ZERO_DEV, 2 ** 33, t.gid, 10),
    10,
  );
  expectEq(
    t,
    'write of 5000 bytes to /dev/zero takes 5000',
    await devWrite(p, MEM, ZERO_DEV, 0, t.gid, 5000),
    5000,
  );
}

async function devMem(t: Tester, m: MemtestMachine): Promise<void> {
  const { p } = t;
  const text = VIDEO_MEM_BASE + 0x18000;
  expectEq(
    t,
    '/dev/mem: read of 4000 bytes of text-mode video memory',
    await devRead(p, MEM, MEM_DEV, text, t.gid, 4000),
    4000,
  );
  expectBytes(
    t,
    '/dev/mem: they are what the host wrote there',
    await p.read(t.buf, 4000),
    m.video.subarray(0x18000, 0x18000 + 4000),
  );
  const big = 300 * 1024;
  expectEq(
    t,
    '/dev/mem: read of 300 KiB from 0xA0800 (several map windows)',
    await devRead(p, MEM, MEM_DEV, VIDEO_MEM_BASE + 0x800, t.gid, big),
    big,
  );
  const got = await p.read(t.buf, big);
  expectBytes(
    t,
    '/dev/mem: video memory, then the ROM area above it (zero)',
    got,
    Uint8Array.from({ length: big }, (_, i) => m.video[i + 0x800] ?? 0),
  );
  const mine = pattern(6000, 7);
  await p.write(t.buf, mine);
  expectEq(
    t,
    '/dev/mem: write of 6000 bytes at 0xB9F00',
    await devWrite(p, MEM, MEM_DEV, 0xb9f00, t.gid, 6000),
    6000,
  );
  await p.write(t.buf, new Uint8Array(6000));
  expectEq(t, '/dev/mem: read them back', await devRead(p, MEM, MEM_DEV, 0xb9f00, t.gid, 6000), 6000);
  expectBytes(t, '/dev/mem: the bytes written', await p.read(t.buf, 6000), mine);
  expectEq(
    t,
    '/dev/mem: read of the kernel image at 0x1000',
    await devRead(p, MEM, MEM_DEV, 0x1000, t.gid, m.kernelMarker.length),
    m.kernelMarker.length,
  );
  expectBytes(t, "/dev/mem: the host's marker", await p.read(t.buf, m.kernelMarker.length), m.kernelMarker);
  await endOfDevice(t, MEM_DEV, '/dev/mem', m.ramBytes);
  expectEq(
    t,
    '/dev/mem: a position past 4 GiB is past the end',
    await devRead(p, MEM, MEM_DEV, 2 ** 32 + 5, t.gid, 100),
    0,
  );
}

async function kmem(t: Tester, m: MemtestMachine): Promise<void> {
  const { p } = t;
  const n = m.kernelMarker.length;
  expectEq(t, '/dev/kmem: read at offset 0', await devRead(p, MEM, KMEM_DEV, 0, t.gid, n), n);
  expectBytes(t, "/dev/kmem: the host's marker", await p.read(t.buf, n), m.kernelMarker);
  await endOfDevice(t, KMEM_DEV, '/dev/kmem', m.kernelBytes);
}

/** MIOCRAMSIZE with the size written in the aux page. */
async function ramSize(t: Tester, minor: number, bytes: number): Promise<number> {
  await t.p.writeU32(t.aux, bytes);
  return devIoctl(t.p, MEM, minor, MIOCRAMSIZE, t.auxGid);
}

async function ramDiskSetup(t: Tester): Promise<void> {
  const { p } = t;
  expectEq(
    t,
    '/dev/ram: read before MIOCRAMSIZE → EIO',
    await devRead(p, MEM, RAM_DEV_OLD, 0, t.gid, 10),
    EIO,
  );
  expectEq(
    t,
    'MIOCRAMSIZE on a minor nobody opened → EBUSY',
    await ramSize(t, RAM_DEV_OLD, RAMDISK_BYTES),
    EBUSY,
  );
  expectEq(t, 'MIOCRAMSIZE on /dev/null → EINVAL', await ramSize(t, NULL_DEV, RAMDISK_BYTES), EINVAL);
  expectEq(t, 'MIOCRAMSIZE on minor NR_DEVS → ENXIO', await ramSize(t, NR_DEVS, RAMDISK_BYTES), ENXIO);
  expectEq(t, 'DEV_OPEN /dev/ram', await devOpen(p, MEM, RAM_DEV_OLD), OK);
  expectEq(t, 'MIOCRAMSIZE of 64 KiB on /dev/ram', await ramSize(t, RAM_DEV_OLD, RAMDISK_BYTES), OK);
  expectEq(t, 'DEV_OPEN /dev/ram a second time', await devOpen(p, MEM, RAM_DEV_OLD), OK);
  expectEq(
    t,
    'MIOCRAMSIZE of the same size while open twice → OK',
    await ramSize(t, RAM_DEV_OLD, RAMDISK_BYTES),
    OK,
  );
  expectEq(
    t,
    'MIOCRAMSIZE of another size while open twice → EBUSY',
    await ramSize(t, RAM_DEV_OLD, 2 * RAMDISK_BYTES),
    EBUSY,
  );
  expectEq(t, 'DEV_CLOSE /dev/ram once', await devClose(p, MEM, RAM_DEV_OLD), OK);
  expectEq(
    t,
    `/dev/ram${RAM_DEV_FIRST - RAM_DEV_FIRST} (minor ${RAM_DEV_FIRST}) is another RAM disk, not set up: EIO`,
    await devRead(p, MEM, RAM_DEV_FIRST, 0, t.gid, 1),
    EIO,
  );
}

async function ramDiskData(t: Tester): Promise<void> {
  const { p } = t;
  const data = pattern(2 * PAGE, 3);
  await p.write(t.buf, data);
  expectEq(
    t,
    '/dev/ram: write of 8 KiB at 4096',
    await devWrite(p, MEM, RAM_DEV_OLD, PAGE, t.gid, 2 * PAGE),
    2 * PAGE,
  );
  await p.write(t.buf, new Uint8Array(2 * PAGE));
  expectEq(
    t,
    '/dev/ram: read them back',
    await devRead(p, MEM, RAM_DEV_OLD, PAGE, t.gid, 2 * PAGE),
    2 * PAGE,
  );
  expectBytes(t, '/dev/ram: the bytes written', await p.read(t.buf, 2 * PAGE), data);
  await endOfDevice(t, RAM_DEV_OLD, '/dev/ram', RAMDISK_BYTES);
  const revoked = await grant(p, t.buf, PAGE, CPF_READ | CPF_WRITE);
  await p.cpf.revoke(revoked);
  expectEq(
    t,
    '/dev/ram: read into a revoked grant → EPERM (the safecopy error)',
    await devRead(p, MEM, RAM_DEV_OLD, 0, revoked, 10),
    EPERM,
  );
}

/** DEV_GATHER_S / DEV_SCATTER_S with three buffers; the vector comes back with what was left of each. */
async function ramDiskVector(t: Tester): Promise<void> {
  const { p } = t;
  const sizes = [1000, 5000, 4000];
  const gids = [
    await grant(p, t.buf, 1000, CPF_READ | CPF_WRITE),
    await grant(p, t.buf + 1000, 5000, CPF_READ | CPF_WRITE),
    await grant(p, t.buf + 6000, 4000, CPF_READ | CPF_WRITE),
  ];
  const vec = (left: readonly number[]): Uint8Array =>
    encodeIovec(gids.map((grant, i) => ({ grant, size: left[i] ?? 0 })));
  const data = pattern(10000, 11);
  await p.write(t.buf, data);
  await p.write(t.aux, vec(sizes));
  expectEq(
    t,
    '/dev/ram: DEV_SCATTER_S of three buffers at 20000',
    await devScatter(p, MEM, RAM_DEV_OLD, 20000, t.auxGid, 3),
    OK,
  );
  expectEq(
    t,
    '/dev/ram: the vector comes back with nothing left',
    decodeIovec(await p.read(t.aux, 24)).every((e) => e.size === 0) ? 1 : 0,
    1,
  );
  await p.write(t.buf, new Uint8Array(10000));
  await p.write(t.aux, vec(sizes));
  expectEq(
    t,
    '/dev/ram: DEV_GATHER_S of three buffers at 20000',
    await devGather(p, MEM, RAM_DEV_OLD, 20000, t.auxGid, 3),
    OK,
  );
  expectBytes(t, '/dev/ram: the gathered bytes are the scattered ones', await p.read(t.buf, 10000), data);
  await p.write(t.aux, vec(sizes));
  expectEq(
    t,
    '/dev/ram: DEV_GATHER_S 3000 bytes before the end',
    await devGather(p, MEM, RAM_DEV_OLD, RAMDISK_BYTES - 3000, t.auxGid, 3),
    OK,
  );
  const left = decodeIovec(await p.read(t.aux, 24)).map((e) => e.size);
  expectEq(
    t,
    '/dev/ram: the vector says 0, 3000 and 4000 bytes were left',
    left.join() === '0,3000,4000' ? 1 : 0,
    1,
  );
  const roVec = await grant(p, t.aux, 24, CPF_READ);
  await p.write(t.aux, vec(sizes));
  const r = await devGather(p, MEM, RAM_DEV_OLD, 0, roVec, 3);
  expectEq(
    t,
    '/dev/ram: DEV_GATHER_S with a read-only vector grant → EPERM when the vector goes back',
    r,
    EPERM,
  );
  expectEq(t, 'DEV_CLOSE /dev/ram', await devClose(p, MEM, RAM_DEV_OLD), OK);
}

/** What memtest writes into video memory through /dev/mem (the host finds it there afterwards). */
export const MEMTEST_VIDEO_WRITE = { at: 0xb9f00, bytes: pattern(6000, 7) } as const;

/**
 * A service probing VM_MAP_PHYS with the privileges it was started with: video memory (0xB8000, one page), a
 * page at 1 MiB, and video memory for another process. Each result is checked against `want`; a mapping that
 * succeeds is read (it must show `video`) and unmapped.
 */
export function physmapProbe(
  r: TestReport,
  who: string,
  video: Uint8Array,
  want: { video: number; above: number; other: number },
): Program {
  return (p) =>
    runTest(r, async () => {
      const at = await vmMapPhys(p, 0xb8000, PAGE);
      r.check(
        `${who}: VM_MAP_PHYS of video memory → ${errnoName(want.video)}`,
        (at < 0 ? at : OK) === want.video,
        errnoName(at < 0 ? at : OK),
      );
      if (at >= 0) {
        r.check(
          `${who}: the mapping shows video memory`,
          sameBytes(await p.read(at, PAGE), video.subarray(0x18000, 0x18000 + PAGE)),
        );
        r.check(`${who}: VM_UNMAP_PHYS`, (await vmUnmapPhys(p, at)) === OK);
      }
      const above = await vmMapPhys(p, 0x100000, PAGE);
      r.check(
        `${who}: VM_MAP_PHYS of a page at 1 MiB → ${errnoName(want.above)}`,
        (above < 0 ? above : OK) === want.above,
        errnoName(above),
      );
      const other = await vmMapPhys(p, 0xb8000, PAGE, MEM_PROC_NR);
      r.check(
        `${who}: VM_MAP_PHYS of video memory into another process → ${errnoName(want.other)}`,
        (other < 0 ? other : OK) === want.other,
        errnoName(other),
      );
    });
}

/** The memory driver's conformance program, as a system service (it needs a grant table). */
export function memtest(r: TestReport, machine: MemtestMachine): Program {
  return (p) =>
    runTest(r, async () => {
      const buf = await mapBuffer(p, BUF_PAGES);
      const aux = await mapBuffer(p, 1);
      const t: Tester = {
        p,
        r,
        buf,
        gid: await grant(p, buf, BUF_PAGES * PAGE, CPF_READ | CPF_WRITE),
        aux,
        auxGid: await grant(p, aux, PAGE, CPF_READ | CPF_WRITE),
      };
      await openClose(t);
      await nullAndZero(t);
      await devMem(t, machine);
      await kmem(t, machine);
      await ramDiskSetup(t);
      await ramDiskData(t);
      await ramDiskVector(t);
      r.line('MEMTEST: done');
    });
}

/** Video memory as the memory suite's host fills it before the run: a recognisable pattern over all 128 KiB. */
export function videoPattern(): Uint8Array {
  return pattern(VIDEO_MEM_BYTES, 0x42);
}
