// grantvm compare and --profile from the command line: the figures side by side, a bad side or profile file
// refused with one line naming what is wrong (exit 2) before anything runs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinProfiles } from '../../../src/hw/profile.ts';
import { parseSide } from '../../../src/cli/commands/compare.ts';
import { cliHost } from '../../helpers/cli-host.ts';

// The command lines run in one host process, as in a process of their own but without a Node start each.
const host = cliHost();
const grantvm = (args: string[]) => host.grantvm(args);

const dir = mkdtempSync(join(tmpdir(), 'grantvm-compare-'));

describe('parseSide', () => {
  it('reads comma-separated settings and refuses unknown keys and bad values', () => {
    expect(parseSide('--a', 'profile=modern-x86,cowSafecopy=false,seed=3')).toEqual({
      profile: 'modern-x86',
      cowSafecopy: false,
      seed: 3,
    });
    expect(() => parseSide('--a', 'colour=red')).toThrow(/--a: 'colour=red' is not key=value/);
    expect(() => parseSide('--b', 'cowSafecopy=maybe')).toThrow(/cowSafecopy must be true or false/);
    expect(() => parseSide('--b', 'profile=pdp-11')).toThrow(/unknown profile 'pdp-11'/);
  });
});

describe('grantvm compare', () => {
  it('two profiles: same counts, different time; --json writes both sides', async () => {
    const json = join(dir, 'cmp.json');
    const r = await grantvm([
      'compare',
      'boot',
      '--a',
      'profile=i386-2010',
      '--b',
      'profile=modern-x86',
      '--json',
      json,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/kernel entries\s+30\s+30\s+1\.000/);
    const out = JSON.parse(readFileSync(json, 'utf8')) as {
      a: { micros: number; kernelEntries: number };
      b: { micros: number; kernelEntries: number };
    };
    expect(out.a.kernelEntries).toBe(out.b.kernelEntries);
    expect(out.b.micros).toBeLessThan(out.a.micros);
  });

  it('a bad side is one line and exit 2', async () => {
    const r = await grantvm(['compare', 'boot', '--a', 'bogus=1', '--b', 'profile=modern-x86']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'bogus=1'");
  });
});

describe('--profile FILE.json', () => {
  it('a valid file is used; a file with a negative value is one line naming the key', async () => {
    const good = join(dir, 'slow.json');
    writeFileSync(good, JSON.stringify({ ...builtinProfiles['i386-2010'], name: 'slow', trap: 6000 }));
    const r = await grantvm(['inspect', '--profile', good]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('profile slow:');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...builtinProfiles['i386-2010'], pteWrite: -2 }));
    const b = await grantvm(['run', 'boot', '--profile', bad]);
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.stderr).toContain("'pteWrite'");
    const missing = join(dir, 'missing.json');
    const rest: Record<string, unknown> = { ...builtinProfiles['i386-2010'] };
    delete rest.trap;
    writeFileSync(missing, JSON.stringify(rest));
    expect(
      (await grantvm(['trace', 'boot', '-o', join(dir, 't.jsonl'), '--profile', missing])).stderr,
    ).toContain("missing key 'trap'");
  });
});
