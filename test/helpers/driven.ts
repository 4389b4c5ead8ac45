// The driven actors moved to src/sim/driven.ts (the fuzz engine drives them too); tests keep importing them here.
export * from '../../src/sim/driven.ts';
