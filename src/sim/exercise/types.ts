// The plain data of an exercise (issue 16): what a generator returns, what the CLI prints and what a view would
// render. Everything here is serialisable; no topic-specific code. Entry points: Exercise, Topic, Block.
// DIVERGES: not MINIX — a teaching aid built on the model.

/** One piece of a problem statement: a paragraph, a table, or preformatted lines (hex dumps). */
export type Block =
  | {
      /** A paragraph. */
      kind: 'text';
      /** Its text (one paragraph, no markup). */
      text: string;
    }
  | {
      /** A table with a header row. */
      kind: 'table';
      /** Column titles. */
      header: string[];
      /** Rows, one string per column. */
      rows: string[][];
    }
  | {
      /** Preformatted lines, printed as they are. */
      kind: 'code';
      /** The lines. */
      lines: string[];
    };

/** One question of a problem; `id` is the key of its answer in an answer file. */
export interface Question {
  /** Short key, e.g. '1' or 'a3'. */
  id: string;
  /** The question as the student reads it. */
  text: string;
}

/** The model's answer to one question. */
export interface Answer {
  /** The question's id. */
  id: string;
  /** The answer in the form the statement asks for (compared after {@link normaliseAnswer}). */
  value: string;
  /** Why, from what the model did (its trace events). */
  why: string;
}

/**
 * A generated problem and its answer key. `givens` is the data the statement shows, typed per topic, so a view
 * can draw it and a test can recompute the answers on its own.
 */
export interface Exercise<G = unknown> {
  /** The topic's name (see {@link Topic}). */
  topic: string;
  /** The seed it was generated from. */
  seed: number;
  /** Difficulty level, 1 to the topic's `levels`. */
  level: number;
  /** A one-line title. */
  title: string;
  /** What the student is given. */
  statement: Block[];
  /** What the student must answer. */
  questions: Question[];
  /** The model's answers, in question order. */
  answers: Answer[];
  /** The statement's data as values. */
  givens: G;
}

/** One kind of exercise: a name, a one-line summary, its levels and its generator. */
export interface Topic {
  /** The name on the command line, e.g. 'pagewalk'. */
  name: string;
  /** One line for `grantvm exercise --list`. */
  summary: string;
  /** Number of difficulty levels (1 when it has none). */
  levels: number;
  /** Generates the problem of `seed` at `level` and runs it on the model for its answers. */
  generate(seed: number, level: number): Promise<Exercise>;
}
