// Models MINIX's panic() and assert(): broken invariants stop the simulation loudly.
// Entry points: panic, assert, Panic. Operating errors are never thrown; they are errno values.

/** The error thrown by panic(). Never caught under src/: a panic stops the simulated system. */
export class Panic extends Error {
  /** 'Panic', to tell a broken model invariant from other errors. */
  override readonly name = 'Panic';
}

/** Stops the simulation with a message naming the broken rule. */
export function panic(message: string): never {
  throw new Panic(message);
}

/** Panics with `message` unless `cond` holds. */
export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) panic(typeof message === 'string' ? message : message());
}
