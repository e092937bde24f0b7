// relay's page: live updates by polling the JSON API, and the actions. No build step.
"use strict";
(() => {
  const $ = (selector) => document.querySelector(selector);
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: body === undefined ? "" : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok && response.status !== 422) {
      throw new Error((data && (data.detail || data.error)) || `HTTP ${response.status}`);
    }
    return data;
  }

  function flash(text, bad) {
    const box = $("#flash");
    if (!box) return;
    box.textContent = text;
    box.className = bad ? "flash bad" : "flash";
    box.hidden = false;
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    });
    children.forEach((c) => node.append(c));
    return node;
  }

  const when = (ts) => (ts == null ? "-" : new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 19));

  // Times are shown in UTC; the browser's local time goes next to each one.
  const localTime = (date) => date.toLocaleString(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  const addLocal = (node) => {
    if (node.querySelector(".local")) return;
    const date = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) return;
    node.title = `${localTime(date)} (${Intl.DateTimeFormat().resolvedOptions().timeZone || "local"})`;
    node.append(el("span", { class: "local", text: `(local ${localTime(date)})` }));
  };
  const stamp = (ts) => {
    if (ts == null) return "-";
    const node = el("time", { class: "ts", datetime: new Date(ts * 1000).toISOString().slice(0, 19) + "Z", text: when(ts) });
    addLocal(node);
    return node;
  };
  document.querySelectorAll("time.ts").forEach(addLocal);
  const badge = (status) => el("span", { class: `badge s-${status}`, text: status });

  // Events list: live while on the first page -------------------------------------------
  const rows = $("#event-rows");
  if (rows && !new URLSearchParams(location.search).has("cursor")) {
    const live = $("#live");
    const seen = new Set([...rows.querySelectorAll("tr[data-id]")].map((r) => r.dataset.id));
    const render = (items) => {
      const fresh = items.map((e) => {
        const id = el("td", {}, el("a", { href: `/ui/events/${encodeURIComponent(e.id)}`, text: e.id }));
        if (e.provider_event_id) id.append(el("div", { class: "muted small", text: e.provider_event_id }));
        const status = el("td", {}, badge(e.status));
        if (e.error) status.append(el("div", { class: "muted small", text: e.error }));
        const routes = el("td", {});
        if (e.routes.length === 0) routes.textContent = "-";
        e.routes.forEach((r) => routes.append(el("div", {}, `${r.route} `, badge(r.status))));
        const row = el("tr", { "data-id": e.id },
          el("td", {}, stamp(e.received_at)), id, el("td", { class: "wide-only", text: e.source }),
          el("td", { text: e.event_type || "-" }), status, routes,
          el("td", { class: "wide-only", text: e.duplicates ? String(e.duplicates) : "" }),
          el("td", { class: "wide-only", text: e.client_ip || "-" }));
        if (!seen.has(e.id)) row.classList.add("new");
        return row;
      });
      items.forEach((e) => seen.add(e.id));
      if (fresh.length === 0) {
        fresh.push(el("tr", { class: "empty" }, el("td", { colspan: "8", text: "No events yet." })));
      }
      rows.replaceChildren(...fresh);
    };
    const refresh = async () => {
      const params = new URLSearchParams(location.search);
      [...params.keys()].forEach((k) => { if (!params.get(k)) params.delete(k); });
      params.set("limit", "50");
      try {
        const response = await fetch(`/api/events?${params}`, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        render((await response.json()).items);
        if (live) live.classList.remove("off");
      } catch (_) {
        if (live) live.classList.add("off");
      }
    };
    setInterval(refresh, 2000);
    document.querySelectorAll("#event-filters select").forEach((s) =>
      s.addEventListener("change", () => s.form.submit()));
  }

  // One event: reload when a delivery moves or an attempt starts or ends -----------------
  const header = $("#event-id");
  if (header && header.dataset.event.startsWith("evt_")) {
    const version = (event) => event.deliveries.map((d) =>
      `${d.id}:${d.status}:${d.attempt_log.length}:${d.attempt_log.filter((a) => a.finished_at !== null).length};`).join("");
    setInterval(async () => {
      try {
        const response = await fetch(`/api/events/${encodeURIComponent(header.dataset.event)}`, { credentials: "same-origin" });
        if (!response.ok) return;
        if (version(await response.json()) !== header.dataset.version) location.reload();
      } catch (_) { /* try again on the next tick */ }
    }, 2000);
  }

  // How long running runs have been going (updated every second)
  const since = () => {
    document.querySelectorAll("[data-since]").forEach((el) => {
      const s = Math.max(0, Math.floor(Date.now() / 1000 - Number(el.dataset.since)));
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      el.textContent = `(${h ? `${h}h ` : ""}${h || m ? `${m}m ` : ""}${s % 60}s)`;
    });
  };
  since();
  setInterval(since, 1000);

  // Actions -------------------------------------------------------------------------------
  const bulkBody = (dryRun) => {
    const params = new URLSearchParams(location.search);
    const body = { status: ["dead", "failed", "needs_review"], dry_run: dryRun, all: true };
    ["route", "since", "reason"].forEach((k) => { if (params.get(k)) body[k] = params.get(k); });
    return body;
  };
  const actions = {
    async replay(id, button) {
      const url = `/api/deliveries/${encodeURIComponent(id)}/replay`;
      let body;
      if (button.dataset.confirm) {
        // A succeeded delivery: replaying runs the function again, side effects and all.
        const response = await fetch(`/api/deliveries/${encodeURIComponent(id)}`, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const d = await response.json();
        const text = `${id} succeeded. Replaying runs function ${d.function_id} on ${d.target} ` +
          `again (side effects too), with these variables:\n\n${JSON.stringify(d.variables, null, 2)}\n\nRun it again?`;
        if (!confirm(text)) return;
        body = { confirm: true };
      }
      const d = await post(url, body);
      flash(`${d.id} re-queued`);
      setTimeout(() => location.reload(), 400);
    },
    async retry(id) {
      const d = await post(`/api/deliveries/${encodeURIComponent(id)}/retry`);
      flash(`${d.id} due now`);
      setTimeout(() => location.reload(), 400);
    },
    async cancel(id) {
      if (!confirm(`Cancel ${id}?`)) return;
      await post(`/api/deliveries/${encodeURIComponent(id)}/cancel`, {});
      location.reload();
    },
    async stop(id) {
      if (!confirm(`Stop the run of ${id}? The function is stopped where it is.`)) return;
      await post(`/api/deliveries/${encodeURIComponent(id)}/stop`, {});
      flash(`Stop of ${id} requested`);
      setTimeout(() => location.reload(), 800);
    },
    async pause(id) { await post(`/api/targets/${encodeURIComponent(id)}/pause`); location.reload(); },
    async resume(id) { await post(`/api/targets/${encodeURIComponent(id)}/resume`); location.reload(); },
    async reload() {
      const r = await post("/api/config/reload");
      if (r.ok) flash(r.changed ? "New config in force" : "Config unchanged");
      else flash(`Refused: ${r.errors.join("; ")}`, true);
      setTimeout(() => location.reload(), 800);
    },
    async "bulk-preview"() {
      const r = await post("/api/deliveries/replay", bulkBody(true));
      $("#bulk-result").textContent = `${r.count} would be re-queued`;
      const button = $("#bulk-replay");
      button.textContent = `Replay ${r.count}`;
      button.hidden = r.count === 0;
    },
    async "bulk-replay"() {
      const r = await post("/api/deliveries/replay", bulkBody(false));
      flash(`${r.count} re-queued by ${r.actor}`);
      setTimeout(() => location.reload(), 600);
    },
    async logout() {
      await fetch("/ui/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } });
      location.href = "/ui/login";
    },
    async logoutEverywhere() {
      await fetch("/ui/logout?everywhere=1", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } });
      location.href = "/ui/login";
    },
  };
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !actions[button.dataset.action]) return;
    button.disabled = true;
    try {
      await actions[button.dataset.action](button.dataset.id, button);
    } catch (error) {
      flash(error.message, true);
    } finally {
      button.disabled = false;
    }
  });
})();
