// User-written scenario files for `grantvm run FILE`: a TypeScript or JavaScript module that exports
// `scenario` (one Scenario) or `scenarios` (an array of them). The CLI imports it (bin/grantvm.js runs the
// source through tsx, so a .ts file imports as is) and checks its shape; a bad file is one usage line.
// Entry points: isScenarioFile, loadScenarioFile, SCENARIO_FILE_EXTENSIONS (the shape check is in sim/scenario.ts,
// which the browser view shares).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCENARIO_FILE_SHAPE, scenariosOfModuleExports } from '../sim/scenario.ts';
import type { Scenario } from '../sim/scenario.ts';
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
    module = await import(pathToFileURL(resolve(file)).href);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${file}: cannot load it (${message.split('\n')[0] ?? ''})`);
  }
  return scenariosOfModule(file, module);
}
