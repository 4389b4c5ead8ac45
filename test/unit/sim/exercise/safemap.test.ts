// The safemap topic: seeds 1–100 make valid, distinct problems, and every answer equals a frame model of safemap
// (a map shares G's frame, a writable map needs WRITE in the grant, unmap and revoke leave R a private copy, a page
// G shares copy-on-write is copied for G before a write or a map, a safemap-shared page is copied for the child
// at fork).
import { describe, expect } from 'vitest';
import { safemapExercise } from '../../../../src/sim/exercise/safemap.ts';
import type { SafemapGivens } from '../../../../src/sim/exercise/safemap.ts';
import { sweepTests } from '../../../helpers/exercise.ts';

type Frame = { value: number };

function solve(g: SafemapGivens): Record<string, string> {
  const f: Record<'G' | 'R' | 'C', Frame> = {
    G: { value: g.initial.G },
    R: { value: g.initial.R },
    C: { value: 0 },
  };
  let mapped = false;
  /** G's frame is copy-on-write shared with C: G's next write or map copies it. */
  let cowWithChild = false;
  const out: Record<string, string> = {};
  const unshareG = (): void => {
    if (cowWithChild) f.G = { value: f.G.value };
    cowWithChild = false;
  };
  g.steps.forEach((s, i) => {
    const id = String(i + 1);
    if (s.op === 'map') {
      if (s.writable && !g.grantWrite) out[id] = 'EPERM';
      else {
        unshareG();
        f.R = f.G;
        mapped = true;
        out[id] = 'OK';
      }
    } else if (s.op === 'write') {
      if (s.who === 'G') unshareG();
      f[s.who].value = s.value;
    } else if (s.op === 'read') out[id] = String(f[s.who].value);
    else if (s.op === 'fork') {
      f.C = mapped ? { value: f.G.value } : f.G;
      cowWithChild = !mapped;
    } else {
      f.R = { value: f.R.value };
      mapped = false;
    }
  });
  return out;
}

describe('exercise safemap', () => {
  sweepTests(
    safemapExercise,
    solve,
    [
      [1, 100],
      [2, 25],
    ],
    (values, level) => {
      expect(values).toContain('OK');
      if (level > 1) expect(values).toContain('EPERM');
    },
  );
});
