// DS MAP entries in the model tester (spec/ds.md §4–6): ds_publish_map shares window pages with DS read-only and
// live, ds_snapshot_map freezes them in a ring of 5, COPY_MAPPED returns the live bytes and COPY_SNAPSHOT n the
// frozen ones (numbers outside [max(0, sindex − 4), sindex] → EINVAL), ds_delete_map ends the share; DS's window
// bytes are compared after every command, so a live share that froze, or a frozen one that did not, is seen.
import { describe, expect, it } from 'vitest';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';

const P = 4096;
const code = (o: string): string => o.split(' ')[0] ?? '';
/** An observation without the window hash at its end. */
const seen = (o: string): string => o.slice(0, o.lastIndexOf(' '));

describe('model tester: DS MAP entries and snapshots', () => {
  it('follows the dstest MAP sequence, the ring of 5 and the codes of spec/ds.md', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 2 * P, len: 4, byte: 1 },
      { k: 'mpublish', a: 0, key: 1, page: 2, pages: 2, flags: 0 },
      { k: 'msnapshot', a: 1, key: 1 }, // anyone may snapshot without PRIV_SNAPSHOT: n = 0
      { k: 'write', a: 0, pos: 2 * P, len: 4, byte: 2 },
      { k: 'mretrieve', a: 2, key: 1 }, // live: 2s
      { k: 'mretrieve', a: 2, key: 1, n: 0 }, // frozen: 1s
      { k: 'mretrieve', a: 2, key: 1, n: 1 }, // no snapshot 1 yet → EINVAL
      { k: 'mpublish', a: 1, key: 1, page: 0, pages: 1, flags: 0 }, // the key holds a MAP entry → EEXIST
      { k: 'mpublish', a: 1, key: 2, page: 0, pages: 1, flags: 0x1000 }, // MAP with OVERWRITE → EINVAL
      { k: 'msnapshot', a: 0, key: 1 },
      { k: 'msnapshot', a: 0, key: 1 },
      { k: 'msnapshot', a: 0, key: 1 },
      { k: 'msnapshot', a: 0, key: 1 },
      { k: 'write', a: 0, pos: 3 * P, len: P, byte: 3 },
      { k: 'msnapshot', a: 0, key: 1 }, // n = 5: number 0 leaves the ring
      { k: 'mretrieve', a: 1, key: 1, n: 0 },
      { k: 'mretrieve', a: 1, key: 1, n: 1 },
      { k: 'mretrieve', a: 1, key: 1, n: 5 },
      { k: 'mdelete', a: 1, key: 1 }, // not the owner → EPERM
      { k: 'mpublish', a: 2, key: 0, page: 7, pages: 1, flags: 0x006 }, // PRIV_RETRIEVE | PRIV_SNAPSHOT
      { k: 'msnapshot', a: 0, key: 0 }, // EPERM
      { k: 'mretrieve', a: 0, key: 0 }, // EPERM
      { k: 'crash', a: 0 }, // the share ends: DS keeps its last view
      { k: 'mretrieve', a: 1, key: 1 },
      { k: 'mdelete', a: 0, key: 1 }, // the new instance owns the entry
      { k: 'mretrieve', a: 1, key: 1 }, // → ESRCH
      { k: 'grant', a: 0, to: 1, page: 0, pages: 1, access: 7 }, // the library's grants took slots as the oracle says
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    const obs = r.observations.map(seen);
    expect(obs.map(code)).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":0}',
      '{"result":0}',
      expect.stringContaining('"result":0') as string,
      expect.stringContaining('"result":0') as string,
      '{"result":-22}',
      '{"result":-17}',
      '{"result":-22}',
      '{"result":0,"value":1}',
      '{"result":0,"value":2}',
      '{"result":0,"value":3}',
      '{"result":0,"value":4}',
      '{"result":0}',
      '{"result":0,"value":5}',
      '{"result":-22}',
      expect.stringContaining('"result":0') as string,
      expect.stringContaining('"result":0') as string,
      '{"result":-1}',
      '{"result":0}',
      '{"result":-1}',
      '{"result":-1}',
      '{"result":0}',
      expect.stringContaining('"result":0') as string,
      '{"result":0}',
      '{"result":-3}',
      '{"result":0}',
    ]);
    expect(obs[4]).toBe('{"result":0,"value":"2*4 0*8188"}');
    expect(obs[5]).toBe('{"result":0,"value":"1*4 0*8188"}');
    expect(obs[16]).toBe('{"result":0,"value":"2*4 0*8188"}');
    expect(obs[17]).toBe('{"result":0,"value":"2*4 0*4092 3*4096"}');
    expect(obs[23]).toBe('{"result":0,"value":"2*4 0*4092 3*4096"}');
  });

  it('MAP_MAPPED: a live read-only view publisher → DS → retriever, frozen by delete_map', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 8, byte: 1 },
      { k: 'mpublish', a: 0, key: 2, page: 0, pages: 1, flags: 0 },
      { k: 'mretrieve', a: 1, key: 2, page: 6 }, // one page: the entry's length, not the two the caller offers
      { k: 'write', a: 0, pos: 0, len: 8, byte: 3 }, // shows at fz1's page 6 (dstest: *buf2 = 3)
      { k: 'write', a: 1, pos: 6 * P, len: 1, byte: 9 }, // read-only view → SIGSEGV, fz1 restarts
      { k: 'mretrieve', a: 1, key: 2, page: 7 },
      { k: 'mdelete', a: 0, key: 2 }, // fz1 keeps a frozen copy
      { k: 'write', a: 0, pos: 0, len: 8, byte: 4 }, // reaches nobody
      { k: 'write', a: 1, pos: 7 * P, len: 1, byte: 5 }, // fz1's own page again
      { k: 'mretrieve', a: 2, key: 2, page: 0 }, // → ESRCH
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map(seen)).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":1}',
      '{"result":0}',
      '{"result":"killed"}',
      '{"result":0,"value":1}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-3}',
    ]);
  });

  it('reports a DS window that stopped following the publisher behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'write', a: 1, pos: 0, len: 8, byte: 4 },
      { k: 'mpublish', a: 1, key: 0, page: 0, pages: 1, flags: 0 },
      { k: 'write', a: 1, pos: 2, len: 1, byte: 9 },
    ];
    // The publisher takes its page back from DS, which keeps a frozen copy.
    const r = await runTampered(commands, { after: 1, actor: 1 }, (a1) =>
      a1.do((p) => p.sys.saferevmapAddr(a1.buf)),
    );
    expect(r.violation?.index).toBe(2);
    expect(r.violation?.message).toContain('"bytes":"4*8 0*4088"');
    expect(r.violation?.message).toContain('the oracle says');
    expect(r.violation?.message).toContain('"bytes":"4*2 9*1 4*5 0*4088"');
  });
});
