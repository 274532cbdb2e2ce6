// The wsapp inspector page: state once from /_wsapp/api/state, then live entries over Server-Sent
// Events (/_wsapp/api/stream). No build step, no dependencies; every text goes in through textContent.
"use strict";

const API = "/_wsapp/api";
const $ = (id) => document.getElementById(id);
const state = { api: null, entries: new Map(), connections: new Map(), capacity: 2000, selected: null, lastSeq: 0 };
let socket = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

async function call(path, body) {
  const response = await fetch(API + path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.message || response.status);
  return answer;
}

const time = (ms) => (ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) + "." +
  String(Math.floor(ms % 1000)).padStart(3, "0") : "");
const short = (id) => (id ? String(id).slice(0, 8) : "");

// -- the API -----------------------------------------------------------------------------------------
function showApi(api) {
  $("stage").textContent = api.urls.websocket;
  $("selection").textContent = `${api.api} (${api.apiId}), stage ${api.stage}, routes by ${api.selectionExpression}`;
  const routes = $("routes").tBodies[0];
  routes.replaceChildren();
  for (const r of api.routes) {
    const fn = r.function ? api.functions[r.function] : null;
    const target = fn ? `${fn.logicalId}\n${fn.handler} · ${fn.runtime} · ${fn.timeout}s · ${fn.memory} MB` :
      (r.uri || "");
    routes.append(el("tr", {}, el("td", { class: "mono key", text: r.key }),
      el("td", { text: (r.integration || "none") + (r.twoWay ? " · two-way" : "") }),
      el("td", { class: "mono", text: target })));
  }
  const auth = api.routes.find((r) => r.authorizer);
  $("authorizer").replaceChildren();
  if (auth) {
    const a = auth.authorizer;
    const fn = api.functions[a.function];
    $("authorizer").append(el("p", { text: `authorizer ${a.name} on ${auth.key}: ${a.function} (${fn.handler}), ` +
      `identity sources ${a.identitySources.join(", ") || "none"}` }));
  }
  const functions = $("functions").tBodies[0];
  functions.replaceChildren();
  for (const fn of Object.values(api.functions)) {
    functions.append(el("tr", {}, el("td", { class: "mono", text: fn.logicalId }),
      el("td", { class: "mono", text: `${fn.handler}\n${fn.runtime} ${fn.architecture} · ${fn.timeout}s · ${fn.memory} MB` +
        (fn.reservedConcurrency != null ? ` · reserved ${fn.reservedConcurrency}` : "") })));
  }
  const limits = $("limits").tBodies[0];
  limits.replaceChildren();
  for (const [k, v] of Object.entries(api.limits)) {
    limits.append(el("tr", {}, el("td", { text: k }), el("td", { class: "mono", text: JSON.stringify(v) })));
  }
  fill($("f-route"), "every route", [...api.routes.map((r) => r.key), "authorizer"]);
  fill($("f-function"), "every function", Object.keys(api.functions));
}

function fill(select, all, values) {
  const keep = select.value;
  select.replaceChildren(el("option", { value: "", text: all }), ...values.map((v) => el("option", { value: v, text: v })));
  select.value = values.includes(keep) ? keep : "";
}

// -- connections ---------------------------------------------------------------------------------------
function showConnections() {
  const body = $("connections").tBodies[0];
  body.replaceChildren();
  const rows = [...state.connections.values()].sort((a, b) => b.connected_at - a.connected_at);
  for (const c of rows) {
    const close = c.state === "closed" ? `${c.close_code} ${c.close_reason || ""} (${c.closed_by})` : "";
    const bad = c.close_code != null && ![1000, 1001, 1005].includes(c.close_code);
    body.append(el("tr", { class: c.state, "data-connection": c.connection_id },
      el("td", { class: "mono", text: c.connection_id }), el("td", { text: c.principal || "" }),
      el("td", { text: c.source_ip }), el("td", { text: time(c.connected_at) }),
      el("td", { text: time(c.last_active_at) }), el("td", { text: String(c.frames_in) }),
      el("td", { text: String(c.frames_out) }), el("td", { text: c.state }),
      el("td", { class: bad ? "bad" : "", text: close })));
  }
  const ids = rows.map((c) => c.connection_id);
  fill($("f-connection"), "every connection", ids);
  const open = rows.filter((c) => c.state === "open").map((c) => c.connection_id);
  const post = $("post-to");
  const keep = post.value;
  post.replaceChildren(...open.map((id) => el("option", { value: id, text: id })));
  if (open.includes(keep)) post.value = keep;
}

// -- the timeline --------------------------------------------------------------------------------------
function summary(e) {
  switch (e.kind) {
    case "handshake": return `refused ${e.status}: ${e.why || ""} ${e.path || ""}`;
    case "open": return `connected${e.principal ? " as " + e.principal : ""}${e.protocol ? " (" + e.protocol + ")" : ""}`;
    case "close": return `closed ${e.code} ${e.reason || ""} by ${e.by}`;
    case "in": return "→ " + (e.binary ? `binary frame, ${e.size} bytes` : e.data);
    case "out": return "← " + (e.binary ? `binary frame, ${e.size} bytes` : e.data);
    case "invoke": {
      const outcome = e.ok ? (e.status != null ? `statusCode ${e.status}` : "ok") :
        `failed ${(e.response && e.response.errorType) || ""}`;
      return `${e.function} ${e.route || e.eventType || ""} ${outcome} · ${e.durationMs} ms · ` +
        `${e.cold ? "cold" : "warm"} ${e.environment || ""}${e.replayOf ? " · replay of #" + e.replayOf : ""}`;
    }
    case "post": return `@connections ${e.method} ${e.connectionId} → ${e.status} (${e.size} bytes)`;
    default: return e.kind;
  }
}

function statusOf(e) {
  return e.kind === "handshake" || e.kind === "open" || e.kind === "post" || e.kind === "invoke" ? e.status : null;
}

function visible(e) {
  const f = { connection: $("f-connection").value, route: $("f-route").value,
    fn: $("f-function").value, status: $("f-status").value };
  if (f.connection && e.connectionId !== f.connection) return false;
  if (f.route && e.route !== f.route) return false;
  if (f.fn && e.function !== f.fn) return false;
  if (f.status === "error") return !!e.error;
  if (f.status) { const s = statusOf(e); return s != null && String(s)[0] === f.status; }
  return true;
}

function row(e) {
  const item = el("li", { class: (e.error ? "error " : "") + "kind-row-" + e.kind, "data-seq": String(e.seq),
    "data-kind": e.kind, "data-testid": "entry" },
    el("span", { class: "muted", text: "#" + e.seq }), el("span", { text: time(e.at) }),
    el("span", { class: "kind kind-" + e.kind, text: e.kind + (statusOf(e) != null ? " " + statusOf(e) : "") }),
    el("span", { class: "mono", text: short(e.connectionId) }), el("span", { class: "summary", text: summary(e) }));
  item.addEventListener("click", () => select(e.seq));
  return item;
}

function addEntries(entries) {
  const list = $("timeline");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  for (const e of entries) {
    if (state.entries.has(e.seq)) continue;
    state.entries.set(e.seq, e);
    state.lastSeq = Math.max(state.lastSeq, e.seq);
    if (visible(e)) list.append(row(e));
  }
  while (state.entries.size > state.capacity) {
    const oldest = state.entries.keys().next().value;
    state.entries.delete(oldest);
    list.querySelector(`li[data-seq="${oldest}"]`)?.remove();
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function redraw() {
  const list = $("timeline");
  list.replaceChildren(...[...state.entries.values()].filter(visible).map(row));
  if (state.selected != null) list.querySelector(`li[data-seq="${state.selected}"]`)?.classList.add("selected");
}

async function select(seq) {
  const e = state.entries.get(seq);
  if (!e) return;
  state.selected = seq;
  document.querySelectorAll("#timeline li.selected").forEach((n) => n.classList.remove("selected"));
  document.querySelector(`#timeline li[data-seq="${seq}"]`)?.classList.add("selected");
  $("detail-title").textContent = `#${e.seq} ${e.kind} at ${time(e.at)}`;
  $("replay").hidden = e.kind !== "invoke";
  // The stream carries entries without event, response and logs: the whole entry comes from here.
  const response = await fetch(`${API}/entries/${seq}`);
  if (state.selected !== seq) return;
  const detail = $("detail-json");
  detail.textContent = response.ok ? JSON.stringify(await response.json(), null, 2) :
    "this entry is no longer kept (the ring buffer dropped it)";
  detail.dataset.seq = String(seq);
}

// -- live updates --------------------------------------------------------------------------------------
function mergeConnections(rows) {
  for (const c of rows) state.connections.set(c.connection_id, c);
  showConnections();
}

function listen() {
  const stream = new EventSource(`${API}/stream?after=${state.lastSeq}`);
  stream.onopen = () => { $("live").textContent = "live"; $("live").className = "live on"; };
  stream.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "live off"; };
  stream.addEventListener("entries", (message) => {
    const batch = JSON.parse(message.data);
    addEntries(batch.entries);
    mergeConnections(batch.connections);
  });
}

async function start() {
  const response = await fetch(`${API}/state`);
  const first = await response.json();
  state.api = first.api;
  state.capacity = first.capacity;
  showApi(first.api);
  $("mint").disabled = !first.canMint;
  addEntries(first.entries);
  mergeConnections(first.connections);
  listen();
}

// -- actions -------------------------------------------------------------------------------------------
function consoleLine(text, kind) {
  const list = $("console");
  list.append(el("li", { class: kind, "data-kind": kind, text }));
  list.scrollTop = list.scrollHeight;
}

$("mint").addEventListener("click", async () => {
  try {
    const answer = await call("/token", { sub: $("sub").value || "inspector" });
    $("protocols").value = [...answer.protocols, answer.token].join(", ");
    consoleLine(`token minted for ${answer.sub}`, "info");
  } catch (error) { consoleLine("mint failed: " + error.message, "error"); }
});

$("connect").addEventListener("click", () => {
  const protocols = $("protocols").value.split(",").map((p) => p.trim()).filter(Boolean);
  try { socket = new WebSocket(state.api.urls.websocket, protocols); } catch (error) {
    consoleLine("cannot connect: " + error.message, "error"); return;
  }
  $("console-state").textContent = "connecting";
  socket.onopen = () => {
    $("console-state").textContent = `open (${socket.protocol || "no subprotocol"})`;
    $("send").disabled = false; $("disconnect").disabled = false;
    consoleLine("open " + socket.protocol, "open");
  };
  socket.onmessage = (m) => consoleLine("← " + m.data, "received");
  socket.onerror = () => consoleLine("error (the handshake was refused, or the socket failed)", "error");
  socket.onclose = (c) => {
    $("console-state").textContent = "closed";
    $("send").disabled = true; $("disconnect").disabled = true;
    consoleLine(`closed ${c.code} ${c.reason}`, "closed");
  };
});

$("send").addEventListener("click", () => {
  if (socket && socket.readyState === WebSocket.OPEN) { socket.send($("message").value); consoleLine("→ " + $("message").value, "sent"); }
});
$("disconnect").addEventListener("click", () => socket && socket.close(1000));

$("replay").addEventListener("click", async () => {
  try {
    const answer = await call("/replay", { seq: state.selected });
    $("detail-title").textContent = `replayed as request ${answer.requestId} (${answer.ok ? "ok" : "failed"})`;
  } catch (error) { $("detail-title").textContent = "replay failed: " + error.message; }
});

$("post").addEventListener("click", async () => {
  const connectionId = $("post-to").value;
  if (!connectionId) { $("post-result").textContent = "no open connection"; return; }
  try {
    const answer = await call("/post", { connectionId, data: $("post-data").value });
    $("post-result").textContent = `POST @connections/${connectionId} → ${answer.status}`;
  } catch (error) { $("post-result").textContent = "post failed: " + error.message; }
});

for (const id of ["f-connection", "f-route", "f-function", "f-status"]) $(id).addEventListener("change", redraw);
$("clear-filters").addEventListener("click", () => {
  for (const id of ["f-connection", "f-route", "f-function", "f-status"]) $(id).value = "";
  redraw();
});

start();
