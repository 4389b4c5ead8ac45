// The ds topic: seeds 1–100 make valid, distinct problems, and every answer equals a small model of the Data Store
// written from its documented rules (identity by key, lowest free slot, owner-only delete, DSF_OVERWRITE moves
// ownership, DSF_PRIV_RETRIEVE, whole-key patterns, pending slots reported lowest first).
import { describe, expect } from 'vitest';
import { dsExercise } from '../../../../src/sim/exercise/ds.ts';
import type { DsGivens } from '../../../../src/sim/exercise/ds.ts';
import { sweepTests } from '../../../helpers/exercise.ts';

type Entry = { key: string; owner: string; value: number; priv: boolean };

function solve(g: DsGivens): Record<string, string> {
  const slots = new Map<number, Entry>();
  const subs = new Map<string, { re: RegExp; pending: Set<number> }>();
  const out: Record<string, string> = {};
  const slotOf = (key: string): number | undefined => [...slots].find(([, e]) => e.key === key)?.[0];
  const touch = (slot: number, key: string, set: boolean): void => {
    for (const s of subs.values()) {
      if (!s.re.test(key)) continue;
      if (set) s.pending.add(slot);
      else s.pending.delete(slot);
    }
  };
  g.ops.forEach((o, i) => {
    const id = String(i + 1);
    if (o.op === 'subscribe') {
      const re = new RegExp(`^(?:${o.pattern})$`);
      subs.set(o.who, {
        re,
        pending: new Set(o.initial ? [...slots].filter(([, e]) => re.test(e.key)).map(([s]) => s) : []),
      });
    } else if (o.op === 'check') {
      const s = subs.get(o.who);
      if (s === undefined) {
        out[id] = 'ESRCH';
        return;
      }
      const keys = [...s.pending].sort((a, b) => a - b).map((x) => slots.get(x)?.key ?? '?');
      s.pending.clear();
      out[id] = keys.length === 0 ? 'none' : keys.join(', ');
    } else {
      const slot = slotOf(o.key);
      const e = slot === undefined ? undefined : slots.get(slot);
      if (o.op === 'retrieve')
        out[id] = e === undefined ? 'ESRCH' : e.priv && e.owner !== o.who ? 'EPERM' : String(e.value);
      else if (o.op === 'delete') {
        out[id] = e === undefined || slot === undefined ? 'ESRCH' : e.owner !== o.who ? 'EPERM' : 'OK';
        if (out[id] === 'OK' && slot !== undefined) {
          touch(slot, o.key, false);
          slots.delete(slot);
        }
      } else if (e !== undefined && slot !== undefined && !o.overwrite) out[id] = 'EEXIST';
      else {
        let at = slot ?? g.firstFree;
        while (slot === undefined && slots.has(at)) at++;
        slots.set(at, { key: o.key, owner: o.who, value: o.value, priv: o.privRetrieve });
        touch(at, o.key, true);
        out[id] = 'OK';
      }
    }
  });
  return out;
}

describe('exercise ds', () => {
  sweepTests(
    dsExercise,
    solve,
    [
      [1, 100],
      [2, 25],
    ],
    (values) => {
      for (const v of ['OK', 'EEXIST', 'ESRCH', 'EPERM', 'none']) expect(values).toContain(v);
    },
  );
});
