// Running the `loyalty` CLI (from dist/) and the traffic generator against a test stack.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Stack } from '../support/stack';

const ROOT = path.resolve(__dirname, '..', '..');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnOps(stack: Stack, args: string[], extraEnv: Record<string, string> = {}): { child: ChildProcess; result: Promise<RunResult>; output: () => string } {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'apps', 'ops', 'main.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env, LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const result = new Promise<RunResult>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, result, output: () => stdout + stderr };
}

export function runOps(stack: Stack, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return spawnOps(stack, args, extraEnv).result;
}

export async function publishTraffic(stack: Stack, o: { purchases: number; members: number; seed: number }): Promise<void> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'dist', 'scripts', 'traffic', 'publish.js'), '--purchases', String(o.purchases), '--members', String(o.members), '--seed', String(o.seed)],
    { cwd: ROOT, env: { ...process.env, ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`traffic publisher failed (${code}): ${out}`);
}

/** Waits until every stage has lag 0. */
export async function waitCaughtUp(stack: Stack, seconds = 60): Promise<void> {
  const r = await runOps(stack, ['lag', '--wait', String(seconds)]);
  if (r.code !== 0) throw new Error(`pipeline did not catch up in ${seconds} s:\n${r.stdout}${r.stderr}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
