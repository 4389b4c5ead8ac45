// The behaviour reference covers every call: each call or request constant of src/include/com.ts and
// src/include/ds.ts must have a `### NAME` entry in docs/reference/*.md. Calls are the constants defined as
// KERNEL_CALL + n or <X>_RQ_BASE + n (kernel, VM, RS, DS, device requests), the PM calls, INIT_SPAWN and
// GETSYSINFO; sub-requests (SYS_PRIV_*, GET_*, VMCTL_*, VMPTYPE_*, SI_*) are documented under their call.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const referenceDir = join(root, 'docs', 'reference');

/** The names of the call constants declared in a source file. */
function callConstants(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^export const (\w+) = ([^;]+);/gm)) {
    const [, name = '', value = ''] = m;
    const offset = /^(KERNEL_CALL|\w+_RQ_BASE) \+ \d+$/.test(value.trim());
    if (offset || /^PM_\w+$/.test(name) || name === 'INIT_SPAWN' || name === 'GETSYSINFO') out.push(name);
  }
  return out;
}

/** Every `### NAME` heading of docs/reference/*.md. */
function documented(): Set<string> {
  const names = new Set<string>();
  for (const f of readdirSync(referenceDir).filter((n) => n.endsWith('.md'))) {
    for (const m of readFileSync(join(referenceDir, f), 'utf8').matchAll(/^### (\w+)\s*$/gm))
      names.add(m[1] ?? '');
  }
  return names;
}

const sources = ['com.ts', 'ds.ts'].map((f) => readFileSync(join(root, 'src', 'include', f), 'utf8'));

describe('docs/reference covers every call', () => {
  it('finds the calls: kernel, VM, PM, RS and DS, not the sub-requests or bases', () => {
    const calls = sources.flatMap(callConstants);
    expect(calls).toEqual(
      expect.arrayContaining([
        'SYS_SAFECOPYFROM',
        'VM_MAP_PHYS',
        'PM_FORK',
        'RS_UP',
        'DS_PUBLISH',
        'GETSYSINFO',
      ]),
    );
    for (const notCall of [
      'KERNEL_CALL',
      'VM_RQ_BASE',
      'NR_SYS_CALLS',
      'SYS_PRIV_ALLOW',
      'GET_WHOAMI',
      'VMCTL_FLUSHTLB',
      'VMPTYPE_CHECK',
      'DS_MAX_KEYLEN',
    ])
      expect(calls).not.toContain(notCall);
    expect(
      callConstants('export const DEV_RQ_BASE = 0x400;\nexport const DEV_OPEN = DEV_RQ_BASE + 6;\n'),
    ).toEqual(['DEV_OPEN']);
  });

  it('every call has a ### entry', () => {
    const have = documented();
    const missing = sources.flatMap(callConstants).filter((c) => !have.has(c));
    expect(missing).toEqual([]);
  });

  it('the index links every page', () => {
    const index = readFileSync(join(referenceDir, 'README.md'), 'utf8');
    for (const f of readdirSync(referenceDir).filter((n) => n.endsWith('.md') && n !== 'README.md'))
      expect(index).toContain(`(${f})`);
  });
});
