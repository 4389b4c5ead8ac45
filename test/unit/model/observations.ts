// Reading the executor's observations in tests: each is the command's outcome (JSON) followed by a space and the
// hash of the actors' windows; these helpers keep the outcome.

/** An observation without the window hash it ends with. */
export function outcomeOf(observation: string): string {
  const end = observation.lastIndexOf(' ');
  return end < 0 ? '' : observation.slice(0, end);
}

/** The outcomes of a run, without the window hash each observation ends with. */
export const outcomes = (observations: readonly string[]): string[] => observations.map(outcomeOf);
