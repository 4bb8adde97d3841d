// Progress of long commands: on a terminal ONE line rewritten in place (done, rate, time
// left); otherwise a plain line every `intervalMs` (logs, CI, pipes).
export interface ProgressOptions {
  /** What is counted, e.g. "events". */
  unit?: string;
  /** Known total (for the percentage and the time left). */
  total?: number;
  stream?: NodeJS.WriteStream;
  /** Non-terminal: one line per interval (default 5 s). */
  intervalMs?: number;
  /** Force terminal / plain mode (default: stream.isTTY). */
  tty?: boolean;
}

export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly interval: number;
  private drawn = false;

  constructor(private readonly label: string, private readonly o: ProgressOptions = {}) {
    this.stream = o.stream ?? process.stderr;
    this.tty = o.tty ?? !!this.stream.isTTY;
    this.interval = this.tty ? 200 : o.intervalMs ?? 5000;
    this.lastDraw = this.tty ? 0 : Date.now();
  }

  get count(): number {
    return this.done;
  }

  setTotal(total: number): void {
    this.o.total = total;
  }

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw >= this.interval) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  /** Final line (always printed). */
  finish(suffix = ''): void {
    this.draw(true, suffix);
  }

  line(): string {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = this.done / secs;
    const unit = this.o.unit ?? 'events';
    let s = `${this.label}: ${fmt(this.done)}${this.o.total !== undefined ? `/${fmt(this.o.total)}` : ''} ${unit}, ${fmt(Math.round(rate))} ${unit}/s`;
    if (this.o.total !== undefined && this.o.total > 0) {
      const pct = Math.min(100, (100 * this.done) / this.o.total);
      const left = rate > 0 ? Math.max(0, (this.o.total - this.done) / rate) : NaN;
      s += `, ${pct.toFixed(1)}%, ETA ${Number.isFinite(left) ? duration(left) : '?'}`;
    }
    return s + `, ${duration(secs)} elapsed`;
  }

  private draw(final: boolean, suffix = ''): void {
    const text = this.line() + (suffix ? ` ${suffix}` : '');
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
      this.drawn = !final;
    } else {
      this.stream.write(`${new Date().toISOString()} ${text}\n`);
    }
  }

  /** Writes a message without tearing the progress line. */
  log(message: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
    this.stream.write(message + '\n');
    if (this.tty && this.drawn) this.draw(false);
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function duration(secs: number): string {
  if (secs < 60) return `${secs.toFixed(secs < 10 ? 1 : 0)}s`;
  const m = Math.floor(secs / 60);
  if (m < 60) return `${m}m${String(Math.round(secs % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
