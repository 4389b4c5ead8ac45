// DS LABEL entries and DSF_PRIV_SUBSCRIBE in the model tester (spec/ds.md §6.1 step 7, §6.3, §7, test/ds's LABEL
// sequence): a LABEL value (endpoint) is unique, so a second name for it is EEXIST and, with OVERWRITE, a rename of
// the entry that holds it; retrieve_label_name reverse-resolves for anyone; an entry with PRIV_SUBSCRIBE sets bits
// only in its owner's subscription. Under the default policy `any` the actors (RS services) may publish labels;
// under `rs-only` they get EPERM.
import { describe, expect, it } from 'vitest';
import { dsPublishLabel } from '../../../src/libsys/ds.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';

/** An observation without the window hash at its end. */
const seen = (o: string): string => o.slice(0, o.lastIndexOf(' '));

describe('model tester: DS LABEL entries and PRIV_SUBSCRIBE', () => {
  it('follows the dstest LABEL sequence, renames and the codes of spec/ds.md', async () => {
    // DS_LABEL_VALUES: v 0 = 1234, 1 = 1235, 2 = 4321, 3 = DS's endpoint (the boot label `ds`).
    const commands: Command[] = [
      { k: 'lpublish', a: 0, key: 0, v: 0, flags: 0 },
      { k: 'lretrieve', a: 1, key: 0 },
      { k: 'lpublish', a: 1, key: 1, v: 0, flags: 0 }, // 1234 has a name → EEXIST
      { k: 'lname', a: 2, v: 0 },
      { k: 'lpublish', a: 0, key: 1, v: 1, flags: 0x1004 }, // PRIV_OVERWRITE
      { k: 'lpublish', a: 1, key: 2, v: 1, flags: 0x1000 }, // found by value, not the owner → EPERM
      { k: 'lpublish', a: 0, key: 2, v: 1, flags: 0x1000 }, // the owner: fz.k1 is renamed fz.k2
      { k: 'lname', a: 1, v: 1 },
      { k: 'lretrieve', a: 1, key: 1 }, // → ESRCH
      { k: 'lpublish', a: 2, key: 0, v: 1, flags: 0x1000 }, // 1235 is held by another entry → EEXIST
      { k: 'lpublish', a: 2, key: 1, v: 3, flags: 0 }, // DS's endpoint is held by `ds` → EEXIST
      { k: 'lname', a: 0, v: 3 },
      { k: 'lname', a: 0, v: 2 }, // → ESRCH
      { k: 'lpublish', a: 2, key: 0, v: 2, flags: 0x1000 }, // ownership moves to fz2
      { k: 'ldelete', a: 0, key: 0 }, // → EPERM
      { k: 'ldelete', a: 2, key: 0 },
      { k: 'lretrieve', a: 0, key: 0 }, // → ESRCH
      { k: 'subscribe', a: 1, pattern: 2, flags: 0 }, // fz\.k.*
      { k: 'subscribe', a: 0, pattern: 2, flags: 0x2000 }, // INITIAL: fz.k2 (LABEL) pending
      { k: 'publish', a: 2, key: 0, value: 5, flags: 0x008 }, // PRIV_SUBSCRIBE: no other label's bit
      { k: 'check', a: 1 }, // → ENOENT
      { k: 'subscribe', a: 2, pattern: 0, flags: 0x2000 }, // the owner's own subscription sees it
      { k: 'check', a: 2 },
      { k: 'publish', a: 0, key: 0, value: 6, flags: 0x1000 }, // public again, owner fz0: every bit set
      { k: 'publish', a: 2, key: 0, value: 7, flags: 0x1008 }, // private again: fz1's bit is not cleared (§7)
      { k: 'check', a: 1 },
      { k: 'delete', a: 2, key: 0 }, // the slot is freed: fz0's bit goes too
      { k: 'check', a: 0 },
      { k: 'check', a: 0 }, // → ENOENT
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map(seen)).toEqual([
      '{"result":0}',
      '{"result":0,"value":1234}',
      '{"result":-17}',
      '{"result":0,"value":"fz.k0"}',
      '{"result":0}',
      '{"result":-1}',
      '{"result":0}',
      '{"result":0,"value":"fz.k2"}',
      '{"result":-3}',
      '{"result":-17}',
      '{"result":-17}',
      '{"result":0,"value":"ds"}',
      '{"result":-3}',
      '{"result":0}',
      '{"result":-1}',
      '{"result":0}',
      '{"result":-3}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-2}',
      '{"result":0}',
      '{"result":0,"value":"fz.k0 16 2"}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":"fz.k0 16 2"}',
      '{"result":0}',
      '{"result":0,"value":"fz.k2 256 0"}',
      '{"result":-2}',
    ]);
  });

  it("under dsLabelPolicy 'rs-only' an actor's LABEL publish is EPERM, RS's republish on a restart still works", async () => {
    const commands: Command[] = [
      { k: 'lpublish', a: 0, key: 0, v: 0, flags: 0 }, // → EPERM
      { k: 'lpublish', a: 1, key: 1, v: 3, flags: 0 }, // → EPERM before the value is looked at
      { k: 'lname', a: 2, v: 3 }, // anyone may still reverse-resolve: `ds`
      { k: 'publish', a: 2, key: 0, value: 9, flags: 0x002 },
      { k: 'crash', a: 2 }, // RS publishes fz2's label with its new endpoint
      { k: 'retrieve', a: 2, key: 0 }, // the new instance is `fz2` again: the owner
    ];
    const r = await runModel(commands, { config: { dsLabelPolicy: 'rs-only' } });
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map(seen)).toEqual([
      '{"result":-1}',
      '{"result":-1}',
      '{"result":0,"value":"ds"}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":9}',
    ]);
  });

  it('reports a label renamed behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'lpublish', a: 0, key: 0, v: 0, flags: 0 },
      { k: 'lname', a: 2, v: 0 },
    ];
    const r = await runTampered(commands, { after: 0, actor: 1 }, (a1) =>
      a1.do((p) => dsPublishLabel(p, 'fz.k1', 1234, 0x1000)),
    );
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain(
      'returned {"result":0,"value":"fz.k1"}, the oracle says {"result":0,"value":"fz.k0"}',
    );
  });
});
