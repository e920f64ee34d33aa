// Wharf warehouse page: scan an order, work its pick or pack task, print its label,
// report an exception; list my tasks and the open queue. Talks only to this origin's
// /v1 API with the merchant token the user pasted (kept in localStorage, sent as
// `Authorization: Bearer`, never put in a URL). Text from the API is always inserted
// as text (textContent), never as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "wharf.warehouse.token";
  const NAME_KEY = "wharf.warehouse.name";
  // The server's limits for a parcel (wharf_domain::fulfillment::PackRecord).
  const MAX_WEIGHT_G = 1000000;
  const MAX_SIDE_MM = 10000;

  const $ = (id) => document.getElementById(id);
  const view = {
    order: null, // the WarehouseOrder on screen
    list: "mine",
    pendingTake: false, // a take waiting for the name
    labelUrl: null,
  };

  // ---- storage -------------------------------------------------------------------
  const token = () => localStorage.getItem(TOKEN_KEY) || "";
  const pickerName = () => localStorage.getItem(NAME_KEY) || "";

  // ---- messages ------------------------------------------------------------------
  function say(kind, text) {
    const m = $("message");
    m.className = "message " + kind;
    m.textContent = text;
    m.hidden = false;
  }
  function clearMessage() {
    $("message").hidden = true;
    $("message").textContent = "";
  }

  // An API error in plain words.
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }
  function plain(err) {
    if (!(err instanceof ApiError)) {
      return "The server could not be reached. Check the connection and try again.";
    }
    const detail = err.message ? " " + sentence(err.message) : "";
    switch (err.status) {
      case 400:
      case 422:
        return "That was not accepted:" + detail;
      case 401:
        return "Your token was not accepted. Sign in again with a valid merchant token.";
      case 403:
        return "This token may not do that: the warehouse page needs a merchant token.";
      case 404:
        return "Not found:" + detail;
      case 409:
        return "Not possible right now:" + detail;
      default:
        return err.status >= 500
          ? "The server had a problem (" + err.status + "). Try again in a moment."
          : "The request failed (" + err.status + ")." + detail;
    }
  }
  function sentence(s) {
    s = String(s).trim();
    return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
  }

  // ---- API -------------------------------------------------------------------------
  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + token(), Accept: "application/json" };
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    if (res.ok) {
      return res.status === 204 ? null : res.json();
    }
    let message = "";
    try {
      const j = await res.json();
      message = (j && j.error && j.error.message) || "";
    } catch (_) {
      message = "";
    }
    if (res.status === 401) {
      signOut(false);
    }
    throw new ApiError(res.status, message);
  }

  // ---- sign in / out ---------------------------------------------------------------
  async function signIn(ev) {
    ev.preventDefault();
    const t = $("token").value.trim();
    if (!t) {
      say("error", "Paste your merchant API token first.");
      $("token").focus();
      return;
    }
    localStorage.setItem(TOKEN_KEY, t);
    $("token").value = "";
    try {
      await api("GET", "/v1/task-board?queue=open&limit=1");
    } catch (err) {
      localStorage.removeItem(TOKEN_KEY);
      say("error", plain(err));
      showSignin();
      return;
    }
    say("ok", "Signed in.");
    showWork();
  }

  function signOut(byUser) {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(NAME_KEY);
    view.order = null;
    forgetLabel();
    showSignin();
    if (byUser) {
      say("info", "Signed out. The token was removed from this device.");
    }
  }

  function showSignin() {
    $("signin").hidden = false;
    $("work").hidden = true;
    $("who").hidden = true;
    $("name-panel").hidden = true;
    $("token").focus();
  }

  function showWork() {
    $("signin").hidden = true;
    $("work").hidden = false;
    $("who").hidden = false;
    renderWho();
    loadList();
    $("scan").focus();
  }

  function renderWho() {
    const n = pickerName();
    $("who-name").textContent = n ? n : "(no name yet)";
  }

  // ---- the picker's name -------------------------------------------------------------
  function askName(forTake) {
    view.pendingTake = forTake;
    $("picker-name").value = pickerName();
    $("name-panel").hidden = false;
    $("picker-name").focus();
  }
  async function saveName(ev) {
    ev.preventDefault();
    const n = $("picker-name").value.trim();
    if (!n) {
      $("picker-name").setAttribute("aria-invalid", "true");
      say("error", "Enter your name: it is shown on the tasks you take.");
      return;
    }
    $("picker-name").removeAttribute("aria-invalid");
    localStorage.setItem(NAME_KEY, n);
    $("name-panel").hidden = true;
    renderWho();
    loadList();
    if (view.pendingTake) {
      view.pendingTake = false;
      await take();
    }
  }

  // ---- scan --------------------------------------------------------------------------
  async function scan(ev) {
    ev.preventDefault();
    const code = $("scan").value.trim();
    if (!code) {
      say("error", "Scan or type an order number, order id or tracking number.");
      return;
    }
    clearMessage();
    $("choices").hidden = true;
    try {
      const r = await api("GET", "/v1/scan?code=" + encodeURIComponent(code));
      $("scan").value = "";
      if (r.orders.length === 1) {
        showOrder(r.orders[0]);
      } else {
        showChoices(r.orders);
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        say("error", "No order found for “" + code + "”. Check the code and scan again.");
      } else {
        say("error", plain(err));
      }
      $("scan").select();
    }
  }

  function showChoices(orders) {
    const ul = $("choice-list");
    ul.replaceChildren();
    for (const o of orders) {
      const b = document.createElement("button");
      b.type = "button";
      b.append(text("span", o.number + " · " + o.shop), text("span", o.state, "kind"));
      b.addEventListener("click", () => {
        $("choices").hidden = true;
        showOrder(o);
      });
      const li = document.createElement("li");
      li.append(b);
      ul.append(li);
    }
    $("order").hidden = true;
    $("choices").hidden = false;
  }

  async function openOrder(id) {
    try {
      showOrder(await api("GET", "/v1/warehouse/orders/" + encodeURIComponent(id)));
    } catch (err) {
      say("error", plain(err));
    }
  }

  async function reloadOrder() {
    if (view.order) {
      await openOrder(view.order.order_id);
    }
  }

  // ---- the order ---------------------------------------------------------------------
  function text(tag, value, cls) {
    const e = document.createElement(tag);
    e.textContent = value;
    if (cls) e.className = cls;
    return e;
  }

  const STATUS_WORDS = {
    open: "open — nobody has taken it",
    assigned: "taken",
    in_progress: "in progress",
    done: "done",
    exception: "exception reported",
    cancelled: "cancelled",
  };

  function showOrder(o) {
    if (!view.order || view.order.order_id !== o.order_id) {
      forgetLabel();
      $("exception-form").hidden = true;
      for (const id of ["weight", "length", "width", "height"]) {
        $(id).value = "";
        $(id).removeAttribute("aria-invalid");
      }
    }
    view.order = o;
    $("order-number").textContent = "Order " + o.number;
    $("order-state").textContent = o.state.replace(/_/g, " ");
    const where = [o.city, o.country].filter(Boolean).join(", ");
    $("order-meta").textContent =
      o.platform + " · " + o.shop + (where ? " · to " + where : "") +
      (o.tracking_number ? " · tracking " + o.tracking_number : "");
    const tbody = $("order-lines");
    tbody.replaceChildren();
    for (const l of o.lines) {
      const tr = document.createElement("tr");
      tr.append(
        text("td", l.sku || l.channel_sku || "—", "sku"),
        text("td", l.title),
        text("td", String(l.quantity), "qty"),
      );
      tbody.append(tr);
    }
    renderTask();
    $("order").hidden = false;
  }

  function renderTask() {
    const o = view.order;
    const t = o.open_task;
    const me = pickerName();
    const summary = $("task-summary");
    $("take").hidden = $("start").hidden = $("done").hidden = true;
    $("pack-form").hidden = true;
    $("report").hidden = !t;
    $("task-exception").hidden = true;
    if (!t) {
      const last = o.tasks[o.tasks.length - 1];
      summary.textContent = last
        ? "No open task: the " + last.kind + " task is " + STATUS_WORDS[last.status] + "."
        : "No warehouse task for this order (it is " + o.state.replace(/_/g, " ") + ").";
      return;
    }
    const who = t.assignee ? " by " + t.assignee : "";
    summary.textContent =
      (t.kind === "pick" ? "Pick" : "Pack") + " task #" + t.id + ": " +
      STATUS_WORDS[t.status] + (t.status === "assigned" || t.status === "in_progress" ? who : "") + ".";
    if (t.status === "exception" && t.exception_reason) {
      $("task-exception").textContent = "Reported: " + t.exception_reason;
      $("task-exception").hidden = false;
    }
    const mine = t.assignee && t.assignee === me;
    if (t.status === "open" || t.status === "exception") {
      $("take").textContent = "Take";
      $("take").hidden = false;
    } else if (t.status === "assigned" && !mine) {
      $("take").textContent = "Take over from " + t.assignee;
      $("take").hidden = false;
    }
    if (t.status === "assigned") {
      $("start").hidden = false;
    }
    if (t.status === "in_progress") {
      $("done").hidden = false;
      $("pack-form").hidden = t.kind !== "pack";
    }
  }

  async function act(path, body, done) {
    const t = view.order && view.order.open_task;
    if (!t) return;
    clearMessage();
    try {
      await api("POST", "/v1/tasks/" + t.id + "/" + path, body);
      say("ok", done);
    } catch (err) {
      say("error", plain(err));
    }
    await reloadOrder();
    loadList();
  }

  async function take() {
    if (!pickerName()) {
      askName(true);
      return;
    }
    const t = view.order.open_task;
    await act("assign", { assignee: pickerName() }, t.kind + " task #" + t.id + " is yours.");
  }

  async function start() {
    const t = view.order.open_task;
    await act("start", {}, t.kind + " task #" + t.id + " started.");
  }

  // The parcel from the form, or null after marking what is wrong.
  function parcel() {
    const fields = [
      ["weight", "weight_g", "Weight", "g", MAX_WEIGHT_G],
      ["length", "length_mm", "Length", "mm", MAX_SIDE_MM],
      ["width", "width_mm", "Width", "mm", MAX_SIDE_MM],
      ["height", "height_mm", "Height", "mm", MAX_SIDE_MM],
    ];
    const out = {};
    const problems = [];
    for (const [id, key, label, unit, max] of fields) {
      const input = $(id);
      const raw = input.value.trim();
      const ok = /^[0-9]+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= max;
      input.setAttribute("aria-invalid", ok ? "false" : "true");
      if (ok) {
        out[key] = Number(raw);
      } else {
        problems.push(label + " must be a whole number of " + unit + " from 1 to " + max.toLocaleString("en") +
          (raw ? " (got “" + raw + "”)" : ""));
      }
    }
    if (problems.length) {
      say("error", "Check the parcel: " + problems.join("; ") + ".");
      const bad = fields.find(([id]) => $(id).getAttribute("aria-invalid") === "true");
      $(bad[0]).focus();
      return null;
    }
    return out;
  }

  async function done() {
    const t = view.order.open_task;
    if (t.kind === "pack") {
      const p = parcel();
      if (!p) return;
      await act("complete", { parcel: p }, "Packed: " + p.weight_g + " g, " +
        p.length_mm + "×" + p.width_mm + "×" + p.height_mm + " mm.");
    } else {
      await act("complete", {}, "Pick done. The pack task is open.");
    }
  }

  function toggleException() {
    const f = $("exception-form");
    f.hidden = !f.hidden;
    if (!f.hidden) $("reason").focus();
  }

  async function reportException(ev) {
    ev.preventDefault();
    const reason = $("reason").value.trim();
    if (!reason) {
      $("reason").setAttribute("aria-invalid", "true");
      say("error", "Say what is wrong before reporting the exception.");
      return;
    }
    $("reason").removeAttribute("aria-invalid");
    $("exception-form").hidden = true;
    $("reason").value = "";
    await act("exception", { reason }, "Exception reported: " + reason);
  }

  // ---- label -------------------------------------------------------------------------
  function forgetLabel() {
    if (view.labelUrl) URL.revokeObjectURL(view.labelUrl);
    view.labelUrl = null;
    $("label-link").hidden = true;
    $("label-anchor").removeAttribute("href");
  }

  async function printLabel() {
    const o = view.order;
    if (!o) return;
    clearMessage();
    forgetLabel();
    let res;
    try {
      res = await fetch("/v1/orders/" + encodeURIComponent(o.order_id) + "/label", {
        headers: { Authorization: "Bearer " + token() },
        cache: "no-store",
        credentials: "omit",
      });
    } catch (_) {
      say("error", plain(null));
      return;
    }
    if (res.status === 404) {
      say("info", "No label yet for order " + o.number +
        ": it appears once the courier has issued the waybill. Try again later.");
      return;
    }
    if (!res.ok) {
      let message = "";
      try {
        message = ((await res.json()).error || {}).message || "";
      } catch (_) {
        message = "";
      }
      say("error", plain(new ApiError(res.status, message)));
      return;
    }
    const blob = await res.blob();
    const type = (res.headers.get("Content-Type") || "").split(";")[0].trim();
    const ext = type === "application/pdf" ? "pdf" : "zpl";
    view.labelUrl = URL.createObjectURL(blob);
    const a = $("label-anchor");
    a.href = view.labelUrl;
    a.download = "label-" + o.number.replace(/[^A-Za-z0-9_-]/g, "") + "." + ext;
    $("label-link").hidden = false;
    if (ext === "pdf") {
      window.open(view.labelUrl, "_blank", "noopener");
    }
    say("ok", "Label ready (" + ext.toUpperCase() + "). If it did not open, use “Open the label”.");
  }

  // ---- lists -------------------------------------------------------------------------
  async function loadList() {
    const which = view.list;
    $("tab-mine").setAttribute("aria-selected", String(which === "mine"));
    $("tab-open").setAttribute("aria-selected", String(which === "open"));
    const ul = $("task-list");
    const empty = $("task-list-empty");
    if (which === "mine" && !pickerName()) {
      ul.replaceChildren();
      empty.textContent = "Take a task to see your tasks here.";
      empty.hidden = false;
      return;
    }
    const path = which === "mine"
      ? "/v1/task-board?queue=mine&assignee=" + encodeURIComponent(pickerName())
      : "/v1/task-board?queue=open";
    let items;
    try {
      items = await api("GET", path);
    } catch (err) {
      say("error", plain(err));
      return;
    }
    if (view.list !== which) return; // the user switched tabs meanwhile
    ul.replaceChildren();
    for (const item of items) {
      const t = item.task;
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.order = String(t.order_id);
      const left = document.createElement("span");
      left.append(text("span", t.kind + " ", "kind"),
        document.createTextNode(item.order_number + (item.city ? " · " + item.city : "")));
      b.append(left, text("span", STATUS_WORDS[t.status].split(" — ")[0]));
      b.addEventListener("click", () => openOrder(t.order_id));
      const li = document.createElement("li");
      li.append(b);
      ul.append(li);
    }
    empty.textContent = which === "mine" ? "You have no tasks in hand." : "No open tasks.";
    empty.hidden = items.length > 0;
  }

  function switchList(which) {
    view.list = which;
    loadList();
  }

  // ---- wiring ------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", () => signOut(true));
    $("change-name").addEventListener("click", () => askName(false));
    $("name-form").addEventListener("submit", saveName);
    $("name-cancel").addEventListener("click", () => {
      view.pendingTake = false;
      $("name-panel").hidden = true;
    });
    $("scan-form").addEventListener("submit", scan);
    $("take").addEventListener("click", take);
    $("start").addEventListener("click", start);
    $("done").addEventListener("click", done);
    $("report").addEventListener("click", toggleException);
    $("exception-form").addEventListener("submit", reportException);
    $("exception-cancel").addEventListener("click", () => {
      $("exception-form").hidden = true;
    });
    $("print-label").addEventListener("click", printLabel);
    $("tab-mine").addEventListener("click", () => switchList("mine"));
    $("tab-open").addEventListener("click", () => switchList("open"));
    $("refresh").addEventListener("click", loadList);
    if (token()) {
      showWork();
    } else {
      showSignin();
    }
  });
})();
