// The reference DS test services (test/ds/dstest.c, subs.c; spec/ds.md §10): dstest runs the U32, STRING, MEM,
// MAP and LABEL sequences and asserts every result; subs subscribes to test_u32 and reports what it sees.
// Entry points: dstest, subs, DsTestOutput, DSTEST_PRIV, SUBS_PRIV. Lines go to the `out` callback (the
// service's stdout).
// DIVERGES: a failed assertion prints `DSTEST: assertion failed: <what>` and exits with status 1 (MINIX aborts);
// buffers are static pages in the data segment (withStaticData) rather than stack arrays. subs may drain
// ds_check to ENOENT per notification.
import { DSF_INITIAL, DSF_OVERWRITE, DSF_TYPE_MEM, DSF_TYPE_STR, DSF_TYPE_U32, DSMF_COPY_MAPPED, DSMF_COPY_SNAPSHOT, DSMF_MAP_MAPPED } from '../include/ds.ts';
import { KERNEL_CALL, SYS_GETINFO, SYS_PRIVCTL, SYS_SAFEMAP, SYS_SETGRANT, SYS_SYSCTL, SYS_UMAP } from '../include/com.ts';
import { DS_PROC_NR, PM_PROC_NR, RS_PROC_NR, VM_PROC_NR, endpointSlot } from '../include/endpoint.ts';
import { USER_PRIV_SPEC } from '../include/priv.ts';
import type { PrivSpec } from '../include/priv.ts';
import { EEXIST, EINVAL, ENOENT, EPERM, ESRCH, OK } from '../include/errno.ts';
import {
  dsCheck,
  dsDeleteLabel,
  dsDeleteMap,
  dsDeleteMem,
  dsDeleteStr,
  dsDeleteU32,
  dsPublishLabel,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveLabelName,
  dsRetrieveLabelNum,
  dsRetrieveMap,
  dsRetrieveMem,
  dsRetrieveStr,
  dsRetrieveU32,
  dsSnapshotMap,
  dsSubscribe,
} from '../libsys/ds.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import { staticBuffer, withStaticData } from './safetest.ts';

export type DsTestOutput = (line: string) => void;

/** IPC targets of the DS test services: pm, rs, ds and vm. */
const DS_TEST_IPC = [PM_PROC_NR, RS_PROC_NR, DS_PROC_NR, VM_PROC_NR].map(endpointSlot);

/**
 * dstest's privileges in MINIX's test/ds/system.conf: these kernel calls, IPC to pm, rs, ds and vm, the VM calls
 * every process has. No SAFEREVMAP: the library's revoke of a published MAP grant fails.
 */
export const DSTEST_PRIV: PrivSpec = {
  ipcTo: DS_TEST_IPC,
  kernelCalls: [SYS_UMAP, SYS_PRIVCTL, SYS_SAFEMAP, SYS_SETGRANT, SYS_GETINFO, SYS_SYSCTL].map((c) => c - KERNEL_CALL),
  vmCalls: USER_PRIV_SPEC.vmCalls,
};

/** subs's privileges in test/ds/system.conf: dstest's without SAFEMAP. */
export const SUBS_PRIV: PrivSpec = {
  ...DSTEST_PRIV,
  kernelCalls: [SYS_UMAP, SYS_PRIVCTL, SYS_SETGRANT, SYS_GETINFO, SYS_SYSCTL].map((c) => c - KERNEL_CALL),
};

const PAGE = 4096;

class AssertionFailed extends Error {}

/** An assertion: the failing one ends the test program, as assert() does in C. */
type Check = (cond: boolean, what: string) => void;

function makeCheck(onPass: ((what: string) => void) | undefined): Check {
  return (cond, what) => {
    if (!cond) throw new AssertionFailed(what);
    onPass?.(what);
  };
}

async function testU32(p: Proc, check: Check): Promise<void> {
  check((await dsPublishU32(p, 'test_u32', 1234, 0)) === OK, 'publish_u32 1234');
  const a = await dsRetrieveU32(p, 'test_u32');
  check(a.result === OK && a.value === 1234, 'retrieve_u32 == 1234');
  // Give subs time to see 1234 before it changes (dstest.c sleeps 2 seconds).
  await p.sleep(2000);
  check((await dsPublishU32(p, 'test_u32', 4321, 0)) === EEXIST, 'publish_u32 without OVERWRITE == EEXIST');
  check((await dsPublishU32(p, 'test_u32', 4321, DSF_OVERWRITE)) === OK, 'publish_u32 OVERWRITE');
  const b = await dsRetrieveU32(p, 'test_u32');
  check(b.result === OK && b.value === 4321, 'retrieve_u32 == 4321');
  check((await dsDeleteU32(p, 'test_u32')) === OK, 'delete_u32');
  check((await dsRetrieveU32(p, 'test_u32')).result === ESRCH, 'retrieve_u32 after delete == ESRCH');
}

async function testStr(p: Proc, check: Check): Promise<void> {
  check((await dsPublishStr(p, 'test_str', 'little', 0)) === OK, 'publish_str');
  const s = await dsRetrieveStr(p, 'test_str');
  check(s.result === OK && s.value === 'little', 'retrieve_str == "little"');
  check((await dsDeleteStr(p, 'test_str')) === OK, 'delete_str');
  check((await dsPublishStr(p, 'test_str', 'verylooooooongstring', 0)) === EINVAL, 'publish_str of 20 chars == EINVAL');
}

async function testMem(p: Proc, check: Check, buf: number): Promise<void> {
  const s1 = 'ok, this is a string';
  const s2 = 'ok, this is a very looooong string';
  const len1 = await p.writeString(buf, s1);
  check((await dsPublishMem(p, 'test_mem', buf, len1, 0)) === OK, 'publish_mem');
  const out = buf + 1024;
  let r = await dsRetrieveMem(p, 'test_mem', out, 100);
  check(r.result === OK && (await p.readString(out, 100)) === s1, 'retrieve_mem equal');
  check(r.len === len1, 'retrieve_mem len == 21');
  r = await dsRetrieveMem(p, 'test_mem', out, 8);
  check(r.result === OK && r.len === 8, 'retrieve_mem of 8 bytes');
  const len2 = await p.writeString(buf, s2);
  check((await dsPublishMem(p, 'test_mem', buf, len2, DSF_OVERWRITE)) === OK, 'publish_mem OVERWRITE');
  r = await dsRetrieveMem(p, 'test_mem', out, 100);
  check(r.result === OK && (await p.readString(out, 100)) === s2, 'retrieve_mem equal after overwrite');
  check(r.len === len2, 'retrieve_mem len == 35');
  check((await dsDeleteMem(p, 'test_mem')) === OK, 'delete_mem');
}

async function testMap(p: Proc, check: Check, buf: number, buf2: number, getBuf: number): Promise<void> {
  await p.writeU32(buf, 1);
  check((await dsPublishMap(p, 'test_map', buf, PAGE, 0)) === OK, 'publish_map');
  const snap = await dsSnapshotMap(p, 'test_map');
  check(snap.result === OK && snap.nr === 0, 'snapshot_map == 0');
  await p.writeU32(buf, 2);
  let r = await dsRetrieveMap(p, 'test_map', getBuf, PAGE, 0, DSMF_COPY_MAPPED);
  check(r.result === OK && r.len === PAGE && (await p.readU32(getBuf)) === 2, 'COPY_MAPPED sees 2 (live)');
  r = await dsRetrieveMap(p, 'test_map', getBuf, PAGE, snap.nr, DSMF_COPY_SNAPSHOT);
  check(r.result === OK && r.len === PAGE && (await p.readU32(getBuf)) === 1, 'COPY_SNAPSHOT sees 1 (frozen)');
  r = await dsRetrieveMap(p, 'test_map', buf2, PAGE, 0, DSMF_MAP_MAPPED);
  check(r.result === OK && r.len === PAGE, 'MAP_MAPPED');
  await p.writeU32(buf, 3);
  check((await p.readU32(buf2)) === 3, 'MAP_MAPPED view sees 3 (publisher → DS → retriever)');
  check((await dsDeleteMap(p, 'test_map')) === OK, 'delete_map');
}

async function testLabel(p: Proc, check: Check, rsOnly: boolean): Promise<void> {
  const first = await dsPublishLabel(p, 'test_label', 1234, 0);
  if (rsOnly) {
    check(first === EPERM, 'publish_label by a non-RS process == EPERM (rs-only)');
    return;
  }
  check(first === OK, 'publish_label');
  const n = await dsRetrieveLabelNum(p, 'test_label');
  check(n.result === OK && n.endpoint === 1234, 'retrieve_label_num == 1234');
  check((await dsPublishLabel(p, 'hello', 1234, 0)) === EEXIST, 'publish_label of a labelled endpoint == EEXIST');
  const name = await dsRetrieveLabelName(p, 1234);
  check(name.result === OK && name.name === 'test_label', 'retrieve_label_name == "test_label"');
  check((await dsDeleteLabel(p, 'test_label')) === OK, 'delete_label');
}

/** dstest: the five sequences in order; exit 0 when all pass, 1 at the first failed assertion. */
export function dstest(out: DsTestOutput, options: { rsOnly?: boolean; onPass?: (what: string) => void } = {}): Program {
  return withStaticData({ line: out, check: () => undefined }, 4, async (p) => {
    const check = makeCheck(options.onPass);
    const base = staticBuffer(p, 4);
    try {
      await testU32(p, check);
      out('DSTEST: U32 test successful!');
      await testStr(p, check);
      out('DSTEST: STRING test successful!');
      await testMem(p, check, base);
      out('DSTEST: MEM test successful!');
      await testMap(p, check, base + PAGE, base + 2 * PAGE, base + 3 * PAGE);
      out('DSTEST: MAP test successful!');
      await testLabel(p, check, options.rsOnly === true);
      out('DSTEST: LABEL test successful!');
    } catch (err) {
      if (!(err instanceof AssertionFailed)) throw err;
      out(`DSTEST: assertion failed: ${err.message}`);
      return 1;
    }
    return 0;
  });
}

/**
 * subs: subscribe to test_u32 (DSF_INITIAL, OK or EEXIST), then for each notification from DS check and report.
 * With `drain`, ds_check is looped to ENOENT on every notification (coalesced notifications lose nothing);
 * a deletion is reported when the first check of a notification finds nothing.
 */
export function subs(out: DsTestOutput, options: { drain?: boolean } = {}): Program {
  return async (p) => {
    const r = await dsSubscribe(p, 'test_u32', DSF_INITIAL);
    if (r !== OK && r !== EEXIST) {
      out(`SUBSCRIBER: error in ds_subscribe: ${r}`);
      return 1;
    }
    let key = '';
    for (;;) {
      const m = await p.receive();
      if (m.source !== DS_PROC_NR) continue;
      for (let first = true; ; first = false) {
        const c = await dsCheck(p);
        if (c.result === ENOENT) {
          if (first) out(`SUBSCRIBER: the key ${key} was deleted.`);
          break;
        }
        if (c.result !== OK) {
          out('SUBSCRIBER: error in ds_check.');
          break;
        }
        key = c.key;
        out(`SUBSCRIBER: key: ${key}, ${await describe(p, key, c.type)}`);
        if (options.drain !== true) break;
      }
    }
  };
}

async function describe(p: Proc, key: string, type: number): Promise<string> {
  switch (type) {
    case DSF_TYPE_U32: {
      const v = await dsRetrieveU32(p, key);
      return v.result === OK ? `U32: ${v.value}` : 'error in ds_retrieve_u32.';
    }
    case DSF_TYPE_STR: {
      const s = await dsRetrieveStr(p, key);
      return s.result === OK ? `STR: ${s.value}` : 'error in ds_retrieve_str.';
    }
    case DSF_TYPE_MEM:
      return 'MEM';
    default:
      return `type ${type}`;
  }
}
