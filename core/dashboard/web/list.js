// ebmflow dashboard: the run list.
"use strict";

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

