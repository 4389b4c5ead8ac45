// The harness shared by the ported grant test services (test/safecopy, test/safemap, test/safeperf): the
// grantor/requestor handshake, page-aligned buffers, the report callback and the elapsed-time clock.
// Entry points: TestReport, ElapsedClock, sendEndpoint, receiveEndpoint, sendGrant, receiveGrant, fifoNotify,
// fifoWait, waitForDeath, peerByLabel, withStaticData, staticBuffer, mapBuffer, checkTest, runTest, GRANT_TEST_PRIV.
// DIVERGES: MINIX exchanges endpoints and grant ids through two FIFOs; here they travel in IPC messages, and
// FIFO_NOTIFY/FIFO_WAIT become a token sent with a blocking send and received from that peer only (a kernel
// notify would coalesce two tokens sent back to back, which a FIFO does not). A service runs in a fork of RS, so
// a suite's program first execs an image of itself whose data segment holds its static buffers (withStaticData).
import {
  SYS_GETINFO,
  SYS_PRIVCTL,
  SYS_SAFECOPYFROM,
  SYS_SAFECOPYTO,
  SYS_SAFEMAP,
  SYS_SAFEREVMAP,
  SYS_SAFEUNMAP,
  SYS_SETGRANT,
  SYS_SYSCTL,
  SYS_UMAP,
} from '../include/com.ts';
import { EDEADSRCDST, OK, errnoName } from '../include/errno.ts';
import { kernelCallList } from '../include/priv.ts';
import type { PrivSpec } from '../include/priv.ts';
import { MAP_ANON, MAP_PRIVATE, VM_PROCSTART } from '../include/vm.ts';
import type { ExecImage } from '../include/vm.ts';
import { dsRetrieveLabelNum } from '../libsys/ds.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import { vmMmap } from '../libsys/vm.ts';
import { firstDifference } from '../lib/bytes.ts';
import { releaseChild as releaseForkedChild } from '../libsys/privctl.ts';

export const PAGE = 4096;

/** The privileges of the reference test services (their system.conf): these kernel calls, any IPC, every VM call. */
export const GRANT_TEST_PRIV: PrivSpec = {
  ipcTo: 'all',
  kernelCalls: kernelCallList(
    SYS_SAFECOPYFROM,
    SYS_SAFECOPYTO,
    SYS_SAFEMAP,
    SYS_SAFEREVMAP,
    SYS_SAFEUNMAP,
    SYS_UMAP,
    SYS_PRIVCTL,
    SYS_SETGRANT,
    SYS_GETINFO,
    SYS_SYSCTL,
  ),
  vmCalls: 'all',
};

/** Where a test program writes: its stdout lines, and the checks the scenario collects. */
export interface TestReport {
  line(text: string): void;
  check(name: string, ok: boolean, detail?: string): void;
}

/**
 * The time source of the timed tests: `now()` in `unit`s. The CLI passes the host's clock (ns); without one
 * the scenario counts kernel entries (deterministic, 'step').
 */
export interface ElapsedClock {
  now(): number;
  readonly unit: 'ns' | 'step';
}

/** Message types of the handshake (private to the test services). */
export const TEST_ENDPOINT = 0x7e00;
export const TEST_GRANT = 0x7e01;
export const TEST_TOKEN = 0x7e02;

/** A failure that ends the test program (exit 1), as CHECK_TEST's exit(1) or a failed setup call. */
export class TestFailed extends Error {}

/** Ends the program unless `r` is OK: the reference prints the error and returns 1. */
export function mustOk(r: number, who: string, what: string): void {
  if (r !== OK) throw new TestFailed(`${who}: error in ${what}: ${errnoName(r)}`);
}

/** The endpoint of the service RS started under `label` (RS publishes labels in DS before starting it). */
export async function peerByLabel(p: Proc, label: string): Promise<number> {
  const r = await dsRetrieveLabelNum(p, label);
  if (r.result !== OK)
    throw new TestFailed(`${p.name}: no service '${label}' in DS (${errnoName(r.result)})`);
  return r.endpoint;
}

/** The requestor's first step: its own endpoint to the grantor. */
export async function sendEndpoint(p: Proc, to: number): Promise<void> {
  mustOk(await p.send(to, { type: TEST_ENDPOINT, endpoint: p.endpoint }), p.name, 'send endpoint');
}

/** The grantor's first step: wait for a requestor's endpoint. */
export async function receiveEndpoint(p: Proc): Promise<number> {
  for (;;) {
    const m = await p.receive();
    if (m.type === TEST_ENDPOINT && typeof m.endpoint === 'number') return m.endpoint;
  }
}

/** The grantor's answer: its endpoint and the grant ids (the reference writes ep_self, then gid). */
export async function sendGrant(p: Proc, to: number, gids: readonly number[]): Promise<void> {
  mustOk(await p.send(to, { type: TEST_GRANT, endpoint: p.endpoint, gids: [...gids] }), p.name, 'send grant');
}

export async function receiveGrant(p: Proc, from: number): Promise<{ granter: number; gids: number[] }> {
  const m = await p.receive(from);
  const gids = m.gids;
  if (m.type !== TEST_GRANT || typeof m.endpoint !== 'number' || !Array.isArray(gids)) {
    throw new TestFailed(`${p.name}: expected the grant message, got type ${m.type}`);
  }
  return { granter: m.endpoint, gids: gids.filter((g): g is number => typeof g === 'number') };
}

/** FIFO_NOTIFY: one token to the peer (blocks until the peer takes it). */
export async function fifoNotify(p: Proc, peer: number): Promise<void> {
  mustOk(await p.send(peer, { type: TEST_TOKEN }), p.name, 'FIFO_NOTIFY');
}

/** FIFO_WAIT: the peer's next token. */
export async function fifoWait(p: Proc, peer: number): Promise<void> {
  const m = await p.receive(peer);
  if (m.type !== TEST_TOKEN) throw new TestFailed(`${p.name}: FIFO_WAIT failed (${errnoName(m.type)})`);
}

/** Waits until `peer` is gone: a receive from it that ends with EDEADSRCDST. */
export async function waitForDeath(p: Proc, peer: number): Promise<boolean> {
  for (;;) {
    const m = await p.receive(peer);
    if (m.type === EDEADSRCDST) return true;
    if (m.type !== TEST_TOKEN) return false;
  }
}

/** Where the next static buffer of a program started by withStaticData goes, and the end of its data segment. */
interface StaticData {
  next: number;
  end: number;
}

/**
 * The ported suites keep their buffers in static arrays, as MINIX's test programs do: the
 * service execs a fresh image of itself whose data segment is `pages` zeroed pages, allocated at exec as one
 * multi-page block, and runs `main` there; staticBuffer hands out the buffers in order. Grants over part of the
 * block make VM split it, as in MINIX's run. A failed exec is reported and ends the program with status 1.
 */
export function withStaticData(r: TestReport, pages: number, main: Program): Program {
  return async (p) => {
    const image: ExecImage = { name: p.name, text: 0, data: 0, bss: pages * PAGE, tot: 0, args: 0 };
    const e = await p.exec(image, (q) => {
      q.state<StaticData>(STATIC_DATA, () => ({ next: VM_PROCSTART, end: VM_PROCSTART + pages * PAGE }));
      return main(q);
    });
    const text = `${p.name}: exec with ${pages} pages of data failed (${errnoName(e)})`;
    r.line(text);
    r.check(text, false);
    return 1;
  };
}

const STATIC_DATA = 'safetest.staticData';

/** `pages` page-aligned pages of the program's data segment (withStaticData), the next ones not handed out yet. */
export function staticBuffer(p: Proc, pages: number): number {
  const s = p.state<StaticData | null>(STATIC_DATA, () => null);
  if (s === null || s.next + pages * PAGE > s.end)
    throw new TestFailed(`${p.name}: no room for ${pages} static pages`);
  const a = s.next;
  s.next += pages * PAGE;
  return a;
}

/** `pages` fresh page-aligned pages of the process's own (anonymous, private) memory. */
export async function mapBuffer(p: Proc, pages: number): Promise<number> {
  const a = await vmMmap(p, 0, pages * PAGE, MAP_ANON | MAP_PRIVATE);
  if (a < 0) throw new TestFailed(`${p.name}: mmap of ${pages} pages failed (${errnoName(a)})`);
  return a;
}

/**
 * CHECK_TEST: prints `<WHO>: test <name> succeeded|failed`, records the check, and on failure ends the program
 * with status 1.
 */
export function checkTest(r: TestReport, who: string, got: number, expected: number, name: string): void {
  const ok = got === expected;
  const text = `${who}: test ${name} ${ok ? 'succeeded' : 'failed'}`;
  r.line(text);
  r.check(text, ok, ok ? '' : `got ${got}, expected ${expected}`);
  if (!ok) throw new TestFailed('');
}

/** Runs a test program's body: a TestFailed is printed and becomes exit status 1. */
export async function runTest(r: TestReport, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (e) {
    if (!(e instanceof TestFailed)) throw e;
    if (e.message !== '') {
      r.line(e.message);
      r.check(e.message, false);
    }
    return 1;
  }
}

/** An elapsed time as the tests print it: whole nanoseconds, or kernel entries with their unit. */
export function formatElapsed(clock: ElapsedClock, delta: number): string {
  return clock.unit === 'ns' ? `${Math.round(delta)} ns` : `${delta} steps`;
}

/** True iff `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return firstDifference(a, b) === -1;
}

/** Lets a child forked by this system process run (see the library's releaseChild); a refusal fails the test. */
export async function releaseChild(p: Proc, child: number): Promise<void> {
  mustOk(await releaseForkedChild(p, child), p.name, 'privctl SET_USER + ALLOW');
}
