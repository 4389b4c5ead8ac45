// The browser view: a controls bar (scenario, config, play/step/back/jump/next-of-kind), the counters, the
// frame map, the grant graph, the tables and the timeline. All model work happens in the worker.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactElement } from 'react';
import type { TraceEvent } from '../../src/include/trace.ts';
import type { FrameMapping } from '../../src/sim/inspect.ts';
import type { EventKind } from '../../src/sim/session.ts';
import { ExercisePanel } from './ExercisePanel.tsx';
import { FrameMap, describeFrame } from './FrameMap.tsx';
import { GrantGraph } from './GrantGraph.tsx';
import type { GraphFolds } from './GrantGraph.tsx';
import { AddressSpaces, CountersBar, Ds, Grants, Processes, Timeline } from './panels.tsx';
import type { Reply, Request, ViewConfig, ViewState } from './protocol.ts';
import { relatedTo } from './related.ts';
import type { Selection } from './related.ts';
import { TimeSwitches } from './TimeSwitches.tsx';

const SPEEDS = [1, 10, 100, 1000];

/** How one process maps a frame, in the frame map's words: safemap shared, COW shared (a private reference to a shared block) or private. */
function mappingKind(m: FrameMapping): string {
  if (m.mode === 'smap') return 'safemap shared';
  return m.refcount > 1 ? `COW shared (refcount ${m.refcount})` : 'private';
}

/** What the worker said about the scenario it opened. */
type Opened = Omit<Extract<Reply, { type: 'opened' }>, 'type'>;

export function App(): ReactElement {
  const worker = useRef<Worker | null>(null);
  const [scenarios, setScenarios] = useState<{ name: string; title: string }[]>([]);
  const [scenario, setScenario] = useState('safemap');
  const [config, setConfig] = useState<ViewConfig>({
    seed: 1,
    memoryMiB: 64,
    cowSafecopy: true,
    grantIds: 'generational',
    sanity: 'top',
    profile: 'i386-2010',
    cowBreak: 'block',
  });
  const [opened, setOpened] = useState<Opened | null>(null);
  const [events, setEvents] = useState<TraceEvent[]>([]);
  const [state, setState] = useState<ViewState | null>(null);
  const [frames, setFrames] = useState<Uint32Array>(new Uint32Array(0));
  const [busy, setBusy] = useState<{ what: string; cancel?: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(10);
  const [selection, setSelection] = useState<Selection>(null);
  const [jump, setJump] = useState('');
  /** The step at which the worker last finished preparing checkpoints (fast steps back from there). */
  const [prepared, setPrepared] = useState(-1);
  const [show, setShow] = useState<GraphFolds>({ revoked: false, dead: false });
  /** States received so far: tests wait for it to change after an action. */
  const [version, setVersion] = useState(0);
  const [exerciseMode, setExerciseMode] = useState(false);
  const pending = useRef(false);
  /** The selected frame, whose mappings are asked for again at every new state. */
  const selectedFrame = useRef<number | null>(null);
  useEffect(() => {
    selectedFrame.current = selection?.kind === 'frame' ? selection.frame : null;
  }, [selection]);
  const eventsRef = useRef<TraceEvent[]>([]);

  const send = useCallback((m: Request) => {
    pending.current = true;
    worker.current?.postMessage(m);
  }, []);

  /** Starts the model's worker (again after a cancel: the old one is terminated, with its scenario files). */
  const startWorker = useCallback(() => {
    worker.current?.terminate();
    const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    worker.current = w;
    pending.current = false;
    w.onmessage = (e: MessageEvent<Reply>) => {
      const m = e.data;
      switch (m.type) {
        case 'scenarios':
          setScenarios(m.list);
          break;
        case 'opened':
          eventsRef.current = [];
          setEvents([]);
          setOpened(m);
          setScenario(m.scenario);
          setSelection(null);
          break;
        case 'events':
          eventsRef.current = eventsRef.current.concat(m.events);
          setEvents(eventsRef.current);
          break;
        case 'state':
          pending.current = false;
          setBusy(null);
          setError(null);
          setState(m.state);
          setFrames(m.frames);
          setVersion((v) => v + 1);
          if (selectedFrame.current !== null)
            w.postMessage({ type: 'frame', frame: selectedFrame.current } satisfies Request);
          if (m.state.position.done) setPlaying(false);
          break;
        case 'prepared':
          setPrepared(m.step);
          break;
        case 'mappings':
          setSelection({ kind: 'frame', frame: m.frame, mappings: m.list });
          break;
        case 'busy':
          setBusy(m);
          break;
        case 'error':
          pending.current = false;
          setBusy(null);
          setPlaying(false);
          setError(m.message);
          break;
      }
    };
  }, []);

  useEffect(() => {
    startWorker();
    return () => {
      worker.current?.terminate();
    };
  }, [startWorker]);

  /** Stops a listing that takes too long (a scenario that never ends): a fresh worker, nothing open. */
  const cancel = useCallback(() => {
    const what = busy?.what ?? '';
    startWorker();
    setBusy(null);
    setPlaying(false);
    setOpened(null);
    setState(null);
    eventsRef.current = [];
    setEvents([]);
    setError(`cancelled (${what.replace(/…$/, '')}); choose a scenario (load a scenario file again)`);
  }, [busy, startWorker]);

  const openScenario = useCallback(
    (name: string) => {
      setPlaying(false);
      setScenario(name);
      send({ type: 'open', scenario: name, config });
    },
    [config, send],
  );
  const open = useCallback(() => {
    openScenario(scenario);
  }, [scenario, openScenario]);
  /** A new cost-model switch: reopen the scenario with it, back at the step shown. */
  const reopenWith = (c: ViewConfig): void => {
    setConfig(c);
    setPlaying(false);
    send({ type: 'open', scenario, config: c, step: state?.position.step });
  };

  // Open the default scenario once the worker has listed the scenarios.
  const first = useRef(true);
  useEffect(() => {
    if (scenarios.length > 0 && first.current) {
      first.current = false;
      open();
    }
  }, [scenarios, open]);

  // Play: ask for the next `speed` events each animation frame, once the previous answer has arrived.
  useEffect(() => {
    if (!playing) return;
    let id = 0;
    const tick = (): void => {
      if (!pending.current) send({ type: 'next', events: speed });
      id = requestAnimationFrame(tick);
    };
    id = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(id);
    };
  }, [playing, speed, send]);

  const step = useCallback(() => {
    setPlaying(false);
    send({ type: 'next', events: 1 });
  }, [send]);
  const back = useCallback(() => {
    setPlaying(false);
    send({ type: 'prev' });
  }, [send]);
  const nextOf = useCallback(
    (kind: EventKind) => {
      setPlaying(false);
      send({ type: 'nextOf', kind });
    },
    [send],
  );
  const gotoStep = useCallback(
    (s: number) => {
      setPlaying(false);
      send({ type: 'goto', step: s });
    },
    [send],
  );

  useEffect(() => {
    if (exerciseMode) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
      if (e.key === 'ArrowRight' || e.key === 'n') step();
      else if (e.key === 'ArrowLeft' || e.key === 'b') back();
      else if (e.key === ' ') {
        e.preventDefault();
        setPlaying((p) => !p);
      } else if (e.key === 'f') nextOf('fault');
      else if (e.key === 'c') nextOf('cow-break');
      else if (e.key === 'g') nextOf('grant-failure');
      else if (e.key === 'Escape') setSelection(null);
      else if (e.key === 'Home') gotoStep(0);
      else if (e.key === 'End') gotoStep(Number.MAX_SAFE_INTEGER);
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, [step, back, nextOf, gotoStep, exerciseMode]);

  /** Names by endpoint: every process the trace has started (so that gone ones keep theirs), then the live ones. */
  const started = useMemo(() => {
    const m = new Map<number, string>();
    for (const e of events) if (e.kind === 'proc' && e.op !== 'restart') m.set(e.ep, e.name);
    return m;
  }, [events]);
  const names = useMemo(
    () => new Map([...started, ...(state?.processes ?? []).map((p) => [p.endpoint, p.name] as const)]),
    [started, state],
  );
  const slotNames = useMemo(() => new Map((state?.processes ?? []).map((p) => [p.slot, p.name])), [state]);
  const related = useMemo(() => relatedTo(selection, state), [selection, state]);
  const selectGrant = (key: string): void => {
    setSelection({ kind: 'grant', key });
  };
  const selectRegion = (key: string): void => {
    setSelection({ kind: 'region', key });
  };
  const selectFrame = (frame: number): void => {
    worker.current?.postMessage({ type: 'frame', frame } satisfies Request);
  };
  const pos = state?.position;
  const failed = opened?.checks.filter((c) => !c.ok).length ?? 0;
  const leaveExercises = (): void => {
    setExerciseMode(false);
  };
  if (exerciseMode) return <ExercisePanel onSimulator={leaveExercises} />;

  return (
    <div className="app">
      <header className="controls">
        <strong>grantvm</strong>
        <button
          data-testid="exercise-mode"
          onClick={() => {
            setPlaying(false);
            setExerciseMode(true);
          }}
          title="exercise mode: a problem played on the model, answers hidden until asked"
        >
          exercises ▶
        </button>
        <select
          data-testid="scenario"
          value={scenario}
          onChange={(e) => {
            openScenario(e.target.value);
          }}
        >
          {scenarios.map((s) => (
            <option key={s.name} value={s.name} title={s.title}>
              {s.name}
            </option>
          ))}
        </select>
        <label title="a .js or .mjs module exporting `scenario` or `scenarios`, as for `grantvm run FILE` (its first scenario opens at once); it cannot import the model's sources (a TypeScript file must be compiled first): everything reaches it through sys, out and each program's Proc">
          file{' '}
          <input
            type="file"
            accept=".js,.mjs,.ts,.mts"
            data-testid="scenario-file"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f === undefined) return;
              setPlaying(false);
              send({ type: 'load', url: URL.createObjectURL(f), fileName: f.name, config });
            }}
          />
        </label>
        <label>
          seed{' '}
          <input
            type="number"
            data-testid="seed"
            value={config.seed}
            onChange={(e) => {
              setConfig({ ...config, seed: Number(e.target.value) });
            }}
          />
        </label>
        <label>
          MiB{' '}
          <input
            type="number"
            data-testid="memory"
            value={config.memoryMiB}
            min={4}
            onChange={(e) => {
              setConfig({ ...config, memoryMiB: Number(e.target.value) });
            }}
          />
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="cow"
            checked={config.cowSafecopy}
            onChange={(e) => {
              setConfig({ ...config, cowSafecopy: e.target.checked });
            }}
          />{' '}
          cowSafecopy
        </label>
        <select
          data-testid="grant-ids"
          value={config.grantIds}
          onChange={(e) => {
            setConfig({ ...config, grantIds: e.target.value as ViewConfig['grantIds'] });
          }}
        >
          <option value="generational">generational ids</option>
          <option value="legacy">legacy ids</option>
        </select>
        <select
          data-testid="sanity"
          value={config.sanity}
          onChange={(e) => {
            setConfig({ ...config, sanity: e.target.value as ViewConfig['sanity'] });
          }}
        >
          {['off', 'top', 'functions', 'detail'].map((s) => (
            <option key={s} value={s}>
              sanity {s}
            </option>
          ))}
        </select>
        <TimeSwitches config={config} onChange={reopenWith} />
        <button data-testid="open" onClick={open}>
          ⟳ run
        </button>
        <span className="sep" />
        <button data-testid="back" onClick={back} title="step back one event (← or b): replay from the seed">
          ◀ back
        </button>
        <button
          data-testid="play"
          onClick={() => {
            setPlaying(!playing);
          }}
          title="play / pause (space)"
        >
          {playing ? '❚❚ pause' : '▶ play'}
        </button>
        <button data-testid="step" onClick={step} title="step one event (→ or n)">
          step ▶
        </button>
        <select
          data-testid="speed"
          value={speed}
          onChange={(e) => {
            setSpeed(Number(e.target.value));
          }}
          title="events per frame while playing"
        >
          {SPEEDS.map((s) => (
            <option key={s} value={s}>
              {s}/frame
            </option>
          ))}
        </select>
        <button
          data-testid="next-fault"
          onClick={() => {
            nextOf('fault');
          }}
          title="next page fault (f)"
        >
          next fault
        </button>
        <button
          data-testid="next-cow"
          onClick={() => {
            nextOf('cow-break');
          }}
          title="next COW break (c)"
        >
          next COW break
        </button>
        <button
          data-testid="next-grant-failure"
          onClick={() => {
            nextOf('grant-failure');
          }}
          title="next grant failure (g)"
        >
          next grant failure
        </button>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            gotoStep(Number(jump));
          }}
        >
          <input
            data-testid="jump"
            placeholder="step"
            value={jump}
            onChange={(e) => {
              setJump(e.target.value);
            }}
            size={7}
          />
          <button type="submit">go</button>
        </form>
      </header>
      <div
        className="status"
        data-testid="status"
        data-step={pos?.step ?? -1}
        data-seen={pos?.seen ?? -1}
        data-done={pos?.done ?? false}
        data-busy={busy !== null}
        data-version={version}
        data-took={state?.tookMs ?? 0}
        data-total={opened?.totalEvents ?? 0}
        data-prepared={prepared === pos?.step}
      >
        {opened !== null ? (
          <span>
            <b>{opened.scenario}</b> — {opened.title}. {opened.totalEvents} events, {opened.finalStep} steps;{' '}
            <span className={failed > 0 || opened.error !== null ? 'bad' : 'ok'}>
              {opened.checks.length - failed}/{opened.checks.length} checks pass
              {opened.error !== null ? `, ${opened.error}` : ''}
            </span>
          </span>
        ) : null}
        {pos !== undefined ? (
          <span data-testid="position">
            {' '}
            | step {pos.step} / {state?.finalStep}, event {pos.seen} / {opened?.totalEvents ?? 0}
            {pos.done ? ' (end)' : ''} | {state?.replays ?? 0} replays, last move{' '}
            {Math.round(state?.tookMs ?? 0)} ms
          </span>
        ) : null}
        {busy !== null ? (
          <span className="busy" data-testid="busy">
            {' '}
            | {busy.what}
            {busy.cancel === true ? (
              <button
                data-testid="cancel"
                onClick={cancel}
                title="stop this run (a scenario that never ends)"
              >
                ✕ cancel
              </button>
            ) : null}
          </span>
        ) : null}
        {error !== null ? (
          <span className="bad" data-testid="error">
            {' '}
            | {error}
          </span>
        ) : null}
      </div>
      {state !== null ? (
        <>
          <input
            className="scrub"
            type="range"
            min={0}
            max={state.finalStep}
            value={state.position.step}
            onChange={(e) => {
              gotoStep(Number(e.target.value));
            }}
            data-testid="scrub"
          />
          <CountersBar c={state.counters} />
          <main className={`panels${busy?.cancel === true ? ' stale' : ''}`}>
            <section className="panel frames">
              <h2>physical frames</h2>
              <FrameMap
                frames={frames}
                highlight={related.frames}
                selected={selection?.kind === 'frame' ? selection.frame : null}
                names={slotNames}
                onSelect={selectFrame}
              />
              {selection?.kind === 'frame' ? (
                <div className="mappings" data-testid="frame-mappings">
                  <b>frame {selection.frame}</b>: {describeFrame(frames[selection.frame] ?? 0, slotNames)}
                  {selection.mappings.length === 0 ? '; no process maps it' : ''}
                  {selection.mappings.map((m) => (
                    <div key={`${m.endpoint}@${m.vaddr}`}>
                      {m.name} ({m.endpoint}) at 0x{m.vaddr.toString(16)}: {mappingKind(m)},{' '}
                      {m.writable ? 'writable' : 'read-only'}
                    </div>
                  ))}
                </div>
              ) : null}
            </section>
            <section className="panel graph">
              <h2>grant graph</h2>
              <GrantGraph
                state={state}
                names={names}
                related={related.grants}
                show={show}
                onShow={setShow}
                onSelect={selectGrant}
              />
              <Grants
                state={state}
                names={names}
                related={related}
                showStale={show.revoked}
                onSelect={selectGrant}
              />
            </section>
            <section className="panel spacespanel">
              <h2>address spaces</h2>
              <div className="pagelegend">
                <i className="run writable" /> writable <i className="run readonly" /> read-only{' '}
                <i className="run cow" /> COW shared <i className="run smap" /> safemap shared{' '}
                <i className="run absent" /> absent
              </div>
              <AddressSpaces state={state} related={related} onSelect={selectRegion} />
            </section>
            <section className="panel procs">
              <h2>processes</h2>
              <Processes state={state} related={related} />
              <h2>data store</h2>
              <Ds state={state} />
            </section>
            <section className="panel tl">
              <h2>timeline</h2>
              <Timeline
                events={events}
                seen={state.position.seen}
                names={names}
                clockMHz={state.clockMHz}
                onGoto={gotoStep}
              />
            </section>
          </main>
        </>
      ) : (
        <p className="loading">{busy !== null ? '' : error !== null ? '' : 'starting the model…'}</p>
      )}
      <footer>
        keys: → / n step, ← / b back, space play/pause, f next fault, c next COW break, g next grant failure,
        Home/End first/last, Esc clear selection
      </footer>
    </div>
  );
}
