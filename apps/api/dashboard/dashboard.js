// The analysts' dashboard: plain browser JavaScript over the JSON API, charts by Chart.js
// (served from node_modules by the API). The key is kept in this browser's localStorage
// and sent as `Authorization: Bearer …` to the same origin only.
/* global Chart */
'use strict';

(function () {
  const KEY_STORE = 'loyalty.dashboard.apiKey';
  const REFRESH_MS = 30000;
  const COLORS = ['#2458d6', '#1a7f37', '#b42318', '#9a6700', '#8250df', '#0a7ea4', '#bf3989', '#57606a', '#d1242f', '#116329', '#953800', '#0550ae'];
  const charts = {};
  const state = { key: null, timer: null, lastRefresh: null, errors: [] };
  // For people debugging and for the browser test: what was drawn and what went wrong.
  window.loyaltyDashboard = { charts, state };

  const $ = (id) => document.getElementById(id);
  const fmt = new Intl.NumberFormat('en-US');

  function setStatus(text, kind) {
    const el = $('status');
    el.textContent = text;
    el.className = kind || '';
  }

  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${state.key}`, accept: 'application/json' }, cache: 'no-store' });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(`${path}: ${res.status} ${body.message || body.error || ''}`.trim());
      err.status = res.status;
      throw err;
    }
    return body;
  }

  function chart(id, config) {
    const existing = charts[id];
    if (existing) {
      existing.data = config.data;
      existing.update();
      return existing;
    }
    const base = { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } } };
    charts[id] = new Chart($(id), { ...config, options: deepMerge(base, config.options || {}) });
    return charts[id];
  }

  function deepMerge(a, b) {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] ? deepMerge(a[k], v) : v;
    return out;
  }

  function isoDay(d) {
    return d.toISOString().slice(0, 10);
  }

  function drawSummary(s, freshness) {
    for (const el of document.querySelectorAll('[data-kpi]')) {
      const k = el.dataset.kpi;
      const v = k === 'lag' ? freshness && freshness.lag : s && s[k];
      el.textContent = typeof v === 'number' ? fmt.format(v) : '–';
    }
  }

  function drawDaily(rows) {
    chart('chart-daily', {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.day),
        datasets: [
          { label: 'Issued', data: rows.map((r) => r.pointsIssued), backgroundColor: COLORS[0] },
          { label: 'Redeemed', data: rows.map((r) => r.pointsRedeemed), backgroundColor: COLORS[1] },
          { label: 'Expired', data: rows.map((r) => r.pointsExpired), backgroundColor: COLORS[2] },
        ],
      },
      options: { interaction: { mode: 'index', intersect: false }, scales: { y: { beginAtZero: true, title: { display: true, text: 'points' } }, x: { ticks: { maxTicksLimit: 12 } } } },
    });
  }

  const TIER_ORDER = ['Member', 'Silver', 'Gold', 'Platinum'];
  const tierRank = (t) => (TIER_ORDER.indexOf(t) + 1 || TIER_ORDER.length + 1);

  function drawTiers(unordered) {
    const rows = unordered.slice().sort((a, b) => tierRank(a.tier) - tierRank(b.tier) || String(a.tier).localeCompare(String(b.tier)));
    chart('chart-tiers', {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.tier || '(none)'),
        datasets: [{ label: 'Members', data: rows.map((r) => r.members), backgroundColor: rows.map((_, i) => COLORS[i % COLORS.length]) }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function drawCohorts(cohorts) {
    const recent = cohorts.slice(-8);
    const span = Math.max(1, ...recent.map((c) => c.months.length));
    chart('chart-cohorts', {
      type: 'line',
      data: {
        labels: Array.from({ length: span }, (_, i) => `+${i} mo`),
        datasets: recent.map((c, i) => ({
          label: `${c.cohort} (${fmt.format(c.size)})`,
          data: c.months.map((m) => Math.round(m.retention * 1000) / 10),
          borderColor: COLORS[i % COLORS.length],
          backgroundColor: COLORS[i % COLORS.length],
          pointRadius: 4,
        })),
      },
      options: { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: '% purchasing' } } } },
    });
  }

  function drawBoard(id, entries, label, color) {
    chart(id, {
      type: 'bar',
      data: { labels: entries.map((e) => `#${e.rank} ${e.memberId}`), datasets: [{ label, data: entries.map((e) => e.score), backgroundColor: color }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
    });
  }

  function drawSegments(s) {
    chart('chart-segments', {
      type: 'bar',
      data: {
        labels: s.segments.map((x) => x.segment),
        datasets: [
          { label: 'Members', data: s.segments.map((x) => x.members), backgroundColor: COLORS[5], yAxisID: 'y' },
          { label: 'Revenue share %', data: s.segments.map((x) => Math.round(x.revenueShare * 1000) / 10), backgroundColor: COLORS[3], yAxisID: 'share' },
        ],
      },
      options: {
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'members' } },
          share: { position: 'right', beginAtZero: true, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: '% of revenue' } },
        },
      },
    });
    $('top20').textContent = `top 20 % of purchasers: ${Math.round(s.top20.share * 100)} % of revenue`;
  }

  function drawLag(f) {
    chart('chart-lag', {
      type: 'bar',
      data: {
        labels: f.stages.map((s) => `${s.stage} (${s.status})`),
        datasets: [{ label: 'Lag (messages)', data: f.stages.map((s) => s.lag), backgroundColor: f.stages.map((s) => (s.lag > 0 ? COLORS[2] : COLORS[1])) }],
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, suggestedMax: 10, ticks: { precision: 0 } } } },
    });
  }

  async function refresh() {
    if (!state.key) return;
    const days = Number($('days').value);
    const period = $('period').value;
    const to = new Date();
    const from = new Date(to.getTime() - (days - 1) * 86400000);
    setStatus('Loading…');
    const parts = {
      summary: api('/v1/analytics/summary'),
      daily: api(`/v1/analytics/daily?from=${isoDay(from)}&to=${isoDay(to)}`),
      tiers: api('/v1/analytics/tiers'),
      cohorts: api('/v1/analytics/cohorts'),
      points: api(`/v1/leaderboards/points?period=${encodeURIComponent(period)}&limit=10`),
      spend: api(`/v1/leaderboards/spend?period=${encodeURIComponent(period)}&limit=10`),
      freshness: api('/v1/analytics/freshness'),
      segments: api('/v1/analytics/segments'),
    };
    const names = Object.keys(parts);
    const settled = await Promise.allSettled(Object.values(parts));
    const got = {};
    const errors = [];
    settled.forEach((r, i) => (r.status === 'fulfilled' ? (got[names[i]] = r.value) : errors.push(r.reason)));
    state.errors = errors.map((e) => e.message);
    if (got.daily) drawDaily(got.daily);
    if (got.tiers) drawTiers(got.tiers);
    if (got.cohorts) drawCohorts(got.cohorts);
    if (got.points) drawBoard('chart-board-points', got.points, 'Points', COLORS[0]);
    if (got.spend) drawBoard('chart-board-spend', got.spend, 'Spend (minor units)', COLORS[4]);
    if (got.freshness) drawLag(got.freshness);
    if (got.segments) drawSegments(got.segments);
    drawSummary(got.summary, got.freshness);
    state.lastRefresh = new Date();
    const denied = errors.find((e) => e.status === 401 || e.status === 403);
    if (denied) setStatus(denied.status === 401 ? 'This key is unknown or revoked.' : 'This key may not read analytics: it needs the analyst (or admin) role.', 'error');
    else if (errors.length) setStatus(`Some panels failed: ${state.errors.join('; ')}`, 'error');
    else {
      const lag = got.freshness ? got.freshness.lag : 0;
      setStatus(`Updated ${state.lastRefresh.toLocaleTimeString()}${lag > 0 ? ` · read models ${fmt.format(lag)} messages behind` : ' · read models up to date'}`, 'ok');
    }
  }

  function useKey(key) {
    state.key = key || null;
    clearInterval(state.timer);
    if (!state.key) {
      setStatus('Paste an API key with the analyst role (it stays in this browser\'s local storage).');
      return;
    }
    refresh();
    state.timer = setInterval(refresh, REFRESH_MS);
  }

  function periods() {
    const sel = $('period');
    const now = new Date();
    const opts = [['all', 'All time']];
    for (let i = 0; i < 12; i++) {
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
      const p = d.toISOString().slice(0, 7);
      opts.push([p, p]);
    }
    for (const [value, text] of opts) sel.add(new Option(text, value));
  }

  document.addEventListener('DOMContentLoaded', () => {
    periods();
    $('key-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const key = $('api-key').value.trim();
      if (!key) return;
      localStorage.setItem(KEY_STORE, key);
      $('api-key').value = '';
      useKey(key);
    });
    $('forget-key').addEventListener('click', () => {
      localStorage.removeItem(KEY_STORE);
      useKey(null);
    });
    $('refresh').addEventListener('click', refresh);
    $('days').addEventListener('change', refresh);
    $('period').addEventListener('change', refresh);
    useKey(localStorage.getItem(KEY_STORE));
  });
})();
