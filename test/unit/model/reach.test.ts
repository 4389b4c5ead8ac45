// The fuzzer's reach (src/sim/model/commands.ts): swarm families per run, a DS key that traps unanchored patterns,
// PRIV flags on both sides of an overwrite, and checks that take DS's notification. For each: the generator draws
// it, and the oracle agrees with the system on a crafted sequence with the spec's codes; a notification sent behind
// the oracle's back is reported.
import { describe, expect, it } from 'vitest';
import { DS_PROC_NR } from '../../../src/include/endpoint.ts';
import { kernelNotify } from '../../../src/kernel/ipc.ts';
import { Rng } from '../../../src/lib/rng.ts';
import {
  COMMAND_KINDS,
  DS_FLAG_SETS,
  DS_KEY_NAMES,
  DS_PATTERNS,
  generateCommands,
  swarmKinds,
} from '../../../src/sim/model/commands.ts';
import type { Command, SingleCommand } from '../../../src/sim/model/commands.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import { outcomes } from './observations.ts';
import { runTampered } from './tamper.ts';

/** The commands of 40 generated runs of 40 commands, pairs opened up. */
const drawn: SingleCommand[] = Array.from({ length: 40 }, (_, seed) => generateCommands(seed + 1, 40))
  .flat()
  .flatMap((c) => (c.k === 'pair' ? [c.first, c.second] : [c]));


const PRIV_OVERWRITE = 0x004;
const OVERWRITE = 0x1000;

describe('fuzzer reach: generation', () => {
  it('most runs leave some command families out, one in four or so draws from every kind', () => {
    const sets = Array.from({ length: 40 }, (_, seed) => swarmKinds(new Rng(seed)));
    const all = sets.filter((s) => s.size === COMMAND_KINDS.length).length;
    expect(all).toBeGreaterThan(4);
    expect(all).toBeLessThan(25);
    // A run draws only from its kinds.
    const kinds = swarmKinds(new Rng(3));
    const rest = generateCommands(3, 200).filter((c) => !kinds.has(c.k));
    expect(rest).toEqual([]);
  });

  it('draws the trap key, the trap patterns, PRIV bits with OVERWRITE and checks that take notifications', () => {
    const trapKey = DS_KEY_NAMES.indexOf('fz.k01');
    expect(drawn.some((c) => 'key' in c && c.key === trapKey)).toBe(true);
    for (const p of ['k01', 'z\\.k', 'fz\\.k0'])
      expect(drawn.some((c) => c.k === 'subscribe' && DS_PATTERNS[c.pattern] === p)).toBe(true);
    const both = DS_FLAG_SETS.filter((f) => (f & OVERWRITE) !== 0 && (f & PRIV_OVERWRITE) !== 0);
    expect(drawn.some((c) => c.k === 'publish' && both.some((f) => f === c.flags))).toBe(true);
    expect(drawn.some((c) => c.k === 'check' && c.notify === true)).toBe(true);
  });

  it('a check in a pair takes no notification (it would not be atomic)', () => {
    const pairs = Array.from({ length: 60 }, (_, seed) => generateCommands(seed + 1, 40))
      .flat()
      .flatMap((c) => (c.k === 'pair' ? [c.first, c.second] : []));
    expect(pairs.some((c) => c.k === 'check')).toBe(true);
    expect(pairs.filter((c) => c.k === 'check' && c.notify === true)).toEqual([]);
  });
});

describe('fuzzer reach: the oracle agrees', () => {
  it('whole-key patterns: fz\\.k0 does not take fz.k01, nor k01 any key; notifications are received', async () => {
    const commands: Command[] = [
      { k: 'subscribe', a: 1, pattern: 0, flags: 0 }, // fz\.k0
      { k: 'subscribe', a: 2, pattern: 5, flags: 0 }, // k01: matches no key as a whole
      { k: 'publish', a: 0, key: 3, value: 7, flags: 0 }, // fz.k01
      { k: 'check', a: 1, notify: true }, // neither notified nor pending
      { k: 'check', a: 2, notify: true },
      { k: 'publish', a: 0, key: 0, value: 8, flags: 0 }, // fz.k0: fz1's
      { k: 'check', a: 1, notify: true },
      { k: 'check', a: 1, notify: true }, // the notification was taken, the bit cleared
      { k: 'delete', a: 0, key: 0 }, // a delete notifies the matching subscriptions too
      { k: 'check', a: 1, notify: true },
      { k: 'subscribe', a: 2, pattern: 2, flags: OVERWRITE | 0x2000 }, // fz\.k.*, INITIAL: fz.k01 pending
      { k: 'check', a: 2 }, // without taking the notification
      { k: 'check', a: 2, notify: true }, // still pending from INITIAL
    ];
    const r = await runModel(commands, { everyStep: false });
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(outcomes(r.observations)).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-2,"value":"not notified"}',
      '{"result":-2,"value":"not notified"}',
      '{"result":0}',
      '{"result":0,"value":"notified, fz.k0 16 0"}',
      '{"result":-2,"value":"not notified"}',
      '{"result":0}',
      '{"result":-2,"value":"notified"}',
      '{"result":0}',
      '{"result":0,"value":"fz.k01 16 0"}',
      '{"result":-2,"value":"notified"}',
    ]);
  });

  it('PRIV_OVERWRITE is the entry’s: a request carrying it overwrites, the entry it leaves refuses others', async () => {
    const commands: Command[] = [
      { k: 'publish', a: 0, key: 0, value: 1, flags: 0 },
      { k: 'publish', a: 1, key: 0, value: 2, flags: OVERWRITE | PRIV_OVERWRITE }, // the entry has no PRIV bit: OK
      { k: 'publish', a: 0, key: 0, value: 3, flags: OVERWRITE }, // now fz1's PRIV_OVERWRITE entry: EPERM
      { k: 'publish', a: 1, key: 0, value: 4, flags: OVERWRITE }, // its owner may: OK, and drops the bit
      { k: 'publish', a: 2, key: 0, value: 5, flags: OVERWRITE },
      { k: 'retrieve', a: 0, key: 0 },
    ];
    const r = await runModel(commands, { everyStep: false });
    expect(r.violation).toBeNull();
    expect(outcomes(r.observations)).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":-1}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":5}',
    ]);
  });

  it('reports a notification the oracle did not expect', async () => {
    const commands: Command[] = [
      { k: 'subscribe', a: 1, pattern: 2, flags: 0 },
      { k: 'check', a: 1, notify: true },
    ];
    const r = await runTampered(commands, { after: 0, actor: 1 }, (a1, sys) => {
      kernelNotify(sys.kernel, DS_PROC_NR, a1.kp);
    });
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain(
      'returned {"result":-2,"value":"notified"}, the oracle says {"result":-2,"value":"not notified"}',
    );
  });
});
