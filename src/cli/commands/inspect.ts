// `grantvm inspect [scenario] [--at STEP]`: boots a system, runs a scenario (built-in or a scenario file) if
// one is named, and dumps its state in the spirit of MINIX's IS server: process table, privileges, physical
// memory and the frame map, region maps with page-table occupancy, grant tables, safemap records, DS and
// statistics. With --at the dump is taken at kernel step STEP (a host breakpoint: the schedule is unchanged,
// so it is the state the same run has at that step); a STEP the run never reaches is a usage error (exit 2).
import type { Snapshot } from '../../sim/inspect.ts';
import type { FrameRun } from '../../servers/vm/state.ts';
import { limitsFromOptions, UsageError } from '../options.ts';
import type { CommonOptions, LimitOptions } from '../options.ts';
import { oneScenario, withRunner } from '../runner.ts';
import { color, formatBytes, hex, table } from '../format.ts';
import { checkedOverrides, replayCommand } from './run.ts';
import { timeLines } from '../timeview.ts';

interface InspectOptions extends CommonOptions, LimitOptions {
  json?: boolean;
  at?: number;
}

export async function inspectCommand(name: string | undefined, o: InspectOptions): Promise<void> {
  const overrides = checkedOverrides(o);
  const snap = await withRunner(limitsFromOptions(o), async (runner) => {
    const info = name === undefined ? undefined : await oneScenario(runner, name, 'inspect');
    const what = info === undefined ? 'the boot' : `'${info.name}'`;
    const replay = `${replayCommand(name ?? '', overrides.seed ?? info?.seed ?? 1, o, 'inspect')}${o.at !== undefined ? ` --at ${o.at}` : ''}`;
    const r = await runner.run({ label: info?.name ?? 'the boot', replay, ...(info !== undefined ? { scenario: info.arg } : {}), overrides, snapshot: o.at ?? 'end' });
    if (r.snapshot !== undefined && (o.at !== undefined || r.error === null)) return r.snapshot;
    if (r.error !== null) {
      // A scenario that panics, throws or runs into the step limit: one line, exit status 1 (grantvm run reports it in full).
      process.stderr.write(`grantvm: ${what} stopped: ${r.error.split('\n')[0] ?? ''}\n`);
      process.exitCode = 1;
      return null;
    }
    throw new UsageError(`step ${o.at ?? 0} is past the end of the run: ${what} ended at step ${r.steps}`);
  });
  if (snap === null) return;
  if (o.json === true) console.log(JSON.stringify(snap, null, 2));
  else printSnapshot(snap);
}

function section(title: string): void {
  console.log(`\n${color.bold(color.cyan(title))}`);
}

export function printSnapshot(s: Snapshot): void {
  console.log(color.dim(`step ${s.step}, alarm clock ${s.now} ms, simulated time ${s.time.totalMicros.toFixed(3)} µs (${s.time.profile})`));
  section('Process table');
  console.log(
    table(
      ['slot', 'endpoint', 'gen', 'name', 'state', 'prio', 'priv', 'page dir', 'grant table'],
      s.processes.map((p) => [
        p.slot,
        p.endpoint,
        p.generation,
        p.name,
        p.state,
        p.priority,
        p.system ? 'system' : 'user',
        p.pageDirectory === null ? '-' : `frame ${p.pageDirectory}`,
        p.grantTable === null ? '-' : `${hex(p.grantTable.addr)} × ${p.grantTable.entries}`,
      ]),
    ),
  );
  section('Privileges');
  console.log(
    table(
      ['name', 'ipc to', 'kernel calls'],
      s.processes.map((p) => [p.name, p.ipcTo, p.kernelCalls.length === 50 ? 'all' : p.kernelCalls.map((c) => c.replace('SYS_', '')).join(' ') || '-']),
    ),
  );
  printMemory(s);
  printFrameMap(s);
  printGrants(s);
  printDs(s);
  printStats(s);
}

/** Who a frame run belongs to, for the text dump: like frames (same use, same holders, same sharing) read alike. */
function frameLabel(r: FrameRun, names: ReadonlyMap<number, string>): { use: string; holders: string; refcount: string; sharing: string } {
  const i = r.info;
  switch (i.use) {
    case 'process': {
      const eps = [...new Set(i.refs.map((x) => x.endpoint))];
      const sharing = [i.cow ? 'COW' : '', i.smap ? 'SMAP' : ''].filter((x) => x !== '').join('+') || 'private';
      return { use: 'process', holders: eps.map((e) => `${names.get(e) ?? '?'}(${e})`).join(' '), refcount: String(i.refcount), sharing };
    }
    case 'vm':
      return { use: 'VM-internal', holders: i.what.replace(/ of (slot \d+|EXECTMP)$/, ''), refcount: '', sharing: '' };
    default:
      return { use: i.use, holders: '', refcount: '', sharing: '' };
  }
}

/** The frame map in runs of like frames (full detail, block by block, in --json). */
function printFrameMap(s: Snapshot): void {
  section('Frame map');
  const names = new Map(s.processes.map((p) => [p.endpoint, p.name]));
  const rows: { first: number; frames: number; label: ReturnType<typeof frameLabel> }[] = [];
  for (const r of s.frameMap) {
    const label = frameLabel(r, names);
    const last = rows[rows.length - 1];
    const vmPages = last?.label.use === 'VM-internal' && label.use === 'VM-internal';
    if (last !== undefined && (vmPages || JSON.stringify(last.label) === JSON.stringify(label))) {
      last.frames += r.frames;
      if (vmPages && !last.label.holders.split(', ').includes(label.holders)) last.label.holders += `, ${label.holders}`;
    } else rows.push({ first: r.frame, frames: r.frames, label });
  }
  console.log(
    table(
      ['frames', 'pages', 'use', 'held by', 'refcount', 'sharing'],
      rows.map((r) => [`${r.first}–${r.first + r.frames - 1}`, r.frames, r.label.use, r.label.holders, r.label.refcount, r.label.sharing]),
    ),
  );
  console.log(color.dim(`${s.frameMap.length} runs (one per block of process memory) in --json`));
}

function printStats(s: Snapshot): void {
  const t = s.stats;
  const m = s.vm.memory;
  section('Statistics');
  console.log(
    table(
      ['counter', 'value'],
      [
        ['kernel steps', String(t.steps)],
        ['frames free / used', `${m.freePages} / ${m.usedPages}`],
        ['IPC operations', String(t.ipc)],
        ['kernel calls', String(t.kernelCalls)],
        ['page faults', String(t.pageFaults)],
        ['VM requests from the kernel', String(t.vmRequests)],
        ['safecopies (bytes)', `${t.safecopies} (${formatBytes(t.safecopyBytes)})`],
        ['COW breaks (pages copied)', `${t.cowBreaks} (${t.cowPagesCopied})`],
        ['processes exited', String(t.exits)],
      ],
    ),
  );
  section('Simulated time');
  console.log(timeLines(s.time));
}

function printGrants(s: Snapshot): void {
  section('Grant tables');
  if (s.grants.length === 0) console.log('no process has a grant table');
  else
    console.log(
      table(
        ['owner', 'id', 'kind', 'access', 'to', 'range'],
        s.grants.map((g) => [`${g.ownerName} (${g.owner})`, g.id, g.kind, g.access, g.to, g.range]),
      ),
    );
  section('Safemap records');
  if (s.mappings.length === 0) console.log('none');
  else
    console.log(
      table(
        ['grantee', 'at', 'owner', 'at', 'bytes', 'writable', 'grant'],
        s.mappings.map((m) => [m.grantee, hex(m.granteeAddr), m.owner, hex(m.ownerAddr), m.bytes, m.writable ? 'yes' : 'no', `${m.granter}:${m.gid}`]),
      ),
    );
}

function printDs(s: Snapshot): void {
  section('Data Store');
  console.log(
    table(
      ['slot', 'type', 'key', 'owner', 'value'],
      s.ds.entries.map((e) => [e.slot, e.type, e.key, e.owner, typeof e.value === 'object' ? JSON.stringify(e.value) : String(e.value)]),
    ),
  );
  if (s.ds.subscriptions.length > 0) {
    console.log(table(['subscriber', 'pattern', 'type filter', 'pending slots'], s.ds.subscriptions.map((x) => [x.owner, x.pattern, x.filter, x.pending.join(',')])));
  }
}

function printMemory(s: Snapshot): void {
  const m = s.vm.memory;
  section('Physical memory');
  console.log(
    `${m.totalPages} pages (${formatBytes(m.totalPages * 4096)}): ${m.freePages} free, ${m.usedPages} used ` +
      `(${m.anonPages} process memory, ${m.internalPages} VM-internal, ${m.reservedPages} reserved)`,
  );
  console.log(
    table(
      ['process', 'endpoint', 'private', 'COW-shared', 'safemap-shared', 'device'],
      s.frames.map((f) => [f.name, f.endpoint, f.privatePages, f.cowSharedPages, f.smapPages, f.directPages]),
    ),
  );
  console.log(table(['free range', 'pages', 'bytes'], s.vm.freeRanges.map((r) => [`${hex(r.addr * 4096)}–${hex((r.addr + r.pages) * 4096 - 1)}`, r.pages, formatBytes(r.pages * 4096)])));
  section('Regions');
  for (const p of s.vm.processes) {
    if (p.regions.length === 0) continue;
    console.log(color.bold(`${p.name} (${p.endpoint})`));
    console.log(
      table(
        ['start', 'end', 'pages', 'in VM', 'mapped', 'writable', 'flags', 'tag'],
        p.regions.map((r) => [hex(r.vaddr), hex(r.vaddr + r.length - 1), r.length / 4096, r.presentPages, r.mappedPages, r.writablePages, r.flags, r.tag]),
      ),
    );
  }
}
