// A self-contained SVG line chart (no dependencies, no scripts, no external fonts or styles): axes with ticks
// and labels, light grid lines, one <polyline> per series and a legend entry per series. `grantvm bench --svg`
// draws the safeperf curves with it. Entry points: lineChartSvg, niceTicks, escapeXml.

export interface ChartSeries {
  name: string;
  /** One y per x of the chart; null or a non-finite value leaves the point out. */
  values: readonly (number | null)[];
  /** Stroke colour (CSS); by default one of a fixed palette. */
  color?: string;
  /** Dashed line (e.g. the write-touch variant of a read-touch series). */
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  /** Optional second line under the title (e.g. node version and date). */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  x: readonly number[];
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi <= lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo));
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v < hi + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmtTick = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));
const px = (v: number): string => v.toFixed(1);

export function lineChartSvg(c: LineChart): string {
  const width = c.width ?? 900;
  const height = c.height ?? 540;
  // Wide enough for the longest label (about 7 px per character at 12 px) after the 36 px sample line.
  const legendWidth = Math.max(150, 52 + 7 * Math.max(0, ...c.series.map((x) => x.name.length)));
  const m = { left: 72, right: legendWidth + 24, top: c.subtitle === undefined ? 48 : 64, bottom: 58 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const ys = c.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const xTicks = niceTicks(Math.min(...c.x, 0), Math.max(...c.x, 1), 10);
  const yTicks = niceTicks(Math.min(0, ...ys), Math.max(...ys, 0), 6);
  const x0 = xTicks[0] ?? 0;
  const x1 = xTicks.at(-1) ?? 1;
  const y0 = yTicks[0] ?? 0;
  const y1 = yTicks.at(-1) ?? 1;
  const sx = (v: number): number => m.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (v: number): number => m.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(c.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${px(width / 2)}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(c.title)}</text>`);
  if (c.subtitle !== undefined)
    out.push(`<text x="${px(width / 2)}" y="44" text-anchor="middle" fill="#555555">${escapeXml(c.subtitle)}</text>`);

  // Grid and ticks.
  out.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">');
  for (const t of yTicks) out.push(`<line x1="${px(m.left)}" y1="${px(sy(t))}" x2="${px(m.left + plotW)}" y2="${px(sy(t))}"/>`);
  for (const t of xTicks) out.push(`<line x1="${px(sx(t))}" y1="${px(m.top)}" x2="${px(sx(t))}" y2="${px(m.top + plotH)}"/>`);
  out.push('</g>');
  out.push('<g class="axes" stroke="#000000" stroke-width="1">');
  out.push(`<line x1="${px(m.left)}" y1="${px(m.top + plotH)}" x2="${px(m.left + plotW)}" y2="${px(m.top + plotH)}"/>`);
  out.push(`<line x1="${px(m.left)}" y1="${px(m.top)}" x2="${px(m.left)}" y2="${px(m.top + plotH)}"/>`);
  for (const t of xTicks) out.push(`<line x1="${px(sx(t))}" y1="${px(m.top + plotH)}" x2="${px(sx(t))}" y2="${px(m.top + plotH + 5)}"/>`);
  for (const t of yTicks) out.push(`<line x1="${px(m.left - 5)}" y1="${px(sy(t))}" x2="${px(m.left)}" y2="${px(sy(t))}"/>`);
  out.push('</g>');
  out.push('<g class="tick-labels" fill="#333333">');
  for (const t of xTicks)
    out.push(`<text x="${px(sx(t))}" y="${px(m.top + plotH + 19)}" text-anchor="middle">${fmtTick(t)}</text>`);
  for (const t of yTicks)
    out.push(`<text x="${px(m.left - 9)}" y="${px(sy(t) + 4)}" text-anchor="end">${fmtTick(t)}</text>`);
  out.push('</g>');
  out.push(
    `<text class="x-label" x="${px(m.left + plotW / 2)}" y="${px(height - 14)}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`,
  );
  const yMid = m.top + plotH / 2;
  out.push(
    `<text class="y-label" x="18" y="${px(yMid)}" text-anchor="middle" transform="rotate(-90 18 ${px(yMid)})">${escapeXml(c.yLabel)}</text>`,
  );

  // The series, then the legend.
  const styled = c.series.map((s, i) => ({ ...s, stroke: s.color ?? PALETTE[i % PALETTE.length] ?? '#000000' }));
  out.push('<g class="series" fill="none" stroke-width="2" stroke-linejoin="round">');
  for (const s of styled) {
    const points = c.x
      .map((x, i) => [x, s.values[i]] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null && p[1] !== undefined && Number.isFinite(p[1]))
      .map(([x, y]) => `${px(sx(x))},${px(sy(y))}`)
      .join(' ');
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline stroke="${escapeXml(s.stroke)}"${dash} points="${points}"><title>${escapeXml(s.name)}</title></polyline>`);
  }
  out.push('</g>');
  const lx = width - legendWidth - 8;
  const ly = m.top + 4;
  out.push('<g class="legend">');
  out.push(
    `<rect x="${px(lx - 8)}" y="${px(ly - 8)}" width="${legendWidth}" height="${styled.length * 20 + 10}" fill="#ffffff" stroke="#cccccc"/>`,
  );
  for (const [i, s] of styled.entries()) {
    const y = ly + 8 + i * 20;
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${px(lx)}" y1="${px(y)}" x2="${px(lx + 28)}" y2="${px(y)}" stroke="${escapeXml(s.stroke)}" stroke-width="2"${dash}/>`,
    );
    out.push(`<text x="${px(lx + 36)}" y="${px(y + 4)}">${escapeXml(s.name)}</text>`);
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
