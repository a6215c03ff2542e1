// riskmesh analyst console: one page, no build step, no third-party code.
// Every DOM node is built with h()/svg() and textContent, never innerHTML: nothing from the server is markup.
"use strict";

const $ = (id) => document.getElementById(id);
const S = {
  me: null, csrf: "", view: "", items: [], counts: {}, selected: -1, detail: null, clockSkew: 0,
  tab: "active", events: null, dashTimer: null, rates: [], reasonResolve: null, investigation: null,
};
const VIEWS = ["queue", "dashboard", "audit", "admin", "lifts"];
const TABS = [
  ["active", "Active"], ["open", "Open"], ["mine", "Mine"], ["claimed", "Claimed"],
  ["pending_approval", "Four-eyes"], ["escalated", "Escalated"], ["info_requested", "Info requested"],
];

// ---------------------------------------------------------------------------------------------
// DOM helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

// replaceChildren that skips null / false and flattens arrays, like h()
function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return el;
}

function toast(message, kind) {
  const el = $("toast");
  el.textContent = message;
  el.className = "toast " + (kind || "");
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 6000 : 2500);
}

const can = (perm) => !!S.me && S.me.permissions.includes(perm);
const serverNow = () => Date.now() + S.clockSkew;
const money = (amount, currency) =>
  Number(amount).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " " + currency;
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

function duration(ms) {
  const neg = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  const ss = s % 60, pad = (n) => String(n).padStart(2, "0");
  const text = d ? `${d}d ${hh}h` : hh ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`;
  return (neg ? "-" : "") + text;
}

// ---------------------------------------------------------------------------------------------
// API

async function api(method, path, body, contentType) {
  const headers = { "accept": "application/json" };
  if (S.csrf) headers["x-csrf-token"] = S.csrf;
  let payload;
  if (body !== undefined) {
    headers["content-type"] = contentType || "application/json";
    payload = contentType ? body : JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/api/login") { showLogin(); }
  if (!response.ok) {
    const err = new Error((data.error && data.error.message) || `HTTP ${response.status}`);
    err.status = response.status;
    err.code = data.error && data.error.code;
    throw err;
  }
  if (data.now) S.clockSkew = new Date(data.now).getTime() - Date.now();
  return data;
}

async function act(alertId, verb, body) {
  try {
    const data = await api("POST", `/api/alerts/${encodeURIComponent(alertId)}/${verb}`, body || {});
    toast(`${verb}: ${alertId} is now ${data.state.status.replace("_", " ")}`, "ok");
    await Promise.all([loadQueue(), openDetail(alertId)]);
  } catch (err) {
    toast(err.message, "error");
  }
}

// ---------------------------------------------------------------------------------------------
// sign-in and shell

function showLogin() {
  S.me = null;
  if (S.events) { S.events.close(); S.events = null; }
  for (const v of VIEWS) $(`${v}-view`).hidden = true;
  $("top").hidden = true;
  $("login-view").hidden = false;
  $("login-user").focus();
}

async function signIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const data = await api("POST", "/api/login", { username: $("login-user").value.trim(), password: $("login-password").value });
    $("login-password").value = "";
    start(data);
  } catch (err) {
    $("login-error").textContent = err.message;
  }
}

function start(data) {
  S.me = data.user;
  S.csrf = data.csrf_token || "";
  $("login-view").hidden = true;
  $("top").hidden = false;
  $("who").textContent = `${S.me.username} · ${S.me.role.replace("_", " ")}`;
  $("nav-admin").hidden = !can("users.manage");
  $("nav-lifts").hidden = !can("control.lift_approve");
  connectEvents();
  route();
}

function route() {
  if (!S.me) return;
  const [, view, id] = (location.hash || "#/queue").split("/");
  const name = VIEWS.includes(view) ? view : "queue";
  S.view = name;
  for (const v of VIEWS) $(`${v}-view`).hidden = v !== name;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === name);
  clearInterval(S.dashTimer);
  if (name === "queue") { loadQueue().then(() => id && openDetail(decodeURIComponent(id))); }
  if (name === "dashboard") { loadDashboard(); S.dashTimer = setInterval(loadDashboard, 2000); }
  if (name === "audit") loadAudit();
  if (name === "admin") loadAdmin();
  if (name === "lifts") loadLifts();
}

function connectEvents() {
  if (S.events) S.events.close();
  const source = new EventSource("/api/events");
  S.events = source;
  source.addEventListener("queue", () => { if (S.view === "queue") scheduleQueueReload(); });
  source.onopen = () => $("live").classList.add("on");
  source.onerror = () => $("live").classList.remove("on");
}

function scheduleQueueReload() {
  clearTimeout(scheduleQueueReload.timer);
  scheduleQueueReload.timer = setTimeout(async () => {
    await loadQueue();
    const d = S.detail;
    const row = d && S.items.find((i) => i.alert.alert_id === d.alert.alert_id);
    if (d && row && row.state.version !== d.state.version) openDetail(d.alert.alert_id, true);
  }, 50);
}

// ---------------------------------------------------------------------------------------------
// queue

function queueParams() {
  const p = new URLSearchParams({ status: S.tab, sort: $("sort").value, limit: "300" });
  if ($("search").value.trim()) p.set("search", $("search").value.trim());
  if ($("min-risk").value) p.set("min_risk", $("min-risk").value);
  return p;
}

async function loadQueue() {
  try {
    const data = await api("GET", "/api/queue?" + queueParams());
    const keep = S.items[S.selected] && S.items[S.selected].alert.alert_id;
    S.items = data.items;
    S.counts = data.counts;
    const again = S.items.findIndex((i) => i.alert.alert_id === keep);
    S.selected = again >= 0 ? again : Math.min(S.selected, S.items.length - 1);
    renderTabs();
    renderQueue();
  } catch (err) {
    if (err.status !== 401) toast(err.message, "error");
  }
}

function renderTabs() {
  const active = Object.entries(S.counts).filter(([k]) => k !== "closed").reduce((n, [, v]) => n + v, 0);
  const tabs = TABS.filter(([key]) => key !== "escalated" || can("queue.escalated"))
    .filter(([key]) => key !== "mine" || can("alert.claim"));
  fill($("tabs"),...tabs.map(([key, label]) => {
    const count = key === "active" ? active : key === "mine" ? null : (S.counts[key] || 0);
    return h("button", { type: "button", role: "tab", class: key === S.tab ? "tab active" : "tab",
      "aria-selected": key === S.tab ? "true" : "false",
      onclick: () => { S.tab = key; S.selected = 0; loadQueue(); } },
      label, count === null ? null : h("span", { class: "count" }, count));
  }));
}

function renderQueue() {
  const rows = S.items.map((item, index) => {
    const a = item.alert, st = item.state;
    const risk = h("span", { class: "bar" }, h("span", { class: "fill" }));
    risk.firstChild.style.width = `${Math.round(a.risk_score * 100)}%`;
    risk.firstChild.classList.add(a.risk_score >= 0.8 ? "high" : a.risk_score >= 0.5 ? "mid" : "low");
    return h("tr", {
      class: index === S.selected ? "selected" : "", dataset: { index: String(index) },
      onclick: () => select(index, true),
    },
    h("td", { class: "risk", title: a.risk_score.toFixed(3) }, risk, h("span", { class: "score" }, a.risk_score.toFixed(2))),
    h("td", { class: "mono" }, a.alert_id),
    h("td", { class: "num" }, money(a.amount, a.currency)),
    h("td", { class: "mono" }, a.debtor_account_id),
    h("td", { class: "age", dataset: { since: st.created_at } }, ""),
    h("td", { class: "sla", dataset: { due: st.sla_due_at } }, ""),
    h("td", {}, h("span", { class: `badge ${st.status}` }, st.status.replace("_", " "))),
    h("td", {}, st.assignee || ""));
  });
  fill($("queue-rows"),...rows);
  $("queue-empty").hidden = S.items.length > 0;
  tickClocks();
}

function select(index, open) {
  if (!S.items.length) return;
  S.selected = Math.max(0, Math.min(index, S.items.length - 1));
  for (const tr of $("queue-rows").children) tr.classList.toggle("selected", Number(tr.dataset.index) === S.selected);
  const tr = $("queue-rows").children[S.selected];
  if (tr) tr.scrollIntoView({ block: "nearest" });
  if (open) openDetail(S.items[S.selected].alert.alert_id);
}

function tickClocks() {
  const now = serverNow();
  for (const el of document.querySelectorAll("[data-due]")) {
    const left = new Date(el.dataset.due).getTime() - now;
    el.textContent = left < 0 ? `breached ${duration(-left)}` : duration(left);
    el.classList.toggle("breached", left < 0);
    el.classList.toggle("soon", left >= 0 && left < 5 * 60 * 1000);
  }
  for (const el of document.querySelectorAll("[data-since]")) {
    el.textContent = duration(now - new Date(el.dataset.since).getTime());
  }
}

// ---------------------------------------------------------------------------------------------
// alert detail

async function openDetail(alertId, quiet) {
  try {
    const d = await api("GET", `/api/alerts/${encodeURIComponent(alertId)}`);
    S.detail = d;
    if (location.hash !== `#/queue/${encodeURIComponent(alertId)}`) {
      history.replaceState(null, "", `#/queue/${encodeURIComponent(alertId)}`);
    }
    renderDetail(d);
  } catch (err) {
    if (!quiet) toast(err.message, "error");
  }
}

function section(title, ...body) {
  return h("section", { class: "card" }, h("h3", {}, title), ...body);
}

function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function renderDetail(d) {
  const a = d.alert, st = d.state, c = d.can, ev = d.evidence || {};
  const buttons = [
    c.claim && h("button", { type: "button", onclick: () => act(a.alert_id, "claim") }, "Claim ", h("kbd", {}, "c")),
    c.release && h("button", { type: "button", onclick: () => act(a.alert_id, "release") }, "Unclaim ", h("kbd", {}, "u")),
    c.decide && h("button", { type: "button", class: "ok", onclick: () => decide("release") }, "Release payment ", h("kbd", {}, "r")),
    c.decide && h("button", { type: "button", class: "danger", onclick: () => decide("block") }, "Block ", h("kbd", {}, "b")),
    c.decide && h("button", { type: "button", class: "danger", onclick: () => decide("freeze") }, "Freeze ", h("kbd", {}, "f")),
    c.decide && h("button", { type: "button", onclick: () => decide("escalate") }, "Escalate ", h("kbd", {}, "e")),
    c.decide && h("button", { type: "button", onclick: () => decide("request_info") }, "Request info ", h("kbd", {}, "i")),
    c.approve && h("button", { type: "button", class: "ok", onclick: approve }, "Approve ", h("kbd", {}, "a")),
    c.approve && h("button", { type: "button", onclick: reject }, "Reject ", h("kbd", {}, "x")),
    c.reassign && h("button", { type: "button", onclick: reassign }, "Reassign"),
    c.note && h("button", { type: "button", onclick: note }, "Note ", h("kbd", {}, "n")),
    can("case.open") && h("button", { type: "button", onclick: openCase }, "Open case ", h("kbd", {}, "o")),
    can("report.generate") && h("button", { type: "button", onclick: openReport }, "Report ", h("kbd", {}, "p")),
    can("investigation.start") && h("button", { type: "button", onclick: investigate }, "Investigate ", h("kbd", {}, "v")),
  ];
  const pending = st.status === "pending_approval" && h("div", { class: "banner" },
    `Four-eyes: ${st.proposed_by} proposes ${st.proposed} — “${st.reason}”. `,
    st.proposed_by === S.me.username ? "A second person must approve it." : "You may approve or reject it.");
  const closed = st.status === "closed" && h("div", { class: "banner done" },
    `Closed: ${st.disposition} by ${st.decided_by}${st.approved_by ? `, approved by ${st.approved_by}` : ""} — “${st.reason}”.`);
  fill($("detail"),
    h("div", { class: "detail-head" },
      h("h2", {}, a.alert_id, " ", h("span", { class: `badge ${st.status}` }, st.status.replace("_", " "))),
      h("div", { class: "sla-big" }, "SLA ", h("span", { class: "sla", dataset: { due: st.sla_due_at } }, ""))),
    pending, closed,
    h("div", { class: "actions" }, buttons),
    section("Transaction", kv([
      ["amount", money(a.amount, a.currency)], ["tx", h("span", { class: "mono" }, a.tx_id)],
      ["debtor account", h("span", { class: "mono" }, a.debtor_account_id)],
      ["risk score", a.risk_score.toFixed(3)], ["policy", a.policy_version], ["raised", when(a.created_at)],
      ["assignee", st.assignee || "—"], a.degraded.length && ["degraded", a.degraded.join(", ")],
      d.four_eyes_required && ["four-eyes", "required for block / freeze"],
    ])),
    can("account.read") && h("section", { class: "card", id: "controls-card" }, h("h3", {}, "Controls"),
      h("p", { class: "muted" }, "loading…")),
    can("investigation.start") && h("section", { class: "card", id: "investigation-card", hidden: true }),
    section("Why it fired", reasonsList(a.reasons), verdicts(d.decision)),
    customerCard(ev),
    section("Graph neighbourhood", graphSvg(ev.neighbourhood, `account:${a.debtor_account_id}`)),
    historyCard(ev),
    evidenceErrors(ev),
    section("Notes", st.notes.length ? h("ul", { class: "notes" }, st.notes.map((n) =>
      h("li", {}, h("b", {}, n.author), " ", h("span", { class: "muted" }, when(n.at)), h("p", {}, n.text)))) : h("p", { class: "muted" }, "none")),
    section("Audit trail", auditTable(d.audit, false)),
  );
  tickClocks();
  if (can("account.read")) loadControls(a);
}

function reasonsList(reasons) {
  if (!reasons || !reasons.length) return h("p", { class: "muted" }, "no reasons recorded");
  return h("ul", { class: "reasons" }, reasons.map((r) => h("li", {},
    h("code", {}, r.code), " ", h("span", { class: "muted" }, `${r.agent} · ${Number(r.weight).toFixed(2)}`),
    r.detail ? h("div", {}, r.detail) : null)));
}

function verdicts(decision) {
  if (!decision || !decision.verdicts) return h("p", { class: "muted" }, "decision record not available");
  const rows = Object.entries(decision.verdicts).map(([agent, v]) => h("tr", {},
    h("td", {}, agent), h("td", {}, h("span", { class: `badge ${v.status}` }, v.status)),
    h("td", { class: "num" }, v.score === null || v.score === undefined ? "—" : Number(v.score).toFixed(3)),
    h("td", { class: "muted" }, v.model_version || ""),
    h("td", {}, (v.reasons || []).map((r) => h("code", { title: r.detail || "" }, r.code)))));
  return h("table", { class: "verdicts" },
    h("thead", {}, h("tr", {}, ["agent", "status", "score", "model", "reasons"].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows));
}

function customerCard(ev) {
  const c = ev.customer, acc = ev.account;
  if (!c && !acc) return section("Customer", h("p", { class: "muted" }, ev.errors && ev.errors.customer ? "unavailable" : "unknown customer"));
  const masked = new Set(ev.masked_fields || []);
  const field = (k) => (masked.has(k) ? h("span", { class: "masked", title: "masked for your role" }, "••• masked") : String(c[k] ?? "—"));
  const meta = c && c.metadata && typeof c.metadata === "object" ? Object.entries(c.metadata).map(([k, v]) => [k, String(v)]) : [];
  return section("Customer",
    c ? kv([["customer", h("span", { class: "mono" }, c.customer_id)], ["name", field("name")], ["type", c.type],
      ["country", c.country], "date_of_birth" in c && ["date of birth", field("date_of_birth")],
      ["segment", c.segment], ["KYC risk", c.kyc_risk], ["PEP", c.pep ? "yes" : "no"], ["onboarded", when(c.onboarded_at)],
      masked.has("metadata") ? ["other details", field("metadata")] : null, ...meta]) : null,
    acc ? kv([["account status", acc.status], ["product", acc.product], ["opened", when(acc.opened_at)],
      ["daily limit", acc.daily_limit ?? "—"]]) : null);
}

function historyCard(ev) {
  const rows = ev.history || [], sum = ev.history_summary;
  const summary = sum && kv([["transactions before", sum.count], ["last 24 h", `${sum.count_24h} · ${sum.sum_24h}`],
    ["mean / max", `${sum.amount_mean ?? "—"} / ${sum.amount_max ?? "—"}`],
    ["countries", sum.countries.join(", ") || "—"], ["devices / payees", `${sum.devices} / ${sum.payees}`]]);
  const table = rows.length ? h("table", { class: "history" },
    h("thead", {}, h("tr", {}, ["time", "tx", "amount", "payee", "country", "channel"].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, when(r.ts)), h("td", { class: "mono" }, r.tx_id),
      h("td", { class: "num" }, Number(r.amount).toFixed(2)), h("td", { class: "mono" }, r.payee || ""),
      h("td", {}, r.country || ""), h("td", {}, r.channel || ""))))) : h("p", { class: "muted" }, "no history kept");
  return section("Recent history", summary, table);
}

function evidenceErrors(ev) {
  const errors = Object.entries(ev.errors || {});
  return errors.length ? h("div", { class: "banner warn" }, "Some evidence is missing: ",
    errors.map(([k, v]) => `${k}: ${v}`).join("; ")) : null;
}

// Radial layout: the account in the middle, one ring per hop; bad nodes red.
function graphSvg(graph, centre) {
  if (!graph || !graph.found) return h("p", { class: "muted" }, "the account is not in the graph yet");
  const W = 520, H = 320, cx = W / 2, cy = H / 2;
  const rings = {};
  for (const n of graph.nodes) (rings[n.hops] = rings[n.hops] || []).push(n);
  const pos = {};
  for (const [hops, nodes] of Object.entries(rings)) {
    const r = Number(hops) === 0 ? 0 : Number(hops) * 62;
    nodes.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / nodes.length + Number(hops) * 0.4;
      pos[n.id] = [cx + r * 1.5 * Math.cos(angle), cy + r * Math.sin(angle)];
    });
  }
  const edges = graph.edges.filter((e) => pos[e.source] && pos[e.target]).map((e) => svg("line", {
    x1: pos[e.source][0], y1: pos[e.source][1], x2: pos[e.target][0], y2: pos[e.target][1], class: `edge ${e.kind || ""}`,
  }, svg("title", {}, `${e.source} → ${e.target} (${e.kind || "link"})`)));
  const nodes = graph.nodes.map((n) => {
    const [x, y] = pos[n.id];
    const label = n.id.split(":").slice(1).join(":");
    return svg("g", { class: `node ${n.kind}${n.bad ? " bad" : ""}${n.id === centre ? " centre" : ""}`, transform: `translate(${x},${y})` },
      svg("circle", { r: n.id === centre ? 9 : 6 }),
      svg("text", { x: 10, y: 4 }, label.length > 14 ? label.slice(0, 13) + "…" : label),
      svg("title", {}, `${n.id}${n.bad ? " — known bad" : ""} (${n.hops} hop${n.hops === 1 ? "" : "s"})`));
  });
  const legend = h("div", { class: "legend" }, ["account", "customer", "device", "ip"].map((k) =>
    h("span", { class: `key ${k}` }, k)), h("span", { class: "key bad" }, "known bad"),
    h("span", { class: "muted" }, ` ${graph.nodes.length} nodes, ${graph.edges.length} links`));
  return [svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "graph", role: "img", "aria-label": "graph neighbourhood" }, edges, nodes), legend];
}

function askReason(title, extra) {
  const dialog = $("reason-dialog");
  $("reason-title").textContent = title;
  $("reason-text").value = "";
  $("reason-extra").replaceChildren(...(extra ? [extra] : []));
  dialog.showModal();
  $("reason-text").focus();
  return new Promise((resolve) => { S.reasonResolve = resolve; });
}

function closeReason(value) {
  const dialog = $("reason-dialog");
  if (dialog.open) dialog.close();
  if (S.reasonResolve) { const r = S.reasonResolve; S.reasonResolve = null; r(value); }
}

async function decide(disposition) {
  const d = S.detail;
  if (!d || !d.can.decide) return;
  const label = { release: "Release the payment", block: "Block the payment", freeze: "Freeze the account",
    escalate: "Escalate", request_info: "Request information" }[disposition];
  const reason = await askReason(`${label} — ${d.alert.alert_id}`);
  if (reason) act(d.alert.alert_id, "decide", { disposition, reason });
}

function approve() { const d = S.detail; if (d && d.can.approve) act(d.alert.alert_id, "approve"); }

async function reject() {
  const d = S.detail;
  if (!d || !d.can.approve) return;
  const reason = await askReason(`Reject ${d.state.proposed_by}'s ${d.state.proposed}`);
  if (reason) act(d.alert.alert_id, "reject", { reason });
}

async function note() {
  const d = S.detail;
  if (!d || !d.can.note) return;
  const text = await askReason(`Note on ${d.alert.alert_id}`);
  if (text) act(d.alert.alert_id, "notes", { text });
}

async function reassign() {
  const d = S.detail;
  if (!d || !d.can.reassign) return;
  const input = h("input", { id: "reassign-to", placeholder: "analyst user name", required: true });
  const reason = await askReason(`Reassign ${d.alert.alert_id} — reason`, h("label", {}, "To ", input));
  if (reason) act(d.alert.alert_id, "reassign", { to: input.value.trim(), reason });
}

// ---------------------------------------------------------------------------------------------
// account controls, lifts, cases, reports

const LEVELS = ["none", "hold", "limit", "remote channels suspended", "frozen"];
const CONTROL_NAMES = { hold: "hold", limit: "limit", suspend_remote: "remote channels suspended", freeze: "freeze" };
const CONTROL_LEVELS = { hold: 1, limit: 2, suspend_remote: 3, freeze: 4 };

async function loadControls(alert) {
  let data;
  try {
    data = await api("GET", `/api/accounts/${encodeURIComponent(alert.debtor_account_id)}/controls?` +
      new URLSearchParams({ tx_id: alert.tx_id }));
  } catch (err) {
    data = { error: err.message };
  }
  const card = $("controls-card");
  if (!card || !S.detail || S.detail.alert.alert_id !== alert.alert_id) return;  // the detail moved on
  fill(card, h("h3", {}, "Controls"), data.error ? h("p", { class: "error" }, data.error) : controlsBody(alert, data));
}

function controlsBody(alert, data) {
  const c = data.controls || {}, active = c.active || [];
  const pending = Object.fromEntries((data.pending_lifts || []).map((l) => [l.control, l]));
  const rows = active.map((control) => {
    const lift = pending[control];
    const mayApprove = lift && can("control.lift_approve") && lift.requested_by !== S.me.username;
    return h("tr", {},
      h("td", {}, h("span", { class: `badge level${CONTROL_LEVELS[control] || 0}` }, CONTROL_NAMES[control] || control)),
      h("td", {}, control === "hold" ? h("span", { class: "muted" }, "ends with the alert's resolution")
        : lift ? [`lift requested by ${lift.requested_by} — “${lift.reason}” `,
          mayApprove && h("button", { type: "button", class: "ok", onclick: () => approveLift(lift.lift_id) }, "Approve lift")]
          : can("control.lift_request") && h("button", { type: "button",
            onclick: () => requestLift(alert, control) }, "Request lift")));
  });
  const log = data.actions || [];
  return [
    kv([["account", h("span", { class: "mono" }, data.account_id)], ["level", `${c.level ?? 0} · ${LEVELS[c.level || 0]}`],
      ["hits (30 days)", c.hits ?? 0], c.frozen && ["frozen", "yes"]]),
    rows.length ? h("table", { class: "controls" }, h("tbody", {}, rows)) : h("p", { class: "muted" }, "no control in force"),
    can("customer.rate") && customerId() && h("div", { class: "actions" },
      h("button", { type: "button", onclick: setRating }, "Set customer risk rating")),
    h("h3", {}, "Action log of ", h("span", { class: "mono" }, data.tx_id || "—")),
    log.length ? h("table", {}, h("tbody", {}, log.map((e) => h("tr", {}, h("td", {}, when(e.at)),
      h("td", {}, h("code", {}, e.action)), h("td", {}, e.actor), h("td", { class: "muted" }, e.approved_by ? `approved by ${e.approved_by}` : "")))))
      : h("p", { class: "muted" }, "no action taken"),
  ];
}

function customerId() {
  const ev = (S.detail && S.detail.evidence) || {};
  return (ev.account && ev.account.customer_id) || (ev.customer && ev.customer.customer_id) || "";
}

async function accountAct(method, path, body, done) {
  try {
    const data = await api(method, path, body);
    toast(done(data), "ok");
    if (S.detail) loadControls(S.detail.alert);
    if (S.view === "lifts") loadLifts();
    return data;
  } catch (err) {
    toast(err.message, "error");
    return null;
  }
}

async function requestLift(alert, control) {
  const reason = await askReason(`Request to lift ${CONTROL_NAMES[control]} on ${alert.debtor_account_id}`);
  if (reason) accountAct("POST", `/api/accounts/${encodeURIComponent(alert.debtor_account_id)}/lifts`, { control, reason },
    (d) => `lift ${d.lift.lift_id} requested; a second person approves it`);
}

function approveLift(liftId) {
  return accountAct("POST", `/api/lifts/${encodeURIComponent(liftId)}/approve`, undefined,
    (d) => `${d.lift.control} lifted on ${d.lift.account_id} (level ${d.control.level})`);
}

async function setRating() {
  const customer = customerId();
  const select = h("select", { id: "rating-value", "aria-label": "risk rating" },
    ["low", "medium", "high"].map((r) => h("option", { value: r }, r)));
  const reason = await askReason(`Risk rating of customer ${customer} — reason`, h("label", {}, "Rating ", select));
  if (reason) accountAct("POST", `/api/customers/${encodeURIComponent(customer)}/rating`, { rating: select.value, reason },
    (d) => `${customer} rated ${d.rating.rating}` + (d.rating.previous ? ` (was ${d.rating.previous})` : ""));
}

async function openCase() {
  const d = S.detail;
  if (!d || !can("case.open")) return;
  const input = h("input", { id: "case-customer", value: customerId(), placeholder: "customer id", required: true });
  const reason = await askReason(`Open a case on ${d.alert.alert_id} — reason`, h("label", {}, "Customer ", input));
  if (!reason) return;
  try {
    const data = await api("POST", `/api/alerts/${encodeURIComponent(d.alert.alert_id)}/case`,
      { customer_id: input.value.trim(), reason });
    toast(`case ${data.case.case_id}: ${data.case.alert_ids.length} alert(s), ${data.case.tx_ids.length} transaction(s)`, "ok");
    openDetail(d.alert.alert_id, true);
  } catch (err) {
    toast(err.message, "error");
  }
}

function openReport() {
  const d = S.detail;
  if (!d || !can("report.generate")) return;
  window.open(`/api/alerts/${encodeURIComponent(d.alert.alert_id)}/report`, "_blank", "noopener");
}

async function loadLifts() {
  const view = $("lifts-view");
  const status = h("select", { id: "lift-status", "aria-label": "lift status",
    onchange: () => { loadLifts.status = status.value; loadLifts(); } },
  ["pending", "approved", "all"].map((s) => h("option", { value: s, selected: s === (loadLifts.status || "pending") }, s)));
  const head = h("div", { class: "toolbar" }, h("h3", {}, "Control lifts"), status);
  try {
    const lifts = (await api("GET", "/api/lifts?" + new URLSearchParams({ status: loadLifts.status || "pending" }))).lifts;
    fill(view, head, lifts.length ? h("table", { class: "lifts" },
      h("thead", {}, h("tr", {}, ["requested", "account", "control", "by", "reason", "status", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, lifts.map((l) => h("tr", {},
        h("td", {}, when(l.requested_at)), h("td", { class: "mono" }, l.account_id), h("td", {}, CONTROL_NAMES[l.control] || l.control),
        h("td", {}, l.requested_by), h("td", {}, l.reason),
        h("td", {}, l.status === "approved" ? `approved by ${l.approved_by}` : h("span", { class: "badge pending_approval" }, "pending")),
        h("td", {}, l.status === "pending" && (l.requested_by === S.me.username
          ? h("span", { class: "muted" }, "yours: a second person approves")
          : h("button", { type: "button", class: "ok", onclick: () => approveLift(l.lift_id) }, "Approve")))))))
      : h("p", { class: "muted" }, "no lifts"));
  } catch (err) {
    fill(view, head, h("p", { class: "error" }, err.message));
  }
}

// ---------------------------------------------------------------------------------------------
// SOC investigation of the open alert: POST starts it, an EventSource relays the incident view as it streams

async function investigate() {
  const d = S.detail;
  if (!d || !can("investigation.start")) return;
  try {
    const run = (await api("POST", `/api/alerts/${encodeURIComponent(d.alert.alert_id)}/investigate`, {})).investigation;
    toast(`investigation ${run.investigation_id} started`, "ok");
    followInvestigation(run.investigation_id, d.alert.alert_id);
  } catch (err) {
    toast(err.message, "error");
  }
}

function followInvestigation(id, alertId) {
  if (S.investigation) S.investigation.close();
  const state = { line: "starting…", incident: null };
  const source = new EventSource(`/api/investigations/${encodeURIComponent(id)}/events`);
  S.investigation = source;
  const draw = () => { if (S.detail && S.detail.alert.alert_id === alertId) renderInvestigation(id, state); };
  source.addEventListener("incident", (e) => { state.incident = JSON.parse(e.data); draw(); });
  source.addEventListener("progress", (e) => { const p = JSON.parse(e.data); state.line = p.text || p.state; draw(); });
  source.addEventListener("end", (e) => { const p = JSON.parse(e.data); state.line = `${p.state}: ${p.text}`; draw(); source.close(); });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) S.investigation = null; };
  draw();
}

function renderInvestigation(id, state) {
  const card = $("investigation-card");
  if (!card) return;
  card.hidden = false;
  const inc = state.incident;
  const agents = inc ? Object.values(inc.agents) : [];
  fill(card, h("h3", {}, "Investigation ", h("span", { class: "mono" }, id),
    inc && h("span", { class: `badge ${inc.status}` }, inc.status)),
  h("p", { class: "muted" }, state.line),
  inc && kv([["confidence", inc.confidence.toFixed(2)], ["affected accounts", inc.affected_accounts.join(", ") || "—"],
    ["summary", inc.summary]]),
  agents.length && h("table", {}, h("tbody", {}, agents.map((p) => h("tr", {}, h("td", {}, p.agent),
    h("td", {}, h("span", { class: `badge ${p.state === "completed" ? "ok" : p.state === "working" ? "" : "error"}` }, p.state)),
    h("td", { class: "num" }, `${p.findings} finding(s)`), h("td", { class: "muted" }, p.detail))))),
  inc && inc.indicators.length && h("table", {}, h("tbody", {}, inc.indicators.map((r) => h("tr", {},
    h("td", {}, r.indicator.kind), h("td", { class: "mono" }, r.indicator.value),
    h("td", {}, h("span", { class: `badge ${r.reputation === "malicious" ? "error" : ""}` }, r.reputation)),
    h("td", { class: "muted" }, r.sources.join(", ")))))),
  inc && inc.timeline.length && h("table", {}, h("tbody", {}, inc.timeline.map((t) => h("tr", {},
    h("td", {}, when(t.at)), h("td", {}, t.agent), h("td", {}, t.severity), h("td", {}, t.summary))))));
}

// ---------------------------------------------------------------------------------------------
// dashboard, audit, admin

function tile(label, value, cls) {
  return h("div", { class: `tile ${cls || ""}` }, h("div", { class: "value" }, value ?? "—"), h("div", { class: "label" }, label));
}

function sparkline(values) {
  if (values.length === 1) values = [values[0], values[0]];
  const W = 300, H = 60, max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * W},${H - (v / max) * (H - 4) - 2}`);
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "spark" }, svg("polyline", { points: pts.join(" ") }));
}

async function loadDashboard() {
  let d;
  try { d = await api("GET", "/api/dashboard"); } catch (err) { if (err.status !== 401) toast(err.message, "error"); return; }
  const r = d.rates || {}, q = d.queue || {}, p = d.pipeline || {};
  if (r.decisions_per_s !== null && r.decisions_per_s !== undefined) S.rates = [...S.rates, r.decisions_per_s].slice(-90);
  const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(2)} %`);
  const agents = Object.entries(d.agents || {});
  fill($("dashboard-view"),h("div", { class: "dash" },
    h("div", { class: "tiles" },
      tile("decisions / s", r.decisions_per_s), tile("review rate", pct(r.review_rate)),
      tile("queue depth", q.depth), tile("SLA breached", q.sla_breached, q.sla_breached ? "bad" : ""),
      tile("oldest alert", q.oldest_s === null || q.oldest_s === undefined ? "—" : duration(q.oldest_s * 1000)),
      tile("pipeline latency (ms)", r.latency_ms), tile("decided (total)", p.decided), tile("dead letters", p.dead_letters || 0)),
    section("Decisions per second (last 3 min)", sparkline(S.rates.length ? S.rates : [0])),
    section("Queue by status", kv(Object.entries(q.counts || {}).map(([k, v]) => [k.replace("_", " "), v]))),
    section("Agents", agents.length ? h("table", {}, h("tbody", {}, agents.map(([name, a]) => h("tr", {},
      h("td", {}, name), h("td", {}, h("span", { class: `badge ${a.ok ? "ok" : "error"}` }, a.ok ? "up" : "down")),
      h("td", { class: "num" }, a.ms === null ? "—" : `${a.ms} ms`), h("td", { class: "muted" }, a.detail))))) : h("p", { class: "muted" }, "no agents configured")),
    section("Workers", kv(Object.entries(d.workers || {}).map(([id, w]) => [id, (w.partitions || []).join(", ")]))),
  ));
}

function auditTable(events, withSubject) {
  if (!events || !events.length) return h("p", { class: "muted" }, "no events");
  return h("table", { class: "audit" },
    h("thead", {}, h("tr", {}, ["#", "time", "actor", "action", withSubject && "subject", "details"].filter(Boolean).map((t) => h("th", {}, t)))),
    h("tbody", {}, events.map((e) => h("tr", {},
      h("td", { class: "num", title: `hash ${e.hash}` }, e.seq), h("td", {}, when(e.at)), h("td", {}, e.actor),
      h("td", {}, h("code", {}, e.action)), withSubject ? h("td", { class: "mono" }, e.subject) : null,
      h("td", { class: "details" }, JSON.stringify(e.details))))));
}

async function loadAudit() {
  const view = $("audit-view");
  const input = h("input", { type: "search", id: "audit-subject", placeholder: "subject, e.g. alert:AL-1 or tx:T-1",
    value: loadAudit.subject || "" });
  const form = h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); loadAudit.subject = input.value.trim(); loadAudit(); } },
    input, h("button", { type: "submit" }, "Filter"));
  try {
    const p = new URLSearchParams({ limit: "300" });
    if (loadAudit.subject) p.set("subject", loadAudit.subject);
    const data = await api("GET", "/api/audit?" + p);
    fill(view, form, auditTable(data.events, true));
  } catch (err) {
    fill(view, form, h("p", { class: "error" }, err.message));
  }
}

async function loadAdmin() {
  const view = $("admin-view");
  if (!can("users.manage")) { fill(view, h("p", { class: "muted" }, "Admins only.")); return; }
  const users = (await api("GET", "/api/users")).users;
  const newUser = { name: h("input", { placeholder: "user name", required: true }),
    role: h("select", {}, ["analyst", "supervisor", "compliance_officer", "soc_engineer", "admin"].map((r) => h("option", { value: r }, r))),
    password: h("input", { type: "password", placeholder: "password (≥ 12), empty for a machine", autocomplete: "new-password" }) };
  const tokenFor = h("input", { placeholder: "user name", required: true });
  const tokenOut = h("code", { class: "token" });
  const policy = h("textarea", { rows: 12, class: "mono", placeholder: "policy YAML" });
  const policyOut = h("pre", { class: "mono" });
  fill(view, h("div", { class: "admin" },
    section("Users", h("table", {}, h("tbody", {}, users.map((u) => h("tr", {}, h("td", {}, u.username), h("td", {}, u.role),
      h("td", {}, u.machine ? "machine" : ""), h("td", {}, u.disabled ? "disabled" : ""))))),
      h("form", { class: "inline", onsubmit: async (e) => {
        e.preventDefault();
        const pw = newUser.password.value;
        try {
          await api("POST", "/api/users", { username: newUser.name.value.trim(), role: newUser.role.value, password: pw || null, machine: !pw });
          toast("user saved", "ok"); loadAdmin();
        } catch (err) { toast(err.message, "error"); }
      } }, newUser.name, newUser.role, newUser.password, h("button", { type: "submit" }, "Save user"))),
    section("API token for a machine", h("form", { class: "inline", onsubmit: async (e) => {
      e.preventDefault();
      try { tokenOut.textContent = (await api("POST", "/api/tokens", { username: tokenFor.value.trim() })).token; }
      catch (err) { toast(err.message, "error"); }
    } }, tokenFor, h("button", { type: "submit" }, "Issue token")), h("p", { class: "muted" }, "Shown once; store it now."), tokenOut),
    section("Scoring policy", policy, h("button", { type: "button", onclick: async () => {
      try { policyOut.textContent = JSON.stringify((await api("PUT", "/api/policy", policy.value, "text/yaml")).result, null, 2); toast("policy deployed", "ok"); }
      catch (err) { policyOut.textContent = err.message; toast(err.message, "error"); }
    } }, "Validate and deploy"), policyOut)));
}

// ---------------------------------------------------------------------------------------------
// keyboard

function onKey(event) {
  if (!S.me || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "Escape") { if (typing) document.activeElement.blur(); return; }
  if (typing || document.querySelector("dialog[open]")) return;
  const d = S.detail, inQueue = S.view === "queue";
  const keys = {
    "?": () => $("help-dialog").showModal(),
    "1": () => { location.hash = "#/queue"; }, "2": () => { location.hash = "#/dashboard"; },
    "3": () => { location.hash = "#/audit"; }, "4": () => { if (can("users.manage")) location.hash = "#/admin"; },
    "5": () => { if (can("control.lift_approve")) location.hash = "#/lifts"; },
    "/": () => { if (inQueue) $("search").focus(); },
    "j": () => inQueue && select(S.selected + 1, true), "k": () => inQueue && select(S.selected - 1, true),
    "Enter": () => inQueue && select(S.selected, true),
    "c": () => d && d.can.claim && act(d.alert.alert_id, "claim"),
    "u": () => d && d.can.release && act(d.alert.alert_id, "release"),
    "r": () => decide("release"), "b": () => decide("block"), "f": () => decide("freeze"),
    "e": () => decide("escalate"), "i": () => decide("request_info"),
    "a": approve, "x": reject, "n": note,
    "o": () => d && inQueue && openCase(), "p": () => d && inQueue && openReport(),
    "v": () => d && inQueue && investigate(),
  };
  const run = keys[event.key];
  if (run) { event.preventDefault(); run(); }
}

// ---------------------------------------------------------------------------------------------
// start

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", async () => { await api("POST", "/api/logout").catch(() => null); S.csrf = ""; showLogin(); });
  $("help-button").addEventListener("click", () => $("help-dialog").showModal());
  $("reason-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("reason-text").value.trim();
    if (text) closeReason(text);
  });
  $("reason-cancel").addEventListener("click", () => closeReason(null));
  $("reason-dialog").addEventListener("close", () => closeReason(null));
  $("reason-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("reason-form").requestSubmit(); }
  });
  let searchTimer;
  $("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(loadQueue, 200); });
  $("search").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); e.target.blur(); select(0, true); } });
  $("sort").addEventListener("change", loadQueue);
  $("min-risk").addEventListener("change", loadQueue);
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  setInterval(tickClocks, 1000);
  try { start(await api("GET", "/api/me")); } catch (err) { showLogin(); }
});
