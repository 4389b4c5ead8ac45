// DS beyond u32 in the model tester: STR entries beside U32 ones under the same key, subscriptions (whole-key
// pattern, type filter, DSF_INITIAL, DSF_OVERWRITE) and ds_check in slot order agree with the oracle with the codes of
// spec/ds.md §6; a change behind the oracle's back is reported by the next check.
import { describe, expect, it } from 'vitest';
import { dsPublishU32 } from '../../../src/libsys/ds.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';

describe('model tester: DS STR entries, subscribe and check', () => {
  it('agrees with the oracle on a crafted sequence, with the spec codes', async () => {
    const commands: Command[] = [
      { k: 'publish', a: 0, key: 1, value: 5, flags: 0 },
      { k: 'subscribe', a: 1, pattern: 2, flags: 0x2000 }, // fz\.k.*, INITIAL: fz.k1 pending
      { k: 'subscribe', a: 1, pattern: 0, flags: 0 }, // a second one without OVERWRITE → EEXIST
      { k: 'publish', a: 2, key: 1, value: 0, flags: 0, str: 'little' }, // same key, STR: a second entry
      { k: 'publish', a: 2, key: 0, value: 0, flags: 0, str: 'sixteen-chars-xx' }, // 16 bytes → EINVAL
      { k: 'retrieve', a: 1, key: 1, str: true },
      { k: 'check', a: 1 }, // the lower slot first: the U32 entry
      { k: 'delete', a: 2, key: 1, str: true }, // clears the STR entry's pending bit
      { k: 'check', a: 1 }, // → ENOENT
      { k: 'check', a: 0 }, // no subscription → ESRCH
      { k: 'subscribe', a: 1, pattern: 4, flags: 0x1000 }, // does not compile → EINVAL, the old one stays
      { k: 'crash', a: 1 }, // the subscription belongs to the label and survives
      { k: 'publish', a: 0, key: 2, value: 5, flags: 0 },
      { k: 'check', a: 1 },
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map((o) => o.split(' ').slice(0, -1).join(' '))).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":-17}',
      '{"result":0}',
      '{"result":-22}',
      '{"result":0,"value":"little"}',
      '{"result":0,"value":"fz.k1 16 0"}',
      '{"result":0}',
      '{"result":-2}',
      '{"result":-3}',
      '{"result":-22}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":"fz.k2 16 0"}',
    ]);
  });

  it('reports a publish behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'subscribe', a: 0, pattern: 1, flags: 0x10 }, // fz\.k[01], U32 only
      { k: 'check', a: 0 },
    ];
    const r = await runTampered(commands, { after: 0, actor: 2 }, (a2) =>
      a2.do((p) => dsPublishU32(p, 'fz.k0', 1)),
    );
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain(
      'returned {"result":0,"value":"fz.k0 16 2"}, the oracle says {"result":-2}',
    );
  });
});
