// User-written scenario files for `grantvm run FILE`: a TypeScript or JavaScript module that exports
// `scenario` (one Scenario) or `scenarios` (an array of them). The CLI imports it and checks its shape; a bad
// file is one usage line. A .ts file needs tsx: a source checkout runs the whole CLI through it (bin/grantvm.js);
// the built package imports a .ts file through tsx's tsImport, which loads it as ESM in any package type.
// Entry points: isScenarioFile, loadScenarioFile, scenariosNamed, oneScenarioNamed, SCENARIO_FILE_EXTENSIONS.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Scenario } from '../sim/scenario.ts';
import { findScenario } from '../sim/scenarios.ts';
import { UsageError } from './options.ts';

export const SCENARIO_FILE_EXTENSIONS = ['.ts', '.js', '.mjs'] as const;

const SHAPE = "must export 'scenario' (an object with name, title and run(sys, out, host)) or a 'scenarios' array of them";

/** True if `arg` names a scenario module's file type (whether or not the file exists). */
export function hasScenarioFileExtension(arg: string): boolean {
  return SCENARIO_FILE_EXTENSIONS.some((e) => arg.endsWith(e));
}

/** True if `arg` is the path of an existing .ts, .js or .mjs file (relative to the working directory). */
export function isScenarioFile(arg: string): boolean {
  if (!hasScenarioFileExtension(arg)) return false;
  const path = resolve(arg);
  return existsSync(path) && statSync(path).isFile();
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** What is wrong with `x` as a Scenario, or null if nothing. */
export function scenarioShapeProblem(x: unknown): string | null {
  if (!isRecord(x)) return 'not an object';
  if (typeof x.name !== 'string' || x.name.trim() === '') return "'name' is not a non-empty string";
  if (typeof x.title !== 'string') return `'${x.name}': 'title' is not a string`;
  if (typeof x.run !== 'function') return `'${x.name}': 'run' is not a function`;
  if (x.config !== undefined && (!isRecord(x.config) || Array.isArray(x.config))) return `'${x.name}': 'config' is not an object`;
  if (x.suite !== undefined && typeof x.suite !== 'string') return `'${x.name}': 'suite' is not a string`;
  return null;
}

/** The scenarios `module` exports, or a one-line UsageError naming `file` and what is wrong. */
export function scenariosOfModule(file: string, module: unknown): Scenario[] {
  const bad = (why: string): never => {
    throw new UsageError(`${file}: ${why}; a scenario file ${SHAPE}`);
  };
  if (!isRecord(module)) return bad('not a module');
  const one = module.scenario;
  const many = module.scenarios;
  if (one === undefined && many === undefined) return bad("exports neither 'scenario' nor 'scenarios'");
  const list: unknown[] = [];
  if (one !== undefined) list.push(one);
  if (many !== undefined) {
    if (!Array.isArray(many)) return bad("'scenarios' is not an array");
    if (many.length === 0 && one === undefined) return bad("'scenarios' is empty");
    list.push(...(many as unknown[]));
  }
  for (const s of list) {
    const problem = scenarioShapeProblem(s);
    if (problem !== null) return bad(`bad scenario (${problem})`);
  }
  return list as Scenario[];
}

/** Imports a scenario file and returns its scenarios; a file that will not load or has the wrong shape is a UsageError. */
export async function loadScenarioFile(file: string): Promise<Scenario[]> {
  let module: unknown;
  try {
    const url = pathToFileURL(resolve(file)).href;
    const compiled = !import.meta.url.endsWith('.ts');
    module = file.endsWith('.ts') && compiled ? await (await import('tsx/esm/api')).tsImport(url, import.meta.url) : await import(url);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${file}: cannot load it (${message.split('\n')[0] ?? ''})`);
  }
  return scenariosOfModule(file, module);
}

/** The scenarios a command-line argument names: a built-in scenario, or every scenario of a scenario file. */
export async function scenariosNamed(arg: string): Promise<Scenario[]> {
  const builtin = findScenario(arg);
  if (builtin !== undefined) return [builtin];
  if (isScenarioFile(arg)) return loadScenarioFile(arg);
  if (hasScenarioFileExtension(arg)) throw new UsageError(`no scenario file '${arg}' (and no built-in scenario of that name)`);
  throw new UsageError(`unknown scenario '${arg}' (see grantvm run --list, or give a .ts/.js/.mjs scenario file)`);
}

/** The one scenario an argument names, for the commands that take one (`what` is the command, for the error). */
export async function oneScenarioNamed(arg: string, what: string): Promise<Scenario> {
  const list = await scenariosNamed(arg);
  const [first] = list;
  if (first === undefined || list.length > 1) throw new UsageError(`${arg} has ${list.length} scenarios (${list.map((s) => s.name).join(', ')}); ${what} takes one`);
  return first;
}
