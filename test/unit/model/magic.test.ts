// VFS as the fuzzer's actor (src/sim/model: vmagic, vrevoke, vrevmap, vcrash): magic grants over an actor's window
// that work, their uses in both directions, and the memory owner's death (EDEADSRCDST for safecopy, vsafecopy and
// safemap, no mapping record kept). The oracle's predictions are checked against the system on crafted sequences,
// on the oracle alone, and a record the kernel keeps behind the oracle's back is reported.
import { describe, expect, it } from 'vitest';
import { VFS_PROC_NR } from '../../../src/include/endpoint.ts';
import { mapRecordTable } from '../../../src/kernel/system/do_safemap.ts';
import { generateCommands } from '../../../src/sim/model/commands.ts';
import type { Command, SingleCommand } from '../../../src/sim/model/commands.ts';
import { ACTOR_HEAP, runModel } from '../../../src/sim/model/executor.ts';
import { EDEADSRCDST, EINVAL, Oracle, VFS_ACTOR } from '../../../src/sim/model/oracle.ts';
import { outcomes } from './observations.ts';
import { runTampered } from './tamper.ts';

const PAGE = 4096;
const RW_MAP = 7;

describe('VFS acts for the fuzzer: generation', () => {
  it('draws VFS grants, their revokes and revmaps, crashes of their owners, and vsafecopy elements onto read-only pages', () => {
    const drawn: SingleCommand[] = Array.from({ length: 30 }, (_, seed) => generateCommands(seed + 1, 40))
      .flat()
      .flatMap((c) => (c.k === 'pair' ? [c.first, c.second] : [c]));
    for (const k of ['vmagic', 'vrevoke', 'vrevmap', 'vcrash'])
      expect(drawn.filter((c) => c.k === k).length).toBeGreaterThan(5);
    expect(drawn.some((c) => c.k === 'vmagic' && c.to !== c.a && (c.access & 4) !== 0)).toBe(true);
    expect(drawn.some((c) => c.k === 'vcopy' && c.items.some((x) => x.ro === true))).toBe(true);
  });
});

describe('VFS acts for the fuzzer: the oracle agrees with the system', () => {
  it('magic grants copy and map who_from’s memory; after who_from dies: EDEADSRCDST and no record', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 2 * PAGE, byte: 7 },
      { k: 'vmagic', a: 0, to: 1, page: 0, pages: 2, access: RW_MAP }, // VFS's grant 0: fz0's pages 0-1 to fz1
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 1, pos: 1, len: 100 }, // fz1 reads fz0's bytes
      { k: 'write', a: 1, pos: 5 * PAGE, len: 8, byte: 9 },
      { k: 'copy', a: 1, dir: 'to', g: 0, gOff: PAGE, pos: 5 * PAGE, len: 8 }, // fz1 writes fz0's page 1
      {
        k: 'vcopy',
        a: 1,
        items: [
          { dir: 'from', g: 0, gOff: 0, pos: 2 * PAGE, len: PAGE },
          { dir: 'from', g: 0, gOff: PAGE, pos: 6 * PAGE, len: 200 },
        ],
      },
      { k: 'map', a: 1, g: 0, gOffPages: 1, page: 3, pages: 1, writable: false }, // a live view of fz0's page 1
      { k: 'write', a: 0, pos: PAGE + 50, len: 1, byte: 42 }, // seen through the map
      { k: 'vmagic', a: 1, to: 1, page: 0, pages: 1, access: RW_MAP }, // fz1's own memory
      { k: 'map', a: 1, g: 1, gOffPages: 0, page: 4, pages: 1, writable: false }, // owner = caller: EINVAL
      { k: 'vrevmap', a: 0, g: 0 }, // VFS's saferevmap_gid: fz1 keeps a private copy
      { k: 'map', a: 1, g: 0, gOffPages: 0, page: 3, pages: 1, writable: true },
      { k: 'vcrash', a: 2, g: 0 }, // fz0, the owner of VFS's grant 0, dies: fz1 keeps its pages, the record goes
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 100 },
      { k: 'copy', a: 1, dir: 'to', g: 0, gOff: 0, pos: 0, len: 100 },
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 0 }, // EDOM comes before the owner's death
      { k: 'vcopy', a: 1, items: [{ dir: 'from', g: 0, gOff: 0, pos: 0, len: 8 }] },
      { k: 'map', a: 1, g: 0, gOffPages: 0, page: 5, pages: 1, writable: false },
      { k: 'acopy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 8 }, // EDEADSRCDST before the area's EFAULT
      { k: 'vrevoke', a: 0, g: 0 },
      { k: 'vrevoke', a: 0, g: 0 }, // already revoked: EINVAL
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 8 }, // revoked: EPERM
    ];
    const r = await runModel(commands, { everyStep: false });
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(outcomes(r.observations)).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-22}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-105}',
      '{"result":-105}',
      '{"result":-33}',
      '{"result":-105}',
      '{"result":-105}',
      '{"result":-105}',
      '{"result":0}',
      '{"result":-22}',
      '{"result":-1}',
    ]);
    expect(r.coverage['map EDEADSRCDST']).toBe(1);
  });

  it('reports a mapping record the kernel keeps and the oracle does not', async () => {
    const commands: Command[] = [
      { k: 'vmagic', a: 0, to: 1, page: 0, pages: 1, access: RW_MAP },
      { k: 'map', a: 1, g: 0, gOffPages: 0, page: 3, pages: 1, writable: false },
      { k: 'write', a: 0, pos: 0, len: 1, byte: 3 },
    ];
    const r = await runTampered(commands, { after: 1, actor: 1 }, (_a, sys) => {
      const table = mapRecordTable(sys.kernel);
      const rec = table[0];
      if (rec === undefined) throw new Error('no record to duplicate');
      table.push({ ...rec });
    });
    expect(r.violation?.index).toBe(2);
    expect(r.violation?.message).toContain('2 safemap records, the oracle says 1');
  });
});

describe('VFS acts for the fuzzer: the oracle alone', () => {
  it('a magic grant outside VFS is refused; VFS’s is honoured until who_from dies, and a refused map keeps no record', () => {
    const o = new Oracle(3, 'generational', ACTOR_HEAP);
    const fake = o.grantMagic(2, 1, 0, 0, 1, RW_MAP);
    const real = o.grantMagic(VFS_ACTOR, 1, 0, 0, 1, RW_MAP);
    expect(real.ref.actor).toBe(VFS_ACTOR);
    expect(o.copy(1, fake.ref, { dir: 'from', g: 0, gOff: 0, pos: 0, len: 8 }).result).toBe(-1);
    expect(o.copy(1, real.ref, { dir: 'from', g: 0, gOff: 0, pos: 0, len: 8 }).result).toBe(0);
    expect(o.safemap(1, real.ref, 0, 2, 1, true).result).toBe(0);
    expect(o.recordCount()).toBe(1);
    o.crash(0);
    expect(o.recordCount()).toBe(0);
    expect(o.safemap(1, real.ref, 0, 2, 1, true).result).toBe(EDEADSRCDST);
    expect(o.copy(1, real.ref, { dir: 'to', g: 0, gOff: 0, pos: 0, len: 8 }).result).toBe(EDEADSRCDST);
    expect(o.recordCount()).toBe(0);
    // A grant over the new instance works again; the grantee mapping its own memory is EINVAL.
    const again = o.grantMagic(VFS_ACTOR, 1, 0, 0, 1, RW_MAP);
    expect(o.safemap(1, again.ref, 0, 2, 1, false).result).toBe(0);
    const own = o.grantMagic(VFS_ACTOR, 1, 1, 0, 1, RW_MAP);
    expect(o.safemap(1, own.ref, 0, 4, 1, false).result).toBe(EINVAL);
    expect(o.recordCount()).toBe(1);
    expect(VFS_PROC_NR).toBe(1);
  });
});
