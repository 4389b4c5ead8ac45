#!/usr/bin/env bash
# The package works where it is installed: `npm pack` (prepack builds dist/), then in a scratch directory
# outside the repository `npm install` of the tarball with production dependencies only, and the commands a
# new user runs first: run, test, inspect, bench, ui (served from the package's own bundle), scenario files
# (.ts and .mts, outside any project, run in the scenario worker), a scenario that spins (stopped by --timeout),
# and the library entry from code. Exits non-zero at the first failure. Uses the npm cache (--prefer-offline).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/grantvm-package-XXXXXX")"
ui=""
trap '[ -z "$ui" ] || kill "$ui" 2>/dev/null; rm -rf "$work"' EXIT

step() { printf '\n== package: %s ==\n' "$*"; }

step "npm pack"
(cd "$repo" && npm pack --silent --pack-destination "$work" > "$work/pack.txt")
tarball="$work/$(tail -1 "$work/pack.txt")"
ls -l "$tarball"
# The tarball holds the CLI and the built library, not the sources, tests or dev tooling.
listing="$(tar -tzf "$tarball")"
for f in package/bin/grantvm.js package/dist/src/index.js package/dist/src/index.d.ts package/dist/src/cli/entry.js package/dist/src/cli/worker.js package/dist/src/cli/bench/run.js package/web/dist/index.html package/LICENSE; do
  grep -qx "$f" <<< "$listing" || { echo "missing from the package: $f"; exit 1; }
done
if grep -qE '^package/(src|test)/' <<< "$listing"; then echo "the package holds src/ or test/"; exit 1; fi

step "npm install (production dependencies only)"
mkdir "$work/app"
cd "$work/app"
npm init -y > /dev/null
npm install --omit=dev --prefer-offline --no-audit --no-fund "$tarball"
for dev in vitest typescript eslint typedoc fast-check; do
  [ ! -e "node_modules/$dev" ] || { echo "dev dependency $dev was installed"; exit 1; }
done

step "npx grantvm run boot"
npx grantvm run boot | tail -2
step "npx grantvm test safemap"
npx grantvm test safemap | tail -2
step "npx grantvm inspect"
npx grantvm inspect > inspect.txt
grep -q 'Frame map' inspect.txt && grep -q 'Statistics' inspect.txt
step "npx grantvm inspect vm-demo --at 100 --json"
npx grantvm inspect vm-demo --at 100 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{if(JSON.parse(s).step!==100)process.exit(1)})'
step "npx grantvm bench MMU"
npx grantvm bench MMU --rounds 1 | tail -4

step "npx grantvm ui serves the package's own bundle"
# The bin itself (not npx), so that $! is the server's own process.
./node_modules/.bin/grantvm ui --port 0 > ui.txt 2>&1 &
ui=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'http://127.0.0.1:[0-9]*/' ui.txt || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat ui.txt; echo "grantvm ui did not start"; exit 1; }
page="$(node -e "fetch('$url', { signal: AbortSignal.timeout(5000) }).then((r) => r.text()).then((t) => process.stdout.write(t))")"
kill "$ui"
wait "$ui" 2>/dev/null || true
ui=""
grep -q '<script' <<< "$page" || { echo "grantvm ui served no page: $page"; exit 1; }
echo "served $url"

step "a TypeScript scenario file that imports 'grantvm'"
cat > hello.ts <<'EOF'
import { OK, type Scenario } from 'grantvm';

export const scenario: Scenario = {
  name: 'hello',
  title: 'a user program writes and reads its heap',
  async run(sys, out) {
    const h = sys.spawn(async (p) => {
      await p.writeU32(0x19004000, 42);
      return (await p.readU32(0x19004000)) === 42 ? OK : 1;
    });
    await sys.run();
    out.check('the program exited with status 0', h.exit?.code === 0, JSON.stringify(h.exit));
  },
};
EOF
npx grantvm run hello.ts | tail -1
cp hello.ts hello.mts
npx grantvm run hello.mts | tail -1

step "a scenario that spins without entering the kernel is stopped by --timeout"
echo "export const scenario = { name: 'spin', title: 'spins', async run(sys) { sys.spawn(async () => { for (;;); }, { name: 'spinner' }); await sys.run(); } };" > spin.mjs
if npx grantvm run spin.mjs --timeout 2 2> spin.txt > /dev/null; then echo "a spinning scenario exited 0"; exit 1; fi
grep -q "running spinner" spin.txt || { cat spin.txt; exit 1; }
cat spin.txt

step "import('grantvm') from code"
node -e "
import('grantvm').then(async (m) => {
  const sys = await m.createSystem({ seed: 1, sanity: 'top' });
  const h = sys.spawn(async (p) => ((await p.getpid()).pid > 0 ? m.OK : 1));
  await sys.run();
  if (h.exit?.code !== 0) throw new Error('spawned program failed: ' + JSON.stringify(h.exit));
  for (const name of ['runScenario', 'builtinScenarios', 'toJsonLines', 'snapshot', 'CPF_READ', 'EPERM', 'startTestService']) {
    if (!(name in m)) throw new Error('grantvm does not export ' + name);
  }
  console.log('createSystem ok:', sys.inspect().processes.length, 'processes');
});
"
echo
echo "package check passed"
