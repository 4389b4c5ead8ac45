// fork in the model tester: an actor's child sees the parent's window as it was at fork time (read-only safemapped
// pages included, vm.md §8.5), its own write stays private, and its exit status (the byte it read) reaches the
// parent's wait; the status is compared, so a byte changed behind the oracle's back shows up in it. A child that
// execs runs the known image (its bytes, not the parent's, vm.md §8.6); a blocked child killed by its parent is
// reported with the signal, and a second kill gets ESRCH; nothing leaks.
import { describe, expect, it } from 'vitest';
import { kwrite } from '../../../src/kernel/memory.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import { EXEC_IMAGE } from '../../../src/sim/model/commands.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';

const P = 4096;

describe('model tester: fork', () => {
  it('the child reads the fork-time bytes and writes privately; nothing leaks', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 10, len: 7, byte: 33 },
      { k: 'fork', a: 0, pos: 12, byte: 9 },
      { k: 'grant', a: 0, to: 1, page: 0, pages: 2, access: 7 },
      { k: 'map', a: 1, g: 0, gOffPages: 0, page: 3, pages: 1, writable: false },
      { k: 'fork', a: 1, pos: 3 * P + 12, byte: 9 }, // through the read-only map: the child has a private copy
      { k: 'fork', a: 0, pos: 12, byte: 9 }, // the child's write of 9 did not reach the parent or fz1
      { k: 'write', a: 0, pos: 10, len: 7, byte: 34 },
      { k: 'fork', a: 1, pos: 3 * P + 12, byte: 9 }, // the owner's write shows through the map
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map((o) => o.split(' ')[0])).toEqual([
      '{"result":0}',
      '{"result":0,"value":33}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":33}',
      '{"result":0,"value":33}',
      '{"result":0}',
      '{"result":0,"value":34}',
    ]);
  });

  it('reports a status that the oracle does not expect', async () => {
    const commands: Command[] = [
      { k: 'write', a: 2, pos: 0, len: 16, byte: 5 },
      { k: 'fork', a: 2, pos: 3, byte: 1 },
    ];
    const r = await runTampered(commands, { after: 0, actor: 2 }, (a2, sys) => {
      kwrite(sys.kernel, a2.kp, a2.buf + 3, new Uint8Array([99]));
    });
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain(
      'returned {"result":0,"value":99}, the oracle says {"result":0,"value":5}',
    );
  });

  it('exec: the child runs the known image, not the parent memory; kill: wait returns the signal', async () => {
    const data = EXEC_IMAGE.dataBytes ?? new Uint8Array(0);
    const text = EXEC_IMAGE.textBytes ?? new Uint8Array(0);
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 3 * P, byte: 33 },
      { k: 'fork', a: 0, pos: 10, byte: 9, exec: true }, // text byte 10
      { k: 'fork', a: 0, pos: P + 50, byte: 9, exec: true }, // data byte 50
      { k: 'fork', a: 0, pos: 2 * P + 200, byte: 9, exec: true }, // bss: zero
      { k: 'fork', a: 0, pos: 3 * P + 1, byte: 9, exec: true }, // past the heap: SIGSEGV
      { k: 'fork', a: 1, pos: 4 * P + 8, byte: 9, exec: true }, // pos mod EXEC_SPAN: text byte 8
      { k: 'fork', a: 2, pos: 5, byte: 9, kill: 9 },
      { k: 'fork', a: 2, pos: 5, byte: 9, kill: 15 },
      { k: 'fork', a: 0, pos: 10, byte: 9 }, // the parent's window is still its own
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map((o) => o.split(' ').slice(0, -1).join(' '))).toEqual([
      '{"result":0}',
      `{"result":0,"value":${text[10] ?? -1}}`,
      `{"result":0,"value":${data[50] ?? -1}}`,
      '{"result":0,"value":0}',
      '{"result":0,"value":"signal 11"}',
      `{"result":0,"value":${text[8] ?? -1}}`,
      '{"result":0,"value":"signal 9, again -3"}',
      '{"result":0,"value":"signal 15, again -3"}',
      '{"result":0,"value":33}',
    ]);
    expect(text[10]).not.toBe(33);
    expect(data[50]).not.toBe(33);
  });
});
