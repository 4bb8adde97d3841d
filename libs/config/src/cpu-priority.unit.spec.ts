import { transformSync } from '@swc/core';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const LINUX = fs.existsSync('/proc/self/task');

function compiled(): string {
  const source = fs.readFileSync(path.join(__dirname, 'cpu-priority.ts'), 'utf8');
  return transformSync(source, { module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }).code;
}

/** Runs lowerCpuPriority(n) for each n in a child process of its own (a lowered priority cannot be raised back) and reads every thread's nice. */
function inAChildProcess(calls: number[]): { changed: number[]; nice: number[] } {
  const code = compiled();
  const program = `
    const module = { exports: {} }; const exports = module.exports;
    ${code}
    // A worker thread that exists before the call, like V8's and libuv's.
    new (require('node:worker_threads').Worker)('setInterval(() => {}, 1000)', { eval: true }).unref();
    setTimeout(() => {
      const changed = ${JSON.stringify(calls)}.map((n) => exports.lowerCpuPriority(n));
      const nice = fs.readdirSync('/proc/self/task').map((t) => Number(fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]));
      console.log(JSON.stringify({ changed, nice }));
      process.exit(0);
    }, 200);`;
  return JSON.parse(execFileSync(process.execPath, ['-e', `const fs = require('node:fs');${program}`], { encoding: 'utf8' }));
}

(LINUX ? describe : describe.skip)('lowerCpuPriority', () => {
  it('given a process at nice 0, when lowered to 7, then every thread it has runs at nice 7', () => {
    const { changed, nice } = inAChildProcess([7]);
    expect(changed[0]).toBeGreaterThan(1);
    expect(nice.length).toBeGreaterThan(1);
    expect(new Set(nice)).toEqual(new Set([7]));
  });

  it('given a process at nice 7, when asked for 3 (a raise) or 0 (off), then nothing changes', () => {
    const { changed, nice } = inAChildProcess([7, 3, 0]);
    expect(changed.slice(1)).toEqual([0, 0]);
    expect(new Set(nice)).toEqual(new Set([7]));
  });
});

/** Runs lowerSessionPriority(n) in a child process, leading a session of its own or not, and reads its autogroup's nice before and after. */
function sessionCall(n: number, ownSession: boolean): { lowered: boolean; before: number | null; after: number | null } {
  const program = `
    const fs = require('node:fs'); const module = { exports: {} }; const exports = module.exports;
    ${compiled()}
    // The kernel's default autogroup (init's session, where a CI runner may live) prints an empty file: null.
    const nice = () => { const m = /nice (-?\\d+)/.exec(fs.readFileSync('/proc/self/autogroup', 'utf8')); return m ? Number(m[1]) : null; };
    const before = nice();
    const lowered = exports.lowerSessionPriority(${n});
    console.log(JSON.stringify({ lowered, before, after: nice() }));`;
  const [cmd, ...args] = ownSession ? ['setsid', process.execPath] : [process.execPath];
  return JSON.parse(execFileSync(cmd, [...args, '-e', program], { encoding: 'utf8' }));
}

const AUTOGROUPS = fs.existsSync('/proc/self/autogroup');

(AUTOGROUPS ? describe : describe.skip)('lowerSessionPriority (kernels that schedule by session)', () => {
  it('given a process leading its own session, when lowered to 9, then its session runs at nice 9', () => {
    const r = sessionCall(9, true);
    expect(r).toEqual({ lowered: true, before: 0, after: 9 });
  });

  it("given a process in its parent's session, when lowered, then the shared session is left as it is", () => {
    const r = sessionCall(9, false);
    expect(r.lowered).toBe(false);
    expect(r.after).toBe(r.before);
  });
});
