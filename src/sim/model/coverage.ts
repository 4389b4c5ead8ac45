// Coverage of a fuzzing campaign: how often each command kind met each outcome (OK, an errno, killed), against the
// outcomes the generator and the oracle reach in a long campaign (400 runs of 40 commands, seed 77; the DS zero
// lengths re-measured with 240 runs after they became EDOM; vcopy EFAULT since copies aim at read-only pages; the
// EDEADSRCDST of uses of VFS's magic grants since VFS acts, seen in a 5-minute campaign of seed 77). CI's budget (60
// runs of 60 commands, seed 1) reaches every one, some only once or twice (docs/fuzzing.md: rare outcomes). A campaign that leaves one unreached has tested less
// than it seems. Entry points: REACHABLE, unreached, coverageRows.
import type { CommandKind } from './commands.ts';

/** Every outcome each command kind reaches in a long campaign (outcome classes as executor.ts outcomeClass names them). */
export const REACHABLE: Readonly<Record<CommandKind, readonly string[]>> = {
  write: ['OK', 'killed'],
  grant: ['OK'],
  indirect: ['OK'],
  magic: ['OK'],
  vmagic: ['OK'],
  vrevoke: ['OK', 'EINVAL'],
  vrevmap: ['OK'],
  vcrash: ['OK'],
  revoke: ['OK', 'EINVAL'],
  setgrant: ['OK', 'EINVAL'],
  copy: ['OK', 'EDEADSRCDST', 'EDOM', 'EFAULT', 'EINVAL', 'EPERM'],
  vcopy: ['OK', 'EDEADSRCDST', 'EDOM', 'EFAULT', 'EINVAL', 'EPERM'],
  map: ['OK', 'EDEADSRCDST', 'EINVAL', 'EPERM'],
  unmap: ['OK'],
  revmap: ['OK'],
  publish: ['OK', 'EEXIST', 'EINVAL', 'EPERM'],
  retrieve: ['OK', 'EPERM', 'ESRCH'],
  delete: ['OK', 'EPERM', 'ESRCH'],
  subscribe: ['OK', 'EEXIST', 'EINVAL'],
  check: ['OK', 'ENOENT', 'ESRCH'],
  mpublish: ['OK', 'EEXIST', 'EINVAL'],
  msnapshot: ['OK', 'EPERM', 'ESRCH'],
  mretrieve: ['OK', 'EINVAL', 'EPERM', 'ESRCH'],
  mdelete: ['OK', 'EPERM', 'ESRCH'],
  mempublish: ['OK', 'EEXIST', 'EDOM', 'EPERM'],
  memretrieve: ['OK', 'EDOM', 'EPERM', 'ESRCH'],
  memdelete: ['OK', 'EPERM', 'ESRCH'],
  lpublish: ['OK', 'EEXIST', 'EPERM'],
  lretrieve: ['OK', 'EPERM', 'ESRCH'],
  lname: ['OK', 'ESRCH'],
  ldelete: ['OK', 'EPERM', 'ESRCH'],
  crash: ['OK'],
  fork: ['OK'],
  mmap: ['OK', 'ENOMEM'],
  munmap: ['OK', 'EFAULT'],
  awrite: ['OK', 'killed'],
  aread: ['OK', 'killed'],
  acopy: ['OK', 'EDEADSRCDST', 'EDOM', 'EFAULT', 'EINVAL', 'EPERM'],
  brk: ['OK', 'ENOMEM'],
  pair: ['OK'],
};

/** The `kind outcome` pairs of REACHABLE a campaign's coverage has no count for. */
export function unreached(coverage: Readonly<Record<string, number>>): string[] {
  return Object.entries(REACHABLE).flatMap(([kind, outs]) =>
    outs.map((o) => `${kind} ${o}`).filter((key) => (coverage[key] ?? 0) === 0),
  );
}

/** One row per command kind: its outcomes with their counts, those of REACHABLE it missed as 0, then any other outcome seen. */
export function coverageRows(coverage: Readonly<Record<string, number>>): { kind: string; outcomes: { outcome: string; count: number; expected: boolean }[] }[] {
  return Object.entries(REACHABLE).map(([kind, outs]) => {
    const seen = Object.keys(coverage)
      .filter((k) => k.startsWith(`${kind} `))
      .map((k) => k.slice(kind.length + 1));
    const all = [...outs, ...seen.filter((o) => !outs.includes(o))];
    return { kind, outcomes: all.map((outcome) => ({ outcome, count: coverage[`${kind} ${outcome}`] ?? 0, expected: outs.includes(outcome) })) };
  });
}
