// Copies whose source and destination share physical bytes (spec/grants.md §9 item 9): two processes sharing a
// frame through safemap, one process and its own mapped view. The result is memmove over physical memory, which
// the oracle computes by reading the whole source before writing; the system must agree byte for byte, with the
// copy-on-write switch off and on, for copies from and to the granter.
import { describe, expect, it } from 'vitest';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command, CopySpec } from '../../../src/sim/model/commands.ts';

const P = 4096;

/** fz2 stripes pages 1..3 and grants them to fz0 (all access); fz0 maps the grant's page 2 at its page 2, then copies. */
function shared(copy: Omit<CopySpec, 'g'>): Command[] {
  // Stripes of different bytes: a byte overwritten before it is read shows in the result.
  const stripes: Command[] = Array.from({ length: 12 }, (_, i) => ({
    k: 'write',
    a: 2,
    pos: P + i * 1024,
    len: 1024,
    byte: 10 + i,
  }));
  return [
    ...stripes,
    { k: 'grant', a: 2, to: 0, page: 1, pages: 3, access: 7 },
    { k: 'map', a: 0, g: 28, gOffPages: 1, page: 2, pages: 1, writable: true },
    { k: 'write', a: 0, pos: 0, len: 2 * P, byte: 5 },
    { k: 'copy', a: 0, g: 12, ...copy },
  ];
}

// Each copy reads a byte of the shared frame after it wrote the same physical byte through the other side, so a
// front-to-back copy by runs gets it wrong.
/** [name, copy, cowSafecopy]. The plain path is the same whatever the switch: the first case runs with it off too. */
const cases: [string, Omit<CopySpec, 'g'>, boolean][] = [
  [
    'from the granter: the shared frame is written before it is read',
    { dir: 'from', gOff: 0, pos: 2 * P - 100, len: 2 * P },
    false,
  ],
  [
    'from the granter: the shared frame is written before it is read',
    { dir: 'from', gOff: 0, pos: 2 * P - 100, len: 2 * P },
    true,
  ],
  ['to the granter, whole pages (copy-on-write eligible)', { dir: 'to', gOff: P, pos: P, len: 2 * P }, true],
  [
    'from the granter, whole pages, one destination page not yet present',
    { dir: 'from', gOff: 0, pos: 2 * P, len: 2 * P },
    true,
  ],
];

describe('safecopy over ranges sharing physical bytes: memmove over physical memory', () => {
  for (const [name, copy, cow] of cases) {
    it(`${name} (cowSafecopy ${cow ? 'on' : 'off'})`, async () => {
      const commands = shared(copy);
      const r = await runModel(commands, {
        config: { schedule: 'priority', cowSafecopy: cow, grantIds: 'legacy' },
      });
      expect(r.violation).toBeNull();
      expect(r.commands).toBe(commands.length);
      expect(r.observations.at(-1)).toMatch(/^\{"result":0\}/);
    });
  }
});
