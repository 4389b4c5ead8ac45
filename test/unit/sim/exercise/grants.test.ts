// The grants topic: seeds 1–100 make valid, distinct problems, and every answer equals verify_grant done by hand
// over the printed tables (USED and VALID, the id's seq, the grantee or ANY, indirect hops, rights and range of the
// last entry, magic only from VFS) and a copy from the printed bytes (safecopyto writes 0xee bytes into them).
import { describe, expect } from 'vitest';
import { FILL, grantsExercise } from '../../../../src/sim/exercise/grants.ts';
import type { CopyCall, GrantActor, GrantsGivens } from '../../../../src/sim/exercise/grants.ts';
import { sweepTests } from '../../../helpers/exercise.ts';

const [READ, WRITE, USED, INDIRECT, MAGIC, VALID] = [0x1, 0x2, 0x100, 0x400, 0x800, 0x1000];

/** The [start, len] a call may touch, or the errno. */
function verify(g: GrantsGivens, c: CopyCall): [number, number] | string {
  let granter: string = c.granter;
  let grantee: string = c.who;
  let id = c.gid;
  for (let depth = 0; ; depth++) {
    const row = g.tables[granter as GrantActor].find((r) => r.slot === (id & 0xfffff));
    if (row === undefined || (row.flags & USED) === 0 || (row.flags & VALID) === 0 || row.seq !== id >>> 20)
      return 'EPERM';
    if ((row.flags & INDIRECT) === 0) {
      const access = c.dir === 'from' ? READ : WRITE;
      if ((row.flags & access) !== access || (row.flags & MAGIC) !== 0) return 'EPERM';
      if (row.to !== grantee && row.to !== 'ANY') return 'EPERM';
      if (c.offset + c.bytes > (row.len ?? 0)) return 'EPERM';
      return [(row.start ?? 0) + c.offset, c.bytes];
    }
    if (depth === 5) return 'ELOOP';
    if (row.to !== grantee && row.to !== 'ANY') return 'EPERM';
    grantee = granter;
    granter = row.from ?? '';
    id = row.grant ?? -1;
  }
}

function solve(g: GrantsGivens): Record<string, string> {
  const data = [...g.data];
  const out: Record<string, string> = {};
  g.calls.forEach((c, i) => {
    const v = verify(g, c);
    if (typeof v === 'string') out[String(i + 1)] = v;
    else if (c.dir === 'to') {
      data.fill(FILL, v[0], v[0] + v[1]);
      out[String(i + 1)] = 'OK';
    } else
      out[String(i + 1)] = data
        .slice(v[0], v[0] + v[1])
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(' ');
  });
  return out;
}

describe('exercise grants', () => {
  sweepTests(
    grantsExercise,
    solve,
    [
      [1, 100],
      [2, 25],
    ],
    (values) => {
      expect(values).toContain('EPERM');
      expect([...values].some((v) => /^[0-9a-f]{2}( [0-9a-f]{2})+$/.test(v))).toBe(true);
    },
  );
});
