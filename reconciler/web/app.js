// The reconciler's page: an overview of every managed deployment and one deployment's view
// (history charts with uPlot, cost, anomalies, "why this number"). Reads the JSON API only;
// a sub-resource that answers 404 (not built into this binary) shows "not available", never a
// made-up number. Refreshes after each reconcile cycle without reloading the page.
'use strict';
const C = {blue: '#0072B2', orange: '#E69F00', sky: '#56B4E9', green: '#009E73',
           verm: '#D55E00', purple: '#CC79A7', black: '#000000'};
const state = {sort: 'name', asc: true, ns: '', range: '1h', cycle: null, charts: [],
               rows: [], extra: {}, page: {rows: 0, chartPoints: 0, canvases: 0,
               decidingRule: '', errors: []}};
window.addEventListener('error', e => note('error: ' + e.message));
window.addEventListener('unhandledrejection', e => note('error: ' + e.reason));

function note(msg) { state.page.errors.push(String(msg)); publish(); }
function publish() {
  state.page.canvases = document.querySelectorAll('.uplot canvas').length;
  document.getElementById('pagestate').textContent = JSON.stringify(state.page);
}
function $(id) { return document.getElementById(id); }
function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"]/g,
      c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
}
function num(v, d) { return v == null || !isFinite(v) ? '<span class="na">no data</span>' :
                       Number(v).toFixed(d === undefined ? 1 : d); }
function money(v) { return v == null ? '<span class="na">n/a</span>' : '$' + Number(v).toFixed(2); }
const NA = '<span class="na">not available</span>';

// GET a JSON route: {ok, status, body}; 404/503 are answers, not errors.
async function get(path) {
  state.fetches = (state.fetches || 0) + 1;
  const r = await fetch(path, {cache: 'no-store'});
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  return {ok: r.ok, status: r.status, body};
}
function dpath(d, res) {
  return '/api/v1/deployments/' + encodeURIComponent(d.namespace) + '/' +
         encodeURIComponent(d.name) + (res ? '/' + res : '');
}
// ------------------------------------------------------------------------------ overview
// One /api/overview per refresh gives every deployment's cost, waste and active anomalies
// (null fields there mean unknown and show "not available").
async function loadOverview(deployments) {
  const o = await get('/api/overview');
  const extra = {};
  for (const x of (o.ok && o.body && o.body.deployments) || []) {
    extra[x.namespace + '/' + x.deployment] = x;
  }
  // Every deployment's anomaly counts (also those without a cost record); null: unknown.
  const counts = o.ok && o.body ? o.body.anomalies_by_deployment : null;
  state.extra = extra;
  state.rows = deployments.map(d => {
    const x = extra[d.namespace + '/' + d.name] || {};
    return {d, name: d.namespace + '/' + d.name, pods: d.readyPods,
            pressure: d.served.smart_cpu_pressure, blended: d.served.smart_cpu_blended,
            predicted: d.served.smart_cpu_predicted, target: d.targetPct,
            node: d.nodePressure.utilizationPct, trust: d.forecast.trusted ? 1 : 0,
            cost: x.estimated_monthly_cost == null ? null : x.estimated_monthly_cost,
            waste: x.total_wasted_cost == null ? null : x.total_wasted_cost,
            anomalies: counts == null ? null :
                ((counts[d.namespace + '/' + d.name] || {}).active || 0)};
  });
  const nss = [...new Set(deployments.map(d => d.namespace))].sort();
  const sel = $('ns');
  const have = [...sel.options].map(o => o.value);
  for (const n of nss) if (!have.includes(n)) sel.add(new Option(n, n));
  renderTable();
}

function renderTable() {
  const rows = state.rows.filter(r => !state.ns || r.d.namespace === state.ns);
  rows.sort((a, b) => {
    const x = a[state.sort], y = b[state.sort];
    if (x == null && y == null) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return state.asc ? c : -c;
  });
  document.querySelectorAll('#table th').forEach(th =>
      th.classList.toggle('sorted', th.dataset.k === state.sort));
  $('rows').innerHTML = rows.map(r => {
    const d = r.d, lvl = d.nodePressure.level;
    return '<tr data-deployment="' + esc(r.name) + '"><td><a href="#/d/' + esc(r.name) + '">' +
        esc(r.name) + '</a></td><td>' + d.readyPods + '/' + d.pods + '</td><td>' +
        num(r.pressure, 3) + '</td><td>' + num(r.blended) + '</td><td>' + num(r.predicted) +
        '</td><td>' + num(r.target, 0) + '</td><td class="' + lvl + '">' + lvl + ' ' +
        (lvl === 'unknown' ? '' : num(d.nodePressure.utilizationPct, 0) + '%') + '</td><td>' +
        trustText(d.forecast) + '</td><td>' +
        (r.cost == null ? NA : money(r.cost)) + '</td><td>' + (r.waste == null ? NA : money(r.waste)) +
        '</td><td>' + (r.anomalies == null ? NA : r.anomalies) + '</td></tr>';
  }).join('');
  state.page.rows = rows.length;
  publish();
}

// The trust gate: the forecast's validated accuracy next to persistence's over the same origins.
function trustText(f) {
  return (f.trusted ? 'trusted' : 'not trusted') + ' ' + num(100 * f.accuracy, 0) + '%' +
      (f.persistenceAccuracy == null ? '' : ' <small class="persist">persistence ' +
       num(100 * f.persistenceAccuracy, 0) + '%</small>');
}

// ------------------------------------------------------------------------------ detail
function chartWidth() { return Math.max(280, $('detail').clientWidth - 10); }

// Series drawn once per cycle are sparse on a long range: show their points too.
const DOTS = {show: true, size: 4};

function plot(el, data, series, axes, marks, bands) {
  const opts = {width: chartWidth(), height: 220, series: [{}].concat(series), bands: bands || [],
                axes: [{}].concat(axes), scales: {x: {time: true}},
                legend: {live: true}, cursor: {drag: {x: true, y: false}},
                hooks: {drawClear: [u => drawMarks(u, marks)]}};
  if (series.some(s => s.scale === 'r')) opts.scales.r = {auto: true};
  const u = new uPlot(opts, data, el);
  state.charts.push(u);
  return u;
}

// Anomalies as shaded spans on the time axis (uPlot's drawClear hook).
function drawMarks(u, marks) {
  if (!marks || !marks.length) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.fillStyle = 'rgba(204,121,167,0.22)';
  for (const m of marks) {
    const x0 = u.valToPos(m[0], 'x', true), x1 = u.valToPos(m[1], 'x', true);
    ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
  }
  ctx.restore();
}

function seriesOf(h, k) {
  return (h.series[k] || h.time.map(() => null)).map(v => v == null ? null : v);
}

async function renderCharts(d, anomalies) {
  for (const u of state.charts) u.destroy();
  state.charts = [];
  const h = await get(dpath(d, 'history') + '?range=' + state.range);
  ['c-demand', 'c-pressure', 'c-replicas'].forEach(id => $(id).innerHTML = '');
  if (!h.ok) {
    $('hist-note').innerHTML = 'history ' + NA + ': ' + esc(h.body && h.body.message);
    state.page.chartPoints = 0;
    return;
  }
  const t = h.body.time;
  const marks = anomalies.map(a => [Date.parse(a.start) / 1000,
                                    a.end ? Date.parse(a.end) / 1000 : t[t.length - 1]]);
  const band = {stroke: C.sky, width: 1, dash: [4, 4], spanGaps: true};
  plot($('c-demand'), [t, seriesOf(h.body, 'cpu_demand_cores'),
                       seriesOf(h.body, 'cpu_ready_capacity_cores'),
                       seriesOf(h.body, 'forecast_p10_cores'), seriesOf(h.body, 'forecast_p90_cores'),
                       seriesOf(h.body, 'forecast_peak_p90_cores')],
       [{label: 'demand', stroke: C.blue, width: 2, spanGaps: true},
        {label: 'ready capacity', stroke: C.black, width: 1.5, spanGaps: true, points: DOTS},
        Object.assign({label: 'forecast p10'}, band),
        Object.assign({label: 'forecast p90'}, band),
        {label: 'peak p90 (lead)', stroke: C.orange, width: 1.5, spanGaps: true, points: DOTS}],
       [{label: 'cores'}], marks,
       [{series: [4, 3], fill: 'rgba(86,180,233,0.25)'}]);  // the p10-p90 band (uPlot bands)
  plot($('c-pressure'), [t, seriesOf(h.body, 'smart_cpu_pressure'),
                         seriesOf(h.body, 'smart_cpu_target'), seriesOf(h.body, 'smart_cpu_predicted')],
       [{label: 'smart_cpu_pressure', stroke: C.verm, width: 2, spanGaps: true, scale: 'r', points: DOTS},
        {label: 'target %', stroke: C.green, width: 1.5, spanGaps: true, scale: '%', points: DOTS,
         dash: [6, 3]},
        {label: 'predicted %', stroke: C.purple, width: 1, spanGaps: true, scale: '%', points: DOTS}],
       [{label: 'ratio', scale: 'r'}, {label: '%', scale: '%', side: 1, grid: {show: false}}],
       marks);
  plot($('c-replicas'), [t, seriesOf(h.body, 'ready_pods')],
       [{label: 'ready pods', stroke: C.blue, width: 2, spanGaps: true, points: DOTS,
         paths: uPlot.paths.stepped({align: 1})}], [{label: 'pods'}], marks);
  const a = h.body.accuracy;
  if (a && a.origins > 0 && $('acc-card')) {
    // The forecast p50's first-step error and persistence's over the same stored origins.
    $('acc-card').innerHTML = num(a.forecastMae, 3) + ' / ' + num(a.persistenceMae, 3) +
        '<small> cores MAE, ' + a.origins + ' origins' +
        (a.ratio == null ? '' : ', ratio ' + num(a.ratio, 2)) + '</small>';
  }
  const points = seriesOf(h.body, 'cpu_demand_cores').filter(v => v != null).length;
  state.page.chartPoints = points;
  $('hist-note').textContent = points + ' buckets of ' + h.body.stepSeconds.toFixed(0) +
      ' s with demand data from the store' + (h.body.error ? ' (store error: ' + h.body.error + ')' : '') +
      (anomalies.length ? '; shaded: anomalies' : '');
}

function renderCards(d) {
  const f = d.forecast;
  const card = (label, v, why) => '<div class="card">' + label + '<b>' + v + '</b>' +
      (why ? '<span class="why" onclick="document.getElementById(\'explain\').scrollIntoView()">why?</span>' : '') + '</div>';
  $('cards').innerHTML =
      card('smart_cpu_pressure', num(d.served.smart_cpu_pressure, 3), true) +
      card('predicted %', num(d.served.smart_cpu_predicted), true) +
      card('blended %', num(d.served.smart_cpu_blended), true) +
      card('target %', num(d.targetPct, 1), true) +
      card('replicas', d.readyPods + '/' + d.pods) +
      card('node pressure', '<span class="' + d.nodePressure.level + '">' + d.nodePressure.level + '</span>') +
      card('forecast accuracy', num(100 * f.accuracy, 0) + '% ' + (f.trusted ? 'trusted' : 'not trusted') +
           '<small> (' + f.validated + ' validated)</small>' +
           '<small id="trust-persistence"> persistence over the same origins: ' +
           (f.persistenceAccuracy == null ? NA : num(100 * f.persistenceAccuracy, 0) + '%, MAE ' +
            num(f.maeCores, 3) + ' vs ' + num(f.persistenceMaeCores, 3) + ' cores') +
           '</small>') +
      card('forecast vs persistence', '<span id="acc-card">' + NA + '</span>');
}

function renderCost(body) {
  if (!body) { $('cost').innerHTML = NA; return; }
  const rows = [['estimated monthly cost', money(body.estimated_monthly_cost)],
                ['total cost (period)', money(body.total_cost)],
                ['cpu / memory cost', money(body.cpu_cost) + ' / ' + money(body.memory_cost)],
                ['wasted (period)', money(body.total_wasted_cost)],
                ['cpu / memory utilisation', num(body.cpu_utilization_percent, 0) + '% / ' +
                 num(body.memory_utilization_percent, 0) + '%'],
                ['optimisation potential', money(body.optimization_potential)],
                ['recommendation', esc(body.recommendation)]];
  $('cost').innerHTML = '<dl>' + rows.map(r => '<dt>' + r[0] + '</dt><dd>' + r[1] + '</dd>').join('') + '</dl>';
}

function renderAnomalies(body) {
  if (!body) { $('anomalies').innerHTML = NA; return; }
  const list = Array.isArray(body) ? body : body.anomalies || body.items || [];
  $('anomalies').innerHTML = list.length ? '<table>' + list.map(a => '<tr><td>' + esc(a.type) +
      '</td><td>' + esc(a.severity) + '</td><td>' + esc(a.start) + ' &ndash; ' + esc(a.end || 'active') +
      '</td><td>' + esc(typeof a.evidence === 'string' ? a.evidence : JSON.stringify(a.evidence)) +
      '</td></tr>').join('') + '</table>' : 'none';
}

async function renderExplain(d) {
  const e = await get(dpath(d, 'explain'));
  if (!e.ok) {
    $('explain').innerHTML = NA + ': ' + esc(e.body && e.body.message);
    state.page.decidingRule = '';
    return;
  }
  const x = e.body;
  state.page.decidingRule = x.decidingRule;
  $('explain').innerHTML = '<p class="decide">Deciding rule <span class="rule" id="deciding-rule">' +
      esc(x.decidingRule) + '</span>: ' + esc(x.decidingText) + '<br><small>cycle at ' + esc(x.at) +
      (x.held ? ' · held: ' + esc(x.note) : '') + '</small></p>' +
      x.values.map(v => '<div class="value"><b>' + esc(v.metric) + ' = ' + num(v.value, 4) + ' ' +
          esc(v.unit) + '</b>' + v.steps.map(s => '<div class="step"><span class="rule">' +
          esc(s.rule) + '</span> ' + esc(s.text) + '</div>').join('') +
          '<div class="step muted">= ' + esc(v.arithmetic) + '</div></div>').join('') +
      '<details><summary>inputs (' + x.inputs.length + ')</summary><table>' +
      x.inputs.map(i => '<tr><td>' + esc(i.name) + '</td><td>' +
          (i.value == null ? (i.text ? esc(i.text) : NA) : num(i.value, 4) + ' ' + esc(i.unit)) +
          '</td><td class="muted">' + esc(i.at) + '</td></tr>').join('') + '</table></details>';
}

async function loadDetail(key, deployments) {
  const d = deployments.find(x => x.namespace + '/' + x.name === key);
  $('dname').textContent = key;
  document.querySelectorAll('.ranges button').forEach(b =>
      b.classList.toggle('on', b.dataset.r === state.range));
  if (!d) { $('cards').innerHTML = 'deployment ' + esc(key) + ' is not managed'; return; }
  renderCards(d);
  const [cost, anom] = await Promise.all([get(dpath(d, 'cost')), get(dpath(d, 'anomalies'))]);
  renderCost(cost.ok ? cost.body : null);
  renderAnomalies(anom.ok ? anom.body : null);
  await renderCharts(d, anom.ok ? (Array.isArray(anom.body) ? anom.body :
                                   anom.body.anomalies || anom.body.items || []) : []);
  await renderExplain(d);
}

// ------------------------------------------------------------------------------ refresh
async function refresh(force) {
  const fetchesBefore = state.fetches || 0;
  try {
    const st = await get('/api/v1/status');
    const c = (st.body && st.body.lastCycle) || {};
    $('status').textContent = (st.body.leader ? 'leader' : 'standby') + ' · ' + st.body.source +
        ' · last cycle ' + (c.start || 'never') + ' · ' + (c.deployments || 0) + ' deployments, ' +
        (c.queries || 0) + ' queries, ' + (c.queryFailures || 0) + ' failed';
    if (!force && c.start === state.cycle) return;  // nothing new since the last cycle
    state.cycle = c.start;
    const ds = (await get('/api/v1/deployments')).body.items;
    const m = location.hash.match(/^#\/d\/(.+)$/);
    $('overview').hidden = !!m;
    $('detail').hidden = !m;
    if (m) {
      await loadDetail(decodeURIComponent(m[1]), ds);
    } else {
      await loadOverview(ds);
      // Requests of this refresh (status, deployments, overview): constant, not per deployment.
      state.page.overviewFetches = state.fetches - fetchesBefore;
    }
  } catch (e) {
    note(e);
    $('status').textContent = 'error: ' + e;
  }
  publish();
}

document.querySelectorAll('#table th').forEach(th => th.addEventListener('click', () => {
  state.asc = state.sort === th.dataset.k ? !state.asc : true;
  state.sort = th.dataset.k;
  renderTable();
}));
$('ns').addEventListener('change', e => { state.ns = e.target.value; renderTable(); });
document.querySelectorAll('.ranges button').forEach(b => b.addEventListener('click', () => {
  state.range = b.dataset.r;
  refresh(true);
}));
window.addEventListener('hashchange', () => refresh(true));
window.addEventListener('resize', () => state.charts.forEach(u =>
    u.setSize({width: chartWidth(), height: 220})));
refresh(true);
setInterval(() => refresh(false), 5000);
