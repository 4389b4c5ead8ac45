// Selection across views: a grant, a region or a frame, and everything related to it — the frames behind it,
// the processes involved, the grants and regions that cover the same memory.
import type { FrameMapping } from '../../src/sim/inspect.ts';
import type { ViewState } from './protocol.ts';

export type Selection =
  | { kind: 'grant'; key: string }
  | { kind: 'region'; key: string }
  | { kind: 'frame'; frame: number; mappings: FrameMapping[] }
  | null;

export const grantKey = (owner: number, id: number): string => `${owner}:${id}`;
export const regionKey = (endpoint: number, vaddr: number): string => `${endpoint}@${vaddr}`;

export interface Related {
  frames: Set<number>;
  endpoints: Set<number>;
  grants: Set<string>;
  regions: Set<string>;
}

type Space = ViewState['spaces'][number];
type Region = Space['regions'][number];

/** Frames behind [start, start+len) of `space`, and the regions that range touches. */
function framesOfRange(space: Space | undefined, start: number, len: number, out: Related): void {
  if (space === undefined) return;
  for (const r of space.regions) {
    if (start >= r.vaddr + r.pages * 4096 || start + len <= r.vaddr) continue;
    out.regions.add(regionKey(space.endpoint, r.vaddr));
    for (const [page, frame] of r.frames) {
      const va = r.vaddr + page * 4096;
      if (va + 4096 > start && va < start + len) out.frames.add(frame);
    }
  }
}

const overlaps = (a: number, alen: number, b: number, blen: number): boolean => a < b + blen && b < a + alen;

export function relatedTo(sel: Selection, st: ViewState | null): Related {
  const out: Related = { frames: new Set(), endpoints: new Set(), grants: new Set(), regions: new Set() };
  if (sel === null || st === null) return out;
  const spaceOf = (ep: number): Space | undefined => st.spaces.find((s) => s.endpoint === ep);
  /** Grants whose memory (direct: owner's, magic: from's) overlaps [start, start+len) of ep. */
  const grantsOver = (ep: number, start: number, len: number): void => {
    for (const g of st.grants) {
      const memOwner = g.kind === 'magic' ? g.from : g.owner;
      if (
        memOwner !== ep ||
        g.start === undefined ||
        g.len === undefined ||
        !overlaps(g.start, g.len, start, len)
      )
        continue;
      out.grants.add(grantKey(g.owner, g.id));
      out.endpoints.add(g.owner);
      out.endpoints.add(g.to);
    }
  };
  if (sel.kind === 'grant') {
    out.grants.add(sel.key);
    let g = st.grants.find((x) => grantKey(x.owner, x.id) === sel.key);
    // follow an indirect chain to the grant that names the memory (bounded: tables are finite)
    for (let hops = 0; g !== undefined && hops < 16; hops++) {
      out.grants.add(grantKey(g.owner, g.id));
      out.endpoints.add(g.owner);
      if (g.to >= 0) out.endpoints.add(g.to);
      if (g.kind !== 'indirect') break;
      const next: { from?: number; grant?: number } = g;
      g = st.grants.find((x) => x.owner === next.from && x.id === next.grant);
    }
    if (g?.start !== undefined && g.len !== undefined)
      framesOfRange(spaceOf(g.kind === 'magic' ? (g.from ?? -1) : g.owner), g.start, g.len, out);
  } else if (sel.kind === 'region') {
    out.regions.add(sel.key);
    for (const s of st.spaces) {
      const r: Region | undefined = s.regions.find((x) => regionKey(s.endpoint, x.vaddr) === sel.key);
      if (r === undefined) continue;
      out.endpoints.add(s.endpoint);
      for (const [, f] of r.frames) out.frames.add(f);
      grantsOver(s.endpoint, r.vaddr, r.pages * 4096);
    }
  } else {
    out.frames.add(sel.frame);
    for (const m of sel.mappings) {
      out.endpoints.add(m.endpoint);
      out.regions.add(regionKey(m.endpoint, m.regionVaddr));
      grantsOver(m.endpoint, m.vaddr, 4096);
    }
  }
  return out;
}
