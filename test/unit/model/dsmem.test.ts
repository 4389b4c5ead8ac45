// DS MEM entries in the model tester (spec/ds.md §5–6, test/ds's MEM sequence): ds_publish_mem copies window
// bytes into DS (a length of 0 → EDOM, a 0-byte safecopy), ds_retrieve_mem copies min(capacity, length) bytes back into the window
// (truncation is silent; a read-only page among them → EFAULT, nothing copied), OVERWRITE / PRIV_OVERWRITE /
// PRIV_RETRIEVE as for U32, ds_delete_mem by the owner only; DS's copy and the windows are compared after each.
import { describe, expect, it } from 'vitest';
import { dsPublishMem } from '../../../src/libsys/ds.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';

const P = 4096;
/** An observation without the window hash at its end. */
const seen = (o: string): string => o.slice(0, o.lastIndexOf(' '));

describe('model tester: DS MEM entries', () => {
  it('follows the dstest MEM sequence and the codes of spec/ds.md (round 2: zero lengths → EDOM)', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 21, byte: 7 },
      { k: 'mempublish', a: 0, key: 0, pos: 0, len: 21, flags: 0 },
      { k: 'memretrieve', a: 1, key: 0, pos: P, len: 100 }, // capacity 100: the 21 bytes
      { k: 'memretrieve', a: 2, key: 0, pos: 2 * P + 5, len: 8 }, // capacity 8: 8 bytes, OK
      { k: 'write', a: 0, pos: 0, len: 35, byte: 8 },
      { k: 'mempublish', a: 0, key: 0, pos: 0, len: 35, flags: 0 }, // → EEXIST
      { k: 'mempublish', a: 0, key: 0, pos: 0, len: 35, flags: 0x1004 }, // OVERWRITE | PRIV_OVERWRITE
      { k: 'mempublish', a: 1, key: 0, pos: 0, len: 35, flags: 0x1000 }, // not the owner → EPERM
      { k: 'memretrieve', a: 1, key: 0, pos: P, len: 100 }, // the 35 bytes over the 21
      { k: 'mempublish', a: 0, key: 1, pos: 0, len: 0, flags: 0 }, // → EDOM (a 0-byte safecopy)
      { k: 'write', a: 2, pos: 100, len: 2 * P, byte: 3 },
      { k: 'mempublish', a: 2, key: 1, pos: 100, len: 3 * P, flags: 0x002 }, // PRIV_RETRIEVE, across pages
      { k: 'memretrieve', a: 0, key: 1, pos: 0, len: 8 }, // → EPERM
      { k: 'memdelete', a: 1, key: 0 }, // not the owner → EPERM
      { k: 'memdelete', a: 0, key: 0 },
      { k: 'memretrieve', a: 1, key: 0, pos: P, len: 100 }, // → ESRCH
      { k: 'grant', a: 1, to: 2, page: 3, pages: 1, access: 7 },
      { k: 'map', a: 2, g: 0, gOffPages: 0, page: 5, pages: 1, writable: false }, // fz2's page 5 read-only
      { k: 'memretrieve', a: 2, key: 1, pos: 4 * P + 100, len: 2 * P }, // reaches page 5 → EFAULT
      { k: 'memretrieve', a: 2, key: 1, pos: 4 * P + 100, len: 0 }, // capacity 0: a 0-byte safecopy, EDOM
      { k: 'crash', a: 2 }, // the entry survives its publisher; the new instance owns it
      { k: 'memretrieve', a: 2, key: 1, pos: 4 * P + 100, len: 3 * P },
      { k: 'memdelete', a: 2, key: 1 },
      { k: 'grant', a: 0, to: 1, page: 0, pages: 1, access: 7 }, // the library's grants took slots as the oracle says
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map(seen)).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":21}',
      '{"result":0,"value":8}',
      '{"result":0}',
      '{"result":-17}',
      '{"result":0}',
      '{"result":-1}',
      '{"result":0,"value":35}',
      '{"result":-33}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-1}',
      '{"result":-1}',
      '{"result":0}',
      '{"result":-3}',
      expect.stringContaining('"result":0') as string,
      '{"result":0}',
      '{"result":-14}',
      '{"result":-33}',
      '{"result":0}',
      '{"result":0,"value":12288}',
      '{"result":0}',
      expect.stringContaining('"result":0') as string,
    ]);
  });

  it('reports a MEM value changed behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 21, byte: 7 },
      { k: 'mempublish', a: 0, key: 2, pos: 0, len: 21, flags: 0 },
      { k: 'memretrieve', a: 1, key: 2, pos: 0, len: 100 },
    ];
    // fz0 overwrites the value with 21 zero bytes from its page 1.
    const r = await runTampered(commands, { after: 1, actor: 0 }, (a0) =>
      a0.do((p) => dsPublishMem(p, 'fz.k2', a0.buf + P, 21, 0x1000)),
    );
    expect(r.violation?.index).toBe(2);
    expect(r.violation?.message).toContain('fz1: window byte 0 (page 0) is 0, the oracle says 7');
  });
});
