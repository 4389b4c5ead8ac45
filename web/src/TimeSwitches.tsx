// The cost model's switches in the controls bar: the machine profile (the built-in ones) and how VM breaks
// copy-on-write sharing. A change reopens the scenario and returns to the kernel step shown (App's `onChange`
// does so), so the same moment can be compared under each. Entry points: TimeSwitches.
import type { ReactElement } from 'react';
import { builtinProfiles } from '../../src/hw/profile.ts';
import type { ViewConfig } from './protocol.ts';

/** The profile and cowBreak selects; `onChange` gets the whole new config. */
export function TimeSwitches(props: {
  config: ViewConfig;
  onChange: (config: ViewConfig) => void;
}): ReactElement {
  const { config, onChange } = props;
  return (
    <>
      <select
        data-testid="profile"
        value={config.profile}
        title="the machine profile the simulated time is charged from (reopens the scenario at this step)"
        onChange={(e) => {
          onChange({ ...config, profile: e.target.value });
        }}
      >
        {Object.keys(builtinProfiles).map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <select
        data-testid="cow-break"
        value={config.cowBreak}
        title="how VM breaks copy-on-write sharing on a write (reopens the scenario at this step)"
        onChange={(e) => {
          onChange({ ...config, cowBreak: e.target.value as ViewConfig['cowBreak'] });
        }}
      >
        <option value="block">COW break: block (MINIX)</option>
        <option value="page">COW break: page (what-if)</option>
      </select>
    </>
  );
}
