// User-written scenario files for `grantvm run FILE`: a TypeScript or JavaScript module that exports
// `scenario` (one Scenario) or `scenarios` (an array of them). The CLI imports it and checks its shape; a bad
// file is one usage line. A .ts file needs tsx: a source checkout runs the whole CLI through it (bin/grantvm.js);
// the built package imports a .ts file through tsx's tsImport, which loads it as ESM in any package type.
// Entry points: isScenarioFile, loadScenarioFile, scenariosNamed, oneScenarioNamed, SCENARIO_FILE_EXTENSIONS
// (the shape check is in sim/scenario.ts, which the browser view shares).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCENARIO_FILE_SHAPE, scenariosOfModuleExports } from '../sim/scenario.ts';
import type { Scenario } from '../sim/scenario.ts';
import { findScenario } from '../sim/scenarios.ts';
import { UsageError } from './options.ts';

export const SCENARIO_FILE_EXTENSIONS = ['.ts', '.js', '.mjs'] as const;

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

/** The scenarios `module` exports, or a one-line UsageError naming `file` and what is wrong. */
export function scenariosOfModule(file: string, module: unknown): Scenario[] {
  const got = scenariosOfModuleExports(module);
  if (typeof got === 'string') throw new UsageError(`${file}: ${got}; a scenario file ${SCENARIO_FILE_SHAPE}`);
  return got;
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
