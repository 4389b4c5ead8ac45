// The reference test/safecopy services (spec/grants.md §7): the grantor grants its 8-page buffer READ|WRITE to
// the requestor, which copies 1, 2, 4, ... 32768 bytes from it with sys_safecopyfrom, timing each copy and
// checking buf[0] = BUF_START. Entry points: safecopyGrantor, safecopyRequestor.
// Added after the reference sequence (checklist 35, 53): the granter overwrites its buffer and the requestor's
// copy must not change; the requestor overwrites its copy and the granter's buffer must not change.
// DIVERGES: the grantor fills the whole buffer with a pattern (buf[0] = 100) so that every copied byte can be
// checked; the requestor clears the destination before each copy, outside the timed interval.
import { CPF_READ, CPF_WRITE } from '../include/safecopies.ts';
import { OK, errnoName } from '../include/errno.ts';
import type { Program } from '../libsys/proc.ts';
import {
  PAGE,
  TestFailed,
  fifoNotify,
  fifoWait,
  formatElapsed,
  staticBuffer,
  withStaticData,
  peerByLabel,
  receiveEndpoint,
  receiveGrant,
  runTest,
  sameBytes,
  sendEndpoint,
  sendGrant,
} from './safetest.ts';
import type { ElapsedClock, TestReport } from './safetest.ts';

const TEST_PAGE_SHIFT = 15;
const BUF_SIZE = 8 * PAGE;
const BUF_START = 100;
/** What the granter writes over its buffer once the copies are done. */
const GRANTER_LATER = 0xee;
const REQUESTOR_LATER = 0x5a;

/** The grantor's buffer: BUF_START at byte 0, a position-dependent pattern elsewhere. */
export function safecopyPattern(): Uint8Array {
  const b = Uint8Array.from({ length: BUF_SIZE }, (_, i) => (i * 7 + 3 + (i >>> 12)) & 0xff);
  b[0] = BUF_START;
  return b;
}

export function safecopyGrantor(r: TestReport): Program {
  return withStaticData(r, BUF_SIZE / PAGE, (p) =>
    runTest(r, async () => {
      const buf = staticBuffer(p, BUF_SIZE / PAGE);
      await p.write(buf, safecopyPattern());
      const requestor = await receiveEndpoint(p);
      const g = await p.cpf.grantDirect(requestor, buf, BUF_SIZE, CPF_READ | CPF_WRITE);
      if (g.id < 0) throw new TestFailed(`GRANTOR: cpf_grant_direct failed: ${errnoName(g.errno)}`);
      await sendGrant(p, requestor, [g.id]);
      await fifoWait(p, requestor);
      // Added: later writes by either side stay on that side.
      await p.write(buf, new Uint8Array(BUF_SIZE).fill(GRANTER_LATER));
      await fifoNotify(p, requestor);
      await fifoWait(p, requestor);
      const mine = await p.read(buf, BUF_SIZE);
      r.check(
        "GRANTOR: the requestor's writes to its copy do not reach the granter",
        mine.every((x) => x === GRANTER_LATER),
      );
    }),
  );
}

export function safecopyRequestor(r: TestReport, clock: ElapsedClock, grantorLabel = 'grantor'): Program {
  return withStaticData(r, BUF_SIZE / PAGE, (p) =>
    runTest(r, async () => {
      const buf = staticBuffer(p, BUF_SIZE / PAGE);
      const grantor = await peerByLabel(p, grantorLabel);
      await sendEndpoint(p, grantor);
      const { granter, gids } = await receiveGrant(p, grantor);
      const gid = gids[0] ?? -1;
      const expected = safecopyPattern();
      for (let i = 0; i <= TEST_PAGE_SHIFT; i++) {
        const size = 1 << i;
        await p.write(buf, new Uint8Array(size));
        const t0 = clock.now();
        const res = await p.sys.safecopyFrom(granter, gid, 0, buf, size);
        const t1 = clock.now();
        const name = `REQUESTOR: SAFECOPY 0x${size.toString(16)}`;
        if (res !== OK) {
          r.line(`REQUESTOR: error in safecopy: ${errnoName(res)}`);
          r.check(name, false, errnoName(res));
          break;
        }
        r.line(`${name} - ${formatElapsed(clock, t1 - t0)}`);
        const got = await p.read(buf, size);
        r.check(
          `${name}: OK, buf[0] = ${BUF_START}`,
          got[0] === BUF_START,
          got[0] === BUF_START ? '' : `buf[0] = ${got[0] ?? -1}`,
        );
        r.check(`${name}: every byte copied`, sameBytes(got, expected.subarray(0, size)));
      }
      await fifoNotify(p, granter);
      await fifoWait(p, granter);
      const copy = await p.read(buf, BUF_SIZE);
      r.check("REQUESTOR: the granter's later writes do not show in the copy", sameBytes(copy, expected));
      await p.write(buf, new Uint8Array(BUF_SIZE).fill(REQUESTOR_LATER));
      await fifoNotify(p, granter);
    }),
  );
}
