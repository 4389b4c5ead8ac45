// The exercise topics (issue 16) and the one entry point that generates a problem by name. Adding a topic is one
// file exporting a Topic and one line here. Entry points: TOPICS, findTopic, generateExercise, generateSheet.
import { allocTopic } from './alloc.ts';
import { pagewalkTopic } from './pagewalk.ts';
import { dsTopic } from './ds.ts';
import { cowforkTopic } from './cowfork.ts';
import { grantsTopic } from './grants.ts';
import { cowsafecopyTopic } from './cowsafecopy.ts';
import { safemapTopic } from './safemap.ts';
import { costTopic } from './cost.ts';
import type { Exercise, Topic } from './types.ts';

/** Every topic, in the order `grantvm exercise --list` shows them. */
export const TOPICS: readonly Topic[] = [
  pagewalkTopic,
  grantsTopic,
  cowforkTopic,
  cowsafecopyTopic,
  safemapTopic,
  allocTopic,
  dsTopic,
  costTopic,
];

/** The topic of that name, or undefined. */
export const findTopic = (name: string): Topic | undefined => TOPICS.find((t) => t.name === name);

/** The problem of `seed` at `level` (clamped to the topic's levels), with its answers. */
export function generateExercise(topic: Topic, seed: number, level = 1): Promise<Exercise> {
  return topic.generate(seed, Math.min(Math.max(1, level), topic.levels));
}

/** `count` problems of consecutive seeds from `seed`: a sheet. */
export async function generateSheet(
  topic: Topic,
  seed: number,
  count: number,
  level = 1,
): Promise<Exercise[]> {
  const out: Exercise[] = [];
  for (let i = 0; i < count; i++) out.push(await generateExercise(topic, seed + i, level));
  return out;
}
