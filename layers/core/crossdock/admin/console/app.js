// The Crossdock console, part 3 of 3: the hash routes and their pages (connections, a connection's views, progress
// bars, the event log, dead letters) and the start.
"use strict";

// ---- routing -------------------------------------------------------------------------------------------------------

function stopPolling() {
  for (const timer of state.timers) clearTimeout(timer);
  state.timers = [];
}

function showPage(name) {
  for (const page of document.querySelectorAll(".page")) page.hidden = page.id !== `page-${name}`;
  const heading = $(`#page-${name} h1`);
  if (heading) document.title = `${heading.textContent} · Crossdock console`;
}

async function route() {
  stopPolling();
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    showPage("sign-in");
    $("#sign-in-email").focus();
    return;
  }
  try {
    if (!state.me) {
      state.me = await api("GET", "/admin/me");
      showIdentity();
    }
    if (parts[0] === "connections" && parts[1]) await showConnection(decodeURIComponent(parts[1]), parts[2]);
    else if (parts[0] === "dead-letters") await showDeadLetters();
    else await showConnections();
  } catch (error) {
    if (error.status === 404) showPage("not-found");
    else if (error.status !== 401) warn(error.message);
  }
}

// ---- connections ---------------------------------------------------------------------------------------------------

async function showConnections() {
  showPage("connections");
  const form = $("#connections-filter");
  const answer = await api("GET", "/admin/connections" + query({ kind: form.kind.value, state: form.state.value }));
  const body = $("#connections-table tbody");
  body.replaceChildren();
  for (const row of answer.connections) {
    const link = element("a", { href: `#/connections/${encodeURIComponent(row.connection_id)}/settings` });
    link.textContent = row.account;
    link.setAttribute("aria-label", `${row.account} (${row.connection_id})`);
    const last = row.last_event;
    body.append(
      element(
        "tr",
        {},
        element("td", {}, link, element("span", { class: "hint", text: row.connection_id })),
        element("td", { text: KIND_NAMES[row.kind] || row.kind }),
        element("td", { text: row.state }),
        element("td", { class: row.needs_attention ? "bad" : "good", text: health(row) }),
        element("td", { text: last ? `${last.topic} · ${last.status} · ${last.received_at}` : "none yet" }),
      ),
    );
  }
  $("#connections-empty").hidden = answer.connections.length > 0;
}

function health(row) {
  if (row.needs_attention) return `${row.needs_attention} need${row.needs_attention === 1 ? "s" : ""} attention`;
  return "healthy";
}

async function showConnection(connectionId, view = "settings") {
  showPage("connection");
  if (!state.connection || state.connection.connection_id !== connectionId) {
    state.connection = await loadConnection(connectionId);
    state.settings = null;
  }
  const connection = state.connection;
  $("#connection-title").textContent = `${KIND_NAMES[connection.kind] || connection.kind}: ${connection.account}`;
  document.title = `${$("#connection-title").textContent} · Crossdock console`;
  renderFacts(connection);
  for (const item of document.querySelectorAll("#page-connection .subnav li")) {
    const kinds = item.dataset.kinds;
    item.hidden = Boolean(kinds) && !kinds.split(" ").includes(connection.kind);
    const link = $("a", item);
    link.href = `#/connections/${encodeURIComponent(connectionId)}/${link.dataset.view}`;
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const section of document.querySelectorAll("#page-connection .view")) {
    section.hidden = section.id !== `view-${view}`;
  }
  const views = { settings: showSettings, "initial-sync": showInitialSync, setup: showSetup, events: showEvents };
  if (views[view]) await views[view](connectionId);
}

// GET /admin/connections/{id} answers {tenant, connection: {summary, kind, …}}; the page keeps what it shows.
async function loadConnection(connectionId) {
  const answer = await api("GET", `/admin/connections/${encodeURIComponent(connectionId)}`);
  const detail = answer.connection;
  return {
    connection_id: detail.summary.connection_id,
    kind: detail.kind,
    state: detail.summary.state,
    account: detail.summary.shop_domain || detail.summary.connection_id,
    tenant: answer.tenant,
    detail,
  };
}

function renderFacts(connection) {
  const facts = $("#connection-facts");
  facts.replaceChildren();
  const summary = connection.detail.summary;
  const rows = [
    ["Connection", connection.connection_id],
    ["State", summary.state_since ? `${connection.state} since ${summary.state_since}` : connection.state],
    ["Account", connection.account],
  ];
  if (summary.rackbeat_account_id) rows.push(["Rackbeat account", String(summary.rackbeat_account_id)]);
  if (connection.tenant) rows.push(["Tenant", connection.tenant]);
  rows.push(["Needs attention", String(connection.detail.needs_attention)]);
  rows.push(["In progress", String(connection.detail.in_progress)]);
  for (const [name, value] of rows) facts.append(element("dt", { text: name }), element("dd", { text: value }));
  for (const button of document.querySelectorAll("#connection-actions button")) {
    const action = button.dataset.action;
    button.hidden =
      connection.state === "uninstalled" ||
      (action === "pause" && connection.state !== "active") ||
      (action === "resume" && connection.state !== "paused");
  }
}

async function onConnectionAction(event) {
  const action = event.target.dataset.action;
  if (!action) return;
  const id = state.connection.connection_id;
  if (action === "uninstall" && !confirm(`Uninstall ${id}? Its webhooks and tokens are removed.`)) return;
  try {
    const changed = await api("POST", `/admin/connections/${encodeURIComponent(id)}/${action}`);
    state.connection = await loadConnection(id);
    renderFacts(state.connection);
    const notes = [changed.outcome, ...(changed.notes || [])].filter(Boolean).join(" ");
    say(`${changed.account}: ${changed.before} → ${changed.state}. ${notes}`.trim());
  } catch (error) {
    warn(error.message);
  }
}

// ---- initial sync and guided setup: <progress> bars that follow the API --------------------------------------------

// A percent of null is work not counted yet: the bar is indeterminate (no value), as <progress> means it.
function showProgress(bar, text, progress) {
  const counts = progress.total ? ` (${progress.done} of ${progress.total})` : "";
  if (progress.percent === null || progress.percent === undefined) {
    bar.removeAttribute("value");
    text.textContent = `${progress.state}${counts}`;
  } else {
    bar.value = Math.max(0, Math.min(100, progress.percent));
    text.textContent = `${progress.state}: ${bar.value} %${counts}`;
  }
}

function poll(load, render, finished) {
  const step = async () => {
    try {
      const answer = await load();
      render(answer);
      if (!finished(answer)) state.timers.push(setTimeout(step, POLL_MS));
    } catch (error) {
      if (error.status !== 401) warn(error.message);
    }
  };
  return step();
}

const SYNC_AT_REST = new Set(["not started", "done", "failed"]);

async function showInitialSync(connectionId) {
  const id = encodeURIComponent(connectionId);
  const bar = $("#initial-sync-progress");
  const text = $("#initial-sync-text");
  $("#initial-sync-warning").hidden = state.connection.kind !== "rackbeat_shopify";
  await poll(
    () => api("GET", `/admin/connections/${id}/initial-sync`),
    (progress) => {
      showProgress(bar, text, progress);
      // The initial sync runs once; a failed one may be started again and goes on where it stopped.
      $("#initial-sync-start").disabled = progress.state !== "not started" && progress.state !== "failed";
      if (progress.error) warn(`Initial sync failed: ${progress.error}`);
      else if (progress.state === "done") say(`Initial sync finished: ${progress.created} created, ${progress.existing} already there, ${progress.skipped} skipped.`);
    },
    (progress) => SYNC_AT_REST.has(progress.state),
  );
}

async function onStartInitialSync() {
  const id = state.connection.connection_id;
  // One start per click: the button stays off while the request is out (the bar's polling turns it on again).
  $("#initial-sync-start").disabled = true;
  try {
    const started = await api("POST", `/admin/connections/${encodeURIComponent(id)}/initial-sync`);
    say(started.warning ? `Initial sync started. ${started.warning}` : "Initial sync started.");
    stopPolling();
    await showInitialSync(id);
  } catch (error) {
    warn(error.message);
    await showInitialSync(id).catch(() => undefined);  // the bar and the button as the API has them now
  }
}

async function showSetup(connectionId) {
  const id = encodeURIComponent(connectionId);
  await poll(
    () => api("GET", `/admin/connections/${id}/setup`),
    (setup) => renderSteps(setup),
    (setup) => !setup.steps.some((step) => step.state === "running"),
  );
}

function renderSteps(setup) {
  const list = $("#setup-steps");
  list.replaceChildren();
  for (const step of setup.steps) {
    const barId = `setup-${step.name}-progress`;
    const textId = `setup-${step.name}-text`;
    const item = element("li", { class: `step step-${step.state}`, "data-step": step.name });
    if (step.name === setup.next_step) item.setAttribute("aria-current", "step");
    item.append(element("h3", { text: step.optional ? `${step.title} (optional)` : step.title }));
    const bar = element("progress", { id: barId, max: "100", "aria-describedby": textId });
    const text = element("span", { id: textId });
    item.append(element("p", {}, element("label", { for: barId, text: `Progress of “${step.title}”` }), bar, text));
    showProgress(bar, text, step);
    if (step.note) item.append(element("p", { class: "hint", text: step.note }));
    if (step.error) item.append(element("p", { class: "field-error", text: step.error }));
    const actions = element("p", { class: "actions" });
    const busy = step.state === "running";
    const verb = step.state === "failed" ? "Resume" : step.state === "done" ? "Run again" : "Run";
    actions.append(element("button", { type: "button", "data-step": step.name, "data-do": "run", disabled: busy,
      text: `${verb} “${step.title}”` }));
    if (step.optional && step.state !== "skipped") {
      actions.append(element("button", { type: "button", "data-step": step.name, "data-do": "skip", disabled: busy,
        text: `Skip “${step.title}”` }));
    }
    item.append(actions);
    list.append(item);
  }
}

async function onSetupAction(event) {
  const button = event.target.closest("button[data-step]");
  if (!button) return;
  const id = encodeURIComponent(state.connection.connection_id);
  for (const other of document.querySelectorAll("#setup-steps button")) other.disabled = true;
  try {
    await api("POST", `/admin/connections/${id}/setup/${encodeURIComponent(button.dataset.step)}/${button.dataset.do}`);
    say(`${button.textContent}: ${button.dataset.do === "run" ? "started" : "done"}.`);
    stopPolling();
    await showSetup(state.connection.connection_id);
  } catch (error) {
    warn(error.message);
    stopPolling();
    await showSetup(state.connection.connection_id).catch(() => undefined);  // the steps as the API has them now
  }
}

// ---- the event log -------------------------------------------------------------------------------------------------

async function showEvents(connectionId, { more = false } = {}) {
  if (!more) stopPolling();
  const form = $("#events-filter");
  const since = form.since.value ? new Date(form.since.value).toISOString() : "";
  const params = { status: form.status.value, topic: form.topic.value.trim(), since, limit: 50 };
  if (more) params.cursor = state.cursor;
  const answer = await api("GET", `/admin/connections/${encodeURIComponent(connectionId)}/events` + query(params));
  const body = $("#events-table tbody");
  if (!more) body.replaceChildren();
  for (const event of answer.events) body.append(eventRow(event));
  state.cursor = answer.cursor || null;
  $("#events-more").hidden = !state.cursor;
  $("#events-empty").hidden = body.children.length > 0;
  // While an event is still being worked on (a retry just sent), the first page follows it to its outcome.
  if (!more && answer.events.some((row) => row.status === "received")) {
    state.timers.push(setTimeout(() => showEvents(connectionId).catch((error) => warn(error.message)), POLL_MS));
  }
}

function eventRow(event) {
  const cell = element("td");
  if (event.status === "needs_attention" && !event.retried_as) {
    cell.append(element("button", { type: "button", "data-retry": event.event_id, text: "Retry",
      "aria-label": `Retry ${event.topic} of ${event.received_at}` }));
  }
  return element(
    "tr",
    { "data-event": event.event_id },
    element("td", { text: event.received_at }),
    element("td", { text: event.source }),
    element("td", { text: event.topic }),
    element("td", { class: `status-${event.status}`, text: event.status.replace(/_/g, " ") }),
    element("td", { text: reasonOf(event) }),
    element("td", { text: event.attempts === undefined ? "" : String(event.attempts) }),
    cell,
  );
}

function reasonOf(event) {
  const parts = [event.failure_class, event.reason];
  if (event.retried_as && !(event.reason || "").includes(event.retried_as)) parts.push(`retried as ${event.retried_as}`);
  return parts.filter(Boolean).join(" · ");
}

async function onRetry(event) {
  const button = event.target.closest("button[data-retry]");
  if (!button) return;
  const id = encodeURIComponent(state.connection.connection_id);
  button.disabled = true;
  try {
    const answer = await api("POST", `/admin/connections/${id}/events/${encodeURIComponent(button.dataset.retry)}/retry`, {});
    say(`${answer.event.topic} queued again as event ${answer.new_event_id}.`);
    await showEvents(state.connection.connection_id);
  } catch (error) {
    button.disabled = false;
    warn(error.message);
  }
}

async function onManualSync(event) {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  const externalId = form.external_id.value.trim();
  if (!externalId) {
    showFieldError(form.external_id, "Enter the order's id.");
    return;
  }
  try {
    const answer = await api("POST", `/admin/connections/${encodeURIComponent(state.connection.connection_id)}/sync`,
      { external_id: externalId });
    say(answer.transferred_as ? `${answer.described} is already ${answer.transferred_as}; nothing sent.`
      : `${answer.described} sent for transfer (event ${answer.event_id}).`);
  } catch (error) {
    const problem = (error.body.errors || [])[0];
    if (error.status === 422 && problem) showFieldError(form.external_id, problem.message);
    else warn(error.message);
  }
}

// ---- dead letters (operators) --------------------------------------------------------------------------------------

async function showDeadLetters() {
  showPage("dead-letters");
  const form = $("#dead-letters-filter");
  const reports = await api("GET", "/admin/dead-letters" + query({ queue: form.queue.value }));
  const select = form.queue;
  if (select.options.length === 1) {
    for (const report of reports) select.append(element("option", { value: report.queue, text: report.queue }));
  }
  const body = $("#dead-letters-table tbody");
  body.replaceChildren();
  for (const report of reports) {
    const cell = element("td");
    if (report.waiting && report.redrive_to) {
      cell.append(element("button", { type: "button", "data-redrive": report.queue, text: "Redrive",
        "aria-label": `Redrive ${report.queue} to ${report.redrive_to}` }));
    }
    const oldest = report.messages.map((message) => message.first_received_at).filter(Boolean).sort()[0] || "";
    const sample = report.messages
      .map((message) => `${message.what}${message.connection_id ? ` · ${message.connection_id}` : ""} · received ${message.receive_count}×`)
      .join("\n");
    const counts = report.in_flight ? `${report.waiting} (+${report.in_flight} in flight)` : String(report.waiting);
    body.append(element("tr", {}, element("td", { text: report.queue }), element("td", { text: counts }),
      element("td", { text: oldest }), element("td", { class: "sample", text: sample }), cell));
  }
  $("#dead-letters-empty").hidden = reports.some((report) => report.waiting || report.in_flight);
}

async function onRedrive(event) {
  const button = event.target.closest("button[data-redrive]");
  if (!button) return;
  button.disabled = true;
  try {
    const answer = await api("POST", "/admin/dead-letters/redrive", { queue: button.dataset.redrive });
    const failed = Object.keys(answer.failed || {}).length;
    say(`${answer.queue}: ${answer.moved} moved back, ${answer.remaining} left${failed ? `, ${failed} failed` : ""}.`);
    await showDeadLetters();
  } catch (error) {
    button.disabled = false;
    warn(error.message);
  }
}

// ---- start ---------------------------------------------------------------------------------------------------------

async function start() {
  state.config = await (await fetch(new URL("config.json", location.href))).json();
  $("#sign-in-form").addEventListener("submit", onSignIn);
  $("#new-password-form").addEventListener("submit", onNewPassword);
  $("#sign-out").addEventListener("click", () => signOut("Signed out."));
  $("#connections-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    showConnections().catch((error) => warn(error.message));
  });
  $("#connection-actions").addEventListener("click", onConnectionAction);
  $("#settings-form").addEventListener("submit", onSaveSettings);
  $("#settings-reload").addEventListener("click", () => showSettings(state.connection.connection_id));
  $("#settings-tabs").addEventListener("click", (event) => selectTab(event.target.closest("[role=tab]")));
  $("#settings-tabs").addEventListener("keydown", onTabKey);
  $("#initial-sync-start").addEventListener("click", onStartInitialSync);
  $("#setup-steps").addEventListener("click", onSetupAction);
  $("#events-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    showEvents(state.connection.connection_id).catch((error) => warn(error.message));
  });
  $("#events-more").addEventListener("click", () => showEvents(state.connection.connection_id, { more: true }));
  $("#events-table").addEventListener("click", onRetry);
  $("#sync-form").addEventListener("submit", onManualSync);
  $("#dead-letters-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    showDeadLetters().catch((error) => warn(error.message));
  });
  $("#dead-letters-table").addEventListener("click", onRedrive);
  window.addEventListener("hashchange", route);
  await route();
}

start().catch((error) => warn(`The console could not start: ${error.message}`));
