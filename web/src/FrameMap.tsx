// The physical frame map: one cell per 4 KiB frame on a <canvas>, coloured by kind, owner and refcount
// (frame codes of src/sim/inspect.ts); hover shows a frame, click selects it. "in use only" packs the frames
// that are not free one after the other (the activity of a large memory sits in a few rows otherwise), and
// the zoom sets the cell size. describeFrame words a frame for the hover line and the click list alike.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ReactElement } from 'react';
import { FRAME, FRAME_KIND_NAMES, frameKind, frameOwnerSlot, frameRefcount } from '../../src/sim/inspect.ts';
import { Toggle } from './panels.tsx';

/** RGB of a frame code: the kind picks the hue family, the owner slot varies private frames, refcount darkens COW. */
export function frameColor(code: number): [number, number, number] {
  const kind = frameKind(code);
  switch (kind) {
    case FRAME.FREE:
      return [34, 38, 46];
    case FRAME.RESERVED:
      return [90, 90, 90];
    case FRAME.INTERNAL:
      return [70, 110, 160];
    case FRAME.PRIVATE: {
      const slot = frameOwnerSlot(code);
      const g = 150 + ((slot * 37) % 90);
      return [60 + ((slot * 53) % 60), g, 90];
    }
    case FRAME.COW: {
      const rc = Math.min(frameRefcount(code), 6);
      return [255, 190 - rc * 18, 40];
    }
    case FRAME.SMAP:
      return [200, 80, 230];
    default:
      return [40, 200, 200];
  }
}

export const LEGEND: { kind: number; label: string }[] = FRAME_KIND_NAMES.map((label, kind) => ({
  kind,
  label,
}));

/** 'COW shared, refcount 2, owner init (slot 5)': a frame's kind as its colour shows it. */
export function describeFrame(code: number, names: ReadonlyMap<number, string>): string {
  const owner = frameOwnerSlot(code);
  const rc = frameRefcount(code);
  return `${FRAME_KIND_NAMES[frameKind(code)] ?? '?'}${rc > 0 ? `, refcount ${rc}` : ''}${owner >= 0 ? `, owner ${names.get(owner) ?? '?'} (slot ${owner})` : ''}`;
}

/** Cell sizes (pixels) the zoom offers; 0 picks one by the number of cells. */
const ZOOMS = [0, 2, 4, 6, 8, 12, 16];

/** The frames shown, cell by cell: all of them, or those in use (not free) in frame order. */
function cellsOf(frames: Uint32Array, inUse: boolean): Int32Array {
  if (!inUse) return Int32Array.from({ length: frames.length }, (_, i) => i);
  let n = 0;
  for (const c of frames) if (frameKind(c) !== FRAME.FREE) n++;
  const out = new Int32Array(n);
  let j = 0;
  frames.forEach((c, i) => {
    if (frameKind(c) !== FRAME.FREE) out[j++] = i;
  });
  return out;
}

/** Columns and cell size for n cells: at most 128 columns, cells as large as a 768-pixel-wide map allows. */
function layout(n: number, zoom: number): { cols: number; cell: number } {
  const cols = n <= 2048 ? 64 : n <= 16384 ? 128 : 256;
  const auto = n <= 512 ? 12 : n <= 4096 ? 6 : n <= 16384 ? 4 : 2;
  return { cols, cell: zoom > 0 ? zoom : auto };
}

export function FrameMap(props: {
  frames: Uint32Array;
  highlight: ReadonlySet<number>;
  selected: number | null;
  names: ReadonlyMap<number, string>;
  onSelect: (frame: number) => void;
}): ReactElement {
  const { frames, highlight, selected, names, onSelect } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<number | null>(null);
  const [inUse, setInUse] = useState(true);
  const [zoom, setZoom] = useState(0);
  const cells = useMemo(() => cellsOf(frames, inUse), [frames, inUse]);
  const { cols, cell } = layout(cells.length, zoom);
  const rows = Math.max(1, Math.ceil(cells.length / cols));

  useEffect(() => {
    const g = canvas.current?.getContext('2d');
    if (g === null || g === undefined) return;
    paint(g, frames, cells, { cols, rows, cell, highlight, selected });
  }, [frames, cells, highlight, selected, cols, rows, cell]);

  const frameAt = (e: React.MouseEvent<HTMLCanvasElement>): number | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * cols);
    const y = Math.floor(((e.clientY - r.top) / r.height) * rows);
    const i = y * cols + x;
    return x >= 0 && x < cols && i >= 0 && i < cells.length ? (cells[i] ?? null) : null;
  };
  const counts = useMemo(() => {
    const n = FRAME_KIND_NAMES.map(() => 0);
    for (const c of frames) n[frameKind(c)] = (n[frameKind(c)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(FRAME).map(([k, v]) => [k, n[v] ?? 0]));
  }, [frames]);
  return (
    <div className="framemap">
      <div className="small framecontrols">
        <Toggle testId="frames-in-use" checked={inUse} onChange={setInUse}>
          in use only ({cells.length} of {frames.length} frames shown)
        </Toggle>{' '}
        <select
          data-testid="frames-zoom"
          value={zoom}
          onChange={(e) => {
            setZoom(Number(e.target.value));
          }}
          title="cell size"
        >
          {ZOOMS.map((z) => (
            <option key={z} value={z}>
              {z === 0 ? 'zoom: auto' : `${z} px`}
            </option>
          ))}
        </select>
      </div>
      <canvas
        ref={canvas}
        data-testid="framemap"
        data-counts={JSON.stringify(counts)}
        data-highlighted={highlight.size}
        data-cols={cols}
        data-cells={cells.length}
        width={cols * cell}
        height={rows * cell}
        onMouseMove={(e) => {
          setHover(frameAt(e));
        }}
        onMouseLeave={() => {
          setHover(null);
        }}
        onClick={(e) => {
          const f = frameAt(e);
          if (f !== null) onSelect(f);
        }}
      />
      <div className="hover" data-testid="frame-hover">
        {hover === null
          ? `${inUse ? 'frames in use, in frame order' : `${frames.length} frames of 4 KiB`} — hover for details, click to see every mapping`
          : `frame ${hover} (0x${(hover * 4096).toString(16)}): ${describeFrame(frames[hover] ?? 0, names)}`}
      </div>
      <div className="legend">
        {LEGEND.map(({ kind, label }) => {
          const [r, g, b] = frameColor(
            kind | (kind === FRAME.COW ? 2 << 4 : 0) | (kind >= FRAME.PRIVATE ? 1 << 12 : 0),
          );
          return (
            <span key={kind}>
              <i style={{ background: `rgb(${r},${g},${b})` }} />
              {label}
            </span>
          );
        })}
        <span className="note">
          private frames vary in tone by owner; COW frames darken as the refcount grows
        </span>
      </div>
    </div>
  );
}

/** Paints every cell (dimming the frames outside a selection) and outlines the related and selected frames. */
function paint(
  g: CanvasRenderingContext2D,
  frames: Uint32Array,
  cells: Int32Array,
  o: { cols: number; rows: number; cell: number; highlight: ReadonlySet<number>; selected: number | null },
): void {
  const { cols, rows, cell, highlight, selected } = o;
  const w = cols * cell;
  const img = g.createImageData(w, rows * cell);
  const d = new Uint32Array(img.data.buffer);
  d.fill(0xff161210); // gaps and the empty tail: rgb(16,18,22), as little-endian RGBA
  const dim = highlight.size > 0;
  const inner = cell >= 4 ? cell - 1 : cell; // one-pixel gaps between cells of 4 px and more
  const where = new Map<number, number>();
  cells.forEach((f, i) => {
    let [r, gr, b] = frameColor(frames[f] ?? 0);
    if (dim && !highlight.has(f)) {
      r >>= 2;
      gr >>= 2;
      b >>= 2;
    }
    const px = (0xff << 24) | (b << 16) | (gr << 8) | r;
    const x0 = (i % cols) * cell;
    const y0 = Math.floor(i / cols) * cell;
    for (let y = y0; y < y0 + inner; y++) d.fill(px, y * w + x0, y * w + x0 + inner);
    if (dim || selected !== null) where.set(f, i);
  });
  g.putImageData(img, 0, 0);
  const box = (f: number, pad: number): [number, number, number, number] | null => {
    const i = where.get(f);
    return i === undefined
      ? null
      : [(i % cols) * cell - pad, Math.floor(i / cols) * cell - pad, cell + 2 * pad - 1, cell + 2 * pad - 1];
  };
  // outline the related frames, so that a few small cells stand out on a large map
  if (highlight.size > 0 && highlight.size <= 4096) {
    g.strokeStyle = '#ffd24a';
    g.lineWidth = 1;
    for (const f of highlight) {
      const b = box(f, 1.5);
      if (b !== null) g.strokeRect(...b);
    }
  }
  const b = selected === null ? null : box(selected, 1);
  if (b !== null) {
    g.strokeStyle = '#ffffff';
    g.lineWidth = 2;
    g.strokeRect(...b);
  }
}
