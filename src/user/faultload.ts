// The fault-injection workload (issue 8): a small system whose parts a campaign kills one at a time. A grantor
// service lends a page-aligned buffer to a driver-like service (safecopy from and to it, a COW fault in the
// driver's copy) and to a mapper (safemap read-only, checksum, unmap), committing each finished round in DS;
// a watcher subscribes to the services' labels; a user program forks, breaks COW, execs and waits. Services
// find each other through DS labels and retry a round whose peer died, as MINIX drivers' clients do.
// Entry points: grantorService, driverService, mapperService, watcherService, vmClient, deadEndpointProber,
// newFaultJournal, FAULT_ROUNDS.
import { DSF_INITIAL, DSF_OVERWRITE, DSF_TYPE_LABEL } from '../include/ds.ts';
import { DS_PROC_NR } from '../include/endpoint.ts';
import { ENOENT, OK } from '../include/errno.ts';
import { numField } from '../include/ipc.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../include/safecopies.ts';
import { MAP_ANON, MAP_PRIVATE } from '../include/vm.ts';
import { dsCheck, dsPublishU32, dsRetrieveLabelNum, dsRetrieveU32, dsSubscribe } from '../libsys/ds.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import { vmMmap } from '../libsys/vm.ts';
import { mapBuffer } from './safetest.ts';

const PAGE = 4096;
const BUF_PAGES = 2;
const BUF_BYTES = BUF_PAGES * PAGE;
export const FAULT_ROUNDS = 4;
/** How often the grantor asks again for a peer that died (RS restarts it meanwhile). */
const RETRIES = 20;

/** Requests to the driver and the mapper; PROBE: a safecopy through a grant the sender names (the reply is its result). */
export const FL_XOR = 0x7f00;
export const FL_SUM = 0x7f01;
export const FL_PROBE = 0x7f02;

/** What the workload's parts saw, read by the campaign: wrong data, label notifications. */
export interface FaultJournal {
  /** Data the driver or the mapper returned that was wrong (lost or corrupted state). */
  failures: string[];
  /** Every label notification the watcher drained: label and the endpoint DS gave it then. */
  labels: { key: string; endpoint: number }[];
}

export const newFaultJournal = (): FaultJournal => ({ failures: [], labels: [] });

const patternByte = (round: number, i: number): number => (round * 7 + i) & 0xff;
const xorKey = (round: number): number => 0x5a ^ round;

function checksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s = (s * 31 + b) >>> 0;
  return s;
}

function roundPattern(round: number): Uint8Array {
  const b = new Uint8Array(BUF_BYTES);
  for (let i = 0; i < BUF_BYTES; i++) b[i] = patternByte(round, i);
  return b;
}

/**
 * One request to the service under `label` through a fresh grant over the buffer, revoked after the reply.
 * A dead or restarting peer (IPC error, or a grant verified against the old endpoint) is asked again, after
 * `prepare` has rewritten the buffer: a peer that died mid-request may have written part of it.
 */
async function viaPeer(
  p: Proc,
  label: string,
  buf: number,
  access: number,
  request: { type: number; key?: number },
  prepare: () => Promise<void> = () => Promise.resolve(),
): Promise<{ type: number; sum: number }> {
  let last = -1;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    await prepare();
    const peer = await dsRetrieveLabelNum(p, label);
    if (peer.result === OK) {
      const g = await p.cpf.grantDirect(peer.endpoint, buf, BUF_BYTES, access);
      if (g.errno !== OK) return { type: g.errno, sum: 0 };
      const m = await p.sendrec(peer.endpoint, { ...request, gid: g.id, bytes: BUF_BYTES });
      await p.cpf.revoke(g.id);
      if (m.type === OK && m.ipcError !== true) return { type: OK, sum: numField(m, 'sum') };
      last = m.type;
    } else last = peer.result;
    await p.sleep(5);
  }
  return { type: last, sum: 0 };
}

/** The grantor: resumes after its last committed round, lends its buffer to the driver and the mapper per round. */
export function grantorService(j: FaultJournal): Program {
  return async (p) => {
    const buf = await mapBuffer(p, BUF_PAGES);
    const done = await dsRetrieveU32(p, 'grantor.round');
    for (let round = done.result === OK ? done.value : 0; round < FAULT_ROUNDS; round++) {
      const data = roundPattern(round);
      const x = await viaPeer(
        p,
        'driver',
        buf,
        CPF_READ | CPF_WRITE,
        { type: FL_XOR, key: xorKey(round) },
        () => p.write(buf, data),
      );
      const got = await p.read(buf, BUF_BYTES);
      const want = data.map((b) => b ^ xorKey(round));
      if (x.type !== OK || !got.every((b, i) => b === want[i]))
        j.failures.push(`round ${round}: driver result ${x.type}`);
      const s = await viaPeer(p, 'mapper', buf, CPF_READ | CPF_MAP, { type: FL_SUM });
      if (s.type !== OK || s.sum !== checksum(want))
        j.failures.push(`round ${round}: mapper result ${s.type}, sum ${s.sum}`);
      const c = await dsPublishU32(p, 'grantor.round', round + 1, DSF_OVERWRITE);
      if (c !== OK) j.failures.push(`round ${round}: commit ${c}`);
    }
    return 0;
  };
}

/** PROBE: a one-byte safecopy from the sender through the grant it names; the reply carries the result. */
async function probe(p: Proc, m: { source: number; gid: number }, at: number): Promise<number> {
  return p.sys.safecopyFrom(m.source, m.gid, 0, at, 1);
}

/** A driver-like service: copies the caller's buffer in (COW when it can), XORs it (a write fault), copies it back. */
export function driverService(): Program {
  return async (p) => {
    const buf = await mapBuffer(p, BUF_PAGES);
    for (;;) {
      const m = await p.receive();
      const gid = numField(m, 'gid');
      let r: number;
      if (m.type === FL_XOR) {
        r = await p.sys.safecopyFrom(m.source, gid, 0, buf, BUF_BYTES);
        if (r === OK) {
          const key = numField(m, 'key');
          await p.write(
            buf,
            (await p.read(buf, BUF_BYTES)).map((b) => b ^ key),
          );
          r = await p.sys.safecopyTo(m.source, gid, 0, buf, BUF_BYTES);
        }
      } else if (m.type === FL_PROBE) r = await probe(p, { source: m.source, gid }, buf);
      else continue;
      await p.send(m.source, { type: r });
    }
  };
}

/** A service that maps the caller's buffer read-only, checksums it through the mapping and unmaps it. */
export function mapperService(): Program {
  return async (p) => {
    const win = await mapBuffer(p, BUF_PAGES);
    for (;;) {
      const m = await p.receive();
      const gid = numField(m, 'gid');
      let r: number;
      let sum = 0;
      if (m.type === FL_SUM) {
        r = await p.sys.safemap(m.source, gid, 0, win, BUF_BYTES, false);
        if (r === OK) {
          sum = checksum(await p.read(win, BUF_BYTES));
          r = await p.sys.safeunmap(win);
        }
      } else if (m.type === FL_PROBE) r = await probe(p, { source: m.source, gid }, win);
      else continue;
      await p.send(m.source, { type: r, sum });
    }
  };
}

/** Subscribes to the labels `pattern` matches (existing ones at once) and records every notification. */
export function watcherService(j: FaultJournal, pattern: string): Program {
  return async (p) => {
    if ((await dsSubscribe(p, pattern, DSF_INITIAL | DSF_TYPE_LABEL)) !== OK) return 1;
    for (;;) {
      const m = await p.receive();
      if (m.source !== DS_PROC_NR) continue;
      for (;;) {
        const c = await dsCheck(p);
        if (c.result === ENOENT) break;
        if (c.result !== OK) return 1;
        const ep = await dsRetrieveLabelNum(p, c.key);
        j.labels.push({ key: c.key, endpoint: ep.result === OK ? ep.endpoint : ep.result });
      }
    }
  };
}

/** The exec'd image of a vmClient child. */
const CHILD_IMAGE = { name: 'vmclient-exec', text: PAGE, data: PAGE, bss: PAGE, tot: 0, args: 0 };

/**
 * A VM client: mmaps and fills 4 pages, then three times forks a child that breaks COW on them and execs a
 * small image that writes its own data; the parent breaks COW too and waits. Exit 0 iff every child ended 0.
 */
export function vmClient(): Program {
  return async (p) => {
    const a = await vmMmap(p, 0, 4 * PAGE, MAP_ANON | MAP_PRIVATE);
    if (a < 0) return 2;
    await p.write(a, new Uint8Array(4 * PAGE).fill(0x41));
    let bad = 0;
    for (let i = 0; i < 3; i++) {
      const child = await p.fork(async (c) => {
        await c.writeU32(a + i * PAGE, 0xc0de);
        const r = await c.exec(CHILD_IMAGE, async (e) => {
          const d = await vmMmap(e, 0, PAGE, MAP_ANON | MAP_PRIVATE);
          await e.writeU32(d, 7);
          return (await e.readU32(d)) === 7 ? 0 : 1;
        });
        return r === OK ? 0 : 3;
      }, 'vmclient-child');
      if (child < 0) return 4;
      await p.writeU32(a + i * PAGE + 4, i);
      const w = await p.wait();
      if (w.code !== 0 || w.signal !== 0) bad++;
    }
    return bad === 0 && (await p.readU32(a)) === 0x41414141 ? 0 : 1;
  };
}

/** What the prober found for one dead endpoint (see deadEndpointProber). */
export interface DeadProbe {
  dead: number;
  /** safecopy from the dead endpoint as granter (grant 0): EINVAL (the granter must be alive). */
  asGranter: number;
  /** The live successor's safecopy through a grant the prober made to the dead endpoint: EPERM (§4 step 3). */
  viaSuccessor: number | null;
}

/**
 * Probes dead endpoints: a copy from each as granter, and, when a successor that serves FL_PROBE is named, a
 * grant to the dead endpoint used by the successor. Also reads the grantor's committed round into `round`.
 */
export function deadEndpointProber(
  targets: readonly { dead: number; successor: number | null }[],
  out: DeadProbe[],
  round: { value: number },
): Program {
  return async (p) => {
    const buf = await mapBuffer(p, 1);
    const r = await dsRetrieveU32(p, 'grantor.round');
    round.value = r.result === OK ? r.value : r.result;
    for (const t of targets) {
      const asGranter = await p.sys.safecopyFrom(t.dead, 0, 0, buf, 1);
      let viaSuccessor: number | null = null;
      if (t.successor !== null) {
        const g = await p.cpf.grantDirect(t.dead, buf, 1, CPF_READ);
        const m = await p.sendrec(t.successor, { type: FL_PROBE, gid: g.id });
        viaSuccessor = m.type;
        await p.cpf.revoke(g.id);
      }
      out.push({ dead: t.dead, asGranter, viaSuccessor });
    }
    return 0;
  };
}
