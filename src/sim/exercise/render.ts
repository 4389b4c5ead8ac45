// Exercises as text (a terminal) or Markdown (a problem sheet and a separate answer sheet), and the checking of a
// student's answers. Pure functions over the plain data of types.ts, so the CLI and a browser view share them.
// Entry points: exerciseText, blockText, problemSheet, answerSheet, normaliseAnswer, checkAnswers.
import type { Answer, Block, Exercise } from './types.ts';

const heading = (e: Exercise): string => `${e.title} (${e.topic}, seed ${e.seed}, level ${e.level})`;

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => c.padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();
}

/** One statement block as terminal lines: a paragraph, a table aligned in columns, or indented code lines. */
export function blockText(b: Block): string[] {
  if (b.kind === 'text') return [b.text];
  if (b.kind === 'code') return b.lines.map((l) => `    ${l}`);
  const widths = b.header.map((h, i) => Math.max(h.length, ...b.rows.map((r) => (r[i] ?? '').length)));
  return [
    pad(b.header, widths),
    pad(
      widths.map((w) => '-'.repeat(w)),
      widths,
    ),
    ...b.rows.map((r) => pad(r, widths)),
  ].map((l) => `  ${l}`);
}

function blockMarkdown(b: Block): string[] {
  if (b.kind === 'text') return [b.text];
  if (b.kind === 'code') return ['```', ...b.lines, '```'];
  const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [row(b.header), row(b.header.map(() => '---')), ...b.rows.map(row)];
}

const answerLine = (a: Answer): string => `${a.id}. ${a.value} — ${a.why}`;

/** One exercise for a terminal: the statement and questions, and the answers with `answers`. */
export function exerciseText(e: Exercise, answers: boolean): string {
  const lines = [heading(e), ''];
  for (const b of e.statement) lines.push(...blockText(b), '');
  lines.push('Questions:', ...e.questions.map((q) => `  ${q.id}. ${q.text}`));
  if (answers) lines.push('', 'Answers:', ...e.answers.map((a) => `  ${answerLine(a)}`));
  return lines.join('\n');
}

/** A problem sheet in Markdown: the exercises numbered 1..n, with no answers. */
export function problemSheet(list: readonly Exercise[]): string {
  const out: string[] = [];
  list.forEach((e, i) => {
    out.push(`## Problem ${i + 1}: ${heading(e)}`, '');
    for (const b of e.statement) out.push(...blockMarkdown(b), '');
    out.push(...e.questions.map((q) => `- **${q.id}.** ${q.text}`), '');
  });
  return out.join('\n');
}

/** The answer sheet that goes with {@link problemSheet}: each problem's answers with their explanations. */
export function answerSheet(list: readonly Exercise[]): string {
  const out: string[] = [];
  list.forEach((e, i) => {
    out.push(`## Answers to problem ${i + 1}: ${heading(e)}`, '');
    out.push(...e.answers.map((a) => `- **${a.id}.** \`${a.value}\` — ${a.why}`), '');
  });
  return out.join('\n');
}

/** The comparable form of an answer: lower case, no spaces, hex and decimal numbers as decimal. */
export function normaliseAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, '')
    .replace(/\b0x[0-9a-f]+\b|\b\d+\b/g, (n) => String(Number(n)));
}

/** One question marked by {@link checkAnswers}. */
export interface Mark {
  /** The question's id. */
  id: string;
  /** The student's answer equals the model's (after {@link normaliseAnswer}). */
  right: boolean;
}

/** Which of a student's answers (question id → answer) are right; a question not answered is wrong. */
export function checkAnswers(e: Exercise, given: Readonly<Record<string, unknown>>): Mark[] {
  return e.answers.map((a) => {
    const g = given[a.id];
    const text = typeof g === 'string' || typeof g === 'number' ? String(g) : null;
    return { id: a.id, right: text !== null && normaliseAnswer(text) === normaliseAnswer(a.value) };
  });
}
