// Progress of a long CLI job: a cli-progress bar on a terminal, plain periodic lines otherwise (logs, CI).
// Shared by bench and fuzz. Entry points: progressReporter, Reporter.
import cliProgress from 'cli-progress';
import { color } from './format.ts';

export interface Reporter {
  /** Work done out of total (the total may change as it becomes known). */
  update: (done: number, total: number) => void;
  stop: () => void;
}

/** A cli-progress bar on a terminal; otherwise a line at the start, at most one every 2 s, and one at the end. */
export function progressReporter(group: string, tty = process.stdout.isTTY): Reporter {
  const t0 = performance.now();
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `  ${group.padEnd(8)} {bar} {percentage}% | {duration_formatted}`,
        stream: process.stdout,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0);
    let lastTotal = 1;
    return {
      update: (done, total) => {
        if (total !== lastTotal && total > 0) {
          bar.setTotal(total);
          lastTotal = total;
        }
        bar.update(done);
      },
      stop: () => {
        bar.stop();
      },
    };
  }
  console.log(color.dim(`  ${group}: running…`));
  let last = t0;
  return {
    update: (done, total) => {
      const now = performance.now();
      if (now - last < 2000 || total <= 0) return;
      last = now;
      console.log(
        color.dim(
          `  ${group}: ${done}/${total} (${Math.floor((100 * done) / total)}%), ${((now - t0) / 1000).toFixed(1)} s`,
        ),
      );
    },
    stop: () => {
      console.log(color.dim(`  ${group}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`));
    },
  };
}
