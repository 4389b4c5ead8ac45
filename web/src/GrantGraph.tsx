// The grant graph: processes on a circle, an arrow from each grant's owner to its grantee; indirect grants
// are drawn as chains (a dotted link from the indirect grant to the grant it points at); ids used in the trace
// that are gone from their table (revoked, stale) are red dashed arrows. Folded by default: revoked entries
// (not VALID), stale ids and processes that no longer exist, each with a count and a switch to show them.
// Labels are placed where they overlap nothing already drawn (a few spots along each arrow); an arrow whose
// label finds no room keeps it as a tooltip. The circle grows with the number of processes.
import { errnoName as errno } from '../../src/include/errno.ts';
import type { ReactElement } from 'react';
import type { ViewState } from './protocol.ts';
import { Toggle } from './panels.tsx';
import { grantKey } from './related.ts';

interface Point {
  x: number;
  y: number;
}
type Box = [number, number, number, number];

/** Character width and line height of the 9 px labels (a monospace-ish estimate, generous). */
const CHAR = 5.6;
const LINE = 11;
/** Spots along an arrow (curve parameter t) tried for its label, best first. */
const SPOTS = [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78];

const overlaps = (a: Box, b: Box): boolean => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/** Boxes already taken; place() finds the first free spot for a text, or null. */
class Placer {
  readonly taken: Box[] = [];

  place(text: string, spots: Point[]): Point | null {
    const w = text.length * CHAR;
    for (const p of spots) {
      const b: Box = [p.x - w / 2 - 1, p.y - LINE + 2, p.x + w / 2 + 1, p.y + 3];
      if (this.taken.some((t) => overlaps(t, b))) continue;
      this.taken.push(b);
      return p;
    }
    return null;
  }
}

interface Edge {
  key: string;
  className: string;
  d: string;
  text: string;
  label: Point | null;
  title: string;
}

/** What the graph (and the grant table) fold away unless asked. */
export interface GraphFolds {
  revoked: boolean;
  dead: boolean;
}

export function GrantGraph(props: {
  state: ViewState;
  names: ReadonlyMap<number, string>;
  related: ReadonlySet<string>;
  show: GraphFolds;
  onShow: (show: GraphFolds) => void;
  onSelect: (key: string) => void;
}): ReactElement {
  const { state, names, related, show, onShow, onSelect } = props;
  const showRevoked = show.revoked;
  const showDead = show.dead;
  const live = new Set(state.processes.map((p) => p.endpoint));
  const alive = (ep: number): boolean => showDead || live.has(ep);
  const revoked =
    state.grants.filter((g) => g.to >= 0 && g.access.endsWith('!')).length + state.staleGrants.length;
  const grants = state.grants.filter((g) => g.to >= 0 && (showRevoked || !g.access.endsWith('!')));
  const stale = showRevoked ? state.staleGrants : [];
  const dead = new Set<number>();
  for (const g of grants) if (!live.has(g.to)) dead.add(g.to);
  for (const s of stale) for (const ep of [s.granter, s.caller]) if (!live.has(ep)) dead.add(ep);
  const shownGrants = grants.filter((g) => alive(g.owner) && alive(g.to));
  const shownStale = stale.filter((s) => alive(s.granter) && alive(s.caller));

  const eps = new Set<number>();
  for (const g of shownGrants)
    for (const ep of [g.owner, g.to, ...(g.from !== undefined && alive(g.from) ? [g.from] : [])]) eps.add(ep);
  for (const s of shownStale) for (const ep of [s.granter, s.caller]) eps.add(ep);
  const list = [...eps].sort((a, b) => a - b);
  const R = Math.max(100, (list.length * 26) / (2 * Math.PI));
  const W = 2 * R + 240;
  const H = 2 * R + 90;
  const angle = (i: number): number => (2 * Math.PI * i) / list.length - Math.PI / 2;
  const pos = new Map(
    list.map((ep, i) => [ep, { x: W / 2 + R * Math.cos(angle(i)), y: H / 2 + R * Math.sin(angle(i)) }]),
  );
  const placer = new Placer();
  const nodes = list.map((ep, i) => {
    const p = pos.get(ep) ?? { x: 0, y: 0 };
    const c = Math.cos(angle(i));
    const s = Math.sin(angle(i));
    const text = names.get(ep) ?? String(ep);
    const lx = p.x + 17 * c;
    const ly = p.y + 17 * s + 4;
    const anchor: 'middle' | 'start' | 'end' = Math.abs(c) < 0.3 ? 'middle' : c > 0 ? 'start' : 'end';
    const w = text.length * 6.2;
    const x0 = anchor === 'middle' ? lx - w / 2 : anchor === 'start' ? lx : lx - w;
    placer.taken.push([p.x - 11, p.y - 11, p.x + 11, p.y + 11], [x0, ly - 10, x0 + w, ly + 3]);
    return { ep, p, text, lx, ly, anchor };
  });

  const seenPairs = new Map<string, number>();
  const edge = (a: number, b: number, text: string): { d: string; label: Point | null; mid: Point } => {
    const k = `${Math.min(a, b)}-${Math.max(a, b)}`;
    const n = seenPairs.get(k) ?? 0;
    seenPairs.set(k, n + 1);
    const p = pos.get(a) ?? { x: 0, y: 0 };
    const q = pos.get(b) ?? { x: 0, y: 0 };
    if (a === b) {
      const mid = { x: p.x, y: p.y - 38 - 10 * n };
      return {
        d: `M${p.x},${p.y} c ${40 + 8 * n},${-50 - 12 * n} ${-40 - 8 * n},${-50 - 12 * n} 0,0`,
        label: placer.place(text, [mid]),
        mid,
      };
    }
    const bend = (a < b ? 1 : -1) * (0.12 + 0.1 * n);
    const m = { x: (p.x + q.x) / 2 - (q.y - p.y) * bend, y: (p.y + q.y) / 2 + (q.x - p.x) * bend };
    const at = (t: number): Point => ({
      x: (1 - t) ** 2 * p.x + 2 * (1 - t) * t * m.x + t * t * q.x,
      y: (1 - t) ** 2 * p.y + 2 * (1 - t) * t * m.y + t * t * q.y,
    });
    return {
      d: `M${p.x},${p.y} Q${m.x},${m.y} ${q.x},${q.y}`,
      label: placer.place(text, SPOTS.map(at)),
      mid: at(0.5),
    };
  };

  const mids = new Map<string, Point>();
  const edges: Edge[] = shownGrants.map((g) => {
    const key = grantKey(g.owner, g.id);
    const text =
      `#${g.id} ${g.access} ${g.kind === 'indirect' ? '↪' : g.len !== undefined ? `${g.len} B` : ''}`.trim();
    const e = edge(g.owner, g.to, text);
    mids.set(key, e.label ?? e.mid);
    const title = `grant ${key}: ${names.get(g.owner) ?? g.owner} → ${names.get(g.to) ?? g.to}, ${g.kind} ${g.access} ${g.range}`;
    return {
      key,
      className: `edge ${g.kind}${related.has(key) ? ' related' : ''}${g.access.endsWith('!') ? ' invalid' : ''}`,
      d: e.d,
      text,
      label: e.label,
      title,
    };
  });
  const staleEdges: Edge[] = shownStale.map((s) => {
    const text = `✗#${s.gid} ${errno(s.result)}`;
    const e = edge(s.granter, s.caller, text);
    return {
      key: `stale-${s.granter}:${s.gid}`,
      className: 'edge stale',
      d: e.d,
      text,
      label: e.label,
      title: `grant ${s.granter}:${s.gid} is gone; last use by ${names.get(s.caller) ?? s.caller}: ${errno(s.result)}`,
    };
  });
  const hidden = [...edges, ...staleEdges].filter((e) => e.label === null).length;

  return (
    <div className="grantgraphbox">
      <div className="small framecontrols">
        <Toggle
          testId="graph-revoked"
          checked={showRevoked}
          onChange={(on) => {
            onShow({ ...show, revoked: on });
          }}
        >
          revoked and stale grants ({revoked})
        </Toggle>
        <Toggle
          testId="graph-dead"
          checked={showDead}
          onChange={(on) => {
            onShow({ ...show, dead: on });
          }}
        >
          processes that are gone ({dead.size})
        </Toggle>
        {hidden > 0 ? (
          <span data-testid="graph-hidden-labels">{hidden} labels without room: hover their arrows</span>
        ) : null}
      </div>
      <svg className="grantgraph" data-testid="grant-graph" viewBox={`0 0 ${W} ${H}`} width={W} height={H}>
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="16"
            refY="5"
            markerWidth="6"
            markerHeight="6"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#9ab" />
          </marker>
        </defs>
        {edges.map((e) => (
          <g
            key={e.key}
            className={e.className}
            data-testid="grant-edge"
            data-grant={e.key}
            onClick={() => {
              onSelect(e.key);
            }}
          >
            <title>{e.title}</title>
            <path d={e.d} markerEnd="url(#arrow)" />
            {e.label !== null ? (
              <text x={e.label.x} y={e.label.y}>
                {e.text}
              </text>
            ) : null}
          </g>
        ))}
        {shownGrants
          .filter((g) => g.kind === 'indirect' && g.from !== undefined && g.grant !== undefined)
          .map((g) => {
            const key = grantKey(g.owner, g.id);
            const a = mids.get(key);
            const b = mids.get(grantKey(g.from ?? -1, g.grant ?? -1));
            return a === undefined || b === undefined ? null : (
              <line key={`chain-${key}`} className="chain" x1={a.x} y1={a.y} x2={b.x} y2={b.y} />
            );
          })}
        {staleEdges.map((e) => (
          <g key={e.key} className={e.className} data-testid="grant-stale">
            <title>{e.title}</title>
            <path d={e.d} markerEnd="url(#arrow)" />
            {e.label !== null ? (
              <text x={e.label.x} y={e.label.y}>
                {e.text}
              </text>
            ) : null}
          </g>
        ))}
        {nodes.map(({ ep, p, text, lx, ly, anchor }) => (
          <g key={ep} className={`node${live.has(ep) ? '' : ' dead'}`} data-testid="graph-node" data-ep={ep}>
            <title>{`${text} (endpoint ${ep})${live.has(ep) ? '' : ', gone'}`}</title>
            <circle cx={p.x} cy={p.y} r={10} />
            <text x={lx} y={ly} textAnchor={anchor}>
              {text}
            </text>
          </g>
        ))}
        {list.length === 0 ? (
          <text x={W / 2} y={H / 2} className="empty">
            {revoked > 0 && !showRevoked
              ? `no live grant (${revoked} revoked or stale, folded)`
              : 'no grant in any table yet'}
          </text>
        ) : null}
      </svg>
    </div>
  );
}
