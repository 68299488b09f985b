// Switchyard dashboard: polls /admin/dashboard/summary every 2 s and draws the live numbers (inline SVG),
// browses traces (/admin/dashboard/traces) with filters, pages and detail rows, posts feedback to
// /v1/feedback, and shows the newest evaluation report (/admin/dashboard/eval). No framework, no network
// access beyond this server. Bearer keys (when the server wants them) are asked for once and kept in
// sessionStorage: one for /admin/*, one for /v1/* (defaults to the admin key).
"use strict";

const POLL_MS = 2000;
const TRACE_POLL_MS = 5000;
const PAGE = 25;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

// ---- small DOM helpers (text only goes through textContent: trace text is never parsed as HTML) ----
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}
function s(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}
function setText(id, v) {
  const el = $(id);
  if (el.textContent !== String(v)) el.textContent = v;
}

// ---- formatting ----
const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(x >= 0.999 || x === 0 ? 0 : 1) + "%");
function ms(x) {
  if (x === null || x === undefined) return "–";
  if (x >= 10000) return (x / 1000).toFixed(1) + " s";
  if (x >= 100) return Math.round(x) + " ms";
  return (x >= 10 ? x.toFixed(1) : x.toFixed(2)) + " ms";
}
function usd(x) {
  if (x === null || x === undefined) return "–";
  const a = Math.abs(x);
  if (a === 0) return "$0";
  if (a >= 100) return "$" + x.toFixed(0);
  if (a >= 1) return "$" + x.toFixed(2);
  return "$" + x.toPrecision(2);
}
const rate = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
function when(tms) {
  const d = new Date(tms);
  const t = d.toLocaleTimeString([], { hour12: false });
  return d.toDateString() === new Date().toDateString() ? t : d.toLocaleDateString() + " " + t;
}

// ---- HTTP with bearer keys ----
const keys = {
  get admin() { return sessionStorage.getItem("sy.key.admin") || ""; },
  get api() { return sessionStorage.getItem("sy.key.api") || sessionStorage.getItem("sy.key.admin") || ""; },
};
let keyScope = null;  // which key the key bar asks for

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function call(path, { method = "GET", body, scope = "admin" } = {}) {
  const headers = {};
  const key = keys[scope];
  if (key) headers.Authorization = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let j = null;
  try { j = text ? JSON.parse(text) : null; } catch { j = null; }
  if (r.status === 401) askKey(scope);
  if (!r.ok) throw new HttpError(r.status, (j && j.error && (j.error.message || j.error)) || r.statusText || "HTTP " + r.status);
  return j !== null ? j : text;
}

function askKey(scope) {
  keyScope = scope;
  setText("keybar-text", scope === "admin"
    ? "This server needs a key for /admin (the dashboard's data)."
    : "Feedback goes to /v1/feedback, which needs an API key.");
  $("keybar").hidden = false;
}
$("key-save").addEventListener("click", () => {
  const v = $("key-input").value.trim();
  if (!v) return;
  sessionStorage.setItem(keyScope === "api" ? "sy.key.api" : "sy.key.admin", v);
  $("key-input").value = "";
  $("keybar").hidden = true;
  refreshSummary();
  loadTraces();
  loadEval();
});

// ---- live numbers ----
let summary = null;

async function refreshSummary() {
  try {
    const j = await call("/admin/dashboard/summary?window=" + $("window").value);
    summary = j;
    $("conn").className = "dot ok";
    const up = Math.round((j.now_ms - j.started_ms) / 1000);
    setText("status-text", "updated " + new Date(j.now_ms).toLocaleTimeString([], { hour12: false }) + " · up " + duration(up) +
      (j.tracing.enabled ? " · " + j.tracing.traces + " traces (" + j.tracing.backend + ")" : " · tracing off"));
    drawSummary(j);
    // Time from navigation start to the first numbers on screen (the browser test reads it).
    if (!performance.getEntriesByName("sy-first-numbers").length) performance.mark("sy-first-numbers");
  } catch (e) {
    $("conn").className = "dot err";
    setText("status-text", e.status === 401 ? "needs a key" : "cannot reach the server: " + e.message);
  }
}

function duration(s) {
  if (s < 120) return s + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  if (s < 172800) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " d";
}

function drawSummary(j) {
  const req = j.requests;
  setText("rate", rate(req.rate_per_s));
  setText("total-requests", req.total);
  setText("errors", req.errors);
  drawSpark($("rate-chart"), req.series.counts);

  const sb = j.served_by;
  const routed = sb.local + sb.fallback + sb.external;
  setText("local-share", pct(sb.local_share));
  setText("n-local", sb.local);
  setText("n-fallback", sb.fallback + sb.external);
  $("share-local").style.width = routed ? (100 * sb.local / routed) + "%" : "0";
  $("share-fallback").style.width = routed ? (100 * (sb.fallback + sb.external) / routed) + "%" : "0";

  setText("lat-p50", ms(j.latency_ms.p50));
  setText("lat-p95", ms(j.latency_ms.p95));
  setText("lat-p99", ms(j.latency_ms.p99));
  setText("lat-n", j.latency_ms.n);

  setText("shadow", pct(j.shadow.exact_agreement));
  setText("shadow-tool", pct(j.shadow.tool_agreement));
  setText("shadow-n", j.shadow.n);
  setText("shadow-rate", pct(j.shadow.sample_rate));

  const c = j.cost;
  setText("saved", c.priced ? usd(c.saved_usd) : "no price");
  setText("per1k-with", usd(c.with_switchyard_per_1k_usd));
  setText("per1k-cloud", usd(c.cloud_only_per_1k_usd));
  setText("cloud-model", c.cloud_model);

  drawConfidence($("conf-chart"), j.confidence, j.threshold);
  setText("conf-note", j.confidence.n ? j.confidence.n + " judged · " + j.confidence.below_threshold + " below " + j.threshold : "threshold " + j.threshold);
  drawReasons(j.reasons);
  fillList("models", j.models);
  fillList("tools", ["none", ...j.tools]);
}

function drawSpark(svg, counts) {
  svg.replaceChildren();
  const max = Math.max(1, ...counts);
  const w = 300 / counts.length;
  counts.forEach((n, i) => {
    if (!n) return;
    const hgt = Math.max(2, 46 * n / max);
    const r = s("rect", { x: i * w + 0.5, y: 48 - hgt, width: Math.max(1, w - 1), height: hgt });
    r.append(s("title"));
    r.firstChild.textContent = n + " requests";
    svg.append(r);
  });
}

function drawConfidence(svg, conf, threshold) {
  svg.replaceChildren();
  const W = 420, H = 160, L = 30, B = 20, T = 8;
  const bins = conf.bins;
  const max = Math.max(1, ...bins);
  const bw = (W - L - 6) / bins.length;
  svg.append(s("line", { x1: L, y1: H - B, x2: W - 4, y2: H - B, class: "axis" }));
  for (const f of [0.5, 1]) {
    const y = H - B - (H - B - T) * f;
    svg.append(s("line", { x1: L, y1: y, x2: W - 4, y2: y, class: "axis" }));
    const t = s("text", { x: L - 4, y: y + 3, "text-anchor": "end" });
    t.textContent = Math.round(max * f);
    svg.append(t);
  }
  bins.forEach((n, i) => {
    const hgt = (H - B - T) * n / max;
    const lo = i / bins.length;
    const r = s("rect", { x: L + i * bw + 2, y: H - B - hgt, width: bw - 4, height: hgt, class: "bar" + (lo + 0.1 <= threshold ? " below" : "") });
    r.append(s("title"));
    r.firstChild.textContent = lo.toFixed(1) + "–" + (lo + 0.1).toFixed(1) + ": " + n;
    svg.append(r);
  });
  for (let i = 0; i <= bins.length; i += 2) {  // bin edges 0, 0.2, ..., 1
    const t = s("text", { x: L + i * bw, y: H - 6, "text-anchor": "middle" });
    t.textContent = (i / bins.length).toFixed(1);
    svg.append(t);
  }
  const x = L + threshold * (W - L - 6);
  svg.append(s("line", { x1: x, y1: T - 4, x2: x, y2: H - B, class: "thr" }));
  const tt = s("text", { x: x + 3, y: T + 4 });
  tt.textContent = "threshold " + threshold;
  svg.append(tt);
}

const FALLBACK_REASONS = new Set(["low_confidence", "untrained_tools", "local_error", "no_router"]);
function drawReasons(reasons) {
  const box = $("reasons");
  const entries = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
  if (!entries.length) {
    box.replaceChildren(h("p", { class: "muted" }, "no requests in this window"));
    return;
  }
  const max = Math.max(...entries.map((e) => e[1]));
  box.replaceChildren(...entries.map(([name, n]) => {
    const cls = FALLBACK_REASONS.has(name) ? "fill fallback" : name === "confident" ? "fill local" : "fill";
    return h("div", { class: "row" }, h("span", {}, name),
      h("div", { class: "track" }, h("div", { class: cls, style: "width:" + (100 * n / max) + "%" })),
      h("span", { class: "n" }, n));
  }));
}

function fillList(id, values) {
  const list = $(id);
  const key = values.join("\u0001");
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...values.map((v) => h("option", { value: v })));
}

// ---- traces ----
let offset = 0;
let total = 0;
let open = null;  // id of the trace whose detail row is shown
let loading = false;

function filterParams() {
  const f = new FormData($("filters"));
  const p = new URLSearchParams();
  const range = Number(f.get("range"));
  if (range > 0) p.set("since", String(Date.now() - range * 1000));
  for (const k of ["model", "tool", "served_by", "feedback", "errors", "q"]) {
    const v = String(f.get(k) || "").trim();
    if (v) p.set(k, v);
  }
  p.set("limit", String(PAGE));
  p.set("offset", String(offset));
  return p;
}

async function loadTraces() {
  if (loading) return;
  loading = true;
  try {
    const j = await call("/admin/dashboard/traces?" + filterParams());
    total = j.total;
    $("trace-note").hidden = true;
    renderTraces(j.traces);
    const last = Math.min(total, offset + j.traces.length);
    setText("page-info", total ? (offset + 1) + "–" + last + " of " + total : "no traces match");
    setText("trace-count", total + " matching");
    $("prev").disabled = offset === 0;
    $("next").disabled = offset + PAGE >= total;
  } catch (e) {
    $("trace-note").hidden = false;
    setText("trace-note", e.message);
    $("trace-rows").replaceChildren();
    setText("page-info", "");
  } finally {
    loading = false;
  }
}

function renderTraces(rows) {
  const body = $("trace-rows");
  const keep = open;
  body.replaceChildren();
  for (const t of rows) {
    const tr = h("tr", { class: "trace" + (t.error ? " error" : ""), "data-id": t.id, onclick: () => toggleDetail(t.id, tr) },
      h("td", { title: new Date(t.time_ms).toISOString() }, when(t.time_ms)),
      h("td", { title: t.request }, t.request || "–"),
      h("td", { title: t.error || t.answer }, t.error ? "error: " + t.error : t.answer.trim() || (t.answer ? "(blank)" : "–")),
      h("td", { title: t.served_reason }, t.router_decision || "–"),
      h("td", { class: "num" }, t.confidence === null ? "–" : t.confidence.toFixed(2)),
      h("td", {}, h("span", { class: "pill " + t.served_by, title: t.served_reason }, t.served_by)),
      h("td", { class: "num" }, ms(t.latency_ms)),
      h("td", {}, feedbackButtons(t)));
    body.append(tr);
    if (t.id === keep) showDetail(t.id, tr);
  }
}

// A thumb drawn in SVG (emoji fonts are often missing on servers and in headless browsers).
function thumb(down) {
  const svg = s("svg", { viewBox: "0 0 16 16", width: 14, height: 14, "aria-hidden": "true" });
  const g = s("g", down ? { transform: "rotate(180 8 8)" } : {});
  g.append(s("rect", { x: 1, y: 7, width: 3, height: 8, rx: 0.5 }));
  g.append(s("path", { d: "M5 15V7.2l3.6-5.6c.9-.7 2.3 0 2 1.3L10 6h3.8c1 0 1.8 1 1.5 2l-1.5 6c-.2.6-.7 1-1.3 1z" }));
  svg.append(g);
  return svg;
}

function feedbackButtons(t) {
  const up = h("button", { type: "button", class: "fb fb-up" + (t.feedback_rating > 0 ? " on" : ""), title: "good answer (👍)", "aria-label": "good answer" }, thumb(false));
  const down = h("button", { type: "button", class: "fb fb-down" + (t.feedback_rating < 0 ? " on" : ""), title: "bad answer (👎)", "aria-label": "bad answer" }, thumb(true));
  up.addEventListener("click", (ev) => { ev.stopPropagation(); sendFeedback(t.id, 1, undefined, [up, down]); });
  down.addEventListener("click", (ev) => { ev.stopPropagation(); sendFeedback(t.id, -1, undefined, [up, down]); });
  return [up, down];
}

async function sendFeedback(id, rating, corrected, buttons) {
  const body = { trace_id: id, rating };
  if (corrected !== undefined) body.corrected = corrected;
  try {
    await call("/v1/feedback", { method: "POST", body, scope: "api" });
    if (buttons) {
      buttons[0].classList.toggle("on", rating > 0);
      buttons[1].classList.toggle("on", rating < 0);
    }
    setText("fb-status", "feedback " + (rating > 0 ? "+1 (good)" : "−1 (bad)") + (corrected !== undefined ? " with a correction" : "") +
      " saved for " + id.slice(0, 8) + "…");
  } catch (e) {
    setText("fb-status", "feedback not saved: " + e.message);
  }
}

async function toggleDetail(id, tr) {
  if (open === id) {
    open = null;
    if (tr.nextSibling && tr.nextSibling.classList.contains("detail-row")) tr.nextSibling.remove();
    return;
  }
  for (const d of document.querySelectorAll(".detail-row")) d.remove();
  open = id;
  await showDetail(id, tr);
}

async function showDetail(id, tr) {
  const cell = h("td", { colspan: 8 }, h("span", { class: "muted" }, "loading…"));
  const row = h("tr", { class: "detail-row" }, cell);
  tr.after(row);
  try {
    const t = await call("/admin/dashboard/traces/" + encodeURIComponent(id));
    cell.replaceChildren(detailView(t));
  } catch (e) {
    cell.replaceChildren(h("span", { class: "muted" }, e.message));
  }
}

function messageView(m) {
  let text = typeof m.content === "string" ? m.content : Array.isArray(m.content) ? m.content.map((p) => p.text || "").join("") : "";
  for (const c of m.tool_calls || []) {
    const args = c.function && typeof c.function.arguments === "string" ? c.function.arguments : JSON.stringify(c.function && c.function.arguments);
    text += (text ? "\n" : "") + "→ " + (c.function ? c.function.name : "?") + "(" + args + ")";
  }
  return h("div", { class: "msg " + m.role }, h("div", { class: "role" }, m.role + (m.name ? " · " + m.name : "")), text || "(empty)");
}

function detailView(t) {
  const lat = t.latency_ms || {};
  const kv = [
    ["id", t.id], ["api", t.api], ["model", t.model + (t.adapter ? ":" + t.adapter : "")],
    ["router decision", t.router_decision || "–"],
    ["confidence", t.confidence === null ? "–" : t.confidence.toFixed(4) + " " + JSON.stringify(t.confidence_parts || {})],
    ["served by", t.served_by + " (" + t.served_reason + ")"],
    ["latency", "total " + ms(lat.total) + " · queue " + ms(lat.queue) + " · prefill " + ms(lat.prefill) + " · decode " + ms(lat.decode)],
    ["tokens", t.prompt_tokens + " in · " + t.completion_tokens + " out"],
    ["cost", usd(t.cost_cloud_usd) + " on the cloud · " + usd(t.cost_local_usd) + " local"],
    ["shadow", t.shadow_agreement === null ? "–" : (t.shadow_agreement ? "agrees" : "differs") + (t.shadow_result ? ": " + JSON.stringify(t.shadow_result) : "")],
    ["feedback", t.feedback_rating === null ? "none" : String(t.feedback_rating) + (t.feedback_correction !== null ? " · corrected: " + JSON.stringify(t.feedback_correction) : "")],
  ];
  if (t.error) kv.push(["error", t.error]);
  const dl = h("dl", { class: "kv" }, kv.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const area = h("textarea", { placeholder: "the answer it should have given (optional)" });
  const send = h("button", { type: "button", class: "fb-correct" }, thumb(true), " Mark bad, with this correction");
  send.addEventListener("click", () => {
    const v = area.value.trim();
    sendFeedback(t.id, -1, v ? { role: "assistant", content: v } : undefined).then(() => loadTraces());
  });
  return h("div", { class: "detail-box" },
    h("div", {}, (t.messages || []).map(messageView)),
    h("div", {}, dl, h("div", { class: "correction" }, area, send)));
}

$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; open = null; loadTraces(); });
$("filters").addEventListener("change", (ev) => { if (ev.target.tagName === "SELECT") { offset = 0; loadTraces(); } });
$("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadTraces(); });
$("next").addEventListener("click", () => { offset += PAGE; loadTraces(); });
$("window").addEventListener("change", refreshSummary);

// ---- evaluation report ----
const EVAL_METRICS = [
  ["tool_selection_accuracy", "tool selection", pct], ["accuracy", "accuracy", pct],
  ["argument_exact_match", "exact arguments", pct], ["json_validity", "JSON validity", pct],
  ["false_positive_rate", "false tool calls", pct], ["recommended_threshold", "recommended threshold", (x) => (x === null ? "–" : x.toFixed(3))],
  ["coverage_at_threshold", "coverage there", pct],
];

async function loadEval() {
  try {
    const j = await call("/admin/dashboard/eval");
    const r = j.report;
    setText("eval-file", j.file ? j.file + " · " + when(j.modified_ms) : "");
    $("eval-note").hidden = !!r && !j.message;
    setText("eval-note", j.message || "");
    $("eval-open").hidden = !j.html;
    if (!r) {
      $("eval-metrics").replaceChildren();
      $("eval-mistakes").replaceChildren();
      return;
    }
    const cards = EVAL_METRICS.filter(([k]) => k in r).map(([k, label, f]) => metric(label, f(r[k])));
    if (r.latency_ms) cards.push(metric("latency p50 / p95", ms(r.latency_ms.p50) + " / " + ms(r.latency_ms.p95)));
    if (r.cost) cards.push(metric("per 1k requests", usd(r.cost.per_1k_requests_usd) + " vs " + usd(r.cost.cloud_per_1k_requests_usd)));
    if (r.n_examples !== undefined) cards.push(metric("examples", r.n_examples));
    $("eval-metrics").replaceChildren(...cards);
    const run = r.run || {};
    const mistakes = (r.mistakes || []).slice(0, 5);
    $("eval-mistakes").replaceChildren(
      h("p", { class: "muted" }, "model " + (run.model || "?") + (run.lora ? " + " + run.lora : "") + " · data " + (run.data || "?") + " · " + (run.started_at || "")),
      mistakes.length ? h("table", { class: "grid mistakes" },
        h("thead", {}, h("tr", {}, h("th", {}, "request"), h("th", {}, "expected"), h("th", {}, "predicted"))),
        h("tbody", {}, mistakes.map((m) => h("tr", {}, h("td", { title: m.request }, m.request), h("td", { title: m.expected }, m.expected),
          h("td", { title: m.predicted }, m.predicted))))) : null);
  } catch (e) {
    $("eval-note").hidden = false;
    setText("eval-note", e.message);
  }
}
function metric(label, value) {
  return h("div", { class: "metric" }, h("div", { class: "v" }, value), h("div", { class: "l" }, label));
}
$("eval-open").addEventListener("click", async () => {
  const frame = $("eval-frame");
  if (!frame.hidden) { frame.hidden = true; return; }
  try {
    frame.srcdoc = await call("/admin/dashboard/eval.html");
    frame.hidden = false;
  } catch (e) {
    setText("eval-note", e.message);
    $("eval-note").hidden = false;
  }
});

// ---- start ----
refreshSummary();
loadTraces();
loadEval();
setInterval(refreshSummary, POLL_MS);
setInterval(() => { if ($("auto").checked && offset === 0 && open === null && !document.hidden) loadTraces(); }, TRACE_POLL_MS);
setInterval(loadEval, 60000);
