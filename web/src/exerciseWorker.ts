// The exercise mode's Web Worker: generating a problem plays it on a freshly booted model, so it runs here, off
// the page's thread, and the page gets plain data (statement, questions and the answer key, which it keeps
// hidden until asked). A worker of its own, apart from the simulator's, so that the two modes never wait for
// each other. Requests are handled one at a time, in order; each reply names the request it answers.
import { TOPICS, findTopic, generateExercise } from '../../src/sim/exercise/registry.ts';
import type { Exercise } from '../../src/sim/exercise/types.ts';

/** What the page asks: the problem of `seed` at `level` of `topic`. */
export interface ExerciseRequest {
  type: 'generate';
  /** Echoed in the reply, so that the page keeps only the answer to its latest request. */
  id: number;
  topic: string;
  seed: number;
  level: number;
}

/** A topic as the page's pickers need it. */
export interface TopicInfo {
  name: string;
  summary: string;
  levels: number;
}

/** What the worker sends: the topics once at start, then one exercise or error per request. */
export type ExerciseReply =
  | { type: 'topics'; list: TopicInfo[] }
  | { type: 'exercise'; id: number; exercise: Exercise }
  | { type: 'error'; id: number; message: string };

const ctx = self as unknown as {
  postMessage(message: ExerciseReply): void;
  onmessage: ((e: MessageEvent<ExerciseRequest>) => void) | null;
};

async function generate(m: ExerciseRequest): Promise<ExerciseReply> {
  const topic = findTopic(m.topic);
  if (topic === undefined) return { type: 'error', id: m.id, message: `no topic '${m.topic}'` };
  return { type: 'exercise', id: m.id, exercise: await generateExercise(topic, m.seed, m.level) };
}

let queue: Promise<void> = Promise.resolve();

ctx.onmessage = (e) => {
  const m = e.data;
  queue = queue
    .then(() => generate(m))
    .catch((err: unknown): ExerciseReply => {
      return { type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) };
    })
    .then((reply) => {
      ctx.postMessage(reply);
    });
};
ctx.postMessage({
  type: 'topics',
  list: TOPICS.map((t) => ({ name: t.name, summary: t.summary, levels: t.levels })),
});
