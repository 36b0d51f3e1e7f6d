// ebmflow dashboard: runs compared.
"use strict";

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

