// The driven actors live in src/sim/driven.ts (the benchmarks of the package use them too).
export * from '../../src/sim/driven.ts';
