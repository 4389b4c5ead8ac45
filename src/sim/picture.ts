// A process's memory picture for reports: each region with one character per page — '.' not present,
// 'w' private and writable, 'r' present but read-only, 'C' copy-on-write shared (refcount > 1), 'S' safemap
// shared — and the physical blocks behind it. Entry point: memoryPicture.
import { pageChar } from './inspect.ts';
import type { System } from './system.ts';

const PAGE = 4096;
const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** Lines describing the regions of process `ep` (at most `maxPages` characters per region). */
export function memoryPicture(sys: System, ep: number, maxPages = 32): string[] {
  const view = sys.vm.process(ep);
  if (view === null) return [`process ${ep}: no address space`];
  const lines: string[] = [];
  for (const r of view.regions) {
    const pages = r.length / PAGE;
    const shown = Math.min(pages, maxPages);
    let map = '';
    for (let i = 0; i < shown; i++) map += pageChar(sys.vm.refAt(ep, r.vaddr + i * PAGE), sys.vm.pte(ep, r.vaddr + i * PAGE));
    const more = pages > shown ? `… (+${pages - shown} pages)` : '';
    const blocks = r.refs.map((b) => `${hex(b.phys)}×${b.length / PAGE}${b.refcount > 1 ? ` rc${b.refcount}` : ''}`);
    lines.push(`  ${hex(r.vaddr)} ${String(pages).padStart(5)}p ${r.isHeap ? 'heap ' : '     '}[${map}${more}] ${blocks.slice(0, 4).join(' ')}${blocks.length > 4 ? ' …' : ''}`);
  }
  return lines;
}

/** The key to the page characters of {@link memoryPicture}, one line to print with a picture. */
export const PICTURE_LEGEND = "pages: '.' absent, 'w' private writable, 'r' read-only, 'C' copy-on-write shared, 'S' safemap shared";
