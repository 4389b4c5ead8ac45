// `grantvm inspect [scenario]`: boots a system (and runs a scenario first if named) and dumps its state in
// the spirit of MINIX's IS server: process table, privileges, region maps, the physical memory map.
import { createSystem } from '../../sim/system.ts';
import { resolveConfig } from '../../sim/config.ts';
import { findScenario } from '../../sim/scenarios.ts';
import { ScenarioOutput } from '../../sim/scenario.ts';
import type { Snapshot } from '../../sim/inspect.ts';
import { configFromOptions, UsageError } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color, formatBytes, hex, table } from '../format.ts';

interface InspectOptions extends CommonOptions {
  json?: boolean;
}

export async function inspectCommand(name: string | undefined, o: InspectOptions): Promise<void> {
  const scenario = name === undefined ? undefined : findScenario(name);
  if (name !== undefined && scenario === undefined) throw new UsageError(`unknown scenario '${name}' (see grantvm run --list)`);
  const overrides = configFromOptions(o);
  const { problems } = resolveConfig(overrides);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  const sys = await createSystem({ ...scenario?.config, ...overrides });
  if (scenario !== undefined) await scenario.run(sys, new ScenarioOutput(), {});
  const snap = sys.inspect();
  if (o.json === true) {
    console.log(JSON.stringify(snap, null, 2));
    return;
  }
  printSnapshot(snap);
}

function section(title: string): void {
  console.log(`\n${color.bold(color.cyan(title))}`);
}

export function printSnapshot(s: Snapshot): void {
  console.log(color.dim(`step ${s.step}, simulated time ${s.now} ms`));
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
  printGrants(s);
  printDs(s);
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
        ['start', 'end', 'pages', 'present', 'flags', 'tag'],
        p.regions.map((r) => [hex(r.vaddr), hex(r.vaddr + r.length - 1), r.length / 4096, r.presentPages, r.flags, r.tag]),
      ),
    );
  }
}
