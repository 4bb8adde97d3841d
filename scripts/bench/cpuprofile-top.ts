// Where a V8 CPU profile's time went: self time by package and by function.
//   node dist/scripts/bench/cpuprofile-top.js <file.cpuprofile> [--top 40] [--per N]
// Packages: node_modules/<name> (scoped names whole), `app` (apps/), `libs` (libs/),
// `node` (node:internal…), and V8's own entries ((garbage collector), (program), (idle)).
// Inclusive times too (a function and all it called). With --per N, times are also divided by N (e.g. the requests served in the window): µs each.
import * as fs from 'node:fs';
import { intOption, option } from '@loyalty/config';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (/\/(dist\/)?apps\//.test(url)) return 'app';
  if (/\/(dist\/)?libs\//.test(url)) return 'libs';
  return url;
}

const nameOf = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist\/)?/, '');
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
};

export function selfTimes(p: Profile): { total: number; byFunction: Map<string, number>; byPackage: Map<string, number>; inclusive: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the time of sample i is the next delta.
  for (let i = 0; i < p.samples.length; i++) {
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : 0;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  // Inclusive: the time of every sample under a function, counted once per stack (recursion).
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url } = n.callFrame;
    const pkg = packageOf(url, functionName || '(anonymous)');
    const fn = nameOf(n);
    if (functionName !== '(idle)') {
      const seen = new Set<string>();
      for (let a: number | undefined = id; a !== undefined; a = parent.get(a)) seen.add(nameOf(byId.get(a)!));
      for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    if (functionName !== '(idle)') total += us;
  }
  return { total, byFunction, byPackage, inclusive };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && a.endsWith('.cpuprofile'));
  if (!file) {
    process.stderr.write('usage: cpuprofile-top <file.cpuprofile> [--top N] [--per N]\n');
    process.exit(2);
  }
  const top = intOption(args, 'top', 40);
  const per = Number(option(args, 'per') ?? 0);
  const { total, byFunction, byPackage, inclusive } = selfTimes(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile);
  const line = (name: string, us: number) =>
    `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %${per > 0 ? `${(us / per).toFixed(2).padStart(9)} µs/req` : ''}  ${name}`;
  process.stdout.write(`busy (not idle) ${(total / 1000).toFixed(0)} ms${per > 0 ? `, ${(total / per).toFixed(1)} µs per request over ${per}` : ''}\n\nby package\n`);
  for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(line(k, v) + '\n');
  process.stdout.write('\nby function (self)\n');
  for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(line(k, v) + '\n');
  process.stdout.write('\nby function (inclusive: itself and what it called)\n');
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(line(k, v) + '\n');
}

if (require.main === module) main();
