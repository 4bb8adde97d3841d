// The analysts' dashboard in a real browser (Debian's chromium through playwright-core):
// it loads with an analyst key, its charts draw from the read models the real pipeline
// filled, a reader key is told it may not, and a screenshot is kept under .run/screenshots.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { createStack, eventually, type Stack } from '../support/stack';

// Page functions run in the browser; the test project's TypeScript has no DOM library.
declare const window: any;
declare const document: any;
declare const localStorage: any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
const SHOTS = path.join(ROOT, '.run', 'screenshots');
const haveChromium = fs.existsSync(CHROMIUM);
// On CI a missing browser is a failure (scripts/test.sh installs it), elsewhere a skip.
const suite = haveChromium || process.env.CI === 'true' ? describe : describe.skip;

const run = promisify(execFile);
let stack: Stack;
let browser: Browser | undefined;
const MEMBERS = 8;

async function keyFor(role: string, name: string): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist', 'apps', 'ops', 'main.js'), 'keys', 'create', '--role', role, '--name', name, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env },
  });
  return JSON.parse(stdout).key;
}

suite('the dashboard in headless Chromium', () => {
  let analystKey: string;
  let readerKey: string;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`no browser at ${CHROMIUM}: scripts/test.sh installs Debian's chromium (apt-get install chromium)`);
    stack = await createStack({ partitions: 2 });
    const [, , , analyst, reader] = await Promise.all([
      stack.start('ledger'),
      stack.start('projector'),
      stack.start('api'),
      keyFor('analyst', 'dashboard-test'),
      keyFor('reader', 'dashboard-reader'),
    ]);
    analystKey = analyst;
    readerKey = reader;

    // Real traffic: purchases of different sizes today for a handful of members (auto-enrolled).
    const auth = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
    for (let i = 0; i < MEMBERS * 3; i++) {
      const memberId = `dash-${i % MEMBERS}`;
      const res = await fetch(`${stack.apiUrl}/v1/purchases`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ purchaseId: `dash-p-${i}`, memberId, amount: 1_000 + 7_500 * (i % MEMBERS) + 100 * i, currency: 'USD', occurredAt: new Date().toISOString() }),
      });
      expect(res.status).toBe(202);
    }
    const settled = await eventually(
      async () => (await (await fetch(`${stack.apiUrl}/v1/projections`, { headers: auth })).json()) as { lag: number; stages: { stage: string; status: string; partitions: object[] }[] },
      (p) => p.lag === 0 && p.stages.every((s) => s.status === 'caught-up'),
      40_000,
    );
    expect(settled.lag).toBe(0);
    // every stage and partition: committed offset, head, lag and status
    expect(settled.stages.map((s) => s.stage)).toEqual(['ingest', 'ledger', 'postgres', 'redis']);
    for (const s of settled.stages) {
      expect(s.partitions).toHaveLength(2);
      for (const p of s.partitions) {
        // committed is null on a partition that never had input
        expect(Object.keys(p).sort()).toEqual(['committed', 'head', 'lag', 'partition', 'status']);
        expect(p).toMatchObject({ partition: expect.any(Number), head: expect.any(String), lag: 0, status: 'caught-up' });
      }
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stack?.teardown();
  });

  it('given an analyst key pasted in, then every chart draws from the read models, with no console error, and a screenshot is saved', async () => {
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));

    const res = await page.goto(`${stack.apiUrl}/dashboard`);
    expect(res?.status()).toBe(200);
    await page.fill('#api-key', analystKey);
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => window.loyaltyDashboard?.state.lastRefresh !== null, undefined, { timeout: 15_000 });

    const drawn = await page.evaluate(() => {
      const d = window.loyaltyDashboard;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + (Number(b) || 0), 0);
      const charts = Object.fromEntries(
        Object.entries(d.charts as Record<string, any>).map(([id, c]) => [id, { labels: c.data.labels.length, datasets: c.data.datasets.map((s: any) => ({ label: s.label, points: s.data.length, total: sum(s.data) })) }]),
      );
      return {
        canvases: document.querySelectorAll('canvas').length,
        charts,
        errors: d.state.errors,
        status: document.getElementById('status').textContent,
        members: document.querySelector('[data-kpi=members]').textContent,
        keyStored: localStorage.getItem('loyalty.dashboard.apiKey') !== null,
      };
    });

    expect(drawn.errors).toEqual([]);
    expect(drawn.canvases).toBe(7);
    expect(Object.keys(drawn.charts).sort()).toEqual(['chart-board-points', 'chart-board-spend', 'chart-cohorts', 'chart-daily', 'chart-lag', 'chart-segments', 'chart-tiers']);
    // Points per day: 90 days, today's purchases issued points.
    expect(drawn.charts['chart-daily'].labels).toBe(90);
    expect(drawn.charts['chart-daily'].datasets.find((s: any) => s.label === 'Issued').total).toBeGreaterThan(0);
    // Members per tier add up to the members who bought.
    expect(drawn.charts['chart-tiers'].datasets[0].total).toBe(MEMBERS);
    // This month's cohort, with everyone purchasing in it.
    expect(drawn.charts['chart-cohorts'].datasets.length).toBeGreaterThanOrEqual(1);
    expect(drawn.charts['chart-cohorts'].datasets.at(-1).total).toBe(100);
    // The leaderboards: top 8 of 8 members.
    expect(drawn.charts['chart-board-points'].labels).toBe(MEMBERS);
    expect(drawn.charts['chart-board-spend'].datasets[0].total).toBeGreaterThan(0);
    // Projection lag: the four stages, all caught up.
    expect(drawn.charts['chart-lag'].labels).toBe(4);
    expect(drawn.charts['chart-lag'].datasets[0].total).toBe(0);
    // RFM segments: every member who bought is in one.
    expect(drawn.charts['chart-segments'].datasets[0].total).toBe(MEMBERS);
    expect(drawn.members).toBe(String(MEMBERS));
    expect(drawn.status).toMatch(/Updated/);
    expect(drawn.keyStored).toBe(true);
    expect(problems).toEqual([]);

    fs.mkdirSync(SHOTS, { recursive: true });
    const file = path.join(SHOTS, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(20_000);
    await page.close();
  });

  it('given a reader key, then the page says the key may not read analytics', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${stack.apiUrl}/dashboard`);
    await page.evaluate((k) => localStorage.setItem('loyalty.dashboard.apiKey', k), readerKey);
    await page.reload();
    await page.waitForFunction(() => window.loyaltyDashboard?.state.lastRefresh !== null, undefined, { timeout: 15_000 });
    expect(await page.textContent('#status')).toMatch(/analyst/);
    await page.close();
  });
});
