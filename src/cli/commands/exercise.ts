// `grantvm exercise [TOPIC] [--seed N] [--level L] [--answers] [--count K] [--format text|md|json] [--check FILE]`
// (issue 16): a problem generated from a seed and solved by the model; `--list` names the topics. `--format md`
// makes a problem sheet, or with `--answers` its answer sheet; `--check FILE` marks a student's answers (a JSON
// object, question id → answer) and exits 1 unless all are right. Entry points: exerciseCommand.
import { readFileSync } from 'node:fs';
import { TOPICS, findTopic, generateExercise, generateSheet } from '../../sim/exercise/registry.ts';
import { answerSheet, checkAnswers, exerciseText, problemSheet } from '../../sim/exercise/render.ts';
import type { Exercise, Topic } from '../../sim/exercise/types.ts';
import type { Mark } from '../../sim/exercise/render.ts';
import { UsageError } from '../options.ts';
import { color, table } from '../format.ts';

/** The options of `grantvm exercise`, as commander parses them. */
export interface ExerciseOptions {
  list?: boolean;
  seed?: number;
  level?: number;
  answers?: boolean;
  count?: number;
  format?: string;
  check?: string;
}

const MAX_COUNT = 200;

function topicNamed(name: string | undefined): Topic {
  if (name === undefined) throw new UsageError('name a topic (grantvm exercise --list shows them)');
  const t = findTopic(name);
  if (t === undefined)
    throw new UsageError(`unknown topic '${name}' (topics: ${TOPICS.map((x) => x.name).join(', ')})`);
  return t;
}

/** The student's answers: a JSON object of question id → answer, read before any work starts. */
function readAnswers(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${file} must hold a JSON object of question id → answer, e.g. {"1": "0x2a"}`);
  }
  return value as Record<string, unknown>;
}

function printSheet(list: readonly Exercise[], format: string, answers: boolean): void {
  if (format === 'json') {
    const out = answers ? list : list.map((e) => ({ ...e, answers: [] }));
    console.log(JSON.stringify(out, null, 2));
  } else if (format === 'md') console.log(answers ? answerSheet(list) : problemSheet(list));
  else console.log(list.map((e) => exerciseText(e, answers)).join('\n\n'));
}

function printCheck(e: Exercise, marks: readonly Mark[]): void {
  console.log(
    table(
      ['question', 'your answer'],
      marks.map((m) => [m.id, m.right ? color.green('right') : color.red('wrong')]),
    ),
  );
  const right = marks.filter((m) => m.right).length;
  console.log(`${right} of ${marks.length} right (${e.topic}, seed ${e.seed}, level ${e.level})`);
  if (right < marks.length) process.exitCode = 1;
}

/** `grantvm exercise`: list the topics, print problems (and answers) in a format, or mark an answer file. */
export async function exerciseCommand(name: string | undefined, o: ExerciseOptions): Promise<void> {
  if (o.list === true) {
    console.log(
      table(
        ['topic', 'levels', 'what it asks'],
        TOPICS.map((t) => [t.name, t.levels, t.summary]),
      ),
    );
    return;
  }
  const topic = topicNamed(name);
  const level = o.level ?? 1;
  if (level < 1 || level > topic.levels)
    throw new UsageError(`--level must be in [1, ${topic.levels}] for ${topic.name}`);
  const count = o.count ?? 1;
  if (count < 1 || count > MAX_COUNT) throw new UsageError(`--count must be in [1, ${MAX_COUNT}]`);
  const seed = o.seed ?? 1;
  if (o.check !== undefined) {
    if (count !== 1) throw new UsageError('--check marks one problem: leave out --count');
    const given = readAnswers(o.check);
    const e = await generateExercise(topic, seed, level);
    printCheck(e, checkAnswers(e, given));
    return;
  }
  printSheet(await generateSheet(topic, seed, count, level), o.format ?? 'text', o.answers === true);
}
