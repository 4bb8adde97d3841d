import { transformSync } from '@swc/core';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const LINUX = fs.existsSync('/proc/self/task');

/** Runs lowerCpuPriority(n) for each n in a child process of its own (a lowered priority cannot be raised back) and reads every thread's nice. */
function inAChildProcess(calls: number[]): { changed: number[]; nice: number[] } {
  const source = fs.readFileSync(path.join(__dirname, 'cpu-priority.ts'), 'utf8');
  const { code } = transformSync(source, { module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } });
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
