// The grant graph: processes on a circle, an arrow from each grant's owner to its grantee; indirect grants
// are drawn as chains (a dotted link from the indirect grant to the grant it points at); ids used in the trace
// that are gone from their table (revoked, stale) are red dashed arrows.
import type { ReactElement } from 'react';
import type { ViewState } from './protocol.ts';
import { grantKey } from './related.ts';

export function GrantGraph(props: { state: ViewState; names: ReadonlyMap<number, string>; related: ReadonlySet<string>; onSelect: (key: string) => void }): ReactElement {
  const { state, names, related, onSelect } = props;
  const eps = new Set<number>();
  for (const g of state.grants) {
    eps.add(g.owner);
    if (g.to >= 0) eps.add(g.to);
    if (g.from !== undefined) eps.add(g.from);
  }
  for (const s of state.staleGrants) {
    eps.add(s.granter);
    eps.add(s.caller);
  }
  const list = [...eps].sort((a, b) => a - b);
  const W = 460;
  const H = 300;
  const R = 110;
  const pos = new Map(list.map((ep, i) => [ep, { x: W / 2 + R * Math.cos((2 * Math.PI * i) / list.length - Math.PI / 2), y: H / 2 + R * Math.sin((2 * Math.PI * i) / list.length - Math.PI / 2) }]));
  /** A curved arrow from a to b, bent by `bend` (so parallel grants do not overlap). */
  const curve = (a: number, b: number, bend: number): { d: string; mx: number; my: number } => {
    const p = pos.get(a) ?? { x: 0, y: 0 };
    const q = pos.get(b) ?? { x: 0, y: 0 };
    if (a === b) return { d: `M${p.x},${p.y} c 40,-50 -40,-50 0,0`, mx: p.x, my: p.y - 38 };
    const mx = (p.x + q.x) / 2 - (q.y - p.y) * bend;
    const my = (p.y + q.y) / 2 + (q.x - p.x) * bend;
    return { d: `M${p.x},${p.y} Q${mx},${my} ${q.x},${q.y}`, mx: (p.x + 2 * mx + q.x) / 4, my: (p.y + 2 * my + q.y) / 4 };
  };
  const seenPairs = new Map<string, number>();
  const bendFor = (a: number, b: number): number => {
    const k = `${a}>${b}`;
    const n = seenPairs.get(k) ?? 0;
    seenPairs.set(k, n + 1);
    return 0.15 + n * 0.12;
  };
  const labelAt = new Map<string, { x: number; y: number }>();
  const edges = state.grants
    .filter((g) => g.to >= 0)
    .map((g) => {
      const key = grantKey(g.owner, g.id);
      const c = curve(g.owner, g.to, bendFor(g.owner, g.to));
      labelAt.set(key, { x: c.mx, y: c.my });
      return { g, key, c };
    });
  return (
    <svg className="grantgraph" data-testid="grant-graph" viewBox={`0 0 ${W} ${H}`} width={W} height={H}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="16" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" fill="#9ab" />
        </marker>
      </defs>
      {edges.map(({ g, key, c }) => (
        <g
          key={key}
          className={`edge ${g.kind}${related.has(key) ? ' related' : ''}${g.access.endsWith('!') ? ' invalid' : ''}`}
          data-testid="grant-edge"
          data-grant={key}
          onClick={() => {
            onSelect(key);
          }}
        >
          <path d={c.d} markerEnd="url(#arrow)" />
          <text x={c.mx} y={c.my}>
            #{g.id} {g.access} {g.kind === 'indirect' ? '↪' : g.len !== undefined ? `${g.len} B` : ''}
          </text>
        </g>
      ))}
      {edges
        .filter(({ g }) => g.kind === 'indirect' && g.from !== undefined && g.grant !== undefined)
        .map(({ g, key }) => {
          const a = labelAt.get(key);
          const b = labelAt.get(grantKey(g.from ?? -1, g.grant ?? -1));
          return a === undefined || b === undefined ? null : <line key={`chain-${key}`} className="chain" x1={a.x} y1={a.y} x2={b.x} y2={b.y} />;
        })}
      {state.staleGrants.map((s) => {
        const c = curve(s.granter, s.caller, bendFor(s.granter, s.caller));
        return (
          <g key={`stale-${s.granter}:${s.gid}`} className="edge stale" data-testid="grant-stale">
            <path d={c.d} markerEnd="url(#arrow)" />
            <text x={c.mx} y={c.my}>
              ✗#{s.gid} ({s.result})
            </text>
          </g>
        );
      })}
      {list.map((ep) => {
        const p = pos.get(ep) ?? { x: 0, y: 0 };
        return (
          <g key={ep} className="node">
            <circle cx={p.x} cy={p.y} r={12} />
            <text x={p.x} y={p.y + 26}>
              {names.get(ep) ?? ep} ({ep})
            </text>
          </g>
        );
      })}
      {list.length === 0 ? (
        <text x={W / 2} y={H / 2} className="empty">
          no grant in any table yet
        </text>
      ) : null}
    </svg>
  );
}
