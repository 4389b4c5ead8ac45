// The view's exercise mode (issue 16): pick a topic, level and seed; the exercise worker plays the problem on the
// model and sends it as plain data; the page shows the statement and one input per question. "Check" marks
// the answers (checkAnswers, as `grantvm exercise --check`); each answer and its explanation stay hidden until
// the student asks for that one; "New problem" takes the next seed.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ReactElement } from 'react';
import { blockText, checkAnswers } from '../../src/sim/exercise/render.ts';
import type { Block, Exercise } from '../../src/sim/exercise/types.ts';
import type { ExerciseReply, ExerciseRequest, TopicInfo } from './exerciseWorker.ts';
import './exercise.css';

/** The largest seed (as `grantvm exercise --seed`). */
const MAX_SEED = 0xffff_ffff;

/** What the pickers hold. */
interface Choice {
  topic: string;
  level: number;
  seed: number;
}

function StatementBlock(props: { block: Block }): ReactElement {
  const b = props.block;
  if (b.kind === 'text') return <p>{b.text}</p>;
  return <pre>{blockText(b).join('\n')}</pre>;
}

/** The generating worker: its topics, the latest problem (or error) and a way to ask for another. */
function useExerciseWorker(): {
  topics: TopicInfo[];
  exercise: Exercise | null;
  busy: boolean;
  error: string | null;
  version: number;
  request: (c: Choice) => void;
} {
  const worker = useRef<Worker | null>(null);
  /** The id of the latest request: replies to earlier ones are dropped. */
  const latest = useRef(0);
  const [topics, setTopics] = useState<TopicInfo[]>([]);
  const [exercise, setExercise] = useState<Exercise | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** Replies received so far: tests wait for it to change after an action. */
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const w = new Worker(new URL('./exerciseWorker.ts', import.meta.url), { type: 'module' });
    worker.current = w;
    w.onmessage = (e: MessageEvent<ExerciseReply>) => {
      const m = e.data;
      if (m.type === 'topics') {
        setTopics(m.list);
        return;
      }
      if (m.id !== latest.current) return;
      setBusy(false);
      setError(m.type === 'error' ? m.message : null);
      if (m.type === 'exercise') setExercise(m.exercise);
      setVersion((v) => v + 1);
    };
    return () => {
      w.terminate();
    };
  }, []);

  const request = useCallback((c: Choice) => {
    if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > MAX_SEED) {
      setError(`the seed must be an integer in [0, ${MAX_SEED}]`);
      setVersion((v) => v + 1);
      return;
    }
    latest.current++;
    setBusy(true);
    worker.current?.postMessage({ type: 'generate', id: latest.current, ...c } satisfies ExerciseRequest);
  }, []);

  return { topics, exercise, busy, error, version, request };
}

/** One question: its input, its mark after "Check", and its answer once asked for. */
function QuestionRow(props: {
  exercise: Exercise;
  id: string;
  text: string;
  value: string;
  mark: boolean | undefined;
  shown: boolean;
  onChange: (value: string) => void;
  onShow: () => void;
}): ReactElement {
  const { id } = props;
  const answer = props.exercise.answers.find((a) => a.id === id);
  return (
    <li data-testid={`ex-question-${id}`}>
      <div>
        <b>{id}.</b> {props.text}
      </div>
      <input
        data-testid={`ex-input-${id}`}
        value={props.value}
        onChange={(e) => {
          props.onChange(e.target.value);
        }}
        size={28}
      />{' '}
      {props.mark !== undefined ? (
        <span data-testid={`ex-mark-${id}`} data-right={props.mark} className={props.mark ? 'ok' : 'bad'}>
          {props.mark ? '✓ right' : '✗ wrong'}
        </span>
      ) : null}{' '}
      {props.shown && answer !== undefined ? (
        <div className="key" data-testid={`ex-key-${id}`}>
          answer: <code data-testid={`ex-value-${id}`}>{answer.value}</code> — {answer.why}
        </div>
      ) : (
        <button type="button" data-testid={`ex-show-${id}`} onClick={props.onShow}>
          show answer
        </button>
      )}
    </li>
  );
}

/** The statement, the questions with their inputs, and "Check" with the score. */
function ExerciseSheet(props: { exercise: Exercise }): ReactElement {
  const e = props.exercise;
  const [given, setGiven] = useState<Record<string, string>>({});
  const [marks, setMarks] = useState<Record<string, boolean>>({});
  const [shown, setShown] = useState<ReadonlySet<string>>(new Set());
  const marked = Object.keys(marks).length;
  const right = Object.values(marks).filter(Boolean).length;
  return (
    <main className="exercise">
      <h2>{e.title}</h2>
      {e.statement.map((b, i) => (
        <StatementBlock key={i} block={b} />
      ))}
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          setMarks(Object.fromEntries(checkAnswers(e, given).map((m) => [m.id, m.right])));
        }}
      >
        <h3>Questions</h3>
        <ul className="questions">
          {e.questions.map((q) => (
            <QuestionRow
              key={q.id}
              exercise={e}
              id={q.id}
              text={q.text}
              value={given[q.id] ?? ''}
              mark={marks[q.id]}
              shown={shown.has(q.id)}
              onChange={(value) => {
                setGiven({ ...given, [q.id]: value });
                setMarks(Object.fromEntries(Object.entries(marks).filter(([id]) => id !== q.id)));
              }}
              onShow={() => {
                setShown(new Set([...shown, q.id]));
              }}
            />
          ))}
        </ul>
        <button type="submit" data-testid="ex-check" title="mark every answer (Enter in an answer does too)">
          ✓ check
        </button>{' '}
        {marked > 0 ? (
          <span data-testid="ex-score" className={right === e.questions.length ? 'ok' : 'bad'}>
            {right} of {e.questions.length} right
          </span>
        ) : null}
      </form>
    </main>
  );
}

/** The topic, level and seed pickers; choosing does not generate (generate or new problem does). */
function ChoicePickers(props: {
  topics: readonly TopicInfo[];
  choice: Choice;
  onChange: (c: Choice) => void;
}): ReactElement {
  const levels = props.topics.find((t) => t.name === props.choice.topic)?.levels ?? 1;
  return (
    <>
      <select
        data-testid="ex-topic"
        value={props.choice.topic}
        onChange={(e) => {
          const levelsOf = props.topics.find((t) => t.name === e.target.value)?.levels ?? 1;
          props.onChange({
            ...props.choice,
            topic: e.target.value,
            level: Math.min(props.choice.level, levelsOf),
          });
        }}
      >
        {props.topics.map((t) => (
          <option key={t.name} value={t.name} title={t.summary}>
            {t.name}
          </option>
        ))}
      </select>
      <select
        data-testid="ex-level"
        value={props.choice.level}
        onChange={(e) => {
          props.onChange({ ...props.choice, level: Number(e.target.value) });
        }}
      >
        {Array.from({ length: levels }, (_, i) => (
          <option key={i} value={i + 1}>
            level {i + 1}
          </option>
        ))}
      </select>
      <label>
        seed{' '}
        <input
          type="number"
          data-testid="ex-seed"
          min={0}
          value={props.choice.seed}
          onChange={(e) => {
            props.onChange({ ...props.choice, seed: Number(e.target.value) });
          }}
        />
      </label>
    </>
  );
}

/** The exercise mode: its own controls bar and status line, and the current problem. */
export function ExercisePanel(props: { onSimulator: () => void }): ReactElement {
  const { topics, exercise, busy, error, version, request } = useExerciseWorker();
  const [choice, setChoice] = useState<Choice>({ topic: 'pagewalk', level: 1, seed: 1 });

  // The first problem as soon as the worker has listed the topics.
  const first = useRef(true);
  useEffect(() => {
    if (topics.length > 0 && first.current) {
      first.current = false;
      request(choice);
    }
  }, [topics, choice, request]);

  return (
    <div className="app">
      <header className="controls">
        <strong>grantvm</strong>
        <button data-testid="simulator-mode" onClick={props.onSimulator} title="back to the simulator">
          ◀ simulator
        </button>
        <span className="sep" />
        <ChoicePickers topics={topics} choice={choice} onChange={setChoice} />
        <button
          data-testid="ex-generate"
          onClick={() => {
            request(choice);
          }}
        >
          generate
        </button>
        <button
          data-testid="ex-new"
          title="the next seed"
          onClick={() => {
            const next = { ...choice, seed: (choice.seed + 1) % (MAX_SEED + 1) };
            setChoice(next);
            request(next);
          }}
        >
          new problem ▶
        </button>
      </header>
      <div
        className="status"
        data-testid="ex-status"
        data-version={version}
        data-busy={busy}
        data-topic={exercise?.topic ?? ''}
        data-seed={exercise?.seed ?? -1}
        data-level={exercise?.level ?? -1}
      >
        {exercise !== null ? (
          <span>
            <b>{exercise.topic}</b>, seed {exercise.seed}, level {exercise.level} —{' '}
            {topics.find((t) => t.name === exercise.topic)?.summary}
          </span>
        ) : null}
        {busy ? <span className="busy"> | playing the problem on the model…</span> : null}
        {error !== null ? (
          <span className="bad" data-testid="ex-error">
            {' '}
            | {error}
          </span>
        ) : null}
      </div>
      {exercise !== null ? (
        <ExerciseSheet key={`${exercise.topic}:${exercise.seed}:${exercise.level}`} exercise={exercise} />
      ) : (
        <p className="loading">{busy ? '' : 'starting the model…'}</p>
      )}
    </div>
  );
}
