#!/usr/bin/env bash
# Packaging check (CI): `npm pack` must give a package that installs into an empty folder and runs
# `animezipf --help`, `animezipf demo`, `animezipf doctor` and `animezipf status` there (oclif
# manifest, kuromoji dictionary, migrations and the demo sample included), and `npm run setup:whisper`
# must build whisper.cpp from the installed package, where doctor then finds it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

cd "$root"
tarball=$(npm pack --pack-destination "$work" 2>/dev/null | tail -1)
[ -f "$work/$tarball" ] || { echo "package check: npm pack produced no tarball"; exit 1; }
listing=$(tar -tzf "$work/$tarball")
for must in package/oclif.manifest.json package/samples/hagane-no-hane/show.json package/dist/commands/demo.js package/dist/queue/sqlite/migrations.js package/dist/queue/postgres/migrations.js package/config.toml; do
  grep -qx "$must" <<<"$listing" || { echo "package check: $must missing from $tarball"; exit 1; }
done

mkdir "$work/app"
cd "$work/app"
# npm 11 runs dependencies' install scripts only when the project allows them: better-sqlite3 builds its addon
cat > package.json <<JSON
{"name": "animezipf-package-check", "private": true, "allowScripts": {"better-sqlite3": true}}
JSON
npm install --no-audit --no-fund "$work/$tarball" >"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; echo "package check: install failed"; exit 1; }

npx --no-install animezipf --help | grep -q 'demo' || { echo "package check: --help does not list demo"; exit 1; }
npx --no-install animezipf demo --data-dir "$work/app/demo-data" >"$work/demo.log" 2>&1 || { tail -30 "$work/demo.log"; echo "package check: demo failed"; exit 1; }
grep -q 'global fit' "$work/demo.log" || { echo "package check: demo printed no global fit"; exit 1; }
npx --no-install animezipf status --data-dir "$work/app/demo-data" --json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const r = JSON.parse(s)
    if (r.jobs.by_stage.complete < 1) { console.error("no complete jobs"); process.exit(1) }
  })' || { echo "package check: status failed"; exit 1; }
# doctor in the installed package: ready for the offline stages (no ani-cli, model or key needed there)
npx --no-install animezipf doctor --stage analyze --data-dir "$work/app/demo-data" >"$work/doctor.log" 2>&1 \
  || { cat "$work/doctor.log"; echo "package check: doctor --stage analyze failed"; exit 1; }
grep -q 'ready for analyze' "$work/doctor.log" || { cat "$work/doctor.log"; echo "package check: doctor did not say ready"; exit 1; }

# setup:whisper from the installed package, into a folder of its own; doctor then finds that binary
export ANIMEZIPF_WHISPER_HOME="$work/whisper.cpp"
(cd node_modules/animezipf && npm run setup:whisper) >"$work/whisper.log" 2>&1 \
  || { tail -30 "$work/whisper.log"; echo "package check: npm run setup:whisper failed in the installed package"; exit 1; }
# (doctor exits 1 here: no model was downloaded; what matters is its whisper line)
npx --no-install animezipf doctor --stage transcribe --json --data-dir "$work/app/demo-data" >"$work/doctor.json" 2>/dev/null || true
node -e '
  const w = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).checks.find((c) => c.name === "whisper")
  if (!w || w.status !== "ok" || !w.detail.startsWith(process.env.ANIMEZIPF_WHISPER_HOME)) { console.error("doctor: " + JSON.stringify(w)); process.exit(1) }' "$work/doctor.json" \
  || { echo "package check: doctor does not find the whisper.cpp that setup:whisper built"; exit 1; }
echo "package check: ok ($tarball installs and runs --help, demo, doctor, status, setup:whisper)"
