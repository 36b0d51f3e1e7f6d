// ebmflow dashboard: wires the server's JSON to the page and to uPlot.
// All charts are uPlot's; this file only prepares their data and options.
"use strict";

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const BUCKETS = 1000;
// Tick steps of the iteration axis: whole numbers, 1-2-5 per decade.
const ITERATION_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];
let stopPage = () => {}; // ends the current page's timers

// ---- helpers -------------------------------------------------------------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

// fill replaces node's children with kids, skipping null and undefined.
function fill(node, ...kids) {
  node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined));
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status + " " + (await r.text()).trim());
  return r.json();
}

function fmt(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return "";
  if (typeof v !== "number") return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function fileURL(id, path, v) {
  return "file?id=" + encodeURIComponent(id) + "&path=" + encodeURIComponent(path) + (v ? "&v=" + v : "");
}

function stateBadge(info) {
  return el("span", { class: "state " + info.state, title: info.detail || "" }, info.state);
}

function problemsBox(list) {
  if (!list || !list.length) return null;
  return el("div", { class: "problems", "data-problems": "" }, el("ul", {}, list.map((p) => el("li", {}, p))));
}

function table(head, rows) {
  return el("table", {}, head ? el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))) : null,
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => (c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c)))))));
}

function num(v) { return el("td", { class: "num" }, fmt(v)); }

// ---- routing -------------------------------------------------------------

function route() {
  stopPage();
  stopPage = () => {};
  const main = document.getElementById("main");
  fill(main, el("p", { class: "muted" }, "loading…"));
  const h = location.hash.replace(/^#/, "") || "/";
  const [path, query] = h.split("?");
  const q = new URLSearchParams(query || "");
  let page;
  if (path.startsWith("/run/")) page = runPage(main, decodeURIComponent(path.slice(5)));
  else if (path === "/compare") page = comparePage(main, q);
  else page = listPage(main);
  page.catch((e) => fill(main, el("div", { class: "problems" }, String(e.message || e)), el("pre", {}, String(e.stack || ""))));
}

function every(ms, fn) {
  let alive = true, timer = null;
  const tick = async () => {
    if (!alive) return;
    try { await fn(); } catch (e) { console.error(e); }
    if (alive) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  const prev = stopPage;
  stopPage = () => { alive = false; clearTimeout(timer); prev(); };
}

// ---- the run list --------------------------------------------------------

async function listPage(main) {
  const draw = async () => {
    const d = await getJSON("api/runs");
    document.getElementById("roots").textContent = "serving " + d.roots.join(", ");
    const picked = new Set([...main.querySelectorAll("input[data-run]:checked")].map((c) => c.dataset.run));
    const rows = d.runs.map((r) => [
      el("input", { type: "checkbox", "data-run": r.id, ...(picked.has(r.id) ? { checked: "" } : {}) }),
      el("a", { href: "#/run/" + encodeURIComponent(r.id) }, r.name),
      r.pipeline,
      r.created ? new Date(r.created).toISOString().replace("T", " ").slice(0, 19) : "",
      el("td", { class: "num" }, r.iteration + " / " + r.planned,
        el("span", { class: "bar" }, el("span", { style: "width:" + Math.min(100, (100 * r.iteration) / Math.max(r.planned, 1)) + "%" }))),
      el("td", {}, stateBadge(r), r.detail ? el("div", { class: "muted" }, r.detail) : null),
      num(r.last.d_st), num(r.last.r_t), num(r.last.tv),
      r.verdict || "",
      r.problems && r.problems.length ? el("span", { class: "warn", title: r.problems.join("\n"), "data-problem": r.id }, "⚠ " + r.problems.length) : "",
    ]);
    const cmp = el("button", { onclick: () => {
      const ids = [...main.querySelectorAll("input[data-run]:checked")].map((c) => c.dataset.run);
      if (ids.length) location.hash = "#/compare?metric=d_st&ids=" + ids.map(encodeURIComponent).join(",");
    } }, "compare selected");
    const sweeps = d.sweeps.map((s) => {
      const ids = s.points.filter((p) => p.run).map((p) => p.run);
      return [s.name, s.executor, s.variables.join(", "), ids.length + " / " + s.points.length,
        ids.length ? el("a", { href: "#/compare?metric=d_st&ids=" + ids.map(encodeURIComponent).join(",") }, "compare its points") : "",
        s.problem || ""];
    });
    fill(main, 
      el("h1", {}, "Runs"),
      problemsBox(d.problems),
      d.runs.length ? table(["", "run", "pipeline", "started (UTC)", "iterations", "state", "d_st", "r_t", "TV", "verdict", ""], rows)
        : el("p", { class: "muted" }, "No run folders under " + d.roots.join(", ") + "."),
      el("div", { class: "toolbar" }, cmp),
      el("h2", {}, "Sweeps"),
      sweeps.length ? table(["sweep", "executor", "variables", "runs", "", ""], sweeps) : el("p", { class: "muted" }, "No sweep folders."),
    );
  };
  await draw();
  every(2000, draw);
}

// ---- charts --------------------------------------------------------------

// logScale: a positive metric spanning two decades or more.
function wantsLog(ys) {
  let lo = Infinity, hi = -Infinity;
  for (const y of ys) {
    if (y === null) continue;
    if (y <= 0) return false;
    lo = Math.min(lo, y); hi = Math.max(hi, y);
  }
  return hi / lo >= 100;
}

function chartWidth(box) { return Math.max(300, box.clientWidth - 10); }

// lineChart makes a uPlot line chart of series over x in box; extra
// holds series options and data beyond the first (e.g. a band).
function lineChart(box, title, x, series, opts) {
  const log = opts.log;
  const o = {
    title, width: chartWidth(box), height: opts.height || 220,
    scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
    series: [{ label: opts.xLabel || "t" }, ...series.map((s) => s.opts)],
    axes: [{ label: opts.xLabel || "iteration", incrs: ITERATION_STEPS }, { size: 64 }],
    legend: { live: true },
    cursor: { ...(opts.sync ? { sync: { key: opts.sync } } : {}), drag: { x: true, y: false, setScale: !opts.onZoom } },
    bands: opts.bands,
    hooks: {
      // The box records how many points each series has (tests read it).
      setData: [(u) => { box.dataset.points = u.data.slice(1).map((ys) => ys.filter((y) => y !== null && y !== undefined).length).join(","); }],
      setSelect: !opts.onZoom ? [] : [(u) => { if (u.select.width > 4) opts.onZoom(u.posToVal(u.select.left, "x"), u.posToVal(u.select.left + u.select.width, "x")); u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false); }],
    },
  };
  if (opts.onReset) o.cursor.bind = { dblclick: () => () => { opts.onReset(); return null; } };
  const u = new uPlot(o, [x, ...series.map((s) => s.data)], box);
  o.hooks.setData[0](u);
  return u;
}

// ---- a run's page --------------------------------------------------------

async function runPage(main, id) {
  let detail = await getJSON("api/run?id=" + encodeURIComponent(id));
  let m = await getJSON("api/metrics?id=" + encodeURIComponent(id) + "&points=" + BUCKETS);
  const info = detail.info;
  const head = el("div", {});
  const charts = el("div", { class: "charts", id: "charts" });
  const samples = el("div", {}), diag = el("div", {}), manifest = el("div", {}), events = el("div", {});
  fill(main, head, el("h2", {}, "Metrics"),
    el("div", { class: "toolbar muted" }, "Drag across a chart to zoom (its full resolution is fetched); double-click to zoom out."),
    charts, el("h2", {}, "Samples"), samples, el("h2", {}, "Diagnostics"), diag, el("h2", {}, "Events"), events, el("h2", {}, "Manifest"), manifest);

  // Charts: one per metric over the shared iterations.
  const full = { t: m.series.t.slice(), cols: {} };
  for (const n of m.names) full.cols[n] = (m.series.cols[n] || []).slice();
  let lastT = m.last_t, zoomed = false, zoomSeq = 0;
  const plots = {};
  const dataFor = (n, src) => {
    const d = [src.t, src.cols[n] || src.t.map(() => null)];
    if (n === "r_t" && detail.band) d.push(src.t.map(() => detail.band[0]), src.t.map(() => detail.band[1]));
    return d;
  };
  const zoomTo = async (lo, hi) => {
    const seq = ++zoomSeq;
    const z = await getJSON("api/metrics?id=" + encodeURIComponent(id) + "&points=" + BUCKETS + "&lo=" + lo + "&hi=" + hi);
    if (seq !== zoomSeq) return;
    zoomed = true;
    for (const [n, p] of Object.entries(plots)) { p.u.setData(dataFor(n, z.series), false); p.u.setScale("x", { min: lo, max: hi }); }
  };
  const reset = () => { zoomSeq++; zoomed = false; for (const [n, p] of Object.entries(plots)) p.u.setData(dataFor(n, full), true); };
  const makePlot = (n) => {
    const box = el("div", { class: "chart", "data-metric": n });
    charts.append(box);
    const ys = full.cols[n];
    const log = wantsLog(ys);
    const series = [{ opts: { label: n, stroke: PALETTE[0], width: 1, spanGaps: true, points: { show: ys.filter((y) => y !== null).length < 60 } }, data: ys }];
    let bands;
    if (n === "r_t" && detail.band) {
      const b = { stroke: "#2ca02c", dash: [4, 4], width: 1, points: { show: false } };
      series.push({ opts: { ...b, label: "band lo" }, data: null }, { opts: { ...b, label: "band hi" }, data: null });
      bands = [{ series: [3, 2], fill: "rgba(44,160,44,0.12)" }];
    }
    const d = dataFor(n, full);
    series.forEach((s, i) => { s.data = d[i + 1]; });
    const build = (useLog) => {
      box.querySelectorAll(".uplot").forEach((e) => e.remove());
      const u = lineChart(box, n, d[0], series, { log: useLog, sync: "run", bands, onZoom: zoomTo, onReset: reset, height: 200 });
      plots[n] = { u, box, log: useLog };
      btn.textContent = useLog ? "linear" : "log";
    };
    const btn = el("button", { onclick: () => build(!plots[n].log) }, "");
    box.append(el("div", { class: "tools" }, btn));
    build(log);
  };
  for (const n of m.names) makePlot(n);

  const drawHead = () => {
    fill(head, 
      el("h1", {}, info.name, " ", stateBadge(detail.info)),
      el("div", { class: "muted" }, detail.info.pipeline, " · ", "iteration ", el("span", { id: "iteration" }, String(detail.info.iteration)),
        " of ", String(detail.info.planned), detail.info.detail ? " · " + detail.info.detail : "",
        detail.info.sweep ? [" · sweep point ", detail.info.point] : null),
      problemsBox([...(detail.info.problems || []), ...(m.problems || [])]));
  };
  drawHead();
  drawSamples(samples, id, detail);
  drawDiagnostics(diag, id, detail);
  drawEvents(events, detail);
  drawManifest(manifest, detail);

  // Live: ask for the lines after the last iteration shown.
  if (detail.info.state === "running") {
    every(detail.poll_ms, async () => {
      const a = await getJSON("api/metrics?id=" + encodeURIComponent(id) + "&after=" + lastT);
      if (a.reload) {
        m = await getJSON("api/metrics?id=" + encodeURIComponent(id) + "&points=" + BUCKETS);
        full.t = m.series.t.slice();
        for (const n of m.names) full.cols[n] = (m.series.cols[n] || []).slice();
      } else if (a.series && a.series.t.length) {
        const s = a.series;
        full.t.push(...s.t);
        for (const n of a.names) {
          if (!full.cols[n]) full.cols[n] = new Array(full.t.length - s.t.length).fill(null);
          full.cols[n].push(...(s.cols[n] || s.t.map(() => null)));
        }
      } else return;
      lastT = a.last_t;
      document.getElementById("iteration").textContent = String(lastT);
      for (const n of Object.keys(full.cols)) {
        if (!plots[n]) makePlot(n);
        else if (!zoomed) plots[n].u.setData(dataFor(n, full), true);
      }
    });
    every(4000, async () => {
      detail = await getJSON("api/run?id=" + encodeURIComponent(id));
      drawHead();
      drawSamples(samples, id, detail);
      drawDiagnostics(diag, id, detail);
      drawEvents(events, detail);
    });
  }
  const onResize = () => { for (const p of Object.values(plots)) p.u.setSize({ width: chartWidth(p.box), height: 200 }); };
  window.addEventListener("resize", onResize);
  const prev = stopPage;
  stopPage = () => { window.removeEventListener("resize", onResize); prev(); };
}

// slider shows one figure per iteration of figs (by kind) with a slider;
// it keeps following the newest while it is at the end.
function slider(box, id, kinds, label) {
  const ts = [...new Set(Object.values(kinds).flat().map((f) => f.t))].sort((a, b) => a - b);
  const old = box.querySelector("input[type=range]");
  const atEnd = !old || Number(old.value) === Number(old.max);
  let idx = atEnd ? ts.length - 1 : Math.min(Number(old.value), ts.length - 1);
  if (!ts.length) { fill(box, el("p", { class: "muted" }, "No " + label + " yet.")); return; }
  const figs = el("div", { class: "figs" });
  const cap = el("span", { class: "slider-t" });
  const show = () => {
    const t = ts[idx];
    cap.textContent = label + " at t = " + t + " (" + (idx + 1) + " of " + ts.length + ")";
    fill(figs, ...Object.entries(kinds).map(([k, list]) => {
      const f = list.find((x) => x.t === t);
      return f ? el("figure", {}, el("img", { src: fileURL(id, f.path, f.v), alt: k + " " + t, width: 400 }), el("figcaption", {}, k)) : null;
    }));
  };
  const input = el("input", { type: "range", min: 0, max: ts.length - 1, value: idx, oninput: (e) => { idx = Number(e.target.value); show(); } });
  fill(box, el("div", { class: "toolbar" }, input, cap), figs);
  show();
}

function drawSamples(box, id, detail) {
  slider(box, id, detail.samples, "samples");
}

function drawDiagnostics(box, id, detail) {
  const kids = [];
  const stages = (detail.summary && detail.summary.stages) || {};
  for (const [name, st] of Object.entries(stages)) {
    const w = st.window || {}, d = w.d_st || {}, r = w.r_t || {};
    const rows = [["verdict", el("td", { class: "verdict" }, st.verdict || "")], ["reason", st.reason || ""],
      ["at iteration", String(st.t ?? "")], ["window", w.n ? "t " + w.t_first + "–" + w.t_last + " (" + w.n + " records, burn-in " + w.burn_in + ", " + w.burn_in_rule + ")" : ""],
      ["d_st mean ± sd", d.n ? fmt(d.mean) + " ± " + fmt(d.sd) : ""], ["r_t mean ± sd", r.n ? fmt(r.mean) + " ± " + fmt(r.sd) : ""],
      ["r_t band", r.band && r.band[1] > 0 ? "[" + r.band.join(", ") + "], " + fmt(100 * r.frac_in) + "% inside" : "none set"],
      ["acf band ±", fmt(w.band)]];
    if (st.density) rows.push(["TV (EBM / floor)", fmt(st.density.tv_ebm) + " / " + fmt(st.density.tv_floor) + " at t = " + st.density.t]);
    kids.push(el("div", {}, el("h3", {}, name + " (" + (st.plugin || "") + " " + (st.version || "") + ")"), table(null, rows)));
  }
  const figs = el("div", { class: "figs" });
  const dg = detail.figures.find((f) => f.path === "diagnostics.png");
  if (dg) figs.append(el("figure", {}, el("img", { src: fileURL(id, dg.path, dg.v), alt: "diagnostics", width: 600 }), el("figcaption", {}, "diagnostics.png (latest)")));
  const density = el("div", {});
  const dn = detail.figures.find((f) => f.path === "density.png");
  if (detail.density.length) slider(density, id, { density: detail.density }, "density");
  else if (dn) density.append(el("div", { class: "figs" }, el("figure", {}, el("img", { src: fileURL(id, dn.path, dn.v), alt: "density", width: 640 }), el("figcaption", {}, "density.png (latest)"))));
  fill(box, el("div", { class: "cols" }, ...kids, figs), density);
  if (!kids.length && !dg) fill(box, el("p", { class: "muted" }, "No diagnostics stage has reported yet."));
}

function drawEvents(box, detail) {
  if (!detail.events.length) { fill(box, el("p", { class: "muted" }, "No events.")); return; }
  fill(box, table(["t", "stage", "level", "message"], detail.events.slice().reverse().slice(0, 50).map((e) => [String(e.t), e.stage, e.level, e.message])));
}

function drawManifest(box, detail) {
  const m = detail.manifest;
  if (!m) { fill(box, el("p", { class: "muted" }, "No readable manifest.json.")); return; }
  const vars = Object.keys(m.variables || {}).sort().map((k) => [k, el("td", { class: "mono" }, m.variables[k]), (m.variable_sources || {})[k] || ""]);
  const plugins = Object.keys(m.plugins || {}).sort().map((k) => { const p = m.plugins[k]; return [k, p.version, String(p.protocol), el("td", { class: "mono" }, p.sha256), el("td", { class: "mono" }, p.path)]; });
  const stages = Object.keys(m.stages || {}).sort().map((k) => { const s = m.stages[k]; return [k, s.plugin, s.kind, el("td", { class: "mono" }, String(s.seed))]; });
  const eb = Object.entries(m.ebmflow || {}).map(([k, v]) => [k, el("td", { class: "mono" }, v)]);
  fill(box, 
    el("div", { class: "cols" },
      el("div", {}, el("h3", {}, "Variables"), vars.length ? table(["variable", "value", "source"], vars) : el("p", { class: "muted" }, "none")),
      el("div", {}, el("h3", {}, "Seeds"), table(["stage", "plugin", "kind", "seed"], [["train", "", "", el("td", { class: "mono" }, String(m.seed))], ...stages])),
      el("div", {}, el("h3", {}, "ebmflow"), table(null, eb))),
    el("h3", {}, "Plugins"), table(["plugin", "version", "protocol", "SHA-256", "path"], plugins),
    el("h3", {}, "Pipeline ", el("span", { class: "muted mono" }, m.pipeline.path + " · sha256 " + m.pipeline.sha256)),
    el("pre", {}, m.pipeline.source));
}

// ---- comparison ----------------------------------------------------------

async function comparePage(main, q) {
  const list = await getJSON("api/runs");
  const ids = (q.get("ids") || "").split(",").filter(Boolean);
  const metric = q.get("metric") || "d_st";
  const go = (newIds, newMetric) => { location.hash = "#/compare?metric=" + encodeURIComponent(newMetric) + "&ids=" + newIds.map(encodeURIComponent).join(","); };
  const picker = table(["", "run", "state", "variables"], list.runs.map((r) => [
    el("input", { type: "checkbox", "data-run": r.id, ...(ids.includes(r.id) ? { checked: "" } : {}), onchange: () => go([...picker.querySelectorAll("input:checked")].map((c) => c.dataset.run), metric) }),
    r.name, stateBadge(r), el("td", { class: "mono" }, Object.entries(r.vars || {}).map(([k, v]) => k + "=" + v.replace(/^"(.*)"$/, "$1")).join(" "))]));
  const box = el("div", { class: "chart", id: "compare-chart" });
  const names = new Set(["lr", "d_st", "r_t", "mean_f_pos", "mean_f_neg", "grad_norm"]);
  const sel = el("select", { id: "metric", onchange: (e) => go(ids, e.target.value) });
  fill(main, el("h1", {}, "Compare"), el("div", { class: "toolbar" }, "metric ", sel, el("span", { class: "muted" }, "labelled by the variables that differ; drag to zoom, double-click to zoom out")), box,
    el("h2", {}, "Runs"), picker);
  if (!ids.length) { fill(box, el("p", { class: "muted" }, "Tick runs below, or open a sweep's comparison from the run list.")); fillSelect(sel, names, metric); return; }
  const d = await getJSON("api/compare?metric=" + encodeURIComponent(metric) + "&points=" + BUCKETS + "&ids=" + ids.map(encodeURIComponent).join(","));
  for (const n of d.names || []) names.add(n);
  fillSelect(sel, names, metric);
  const runs = d.runs.filter((r) => r.t && r.t.length);
  const joined = uPlot.join(runs.map((r) => [r.t, r.y]));
  const sparse = (ys) => ys.filter((y) => y !== null && y !== undefined).length < 60;
  const series = runs.map((r, i) => ({ opts: { label: r.label, stroke: PALETTE[i % PALETTE.length], width: 1.2, spanGaps: true, points: { show: sparse(r.y) } }, data: joined[i + 1] }));
  const all = series.flatMap((s) => s.data);
  const problems = d.runs.filter((r) => r.error).map((r) => r.name + ": " + r.error);
  const build = (useLog) => {
    box.querySelectorAll(".uplot").forEach((e) => e.remove());
    const u = lineChart(box, metric, joined[0], series, { log: useLog, height: 380 });
    btn.textContent = useLog ? "linear" : "log";
    box._log = useLog;
    box._u = u;
  };
  const btn = el("button", { onclick: () => build(!box._log) }, "");
  fill(box, el("div", { class: "tools" }, btn));
  if (problems.length) main.insertBefore(problemsBox(problems), box);
  build(wantsLog(all));
}

function fillSelect(sel, names, metric) {
  names.add(metric);
  fill(sel, ...[...names].map((n) => el("option", { value: n, ...(n === metric ? { selected: "" } : {}) }, n)));
}

window.addEventListener("hashchange", route);
route();
