// The --profile option: a built-in machine profile by name, or a profile file (JSON) validated before any work
// starts; a bad one is one line naming the key (exit 2). Entry points: loadProfile, PROFILE_OPTION_HELP.
import { readFileSync } from 'node:fs';
import { builtinProfiles, profileProblems } from '../hw/profile.ts';
import type { CostProfile } from '../hw/profile.ts';
import { UsageError } from './options.ts';

/** The option's help text. */
export const PROFILE_OPTION_HELP = `cost model machine profile: ${Object.keys(builtinProfiles).join(', ')} (default i386-2010), or a profile .json file`;

/** The profile named by `text`: a built-in name, or the contents of a JSON file, validated. */
export function loadProfile(text: string): string | CostProfile {
  if (builtinProfiles[text] !== undefined) return text;
  if (!text.endsWith('.json')) {
    throw new UsageError(
      `--profile: unknown profile '${text}' (built in: ${Object.keys(builtinProfiles).join(', ')}; or a .json file)`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(text, 'utf8'));
  } catch (err) {
    throw new UsageError(
      `--profile ${text}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
  const problem = profileProblems(data)[0];
  if (problem !== undefined) throw new UsageError(`--profile ${text}: ${problem}`);
  return data as CostProfile;
}
