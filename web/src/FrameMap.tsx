// The physical frame map: one cell per 4 KiB frame on a <canvas>, coloured by kind, owner and refcount
// (frame codes of src/sim/inspect.ts); hover shows a frame, click selects it.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ReactElement } from 'react';
import { FRAME, FRAME_KIND_NAMES, frameKind, frameOwnerSlot, frameRefcount } from '../../src/sim/inspect.ts';

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

export const LEGEND: { kind: number; label: string }[] = FRAME_KIND_NAMES.map((label, kind) => ({ kind, label }));

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
  const cols = frames.length <= 16384 ? 128 : 256;
  const rows = Math.ceil(frames.length / cols);
  const cell = frames.length <= 4096 ? 6 : frames.length <= 16384 ? 4 : 2;

  /** What the canvas shows now: while nothing is selected, a new map repaints only the frames that changed. */
  const drawn = useRef<Uint32Array | null>(null);

  useEffect(() => {
    const c = canvas.current;
    const g = c?.getContext('2d');
    if (c === null || g === null || g === undefined) return;
    const prev = drawn.current;
    const plain = highlight.size === 0 && selected === null;
    drawn.current = plain ? frames : null;
    if (plain && prev !== null && prev.length === frames.length) {
      const inner = cell >= 4 ? cell - 1 : cell;
      for (let f = 0; f < frames.length; f++) {
        const code = frames[f] ?? 0;
        if (code === prev[f]) continue;
        const [r, gr, b] = frameColor(code);
        g.fillStyle = `rgb(${r},${gr},${b})`;
        g.fillRect((f % cols) * cell, Math.floor(f / cols) * cell, inner, inner);
      }
      return;
    }
    const img = g.createImageData(cols * cell, rows * cell);
    const d = img.data;
    const w = cols * cell;
    const dim = highlight.size > 0;
    for (let f = 0; f < frames.length; f++) {
      let [r, gr, b] = frameColor(frames[f] ?? 0);
      if (dim && !highlight.has(f)) {
        r >>= 2;
        gr >>= 2;
        b >>= 2;
      }
      const x0 = (f % cols) * cell;
      const y0 = Math.floor(f / cols) * cell;
      for (let y = y0; y < y0 + cell; y++) {
        for (let x = x0; x < x0 + cell; x++) {
          // one-pixel gaps between cells of 4 px and more
          const edge = cell >= 4 && (x === x0 + cell - 1 || y === y0 + cell - 1);
          const i = (y * w + x) * 4;
          d[i] = edge ? 16 : r;
          d[i + 1] = edge ? 18 : gr;
          d[i + 2] = edge ? 22 : b;
          d[i + 3] = 255;
        }
      }
    }
    g.putImageData(img, 0, 0);
    // outline the related frames, so that a few small cells stand out on a large map
    if (highlight.size > 0 && highlight.size <= 4096) {
      g.strokeStyle = '#ffd24a';
      g.lineWidth = 1;
      for (const f of highlight) g.strokeRect((f % cols) * cell - 1.5, Math.floor(f / cols) * cell - 1.5, cell + 2, cell + 2);
    }
    if (selected !== null) {
      g.strokeStyle = '#ffffff';
      g.lineWidth = 2;
      g.strokeRect((selected % cols) * cell - 1, Math.floor(selected / cols) * cell - 1, cell + 2, cell + 2);
    }
  }, [frames, highlight, selected, cols, rows, cell]);

  const frameAt = (e: React.MouseEvent<HTMLCanvasElement>): number | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * cols);
    const y = Math.floor(((e.clientY - r.top) / r.height) * rows);
    const f = y * cols + x;
    return x >= 0 && x < cols && f >= 0 && f < frames.length ? f : null;
  };
  const counts = useMemo(() => {
    const n = FRAME_KIND_NAMES.map(() => 0);
    for (const c of frames) n[frameKind(c)] = (n[frameKind(c)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(FRAME).map(([k, v]) => [k, n[v] ?? 0]));
  }, [frames]);
  const code = hover === null ? 0 : (frames[hover] ?? 0);
  const owner = frameOwnerSlot(code);
  return (
    <div className="framemap">
      <canvas
        ref={canvas}
        data-testid="framemap"
        data-counts={JSON.stringify(counts)}
        data-highlighted={highlight.size}
        data-cols={cols}
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
          ? `${frames.length} frames of 4 KiB — hover for details, click to see every mapping`
          : `frame ${hover} (0x${(hover * 4096).toString(16)}): ${FRAME_KIND_NAMES[frameKind(code)] ?? '?'}${frameRefcount(code) > 0 ? `, refcount ${frameRefcount(code)}` : ''}${owner >= 0 ? `, owner ${names.get(owner) ?? '?'} (slot ${owner})` : ''}`}
      </div>
      <div className="legend">
        {LEGEND.map(({ kind, label }) => {
          const [r, g, b] = frameColor(kind | (kind === FRAME.COW ? 2 << 4 : 0) | (kind >= FRAME.PRIVATE ? 1 << 12 : 0));
          return (
            <span key={kind}>
              <i style={{ background: `rgb(${r},${g},${b})` }} />
              {label}
            </span>
          );
        })}
        <span className="note">private frames vary in tone by owner; COW frames darken as the refcount grows</span>
      </div>
    </div>
  );
}
