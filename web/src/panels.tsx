// The table panels: processes, address spaces (regions page by page), grants, DS, counters, the timeline.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ReactElement, ReactNode } from 'react';
import { ENOENT, ESRCH, errnoName } from '../../src/include/errno.ts';
import type { TraceEvent, TraceKind } from '../../src/include/trace.ts';
import type { Counters, ViewState } from './protocol.ts';
import type { Related } from './related.ts';
import { grantKey, regionKey } from './related.ts';

/** A labelled checkbox. */
export function Toggle(props: {
  testId?: string;
  checked: boolean;
  onChange: (on: boolean) => void;
  children: ReactNode;
}): ReactElement {
  return (
    <label>
      <input
        type="checkbox"
        data-testid={props.testId}
        checked={props.checked}
        onChange={(e) => {
          props.onChange(e.target.checked);
        }}
      />{' '}
      {props.children}
    </label>
  );
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

export function Processes(props: { state: ViewState; related: Related }): ReactElement {
  return (
    <table className="grid" data-testid="processes">
      <thead>
        <tr>
          <th>slot</th>
          <th>endpoint</th>
          <th>name</th>
          <th>state</th>
          <th>sys</th>
          <th>grant table</th>
        </tr>
      </thead>
      <tbody>
        {props.state.processes.map((p) => (
          <tr key={p.slot} className={props.related.endpoints.has(p.endpoint) ? 'related' : ''}>
            <td>{p.slot}</td>
            <td>{p.endpoint}</td>
            <td>{p.name}</td>
            <td>{p.state}</td>
            <td>{p.system ? '✓' : ''}</td>
            <td>{p.grantTable === null ? '' : `${hex(p.grantTable.addr)} ×${p.grantTable.entries}`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const PAGE_CLASS: Record<string, string> = {
  '.': 'absent',
  w: 'writable',
  r: 'readonly',
  C: 'cow',
  S: 'smap',
};
/** Absent runs longer than this are drawn as one gap. */
const GAP = 16;

export function AddressSpaces(props: {
  state: ViewState;
  related: Related;
  onSelect: (key: string) => void;
}): ReactElement {
  const { state, related, onSelect } = props;
  const [all, setAll] = useState(false);
  const spaces = state.spaces.filter(
    (s) =>
      all ||
      s.regions.some(
        (r) => r.frames.length > 0 && !['memory', 'log', 'tty', 'mfs', 'pfs', 'vfs'].includes(s.name),
      ),
  );
  return (
    <div className="spaces" data-testid="spaces">
      <label className="small">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) => {
            setAll(e.target.checked);
          }}
        />{' '}
        all processes
      </label>
      {spaces.map((s) => (
        <div key={s.slot} className={`space${related.endpoints.has(s.endpoint) ? ' related' : ''}`}>
          <div className="title">
            {s.name}{' '}
            <span className="dim">
              slot {s.slot}, ep {s.endpoint}
            </span>
          </div>
          {s.regions.map((r) => {
            const key = regionKey(s.endpoint, r.vaddr);
            return (
              <div
                key={r.vaddr}
                className={`region${related.regions.has(key) ? ' related' : ''}`}
                data-testid="region"
                onClick={() => {
                  onSelect(key);
                }}
              >
                <span className="addr">
                  {hex(r.vaddr)} {r.pages}p {r.heap ? 'heap' : ''} <span className="dim">{r.flags}</span>
                </span>
                <span className="pages">
                  {r.runs.map(([c, n], i) =>
                    c === '.' && n > GAP ? (
                      <span key={i} className="gap">
                        ⋯{n}
                      </span>
                    ) : (
                      <span
                        key={i}
                        className={`run ${PAGE_CLASS[c] ?? ''}`}
                        style={{ width: `${Math.min(n, 512) * 5}px` }}
                        title={`${n} page(s): ${PAGE_CLASS[c] ?? c}`}
                      />
                    ),
                  )}
                </span>
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}

export function Grants(props: {
  state: ViewState;
  names: ReadonlyMap<number, string>;
  related: Related;
  showStale: boolean;
  onSelect: (key: string) => void;
}): ReactElement {
  const { state, names, related, showStale, onSelect } = props;
  return (
    <table className="grid" data-testid="grants">
      <thead>
        <tr>
          <th>owner</th>
          <th>id</th>
          <th>kind</th>
          <th>access</th>
          <th>to</th>
          <th>range</th>
        </tr>
      </thead>
      <tbody>
        {state.grants.map((g) => {
          const key = grantKey(g.owner, g.id);
          return (
            <tr
              key={key}
              className={`${related.grants.has(key) ? 'related' : ''}${g.access.endsWith('!') ? ' invalid' : ''}`}
              onClick={() => {
                onSelect(key);
              }}
            >
              <td>{g.ownerName}</td>
              <td>{g.id}</td>
              <td>{g.kind}</td>
              <td>{g.access}</td>
              <td>{g.to >= 0 ? (names.get(g.to) ?? g.to) : ''}</td>
              <td>{g.range}</td>
            </tr>
          );
        })}
        {(showStale ? state.staleGrants : []).map((s) => (
          <tr key={`stale-${s.granter}:${s.gid}`} className="stale">
            <td>{names.get(s.granter) ?? s.granter}</td>
            <td>{s.gid}</td>
            <td colSpan={4}>
              gone (revoked or stale): last use by {names.get(s.caller) ?? s.caller} → {errnoName(s.result)}
            </td>
          </tr>
        ))}
        {state.mappings.map((m, i) => (
          <tr key={`map-${i}`} className="smap">
            <td colSpan={6}>
              safemap: {names.get(m.grantee) ?? m.grantee} {hex(m.granteeAddr)} ←{' '}
              {names.get(m.owner) ?? m.owner} {hex(m.ownerAddr)} ({m.bytes} B, {m.writable ? 'rw' : 'ro'},
              grant {m.granter}:{m.gid})
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Ds(props: { state: ViewState }): ReactElement {
  const { entries, subscriptions } = props.state.ds;
  return (
    <div data-testid="ds">
      <table className="grid">
        <thead>
          <tr>
            <th>key</th>
            <th>type</th>
            <th>owner</th>
            <th>value</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.slot}>
              <td>{e.key}</td>
              <td>{e.type}</td>
              <td>{e.owner}</td>
              <td>{typeof e.value === 'object' ? JSON.stringify(e.value) : String(e.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="grid">
        <thead>
          <tr>
            <th>subscriber</th>
            <th>pattern</th>
            <th>pending</th>
          </tr>
        </thead>
        <tbody>
          {subscriptions.map((s) => (
            <tr key={s.slot}>
              <td>{s.owner}</td>
              <td>{s.pattern}</td>
              <td>{s.pending.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Simulated µs as shown (3 decimals, as `grantvm inspect` prints them). */
const micros = (us: number): string => us.toFixed(3);

export function CountersBar(props: { c: Counters }): ReactElement {
  const c = props.c;
  const items: [string, number][] = [
    ['frames free', c.framesFree],
    ['frames used', c.framesUsed],
    ['page faults', c.faults],
    ['COW breaks', c.cowBreaks],
    ['safecopies', c.copies],
    ['grant failures', c.grantFailures],
  ];
  return (
    <div className="counters" data-testid="counters">
      <span data-counter="step">
        step <b>{c.step}</b>
      </span>
      <span
        data-counter="time"
        data-micros={c.micros}
        title="simulated time since boot under the cost profile (docs/cost-model.md)"
      >
        <b>{micros(c.micros)}</b> µs simulated ({c.profile})
      </span>
      {items.map(([k, v]) => (
        <span key={k} data-counter={k}>
          <b>{v}</b> {k}
        </span>
      ))}
    </div>
  );
}

/** ' = OK', ' = EPERM' (a result by its errno name; positive results, e.g. counts, as numbers). */
const res = (r: number): string => ` = ${errnoName(r)}`;

export function describeEvent(e: TraceEvent, names: ReadonlyMap<number, string>): string {
  const n = (ep: number): string => `${names.get(ep) ?? ep}`;
  switch (e.kind) {
    case 'proc':
      return `${e.op} ${e.name} (${e.ep})`;
    case 'ipc':
      return `${e.op} ${n(e.from)} → ${n(e.to)} type ${e.mtype}${res(e.result)}`;
    case 'kcall':
      return `${n(e.caller)}: ${e.call}${res(e.result)}${routine(e) ? ' (nothing pending)' : ''}`;
    case 'fault':
      return `${n(e.ep)} ${e.present ? 'protection' : 'page'} fault at ${hex(e.vaddr)} (${e.write ? 'write' : 'read'})`;
    case 'vmreq':
      return `VM request ${e.op}: ${n(e.requestor)} type ${e.reqType} target ${n(e.target)}${e.result !== undefined ? res(e.result) : ''}`;
    case 'signal':
      return `signal ${e.sig} to ${n(e.ep)}`;
    case 'vm':
      return `VM ${e.op} ${n(e.ep)}${e.vaddr !== undefined ? ` ${hex(e.vaddr)}` : ''}${e.pages !== undefined ? ` ${e.pages}p` : ''}${e.result !== undefined ? res(e.result) : ''}`;
    case 'grant':
      return `${n(e.caller)}: ${e.op} grant ${n(e.granter)}:${e.gid}${res(e.result)}`;
    case 'ds':
      return `${n(e.caller)}: DS ${e.op} '${e.key}'${res(e.result)}${routine(e) ? ' (nothing changed)' : ''}`;
    case 'panic':
      return `PANIC ${e.message}`;
  }
}

/**
 * A negative result that is the normal end of a polling loop, not a failure: VM asking the kernel for the
 * next memory request (SYS_VMCTL → ESRCH: none pending) and DS check with no changed entry left (ENOENT).
 */
export function routine(e: TraceEvent): boolean {
  return (
    (e.kind === 'kcall' && e.call === 'SYS_VMCTL' && e.result === ESRCH) ||
    (e.kind === 'ds' && e.op === 'check' && e.result === ENOENT)
  );
}

/** A failure to show in red: a negative result that is not routine, or a panic. */
export function failed(e: TraceEvent): boolean {
  return e.kind === 'panic' || ('result' in e && typeof e.result === 'number' && e.result < 0 && !routine(e));
}

const KINDS: TraceKind[] = ['proc', 'ipc', 'kcall', 'fault', 'vmreq', 'signal', 'vm', 'grant', 'ds', 'panic'];
/** Events listed around the cursor. */
const WINDOW = 120;

export function Timeline(props: {
  events: readonly TraceEvent[];
  seen: number;
  names: ReadonlyMap<number, string>;
  /** The profile's cycles per µs, for the events' time stamps. */
  clockMHz: number;
  onGoto: (step: number) => void;
}): ReactElement {
  const { events, seen, names, clockMHz, onGoto } = props;
  const [hidden, setHidden] = useState<ReadonlySet<TraceKind>>(new Set(['ipc']));
  const rows = useMemo(() => {
    // the events may still be arriving (in chunks) for a scenario just opened
    const at = Math.min(seen, events.length);
    const shown = (i: number): boolean => {
      const e = events[i];
      return e !== undefined && !hidden.has(e.kind);
    };
    const before: number[] = [];
    for (let i = at - 1; i >= 0 && before.length < WINDOW / 2; i--) if (shown(i)) before.push(i);
    const after: number[] = [];
    for (let i = at; i < events.length && after.length < WINDOW / 2; i++) if (shown(i)) after.push(i);
    return [...before.reverse(), ...after];
  }, [events, seen, hidden]);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // keep the current event in view (scrolling the list only, not the page)
    const b = box.current;
    const cur = b?.querySelector<HTMLElement>('.current');
    if (b !== null && cur !== null && cur !== undefined)
      b.scrollTop = cur.offsetTop - b.offsetTop - b.clientHeight / 2;
  }, [rows]);
  return (
    <div className="timeline" data-testid="timeline">
      <div className="filters">
        {KINDS.map((k) => (
          <label key={k}>
            <input
              type="checkbox"
              checked={!hidden.has(k)}
              onChange={() => {
                const h = new Set(hidden);
                if (h.has(k)) h.delete(k);
                else h.add(k);
                setHidden(h);
              }}
            />
            {k}
          </label>
        ))}
      </div>
      <div className="events" ref={box}>
        {rows.map((i) => {
          const e = events[i] as TraceEvent;
          const bad = failed(e);
          return (
            <div
              key={i}
              className={`ev ${e.kind}${i < seen ? ' past' : ''}${i === seen - 1 ? ' current' : ''}${bad ? ' bad' : ''}`}
              data-testid="event"
              data-index={i}
              onClick={() => {
                onGoto(e.step + 1);
              }}
            >
              <span className="step">{e.step}</span>
              <span className="t" title="simulated time, µs">
                {e.t === undefined ? '' : micros(e.t / clockMHz)}
              </span>
              <span className="kind">{e.kind}</span>
              <span className="dur" title="duration from the kernel entry, µs" data-testid="duration">
                {e.t !== undefined && e.t0 !== undefined ? `${micros((e.t - e.t0) / clockMHz)} µs` : ''}
              </span>
              {describeEvent(e, names)}
            </div>
          );
        })}
      </div>
    </div>
  );
}
