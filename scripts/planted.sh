#!/usr/bin/env bash
# Planted bugs: how strong is the fuzzer? Each test/mutants/NN-name.patch is one small, realistic bug in src/.
# For each, this copies the checkout's src/ (and what running it needs) to a temporary directory, applies the
# patch there (never to this working tree), runs CI's fuzz budget on the copy and says whether the bug was
# KILLED (a violation, a leak, a panic, or coverage left short) or SURVIVED. A patch that no longer applies is
# reported as STALE and not counted. The unpatched copy runs first: if it fails, no verdict means anything.
#
#   npm run planted                         # every patch, CI's budget (.ci/run), without shrinking (--shrink 0)
#   npm run planted -- 08 16                # only the patches whose name starts with 08 or 16
#   PLANTED_FUZZ="--runs 5 --seed 3" npm run planted      # another budget
#   PLANTED_TESTS="test/unit/model" npm run planted       # also run these unit tests on each surviving copy
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
budget=${PLANTED_FUZZ:---runs 60 --commands 60 --seed 1 --require-coverage}
# The first runs of that budget (the same seed and commands: run i is the same run in both). A violation or a leak
# there is one of the budget's, so most kills take a quarter of the time; the rest run the whole budget.
prefix=${PLANTED_PREFIX:---runs 15 --commands 60 --seed 1}
tests=${PLANTED_TESTS:-}
limit=${PLANTED_TIMEOUT:-600}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/grantvm-planted.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The checkout's sources as they are at the start (committed or not), so that edits made meanwhile change nothing.
mkdir -p "$tmp/base"
cp -r src bin test package.json tsconfig.json vitest.config.ts "$tmp/base/"
ln -s "$root/node_modules" "$tmp/base/node_modules"

# fresh_copy: a pristine copy of those sources in $tmp/w.
fresh_copy() {
  rm -rf "$tmp/w"
  cp -a "$tmp/base" "$tmp/w"
}

# verdict OUTPUT_FILE EXIT_CODE: why the budget failed (violation, leak, coverage, timeout, crash), or "" if it passed.
verdict() {
  local out=$1 rc=$2 why=()
  [ "$rc" -eq 124 ] && { echo "timeout"; return; }
  grep -Eq '^violations: +[1-9]' "$out" && why+=(violation)
  grep -Eq '^leaks: +[1-9]' "$out" && why+=(leak)
  grep -q '^coverage: not reached' "$out" && why+=(coverage)
  [ "$rc" -ne 0 ] && [ ${#why[@]} -eq 0 ] && why+=(crash)
  echo "${why[*]}"
}

# fuzz_on_copy LOG ARGS...: grantvm fuzz on the copy, without shrinking; prints the verdict.
fuzz_on_copy() {
  local log=$1 rc
  shift
  (cd "$tmp/w" && timeout "$limit" node bin/grantvm.js fuzz "$@" --shrink 0) > "$log" 2>&1
  rc=$?
  verdict "$log" "$rc"
}

# run_budget LOG: the budget's first runs, then if they pass the whole budget (then the chosen unit tests, if the
# fuzz passed); prints the verdict.
run_budget() {
  local log=$1 why
  # shellcheck disable=SC2086 # the budgets are lists of words
  why=$(fuzz_on_copy "$log" $prefix)
  [[ $why == coverage ]] && why=""
  # shellcheck disable=SC2086
  [ -z "$why" ] && why=$(fuzz_on_copy "$log" $budget)
  if [ -z "$why" ] && [ -n "$tests" ]; then
    # shellcheck disable=SC2086
    (cd "$tmp/w" && timeout "$limit" npx vitest run $tests) >> "$log" 2>&1 || why="unit tests"
  fi
  echo "$why"
}

patches=()
for p in test/mutants/*.patch; do
  name=$(basename "$p" .patch)
  if [ $# -eq 0 ]; then patches+=("$p"); continue; fi
  for want in "$@"; do [[ $name == "$want"* ]] && patches+=("$p"); done
done
[ ${#patches[@]} -gt 0 ] || { echo "planted: no patch matches $*" >&2; exit 2; }

echo "budget: grantvm fuzz $budget${tests:+, then vitest run $tests}"
fresh_copy
why=""
# PLANTED_BASELINE=0 skips the unpatched run (when a run over the same sources just passed it).
[ "${PLANTED_BASELINE:-1}" = 0 ] || why=$(run_budget "$tmp/baseline.log")
if [ -n "$why" ]; then
  echo "planted: the unpatched sources fail the budget ($why); fix that first:" >&2
  tail -20 "$tmp/baseline.log" >&2
  exit 1
fi
[ "${PLANTED_BASELINE:-1}" = 0 ] && echo "baseline (no patch): skipped" || echo "baseline (no patch): passes"

killed=0 survived=0 stale=0
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  fresh_copy
  if ! (cd "$tmp/w" && git apply -p1 "$root/$p" 2>/dev/null); then
    printf '%-44s STALE (no longer applies; not counted)\n' "$name"
    stale=$((stale + 1))
    continue
  fi
  why=$(run_budget "$tmp/$name.log")
  if [ -n "$why" ]; then
    printf '%-44s killed (%s)\n' "$name" "$why"
    killed=$((killed + 1))
  else
    printf '%-44s SURVIVED\n' "$name"
    survived=$((survived + 1))
  fi
done
echo "killed ${killed} of $((killed + survived)) planted bugs$([ "$stale" -gt 0 ] && echo " ($stale stale, not counted)")"
