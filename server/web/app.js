/* ringfence dashboard: fleet overview, rollouts with per-ring progress, a
 * rollout page with its failure-rate charts, gates, events and (for release
 * tokens) promote / pause / halt / revert, each confirmed. The token lives in
 * sessionStorage for this tab only and is sent only in the Authorization
 * header — never in a URL. Everything from the API is put on the page as
 * text (textContent), never as markup. */
"use strict";

(function () {
  const TOKEN_KEY = "ringfence.token";
  const REFRESH_MS = 5000;
  const $ = (id) => document.getElementById(id);
  let me = null;          /* {name, role} */
  let view = null;        /* {timer, abort} of the page shown */
  let bundles = new Map(); /* id -> bundle */

  /* ---- API ---- */

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  async function api(method, path, body, headers) {
    const h = Object.assign({ Authorization: "Bearer " + token() }, headers || {});
    const init = { method, headers: h, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    if (!r.ok) {
      const msg = json && json.error ? json.error.message : `HTTP ${r.status}`;
      if (r.status === 401) signOut("The token was not accepted: " + msg);
      throw new ApiError(r.status, msg);
    }
    return json;
  }

  /* Reads a Server-Sent Events stream with fetch (EventSource cannot send a
   * header), reconnecting after the last id seen until signal aborts. */
  async function follow(path, onEvent, signal) {
    let after = null;
    while (!signal.aborted) {
      try {
        const sep = path.includes("?") ? "&" : "?";
        const url = after === null ? path : `${path}${sep}after=${after}`;
        const r = await fetch(url, { headers: { Authorization: "Bearer " + token() },
          cache: "no-store", credentials: "omit", signal });
        if (!r.ok) throw new ApiError(r.status, "stream refused");
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let id = null, data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("id: ")) id = line.slice(4);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (id !== null) after = id;
            if (data) onEvent(JSON.parse(data));
          }
        }
      } catch (e) {
        if (signal.aborted) return;
      }
      await new Promise((res) => setTimeout(res, 2000));
    }
  }

  /* ---- DOM helpers ---- */

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function badge(kind, value) {
    return el("span", `${kind} ${kind[0]}-${value}`, value);
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function td(text, cls) { return el("td", cls, text); }

  function showOnly(id) {
    for (const s of ["login", "overview", "rollout", "events"]) $(s).hidden = s !== id;
  }

  function canRelease() { return me && (me.role === "release" || me.role === "admin"); }

  function bundleName(id) {
    const b = bundles.get(id);
    return b ? `${b.name} ${b.version}` : `bundle ${id}`;
  }

  async function loadBundles() {
    const j = await api("GET", "/v1/bundles");
    bundles = new Map(j.bundles.map((b) => [b.id, b]));
  }

  /* ---- events timeline ---- */

  const BAD = /halted|reverted|failed|verify_failed/;
  const OK = /completed|promoted|started|approved/;

  function eventDetail(ev) {
    const d = ev.data || {};
    const parts = [];
    if (ev.rollout_id) parts.push(`rollout ${ev.rollout_id}`);
    if (ev.device_id) parts.push(`device ${ev.device_id.slice(0, 8)}`);
    if (d.reason) parts.push(d.reason);
    if (d.exposed > 0 && d.failure_rate !== undefined) {
      parts.push(`${d.failed}/${d.exposed} failed (${rfCharts.pct(d.failure_rate)})`);
    }
    if (typeof d.stage === "number" && d.stage >= 0) parts.push(`stage ${d.stage}`);
    return parts.join(" · ");
  }

  function eventItem(ev) {
    const li = el("li", BAD.test(ev.kind) ? "k-bad" : OK.test(ev.kind) ? "k-ok" : "");
    li.dataset.kind = ev.kind;
    li.dataset.id = String(ev.id);
    li.appendChild(el("time", null, ev.at));
    li.appendChild(el("span", "kind", ev.kind));
    li.appendChild(el("span", "actor", `by ${ev.actor} `));
    li.appendChild(el("span", "detail", eventDetail(ev)));
    return li;
  }

  /* Newest first, at most max items, no duplicates. */
  function prependEvent(list, ev, max) {
    if (list.querySelector(`li[data-id="${ev.id}"]`)) return;
    list.insertBefore(eventItem(ev), list.firstChild);
    while (list.children.length > max) list.removeChild(list.lastChild);
  }

  /* ---- overview ---- */

  function renderFleet(f) {
    const totals = $("fleet-totals");
    clear(totals);
    for (const [label, v] of [["devices", f.devices], ["online", f.online],
      ["offline", f.offline], ["unassigned", f.unassigned]]) {
      const d = el("div");
      d.appendChild(el("b", null, v));
      d.appendChild(document.createTextNode(label));
      totals.appendChild(d);
    }
    const body = $("fleet-table").tBodies[0];
    clear(body);
    for (const g of f.groups || []) {
      const tr = el("tr");
      tr.appendChild(td(g.ring || "(no ring)"));
      tr.appendChild(td(g.channel || "–"));
      tr.appendChild(td(g.version || "–"));
      const h = td(""); h.appendChild(badge("health", g.health)); tr.appendChild(h);
      tr.appendChild(td(g.online, "n"));
      tr.appendChild(td(g.offline, "n"));
      body.appendChild(tr);
    }
  }

  function progressBar(st) {
    const bar = el("div", "bar");
    const total = Math.max(st.devices || 0, st.exposed || 0, 1);
    const healthy = st.healthy || 0, failed = st.failed || 0;
    const other = Math.max((st.exposed || 0) - healthy - failed, 0);
    for (const [cls, n] of [["b-healthy", healthy], ["b-exposed", other], ["b-failed", failed]]) {
      const s = el("span", cls);
      s.style.width = `${(100 * n) / total}%`;
      bar.appendChild(s);
    }
    bar.title = `${healthy} healthy, ${failed} failed of ${st.exposed} exposed (${st.devices} devices)`;
    return bar;
  }

  function rolloutCard(r) {
    const card = el("div", "rollout-card");
    card.dataset.rollout = String(r.id);
    const h = el("h3");
    const a = el("a", null, `Rollout ${r.id}`);
    a.href = `#/rollouts/${r.id}`;
    h.appendChild(a);
    h.appendChild(document.createTextNode(` · ${r.channel} · ${bundleName(r.bundle_id)} `));
    h.appendChild(badge("state", r.state));
    card.appendChild(h);
    const rings = el("div", "rings");
    for (const st of r.stages) {
      rings.appendChild(el("span", null, `${st.index}: ${st.ring}`));
      rings.appendChild(progressBar(st));
      rings.appendChild(el("span", "muted",
        `${st.healthy}/${st.devices ?? st.exposed} healthy, ${st.failed} failed`));
    }
    card.appendChild(rings);
    return card;
  }

  async function refreshOverview() {
    const [fleet, rollouts] = await Promise.all([api("GET", "/v1/fleet"),
      api("GET", "/v1/rollouts?limit=50"), loadBundles()]);
    renderFleet(fleet);
    const box = $("rollouts");
    clear(box);
    if (!rollouts.rollouts.length) box.appendChild(el("p", "muted", "No rollouts yet."));
    for (const r of rollouts.rollouts) box.appendChild(rolloutCard(r));
  }

  function showOverview(v) {
    showOnly("overview");
    clear($("overview-events"));
    follow("/v1/events/stream?last=30", (ev) => {
      prependEvent($("overview-events"), ev, 30);
      if (ev.kind.startsWith("rollout.")) refreshOverview().catch(() => {});
    }, v.abort.signal);
    return refreshOverview;
  }

  /* ---- rollout page ---- */

  const ALLOWED = {
    promote: ["active"], pause: ["active"], halt: ["active", "paused"],
    revert: ["active", "paused", "halted"],
  };

  function renderRollout(r) {
    $("rollout-title").textContent = `Rollout ${r.id} · ${r.channel} · ${bundleName(r.bundle_id)}`;
    const sum = $("rollout-summary");
    clear(sum);
    sum.appendChild(badge("state", r.state));
    sum.appendChild(document.createTextNode(
      ` stage ${r.stage} of ${r.stages.length} · created by ${r.created_by} · version ${r.version}` +
      (r.next ? ` · ${r.next}` : "")));
    const halt = $("rollout-halt");
    halt.hidden = !r.halt;
    if (r.halt) {
      halt.textContent = `Halted at ${r.halt.at} by ${r.halt.by} in stage ${r.halt.stage}: ` +
        `${r.halt.failed}/${r.halt.exposed} devices failed ` +
        `(${rfCharts.pct(r.halt.failure_rate)}). ${r.halt.reason || ""}`;
    }
    const controls = $("controls");
    controls.hidden = !canRelease();
    for (const b of controls.querySelectorAll("button")) {
      b.disabled = !ALLOWED[b.dataset.action].includes(r.state);
    }
    const body = $("stages").tBodies[0];
    clear(body);
    for (const st of r.stages) {
      const tr = el("tr");
      tr.appendChild(td(st.index, "n"));
      tr.appendChild(td(st.ring));
      const s = td(""); s.appendChild(badge("state", st.state)); tr.appendChild(s);
      const p = td(""); p.appendChild(progressBar(st)); tr.appendChild(p);
      for (const k of ["exposed", "healthy", "failed", "silent"]) tr.appendChild(td(st[k], "n"));
      body.appendChild(tr);
    }
    const gates = $("gates");
    clear(gates);
    for (const g of r.gates || []) gates.appendChild(el("li", g.ok ? "ok" : "", `${g.name}: ${g.detail}`));
  }

  function renderCharts(series, live) {
    const box = $("charts");
    clear(box);
    for (const st of series.stages) {
      if (st.state === "pending" && !st.points.length) continue;
      rfCharts.stageChart(box, st, series.halt, live);
    }
    if (!box.children.length) box.appendChild(el("p", "muted", "No stage has started yet."));
  }

  function showRollout(v, id) {
    showOnly("rollout");
    $("action-result").textContent = "";
    clear($("rollout-events"));
    let current = null;
    const refresh = async () => {
      const [r, series] = await Promise.all([api("GET", `/v1/rollouts/${id}`),
        api("GET", `/v1/rollouts/${id}/health/series`),
        bundles.size ? Promise.resolve() : loadBundles()]);
      current = r;
      renderRollout(r);
      renderCharts(series, r.state === "active" || r.state === "paused");
    };
    v.action = (action) => confirmAction(current, action, refresh);
    (async () => {
      const j = await api("GET", `/v1/events?rollout_id=${id}&limit=1000`);
      let last = 0;
      for (const ev of j.events) { prependEvent($("rollout-events"), ev, 1000); last = ev.id; }
      follow(`/v1/events/stream?rollout_id=${id}&after=${last}`, (ev) => {
        prependEvent($("rollout-events"), ev, 1000);
        refresh().catch(() => {});
      }, v.abort.signal);
    })().catch(() => {});
    return refresh;
  }

  function confirmAction(r, action, refresh) {
    if (!r || !canRelease()) return;
    const dlg = $("confirm");
    $("confirm-text").textContent =
      `${action[0].toUpperCase()}${action.slice(1)} rollout ${r.id} (${r.channel}, ` +
      `${bundleName(r.bundle_id)}, now ${r.state} at stage ${r.stage})?`;
    $("confirm-reason").value = "";
    $("confirm-ok").textContent = `Confirm ${action}`;
    dlg.returnValue = "cancel";
    dlg.onclose = async () => {
      if (dlg.returnValue !== "ok") return;
      const reason = $("confirm-reason").value.trim();
      const out = $("action-result");
      try {
        await api("POST", `/v1/rollouts/${r.id}/${action}`, reason ? { reason } : {},
          { "If-Match": `"${r.version}"` });
        out.textContent = `${action}: done.`;
      } catch (e) {
        out.textContent = `${action} refused (${e.status}): ${e.message}`;
      }
      refresh().catch(() => {});
    };
    dlg.showModal();
  }

  /* ---- events page ---- */

  function showEvents(v) {
    showOnly("events");
    clear($("all-events"));
    follow("/v1/events/stream?last=200", (ev) => prependEvent($("all-events"), ev, 500),
      v.abort.signal);
    return null;
  }

  /* ---- navigation and sign-in ---- */

  function stopView() {
    if (!view) return;
    clearInterval(view.timer);
    view.abort.abort();
    view = null;
  }

  async function route() {
    stopView();
    if (!token()) { showLogin(""); return; }
    const v = { abort: new AbortController(), timer: null, action: null };
    view = v;
    const m = location.hash.match(/^#\/rollouts\/(\d+)$/);
    let refresh;
    if (m) refresh = showRollout(v, m[1]);
    else if (location.hash === "#/events") refresh = showEvents(v);
    else refresh = showOverview(v);
    if (refresh) {
      const run = () => refresh().catch((e) => {
        if (view === v) $("action-result").textContent = `could not load: ${e.message}`;
      });
      run();
      v.timer = setInterval(run, REFRESH_MS);
    }
  }

  function showLogin(message) {
    stopView();
    $("nav").hidden = true;
    $("signout").hidden = true;
    $("who").textContent = "";
    $("login-error").textContent = message;
    showOnly("login");
    $("token").focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    showLogin(message || "");
  }

  async function signIn(t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    try {
      me = await api("GET", "/v1/whoami");
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(e.status === 401 || e.status === 403 ? "That token is not a user token." :
        `Cannot reach the server: ${e.message}`);
      return false;
    }
    $("who").textContent = `${me.name} (${me.role})`;
    $("nav").hidden = false;
    $("signout").hidden = false;
    return true;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("login-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const t = $("token").value.trim();
      $("token").value = "";
      if (t && await signIn(t)) route();
    });
    $("signout").addEventListener("click", () => signOut(""));
    $("controls").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-action]");
      if (b && view && view.action) view.action(b.dataset.action);
    });
    for (const b of $("confirm").querySelectorAll("button")) {
      b.addEventListener("click", (e) => {
        e.preventDefault();
        $("confirm").close(b.value);
      });
    }
    window.addEventListener("hashchange", route);
    if (token() && await signIn(token())) route();
    else showLogin("");
  });
})();
