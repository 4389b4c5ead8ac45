// Every failure the model-based tests and `grantvm fuzz` found, shrunk, kept as a fixed case. A case names what was
// wrong and where it was fixed; the regression test replays each with sanity checks after every kernel entry.
import type { Command } from '../../../src/sim/model/commands.ts';
import type { SystemConfig } from '../../../src/sim/config.ts';

export interface RegressionCase {
  name: string;
  /** What failed and what was fixed (oracle or system). */
  note: string;
  config: Partial<SystemConfig>;
  commands: Command[];
}

export const REGRESSIONS: RegressionCase[] = [
  {
    name: 'grantee of a read-only safemap writes after the owner died',
    note:
      'fuzz seed 15 (grantvm fuzz, 60 commands): the oracle kept the page read-only and expected SIGSEGV; VM applies ' +
      'the revert rule (vm.md §5): the last reference left to a block becomes private and writable. Fixed in the oracle.',
    config: { schedule: 'random', seed: 15 },
    commands: [
      { k: 'grant', a: 1, to: 2, page: 3, pages: 2, access: 7 },
      { k: 'map', a: 2, g: 0, gOffPages: 0, page: 2, pages: 2, writable: false },
      { k: 'crash', a: 1 },
      { k: 'write', a: 2, pos: 15556, len: 7, byte: 59 },
    ],
  },
  {
    name: 'a read-only map in flight with a revmap of its grant: the hidden order decides a later write',
    note:
      'grantvm fuzz --minutes 12 --seed 2028, run seed 2449450797, shrunk: both serial orders of the pair left the same ' +
      'codes and bytes, the oracle kept the first (map, then revmap: page writable) while the system had run the ' +
      'revmap first (page still mapped read-only), so the write was a SIGSEGV. Fixed in the oracle: it keeps every ' +
      'state that explains what was seen until a later command tells them apart.',
    config: { schedule: 'random', seed: 2449450797, cowSafecopy: false, grantIds: 'generational' },
    commands: [
      { k: 'magic', a: 2, to: 1, from: 2, page: 0, access: 7 },
      { k: 'map', a: 0, g: 8, gOffPages: 0, page: 0, pages: 2, writable: false },
      { k: 'delete', a: 1, key: 2 },
      { k: 'copy', a: 2, dir: 'from', g: 27, gOff: 4095, pos: 16484, len: 12288 },
      { k: 'write', a: 2, pos: 14360, len: 8192, byte: 155 },
      { k: 'map', a: 1, g: 17, gOffPages: 0, page: 3, pages: 2, writable: false },
      { k: 'grant', a: 2, to: 1, page: 5, pages: 3, access: 7 },
      { k: 'grant', a: 2, to: 0, page: 5, pages: 2, access: 5 },
      {
        k: 'pair',
        first: { k: 'retrieve', a: 0, key: 2 },
        second: { k: 'grant', a: 1, to: 1, page: 7, pages: 3, access: 5 },
      },
      {
        k: 'vcopy',
        a: 2,
        items: [
          { dir: 'from', g: 3, gOff: 1, pos: 12289, len: 100 },
          { dir: 'from', g: 26, gOff: 4113, pos: 28673, len: 4096 },
        ],
      },
      { k: 'copy', a: 0, dir: 'to', g: 14, gOff: 4095, pos: 0, len: 4095 },
      {
        k: 'pair',
        first: { k: 'map', a: 0, g: 2, gOffPages: 1, page: 3, pages: 1, writable: false },
        second: { k: 'revmap', a: 2, g: 20 },
      },
      { k: 'write', a: 0, pos: 8936, len: 8192, byte: 74 },
    ],
  },
  {
    name: 'a safecopy between two processes whose ranges share a page through a safemap',
    note:
      'grantvm fuzz --minutes 11 --seed 2029, run seed 3883881071, shrunk: fz0 copied from fz2 into a range that shares ' +
      'a page with the source; the system copied front to back by physical runs, the oracle read the whole source ' +
      'first. Round 2 (grants.md §9 item 9) made the oracle right: ranges sharing physical bytes copy as memmove ' +
      'over physical memory, and the oracle compares these bytes again.',
    config: { schedule: 'random', seed: 3883881071, cowSafecopy: false, grantIds: 'legacy' },
    commands: [
      { k: 'write', a: 2, pos: 10115, len: 7, byte: 76 },
      { k: 'grant', a: 2, to: 0, page: 1, pages: 3, access: 7 },
      { k: 'map', a: 0, g: 28, gOffPages: 1, page: 2, pages: 1, writable: true },
      { k: 'copy', a: 0, dir: 'from', g: 12, gOff: 0, pos: 8292, len: 8192 },
    ],
  },
  {
    name: 'a copy onto a page the owner holds again after the grantee mapped it back read-only',
    note:
      "grantvm fuzz --minutes 60 --seed 20261207 --jobs 2, run seed 3583561093, shrunk: fz1 maps fz2's page 0 " +
      "read-only at its page 7, then fz2 maps fz1's page 7 (its own frame) read-only at its page 0; the oracle kept " +
      "fz1's page 7 read-only and expected EFAULT for a copy into it. VM drops the grantee's old pages before it " +
      "shares the owner's (vm.md §7 SMAP), so the revert rule leaves fz1 the lone holder and the owner regains " +
      'write access (grants.md §6.3). Fixed in the oracle.',
    config: { schedule: 'random', seed: 3583561093, cowSafecopy: false, grantIds: 'generational' },
    commands: [
      { k: 'grant', a: 2, to: 1, page: 0, pages: 1, access: 7 },
      { k: 'grant', a: 1, to: 2, page: 7, pages: 2, access: 7 },
      { k: 'map', a: 1, g: 16, gOffPages: 0, page: 7, pages: 1, writable: false },
      { k: 'map', a: 2, g: 6, gOffPages: 0, page: 0, pages: 1, writable: false },
      { k: 'grant', a: 2, to: 1, page: 2, pages: 2, access: 7 },
      { k: 'copy', a: 1, dir: 'from', g: 11, gOff: 1, pos: 8193, len: 4096, ro: true },
    ],
  },
  {
    name: 'a safemap between the two steps of a revoke outlives it',
    note:
      'grantvm fuzz --minutes 60 --seed 20261207 --jobs 2, run seed 3608803542, shrunk: fz0 revokes its MAP grant while ' +
      'fz1 maps it; cpf_revoke breaks the mappings (sys_saferevmap_gid), then frees the slot, and the map ran in ' +
      'between: both OK and one safemap record kept, which neither serial order gives. The oracle now tries the ' +
      "revoke's two steps with the other command between them (finding 9 of docs/fuzzing.md).",
    config: { schedule: 'random', seed: 3608803542, cowSafecopy: true, grantIds: 'legacy' },
    commands: [
      {
        k: 'pair',
        first: { k: 'grant', a: 0, to: 1, page: 4, pages: 2, access: 7 },
        second: { k: 'retrieve', a: 2, key: 0 },
      },
      { k: 'fork', a: 0, pos: 8205, byte: 123, exec: true },
      {
        k: 'pair',
        first: { k: 'subscribe', a: 2, pattern: 5, flags: 8192 },
        second: { k: 'delete', a: 1, key: 2 },
      },
      {
        k: 'pair',
        first: { k: 'revoke', a: 0, g: 1 },
        second: { k: 'map', a: 1, g: 1, gOffPages: 0, page: 0, pages: 1, writable: false },
      },
    ],
  },
];
