// User-written scenario files for `grantvm run FILE`: a TypeScript or JavaScript module that exports
// `scenario` (one Scenario) or `scenarios` (an array of them). The scenario worker (worker.ts) imports it and
// checks its shape; a bad file is one usage line, and a syntax error names the file, line and column. A .ts or
// .mts file is imported through tsx's tsImport, which loads it as ESM wherever it lies (in a project of any
// package type, or in none). Entry points: isScenarioFile, loadScenarioFile, scenariosNamed, loadProblem,
// SCENARIO_FILE_EXTENSIONS (the shape check is in sim/scenario.ts, which the browser view shares).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCENARIO_FILE_SHAPE, scenariosOfModuleExports } from '../sim/scenario.ts';
import type { Scenario } from '../sim/scenario.ts';
import { findScenario } from '../sim/scenarios.ts';
import { UsageError } from './options.ts';

/** The file types a scenario file may have. */
export const SCENARIO_FILE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

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
  const url = pathToFileURL(resolve(file)).href;
  let module: unknown;
  try {
    module = /\.m?ts$/.test(file) ? await (await import('tsx/esm/api')).tsImport(url, import.meta.url) : await import(url);
  } catch (err) {
    // Node's syntax error in an ES module does not say where; `node --check` does (on stderr, as in a stack).
    const where = err instanceof SyntaxError ? spawnSync(process.execPath, ['--check', resolve(file)], { encoding: 'utf8' }).stderr : '';
    throw new UsageError(`${file}: cannot load it (${loadProblem(err, where)})`);
  }
  return scenariosOfModule(file, module);
}

/**
 * Why a module would not load, on one line: a syntax error as "FILE:LINE:COLUMN: message" (from esbuild's
 * report for TypeScript; for JavaScript from `report`, Node's "FILE:LINE", source line, caret layout, which
 * `node --check` prints), else the error's first line.
 */
export function loadProblem(err: unknown, report = ''): string {
  const first = (text: string): string => text.split('\n')[0] ?? '';
  if (!(err instanceof Error)) return first(String(err));
  // tsx passes esbuild's report on as text: "Transform failed with N error(s):", then "FILE:LINE:COLUMN: ERROR: message".
  const reported = /^(.+:\d+:\d+): ERROR: (.*)$/m.exec(err.message);
  if (reported !== null) return `${reported[1] ?? ''}: ${reported[2] ?? ''}`;
  const [where, , caret] = report.split('\n');
  const at = /^(.+):(\d+)$/.exec(where ?? '');
  const column = (caret ?? '').indexOf('^');
  if (err instanceof SyntaxError && at !== null) return `${(at[1] ?? '').replace(/^file:\/\//, '')}:${at[2] ?? ''}${column >= 0 ? `:${column + 1}` : ''}: ${err.message}`;
  return first(err.message);
}

/** The scenarios a command-line argument names: a built-in scenario, or every scenario of a scenario file. */
export async function scenariosNamed(arg: string): Promise<Scenario[]> {
  const builtin = findScenario(arg);
  if (builtin !== undefined) return [builtin];
  if (isScenarioFile(arg)) return loadScenarioFile(arg);
  if (hasScenarioFileExtension(arg)) throw new UsageError(`no scenario file '${arg}' (and no built-in scenario of that name)`);
  throw new UsageError(`unknown scenario '${arg}' (see grantvm run --list, or give a .ts/.mts/.js/.mjs scenario file)`);
}
