#!/usr/bin/env node
// `npm run bench -- [--purchases N ...]` (see `--help` for the options of the bench itself).
//
// The figures belong to a commit: by default the bench builds and runs a snapshot of HEAD
// (git archive into a temporary directory, node_modules linked, this checkout's
// scripts/bench copied over it), so edits in progress in the working tree neither break nor
// colour the run. `--working-tree` benches the working tree as it is instead.
// It makes sure the broker answers (starting the local one if needed, and stopping it again
// at the end if this run started it, as scripts/test.sh does; KEEP_INFRA=1 keeps it), then
// runs dist/scripts/bench/bench.js. Results land in bench-results/ of this checkout.
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const own = ['--working-tree', '--keep-snapshot'];
const args = process.argv.slice(2).filter((a) => !own.includes(a));
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const help = args.includes('--help');
const workingTree = process.argv.includes('--working-tree');

let dir = ROOT;
let commit = '';
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
} catch {
  /* not a git checkout */
}
if (!workingTree && commit && !help) {
  dir = path.join(os.tmpdir(), `loyalty-bench-${commit.slice(0, 12)}-${process.pid}`);
  log(`snapshot of HEAD ${commit.slice(0, 12)} in ${dir} (bench scripts from this checkout)`);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive --format=tar HEAD | tar -x -C "${dir}"`]);
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // The bench's own files from this checkout; domain-bench.ts stays as committed (it
  // belongs to the domain, and must compile against the committed libs).
  for (const f of fs.readdirSync(path.join(ROOT, 'scripts', 'bench'))) {
    if (f === 'domain-bench.ts') continue;
    fs.rmSync(path.join(dir, 'scripts', 'bench', f), { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, 'scripts', 'bench', f), path.join(dir, 'scripts', 'bench', f), { recursive: true });
  }
}
const cleanupSnapshot = () => {
  if (dir !== ROOT && !process.argv.includes('--keep-snapshot')) fs.rmSync(dir, { recursive: true, force: true });
};

if (!help) {
  log(`building (npm run build) in ${dir}`);
  const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
  if (b.status !== 0) {
    if (dir !== ROOT || !fs.existsSync(path.join(dir, 'dist/scripts/bench/bench.js'))) {
      log(`the build failed (exit ${b.status})`);
      cleanupSnapshot();
      process.exit(b.status || 1);
    }
    log('WARNING: the build failed; running the last build in dist/ (the figures describe that build)');
  }
}

const kafkaSh = path.join(ROOT, 'scripts', 'kafka.sh');
let startedKafka = false;
if (!help && !process.env.KAFKA_BROKERS) {
  const status = spawnSync(kafkaSh, ['status'], { cwd: ROOT, stdio: 'ignore' });
  if (status.status !== 0) {
    log('no broker answers on 127.0.0.1:9092: starting the local one (stopped again at the end)');
    const up = spawnSync(kafkaSh, ['up'], { cwd: ROOT, stdio: 'inherit' });
    if (up.status !== 0) process.exit(up.status || 1);
    startedKafka = true;
  }
}
const stopKafka = () => {
  if (startedKafka && process.env.KEEP_INFRA !== '1') {
    log('stopping the broker this run started');
    spawnSync(kafkaSh, ['down'], { cwd: ROOT, stdio: 'inherit' });
    startedKafka = false;
  }
};

const child = spawn(process.execPath, ['--max-old-space-size=4096', path.join(dir, 'dist/scripts/bench/bench.js'), ...args], {
  cwd: dir,
  stdio: 'inherit',
  env: {
    ...process.env,
    BENCH_RESULTS_DIR: path.join(ROOT, 'bench-results'),
    BENCH_COMMIT: commit,
    BENCH_SOURCE: dir === ROOT ? 'working tree' : `snapshot of HEAD (${commit.slice(0, 12)}) + scripts/bench of the working tree`,
  },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  stopKafka();
  cleanupSnapshot();
  process.exit(code ?? (signal ? 1 : 0));
});
