// ebmflow dashboard: helpers and the uPlot charts shared by the pages.
// All charts are uPlot's; these files only prepare their data and options.
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
    title, width: opts.width || chartWidth(box), height: opts.height || 220,
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

