// Terminal output helpers: aligned tables, colours (on for a terminal or FORCE_COLOR, off for a pipe or a file,
// and always off with NO_COLOR), sizes. Entry points: table, color, formatBytes.
import pc from 'picocolors';

// A boolean on purpose: createColors(undefined) falls back to picocolors' own guess, which says yes under CI=1.
export const color = pc.createColors(pc.isColorSupported && (process.stdout.isTTY || Boolean(process.env.FORCE_COLOR)));

/** Left-aligned columns; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const fmt = (r: readonly string[], raw: readonly (string | number)[]): string =>
    r
      .map((c, i) => (typeof raw[i] === 'number' ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const lines = [color.bold(fmt(headers, headers)), ...cells.map((r, i) => fmt(r, rows[i] ?? []))];
  return lines.join('\n');
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(n % 1024 ** 2 === 0 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
  return `${n} B`;
}

export const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
