// ebmflow dashboard: routing between the pages.
"use strict";

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

window.addEventListener("hashchange", route);
route();
