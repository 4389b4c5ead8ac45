// The reference test/safemap services (spec/grants.md §7): the grantor grants its 4-page buffer
// READ|WRITE|MAP; grantor and requestor then walk through MAP, UNMAP, REVOKE, SMAP_COW, COW_SMAP and COW_SMAP2,
// each side checking buf[0] with CHECK_TEST. Entry points: safemapGrantor, safemapRequestor, and the added
// cases safemapExtraGrantor, safemapExtraRequestor (checklist 39–41, 43, 46, 48).
// The extra pair: missing CPF_MAP / CPF_WRITE → EPERM; unaligned address, offset or size → EINVAL; 20 mappings
// fill the kernel's table and the 21st → EBUSY; cpf_revoke breaks the mapping and leaves a snapshot; a
// read-only mapping shows the owner's writes; then, roles reversed, the requestor grants a page the grantor
// maps, writes it, and dies by SIGSEGV writing its read-only mapping: the grantor keeps the last contents.
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../include/safecopies.ts';
import { EBUSY, EINVAL, EPERM, OK, errnoName } from '../include/errno.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import {
  PAGE,
  TestFailed,
  checkTest,
  fifoNotify,
  fifoWait,
  staticBuffer,
  withStaticData,
  mustOk,
  peerByLabel,
  receiveEndpoint,
  receiveGrant,
  releaseChild,
  runTest,
  sendEndpoint,
  sendGrant,
  waitForDeath,
} from './safetest.ts';
import type { TestReport } from './safetest.ts';

const TEST_PAGE_NUM = 4;
const BUF_SIZE = TEST_PAGE_NUM * PAGE;
const BUF_START_REQUESTOR = 10;
const BUF_START_GRANTOR = 20;
const G = 'GRANTOR';
const R = 'REQUESTOR';

async function newGrant(p: Proc, to: number, addr: number, len: number, access: number): Promise<number> {
  const g = await p.cpf.grantDirect(to, addr, len, access);
  if (g.id < 0) throw new TestFailed(`${p.name}: cpf_grant_direct failed: ${errnoName(g.errno)}`);
  return g.id;
}

/** fork a child running `body`; as the child of a system process it is held (NO_PRIV) until released. */
async function forkChild(p: Proc, body: Program, who: string): Promise<number> {
  const child = await p.fork(body, `${p.name}-child`);
  if (child < 0) throw new TestFailed(`${who}: error in fork: ${errnoName(child)}`);
  return child;
}

export function safemapGrantor(r: TestReport): Program {
  return withStaticData(r, TEST_PAGE_NUM, (p) =>
    runTest(r, async () => {
      const buf = staticBuffer(p, TEST_PAGE_NUM);
      const req = await receiveEndpoint(p);
      const gid = await newGrant(p, req, buf, BUF_SIZE, CPF_READ | CPF_WRITE | CPF_MAP);
      await sendGrant(p, req, [gid]);
      const step = async (): Promise<void> => {
        await fifoNotify(p, req);
        await fifoWait(p, req);
      };
      // MAP
      await p.writeU8(buf, BUF_START_GRANTOR);
      await step();
      checkTest(r, G, await p.readU8(buf), BUF_START_REQUESTOR, 'MAP');
      // UNMAP
      await p.writeU8(buf, BUF_START_GRANTOR);
      await step();
      checkTest(r, G, await p.readU8(buf), BUF_START_GRANTOR, 'UNMAP');
      // REVOKE
      mustOk(await p.sys.saferevmapGid(gid), G, 'sys_saferevmap_gid');
      await p.writeU8(buf, BUF_START_GRANTOR + 1);
      await step();
      checkTest(r, G, await p.readU8(buf), BUF_START_GRANTOR + 1, 'REVOKE');
      // SMAP_COW
      await step();
      await p.writeU8(buf, BUF_START_GRANTOR);
      await step();
      checkTest(r, G, await p.readU8(buf), BUF_START_GRANTOR, 'SMAP_COW');
      // COW_SMAP
      mustOk(await p.sys.saferevmapGid(gid), G, 'sys_saferevmap_gid');
      await p.writeU8(buf, BUF_START_GRANTOR + 1);
      const child = await forkChild(p, (c) => c.writeU8(buf, BUF_START_GRANTOR + 2), G);
      await step();
      await releaseChild(p, child);
      await p.wait();
      await fifoNotify(p, req);
      checkTest(r, G, await p.readU8(buf), BUF_START_GRANTOR + 1, 'COW_SMAP');
      // COW_SMAP2 (with COW safecopy)
      mustOk(await p.sys.saferevmapGid(gid), G, 'sys_saferevmap_gid');
      await step();
      checkTest(r, G, await p.readU8(buf), BUF_START_REQUESTOR, 'COW_SMAP2');
    }),
  );
}

export function safemapRequestor(r: TestReport, grantorLabel = 'grantor'): Program {
  return withStaticData(r, TEST_PAGE_NUM, (p) =>
    runTest(r, async () => {
      const buf = staticBuffer(p, TEST_PAGE_NUM);
      const grantor = await peerByLabel(p, grantorLabel);
      await sendEndpoint(p, grantor);
      const { granter, gids } = await receiveGrant(p, grantor);
      const gid = gids[0] ?? -1;
      const map = async (): Promise<void> => {
        mustOk(await p.sys.safemap(granter, gid, 0, buf, BUF_SIZE, true), R, 'sys_safemap');
      };
      // MAP
      await fifoWait(p, granter);
      await map();
      checkTest(r, R, await p.readU8(buf), BUF_START_GRANTOR, 'MAP');
      await p.writeU8(buf, BUF_START_REQUESTOR);
      mustOk(await p.sys.safeunmap(buf), R, 'sys_safeunmap');
      await fifoNotify(p, granter);
      // UNMAP
      await fifoWait(p, granter);
      checkTest(r, R, await p.readU8(buf), BUF_START_REQUESTOR, 'UNMAP');
      await map();
      await fifoNotify(p, granter);
      // REVOKE
      await fifoWait(p, granter);
      checkTest(r, R, await p.readU8(buf), BUF_START_GRANTOR, 'REVOKE');
      await p.writeU8(buf, BUF_START_REQUESTOR);
      await fifoNotify(p, granter);
      // SMAP_COW
      await fifoWait(p, granter);
      await map();
      await p.writeU8(buf, BUF_START_REQUESTOR);
      const child = await forkChild(
        p,
        async (c) => ((await c.readU8(buf)) !== BUF_START_REQUESTOR ? 1 : 0),
        R,
      );
      await fifoNotify(p, granter);
      await fifoWait(p, granter);
      await releaseChild(p, child);
      const w = await p.wait();
      await fifoNotify(p, granter);
      checkTest(r, R, await p.readU8(buf), BUF_START_GRANTOR, 'SMAP_COW');
      checkTest(r, R, w.endpoint === child && w.signal === 0 && w.code === 0 ? 1 : 0, 1, 'SMAP_COW child');
      // COW_SMAP
      await fifoWait(p, granter);
      await p.writeU8(buf, BUF_START_REQUESTOR);
      await map();
      await fifoNotify(p, granter);
      await fifoWait(p, granter);
      checkTest(r, R, await p.readU8(buf), BUF_START_GRANTOR + 1, 'COW_SMAP');
      // COW_SMAP2 (with COW safecopy)
      await fifoWait(p, granter);
      await p.writeU8(buf, BUF_START_REQUESTOR);
      mustOk(await p.sys.safecopyTo(granter, gid, 0, buf, BUF_SIZE), R, 'sys_safecopyto');
      await map();
      await fifoNotify(p, granter);
      checkTest(r, R, await p.readU8(buf), BUF_START_REQUESTOR, 'COW_SMAP2');
    }),
  );
}

// ---------------------------------------------------------------- the added cases

const expectResult = (r: TestReport, who: string, name: string, got: number, want: number): void => {
  r.check(
    `${who}: ${name}`,
    got === want,
    got === want ? errnoName(got) : `got ${errnoName(got)}, expected ${errnoName(want)}`,
  );
};

export function safemapExtraGrantor(r: TestReport): Program {
  return withStaticData(r, TEST_PAGE_NUM + 1, (p) =>
    runTest(r, async () => {
      const buf = staticBuffer(p, TEST_PAGE_NUM);
      await p.write(buf, new Uint8Array(BUF_SIZE).fill(BUF_START_GRANTOR));
      const req = await receiveEndpoint(p);
      const gMap = await newGrant(p, req, buf, BUF_SIZE, CPF_READ | CPF_WRITE | CPF_MAP);
      const gNoMap = await newGrant(p, req, buf, BUF_SIZE, CPF_READ | CPF_WRITE);
      const gRO = await newGrant(p, req, buf, BUF_SIZE, CPF_READ | CPF_MAP);
      const odd = await p.cpf.grantDirect(req, buf + 100, PAGE, CPF_READ | CPF_MAP);
      expectResult(
        r,
        G,
        'cpf_grant_direct of an unaligned CPF_MAP range → EINVAL',
        odd.id < 0 ? odd.errno : OK,
        EINVAL,
      );
      await sendGrant(p, req, [gMap, gNoMap, gRO]);
      // cpf_revoke of a mapped grant
      await fifoWait(p, req);
      checkTest(
        r,
        G,
        await p.readU8(buf),
        BUF_START_REQUESTOR,
        "WRITABLE MAP (the requestor's write reaches the granter)",
      );
      expectResult(r, G, 'cpf_revoke of the mapped grant', await p.cpf.revoke(gMap), OK);
      await p.writeU8(buf, BUF_START_GRANTOR + 1);
      await fifoNotify(p, req);
      // read-only mapping: the owner's writes show through
      await fifoWait(p, req);
      await p.writeU8(buf + PAGE, BUF_START_GRANTOR + 10);
      await fifoNotify(p, req);
      // roles reversed: the requestor owns a page this process maps, then dies
      const { granter, gids } = await receiveGrant(p, req);
      const mine = staticBuffer(p, 1);
      mustOk(await p.sys.safemap(granter, gids[0] ?? -1, 0, mine, PAGE, true), G, 'sys_safemap');
      await fifoNotify(p, req);
      await fifoWait(p, req);
      checkTest(r, G, await p.readU8(mine), 77, 'OWNER WRITE (shared page)');
      r.check(`${G}: the owner died`, await waitForDeath(p, req));
      checkTest(r, G, await p.readU8(mine), 77, 'OWNER EXIT (the grantee keeps the last contents)');
      await p.writeU8(mine, 78);
      checkTest(r, G, await p.readU8(mine), 78, 'OWNER EXIT (the grantee may write them)');
      expectResult(r, G, 'safeunmap after the owner exited', await p.sys.safeunmap(mine), OK);
      expectResult(r, G, 'saferevmap_gid of a grant whose grantee died', await p.sys.saferevmapGid(gRO), OK);
    }),
  );
}

export function safemapExtraRequestor(r: TestReport, grantorLabel = 'xgrantor'): Program {
  return withStaticData(r, TEST_PAGE_NUM + 1 + 21 + 1, (p) =>
    runTest(r, async () => {
      const a = staticBuffer(p, TEST_PAGE_NUM);
      const ro = staticBuffer(p, 1);
      const many = staticBuffer(p, 21);
      const own = staticBuffer(p, 1);
      const grantor = await peerByLabel(p, grantorLabel);
      await sendEndpoint(p, grantor);
      const { granter, gids } = await receiveGrant(p, grantor);
      const [gMap = -1, gNoMap = -1, gRO = -1] = gids;
      const sm = (gid: number, off: number, addr: number, bytes: number, w: boolean): Promise<number> =>
        p.sys.safemap(granter, gid, off, addr, bytes, w);
      expectResult(
        r,
        R,
        'safemap of a grant without CPF_MAP → EPERM',
        await sm(gNoMap, 0, a, PAGE, false),
        EPERM,
      );
      expectResult(
        r,
        R,
        'writable safemap of a grant without CPF_WRITE → EPERM',
        await sm(gRO, 0, a, PAGE, true),
        EPERM,
      );
      expectResult(
        r,
        R,
        'safemap at an unaligned address → EINVAL',
        await sm(gMap, 0, a + 100, PAGE, true),
        EINVAL,
      );
      expectResult(
        r,
        R,
        'safemap at an unaligned grant offset → EINVAL',
        await sm(gMap, 100, a, PAGE, true),
        EINVAL,
      );
      expectResult(r, R, 'safemap of 4097 bytes → EINVAL', await sm(gMap, 0, a, PAGE + 1, true), EINVAL);
      await fillTable(
        p,
        r,
        (i) => sm(gMap, (i % TEST_PAGE_NUM) * PAGE, many + i * PAGE, PAGE, true),
        (i) => p.sys.safeunmap(many + i * PAGE),
      );
      // cpf_revoke of a mapped grant leaves a snapshot
      mustOk(await sm(gMap, 0, a, BUF_SIZE, true), R, 'sys_safemap');
      await p.writeU8(a, BUF_START_REQUESTOR);
      await fifoNotify(p, granter);
      await fifoWait(p, granter);
      checkTest(r, R, await p.readU8(a), BUF_START_REQUESTOR, 'REVOKED MAP (the grantee keeps its snapshot)');
      expectResult(
        r,
        R,
        'safemap with the revoked grant → EPERM',
        await sm(gMap, 0, a, BUF_SIZE, true),
        EPERM,
      );
      expectResult(r, R, 'safeunmap after the revoke (no record left)', await p.sys.safeunmap(a), OK);
      // read-only mapping
      mustOk(await sm(gRO, PAGE, ro, PAGE, false), R, 'sys_safemap read-only');
      await fifoNotify(p, granter);
      await fifoWait(p, granter);
      checkTest(r, R, await p.readU8(ro), BUF_START_GRANTOR + 10, "READ-ONLY MAP (the owner's write shows)");
      // roles reversed: grant a page of ours, write it, then die writing the read-only mapping
      await sendGrant(p, granter, [await newGrant(p, granter, own, PAGE, CPF_READ | CPF_WRITE | CPF_MAP)]);
      await fifoWait(p, granter);
      await p.writeU8(own, 77);
      await fifoNotify(p, granter);
      r.line(`${R}: writing to the read-only mapping (SIGSEGV expected)`);
      await p.writeU8(ro, 1);
      r.check(`${R}: a write to a read-only mapping faults`, false, 'the write went through');
    }),
  );
}

/** The kernel's 20 mapping records: 20 mappings succeed, the 21st → EBUSY; then all are undone. */
async function fillTable(
  p: Proc,
  r: TestReport,
  map: (i: number) => Promise<number>,
  unmap: (i: number) => Promise<number>,
): Promise<void> {
  const results: number[] = [];
  for (let i = 0; i < 20; i++) results.push(await map(i));
  r.check(
    `${R}: 20 mappings → OK`,
    results.every((x) => x === OK),
    results.map(errnoName).join(' '),
  );
  expectResult(r, R, 'the 21st mapping → EBUSY', await map(20), EBUSY);
  const undone: number[] = [];
  for (let i = 0; i < 20; i++) undone.push(await unmap(i));
  r.check(
    `${R}: safeunmap of the 20 → OK`,
    undone.every((x) => x === OK),
    undone.map(errnoName).join(' '),
  );
  expectResult(r, R, 'a mapping after the table emptied → OK', await map(0), OK);
  mustOk(await unmap(0), p.name, 'sys_safeunmap');
}
