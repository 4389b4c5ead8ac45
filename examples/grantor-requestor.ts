// A user-written scenario: run it with
//
//   npx grantvm run examples/grantor-requestor.ts          (add -v to list every check, --seed N to vary it)
//
// Two system services, started through RS as MINIX's test services are: a *grantor* fills a 2-page buffer
// and grants it READ-only to a *requestor*, which copies it into its own memory with sys_safecopyfrom. The
// requestor checks every byte, checks that the read-only grant refuses a write (sys_safecopyto → EPERM), and,
// once the grantor has revoked the grant, that the same copy is refused (EINVAL).
//
// A scenario file exports `scenario` (or an array `scenarios`): a name, a title, an optional config (the
// command line's --seed, --memory ... apply on top) and run(sys, out, host), which drives a freshly booted
// system and reports through out.check(name, ok, detail) and out.line(text). A process is an async function
// of its Proc `p`: p.cpf is its grant library (cpf_grant_direct, cpf_revoke ...), p.sys its grant kernel
// calls (sys_safecopyfrom ...), and its return value is its exit status.
// In a project that installed grantvm, import from 'grantvm' instead of '../src/index.ts'.
import { CPF_READ, EINVAL, EPERM, MAP_ANON, MAP_PRIVATE, OK, errnoName, peerByLabel, startTestService, vmMmap } from '../src/index.ts';
import type { Proc, Program, Scenario, ScenarioOutput, System } from '../src/index.ts';

const PAGE = 4096;
const BUF_BYTES = 2 * PAGE;

/** The messages of this example's handshake (private message types). */
const HELLO = 0x7f00; // requestor → grantor: { endpoint }
const GRANTED = 0x7f01; // grantor → requestor: { gid }
const DONE = 0x7f02; // requestor → grantor: revoke it now
const REVOKED = 0x7f03; // grantor → requestor: it is revoked

/** The grantor's buffer: a pattern that depends on the position, so that a misplaced byte shows. */
function pattern(): Uint8Array {
  return Uint8Array.from({ length: BUF_BYTES }, (_, i) => (i * 31 + 7) & 0xff);
}

/** `bytes` of fresh, page-aligned, private memory (mmap), or an exception naming the error. */
async function buffer(p: Proc, bytes: number): Promise<number> {
  const addr = await vmMmap(p, 0, bytes, MAP_ANON | MAP_PRIVATE);
  if (addr < 0) throw new Error(`${p.name}: mmap failed: ${errnoName(addr)}`);
  return addr;
}

function grantor(out: ScenarioOutput): Program {
  return async (p) => {
    const buf = await buffer(p, BUF_BYTES);
    await p.write(buf, pattern());
    // Wait for the requestor to introduce itself, then grant it read access to the whole buffer.
    const hello = await p.receive();
    const requestor = hello.endpoint;
    if (hello.type !== HELLO || typeof requestor !== 'number') return 1;
    const g = await p.cpf.grantDirect(requestor, buf, BUF_BYTES, CPF_READ);
    if (!out.check('grantor: cpf_grant_direct (READ) to the requestor', g.errno === OK, errnoName(g.errno))) return 1;
    if ((await p.send(requestor, { type: GRANTED, gid: g.id })) !== OK) return 1;
    // The requestor is done with it: revoke the grant and say so.
    const done = await p.receive(requestor);
    if (done.type !== DONE) return 1;
    out.expectResult('grantor: cpf_revoke', await p.cpf.revoke(g.id), OK);
    return (await p.send(requestor, { type: REVOKED })) === OK ? 0 : 1;
  };
}

function requestor(out: ScenarioOutput): Program {
  return async (p) => {
    const buf = await buffer(p, BUF_BYTES);
    const granter = await peerByLabel(p, 'grantor'); // RS published the grantor's label in DS
    if ((await p.send(granter, { type: HELLO, endpoint: p.endpoint })) !== OK) return 1;
    const m = await p.receive(granter);
    const gid = m.gid;
    if (m.type !== GRANTED || typeof gid !== 'number') return 1;

    out.expectResult('requestor: sys_safecopyfrom of the whole buffer', await p.sys.safecopyFrom(granter, gid, 0, buf, BUF_BYTES), OK);
    const copy = await p.read(buf, BUF_BYTES);
    const expected = pattern();
    const wrong = copy.findIndex((b, i) => b !== expected[i]);
    out.check('requestor: every byte arrived', wrong < 0, wrong < 0 ? `${BUF_BYTES} bytes` : `first difference at byte ${wrong}`);

    out.expectResult('requestor: sys_safecopyfrom at an offset (the second page)', await p.sys.safecopyFrom(granter, gid, PAGE, buf, 16), OK);
    out.check('requestor: the offset copy starts at byte 4096', (await p.readU8(buf)) === expected[PAGE]);

    out.expectResult('requestor: sys_safecopyto into a read-only grant is refused', await p.sys.safecopyTo(granter, gid, 0, buf, 16), EPERM);
    out.expectResult('requestor: a copy past the end of the grant is refused', await p.sys.safecopyFrom(granter, gid, PAGE, buf, BUF_BYTES), EPERM);

    if ((await p.send(granter, { type: DONE })) !== OK) return 1;
    if ((await p.receive(granter)).type !== REVOKED) return 1;
    // A revoked grant is no longer valid at all: EINVAL, not EPERM.
    out.expectResult('requestor: sys_safecopyfrom after cpf_revoke is refused', await p.sys.safecopyFrom(granter, gid, 0, buf, 16), EINVAL);
    return 0;
  };
}

/** The service's exit as RS saw it: status 0 and no signal. */
function exitedCleanly(sys: System, out: ScenarioOutput, label: string): void {
  const d = sys.rs.services.get(label)?.deaths[0] ?? null;
  out.check(`${label} exited with status 0`, d !== null && d.code === 0 && d.signal === 0, d === null ? 'still running' : JSON.stringify(d));
}

export const scenario: Scenario = {
  name: 'grantor-requestor',
  title: 'a grantor service grants a buffer READ-only; a requestor service safecopies it',
  config: { sanity: 'functions' },
  async run(sys, out) {
    const g = await startTestService(sys, 'grantor', grantor(out));
    const r = await startTestService(sys, 'requestor', requestor(out));
    out.line(`grantor at endpoint ${g}, requestor at endpoint ${r}`);
    await sys.run();
    exitedCleanly(sys, out, 'grantor');
    exitedCleanly(sys, out, 'requestor');
    sys.sanityCheck();
    out.check('VM, grant and DS sanity checks pass', true);
  },
};
