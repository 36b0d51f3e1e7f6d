// ebmflow dashboard: a run's page.
"use strict";

async function runPage(main, id) {
  let [detail, m] = await Promise.all([getJSON("api/run?id=" + encodeURIComponent(id)),
    getJSON("api/metrics?id=" + encodeURIComponent(id) + "&points=" + BUCKETS)]);
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
  let width = 0; // of every chart: measured once, so that adding charts forces no layout
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
      const u = lineChart(box, n, d[0], series, { log: useLog, sync: "run", bands, onZoom: zoomTo, onReset: reset, height: 200, width: (width ||= chartWidth(box)) });
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
      let a = await getJSON("api/metrics?id=" + encodeURIComponent(id) + "&after=" + lastT);
      // Too far behind, or the appended rows outgrew the buckets: the
      // whole series again, downsampled.
      if (a.reload || full.t.length > 4 * BUCKETS) {
        a = m = await getJSON("api/metrics?id=" + encodeURIComponent(id) + "&points=" + BUCKETS);
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
  const onResize = () => { width = 0; for (const p of Object.values(plots)) p.u.setSize({ width: (width ||= chartWidth(p.box)), height: 200 }); };
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

