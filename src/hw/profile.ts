// Machine profiles for the cost model (DESIGN.md §8): what each action of the model costs in simulated cycles on
// a given class of machine, plus the clock rate and the copy bandwidth. A profile is plain data; every number is
// sourced or marked as an estimate in docs/cost-model.md. Entry points: CostProfile, COST_KINDS, builtinProfiles,
// profileProblems, resolveProfile.
// DIVERGES: a real machine's costs vary with cache state; a profile charges one fixed figure per action.

/**
 * The actions the model charges, in the order of the clock's per-kind totals. Each is a profile field giving
 * cycles per occurrence, except `copyByte`, whose cost per byte follows from `clockMHz / copyMBps`.
 */
export const COST_KINDS = [
  'trap',
  'ipcMessage',
  'contextSwitch',
  'addressSpaceSwitch',
  'kernelCall',
  'grantEntry',
  'grantHop',
  'copyCall',
  'copyByte',
  'pageWalk',
  'tlbMiss',
  'pteWrite',
  'tlbFlush',
  'pageFault',
  'vmRequest',
  'vmPage',
  'frameAlloc',
  'slabAlloc',
  'zeroPage',
  'dsRequest',
] as const;

/** One chargeable action (a name of {@link COST_KINDS}). */
export type CostKind = (typeof COST_KINDS)[number];

/** The kinds whose cycles a profile gives directly (all but `copyByte`). */
export type CycleKind = Exclude<CostKind, 'copyByte'>;

/**
 * A machine profile: cycles per action, the clock rate that turns cycles into time, and the bandwidth of a
 * kernel copy. Validated by {@link profileProblems}: every field present, finite and non-negative, no other key.
 */
export type CostProfile = {
  /** Profile name, shown in reports. */
  name: string;
  /** Core clock in MHz: cycles per microsecond. */
  clockMHz: number;
  /** Bandwidth of a large memory-to-memory copy, in MB/s (10^6 bytes per second). */
  copyMBps: number;
} & Record<CycleKind, number>;

/** Index of each kind in the clock's arrays: a constant, so a charge is an array add without a string key. */
export const K = Object.fromEntries(COST_KINDS.map((k, i) => [k, i])) as { readonly [P in CostKind]: number };

/**
 * The class of PC MINIX 3.1.6 ran on (2009-2010): a 2 GHz Pentium 4 / Core 2 with DDR2 memory. See
 * docs/cost-model.md for the source or the reasoning behind each figure.
 */
const i386_2010: CostProfile = {
  name: 'i386-2010',
  clockMHz: 2000,
  copyMBps: 2000,
  trap: 600,
  ipcMessage: 150,
  contextSwitch: 300,
  addressSpaceSwitch: 500,
  kernelCall: 200,
  grantEntry: 40,
  grantHop: 80,
  copyCall: 300,
  pageWalk: 40,
  tlbMiss: 30,
  pteWrite: 10,
  tlbFlush: 250,
  pageFault: 1200,
  vmRequest: 2000,
  vmPage: 200,
  frameAlloc: 300,
  slabAlloc: 150,
  zeroPage: 1500,
  dsRequest: 2000,
};

/** A current x86-64 desktop core (about 2020 onwards): fast SYSCALL entry, PCID, DDR4/5 bandwidth. */
const modernX86: CostProfile = {
  name: 'modern-x86',
  clockMHz: 3000,
  copyMBps: 20000,
  trap: 150,
  ipcMessage: 50,
  contextSwitch: 200,
  addressSpaceSwitch: 300,
  kernelCall: 100,
  grantEntry: 10,
  grantHop: 20,
  copyCall: 100,
  pageWalk: 20,
  tlbMiss: 20,
  pteWrite: 5,
  tlbFlush: 150,
  pageFault: 700,
  vmRequest: 1000,
  vmPage: 100,
  frameAlloc: 150,
  slabAlloc: 80,
  zeroPage: 300,
  dsRequest: 1000,
};

/** The built-in profiles by name: `i386-2010` (the default) and `modern-x86`. */
export const builtinProfiles: Readonly<Record<string, CostProfile>> = {
  'i386-2010': i386_2010,
  'modern-x86': modernX86,
};

/** The profile a system boots with unless told otherwise: `i386-2010`. */
export const defaultProfile: CostProfile = i386_2010;

/** The numeric fields of a profile, in the order docs/cost-model.md lists them. */
export const PROFILE_NUMBERS: readonly (keyof CostProfile)[] = [
  'clockMHz',
  'copyMBps',
  ...COST_KINDS.filter((k) => k !== 'copyByte'),
];

/**
 * What is wrong with `x` as a profile, one line per problem naming the key (empty when it is a valid profile):
 * an unknown key, a missing key, or a value that is not a finite non-negative number (clockMHz and copyMBps
 * must be positive).
 */
export function profileProblems(x: unknown): string[] {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return ['profile: not a JSON object'];
  const o = x as Record<string, unknown>;
  const problems: string[] = [];
  const known = new Set<string>(['name', ...PROFILE_NUMBERS]);
  for (const key of Object.keys(o)) if (!known.has(key)) problems.push(`profile: unknown key '${key}'`);
  if (typeof o.name !== 'string' || o.name === '')
    problems.push("profile: key 'name' must be a non-empty string");
  for (const key of PROFILE_NUMBERS) {
    const v = o[key];
    if (v === undefined) problems.push(`profile: missing key '${key}'`);
    else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      problems.push(`profile: key '${key}' must be a non-negative number, got ${JSON.stringify(v)}`);
    else if (v === 0 && (key === 'clockMHz' || key === 'copyMBps'))
      problems.push(`profile: key '${key}' must be positive`);
  }
  return problems;
}

/** A profile by built-in name or as an object; the problems when the name is unknown or the object invalid. */
export function resolveProfile(p: string | CostProfile): { profile: CostProfile; problems: string[] } {
  if (typeof p === 'string') {
    const b = builtinProfiles[p];
    if (b !== undefined) return { profile: b, problems: [] };
    return {
      profile: i386_2010,
      problems: [`profile: unknown profile '${p}' (built in: ${Object.keys(builtinProfiles).join(', ')})`],
    };
  }
  const problems = profileProblems(p);
  return { profile: problems.length === 0 ? p : i386_2010, problems };
}
