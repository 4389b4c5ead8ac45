#!/usr/bin/env bash
# The package works where it is installed: `npm pack` (prepack builds dist/), then in a scratch directory
# outside the repository `npm install` of the tarball with production dependencies only, and the commands a
# new user runs first: run, test, inspect, bench, a TypeScript scenario file importing 'grantvm', and the
# library entry from code. Exits non-zero at the first failure. Uses the npm cache (--prefer-offline).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/grantvm-package-XXXXXX")"
trap 'rm -rf "$work"' EXIT

step() { printf '\n== package: %s ==\n' "$*"; }

step "npm pack"
(cd "$repo" && npm pack --silent --pack-destination "$work" > "$work/pack.txt")
tarball="$work/$(tail -1 "$work/pack.txt")"
ls -l "$tarball"
# The tarball holds the CLI and the built library, not the sources, tests or dev tooling.
listing="$(tar -tzf "$tarball")"
for f in package/bin/grantvm.js package/dist/src/index.js package/dist/src/index.d.ts package/dist/src/cli/main.js package/dist/src/cli/bench/run.js; do
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
