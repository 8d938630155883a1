// The Crossdock console: plain DOM, no framework, no build step. It talks to the admin API only (the routes of
// docs/admin-api.md) and to Cognito's InitiateAuth for the sign-in; the id token lives in sessionStorage, so it is
// gone when the tab closes. Every page is a <section> of index.html, shown by the hash route.
"use strict";

const TOKEN_KEY = "crossdock.id_token";
const POLL_MS = 1000;

// The settings tabs of each kind (SPEC §1.2–1.6 for Rackbeat ⇄ Shopify). "*" collects every top-level key no
// other tab names, so a setting added to a model is never hidden.
const TABS = {
  rackbeat_shopify: [
    ["General", ["initial_sync", "customer_defaults", "employees", "shipping_product_number"]],
    ["Product", ["product_sync", "stock_sync"]],
    ["Order", ["orders", "fulfillment", "pos"]],
    ["Advanced", ["advanced", "*"]],
  ],
  rackbeat_shopbox: [
    ["Products", ["initial_sync", "uid_field_id", "variant_field_id", "product_sync", "create_boms_in_shopbox"]],
    ["Locations and categories", ["locations", "main_location_rackbeat", "main_location_shopbox", "categories",
      "default_category_group"]],
    ["Sales", ["add_vat", "sales", "*"]],
  ],
  rackbeat_webshipper: [
    ["Orders", ["order_channel", "order_transfer", "transfer_when", "line_location_filter", "send_addresses",
      "excluded_customer_groups", "tracking_to_shopify"]],
    ["Rates", ["delivery_term_rates", "shipping_method_rates", "default_shipping_rate"]],
    ["Defaults", ["*"]],
  ],
  peakwms_shopify: [
    ["Connection", ["shop_name", "country", "main_shop", "create_suppliers_from_vendor", "use_shopify_pos",
      "locations"]],
    ["Messages", ["messages"]],
    ["Advanced", ["*"]],
  ],
};
const KIND_NAMES = {
  rackbeat_shopify: "Rackbeat ⇄ Shopify",
  rackbeat_shopbox: "Rackbeat ⇄ Shopbox",
  rackbeat_webshipper: "Rackbeat ⇄ Webshipper",
  peakwms_shopify: "PeakWMS ⇄ Shopify",
};

const state = { config: null, me: null, connection: null, settings: null, choices: {}, timers: [], cursor: null };

const $ = (selector, root = document) => root.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

function say(message) {
  $("#alert").textContent = "";
  $("#status").textContent = message;
}

function warn(message) {
  $("#status").textContent = "";
  $("#alert").textContent = message;
}

// ---- the API ----------------------------------------------------------------------------------------------------

function apiBase() {
  if (state.config.api_base) return state.config.api_base.replace(/\/$/, "");
  // Served by the admin API itself: the API's root is where /console is mounted (a stage prefix included).
  return location.origin + location.pathname.replace(/\/console(\/.*)?$/, "");
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `the admin API answered ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function api(method, path, body) {
  const headers = { Authorization: sessionStorage.getItem(TOKEN_KEY) || "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiBase() + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch (_) {
    parsed = { message: text };
  }
  if (response.status === 401) {
    signOut("Your session has ended; sign in again.");
    throw new ApiError(401, parsed);
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

function query(params) {
  const pairs = Object.entries(params).filter(([, value]) => value !== "" && value !== null && value !== undefined);
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

// ---- sign-in (Cognito USER_PASSWORD_AUTH, as the AWS SDK sends it) -------------------------------------------------

async function initiateAuth(email, password) {
  const endpoint = new URL(state.config.cognito_endpoint, location.href).toString();
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: state.config.client_id,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    // Cognito's NotAuthorizedException / UserNotFoundException: one message, so e-mails cannot be probed.
    throw new Error(answer.message || "The e-mail or password is not right.");
  }
  if (answer.ChallengeName) {
    throw new Error(`This account must first complete "${answer.ChallengeName}"; ask an operator.`);
  }
  return answer.AuthenticationResult.IdToken;
}

async function onSignIn(event) {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email) showFieldError(form.email, "Enter your e-mail address.");
  if (!password) showFieldError(form.password, "Enter your password.");
  if (!email || !password) return;
  try {
    sessionStorage.setItem(TOKEN_KEY, await initiateAuth(email, password));
    form.password.value = "";
    state.me = await api("GET", "/admin/me");
    showIdentity();
    say(`Signed in as ${state.me.email}.`);
    if (location.hash === "#/connections") await route();
    else location.hash = "#/connections";
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    warn(error.message);
  }
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.me = null;
  $("#main-nav").hidden = true;
  location.hash = "#/sign-in";
  if (message) warn(message);
}

function showIdentity() {
  $("#main-nav").hidden = false;
  $("#who-email").textContent = state.me.email;
  $("#who-role").textContent = state.me.operator ? "(operator)" : state.me.tenant ? `(tenant ${state.me.tenant})` : "";
  $("#nav-dead-letters").hidden = !state.me.operator;
}

// ---- field errors beside their fields (aria-describedby) ----------------------------------------------------------

function showFieldError(input, message) {
  const holder = document.getElementById(input.getAttribute("aria-describedby") || "");
  if (!holder) return false;
  holder.textContent = message;
  input.setAttribute("aria-invalid", "true");
  return true;
}

function clearFieldErrors(root) {
  for (const input of root.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const holder of root.querySelectorAll(".field-error")) holder.textContent = "";
  for (const holder of root.querySelectorAll(".form-errors")) holder.textContent = "";
  for (const badge of root.querySelectorAll(".tab-errors")) badge.textContent = "";
}

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

// ---- settings: tabs rendered from the schema the API returns, drop-downs from /choices ----------------------------

async function showSettings(connectionId, { keepMessages = false } = {}) {
  const id = encodeURIComponent(connectionId);
  const [settings, choices] = await Promise.all([
    api("GET", `/admin/connections/${id}/settings`),
    api("GET", `/admin/connections/${id}/choices`).catch((error) => {
      // The settings stay editable by hand when a system cannot be asked for its lists right now.
      if (error.status === 401) throw error;
      say(`The drop-down lists could not be read (${error.message}); type the values instead.`);
      return {};
    }),
  ]);
  state.settings = settings;
  state.choices = choices || {};
  const saved = settings.saved_at ? ` saved ${settings.saved_at}` : "";
  const by = settings.saved_by ? ` by ${settings.saved_by}` : "";
  $("#settings-version").textContent = `Version ${settings.version}${saved}${by}`;
  renderSettingsForm(state.connection.kind, settings.schema, settings.settings);
  if (!keepMessages) clearFieldErrors($("#settings-form"));
}

function resolve(schema, root) {
  let node = schema;
  while (node && node.$ref) node = root.$defs[node.$ref.replace("#/$defs/", "")];
  if (node && node.allOf && node.allOf.length === 1) return { ...node, ...resolve(node.allOf[0], root), allOf: undefined };
  return node || {};
}

// A property is one of: a group (object with properties), a map (object with additionalProperties), a list, or a
// single value; `anyOf [X, null]` is X that may be left empty.
function describe(schema, root) {
  let node = resolve(schema, root);
  let nullable = false;
  if (node.anyOf) {
    const options = node.anyOf.map((option) => resolve(option, root));
    nullable = options.some((option) => option.type === "null");
    const rest = options.filter((option) => option.type !== "null");
    node = rest.length === 1 ? { ...node, ...rest[0], anyOf: undefined } : { ...node, mixed: rest };
  }
  return { ...node, nullable };
}

function titleOf(name, node) {
  return node.title || name.replace(/_/g, " ");
}

function fieldId(path) {
  return "setting-" + path.replace(/[^a-zA-Z0-9]+/g, "-");
}

function renderSettingsForm(kind, schema, values) {
  const tabs = TABS[kind] || [["Settings", ["*"]]];
  const properties = Object.keys(schema.properties || {});
  const named = new Set(tabs.flatMap(([, keys]) => keys));
  const tablist = $("#settings-tabs");
  const panels = $("#settings-panels");
  tablist.replaceChildren();
  panels.replaceChildren();
  tabs.forEach(([label, keys], index) => {
    const members = keys.flatMap((key) => (key === "*" ? properties.filter((name) => !named.has(name)) : [key]));
    const present = members.filter((name) => properties.includes(name));
    if (!present.length) return;
    const tabId = `settings-tab-${index}`;
    const panelId = `settings-panel-${index}`;
    const tab = element(
      "button",
      { type: "button", role: "tab", id: tabId, "aria-controls": panelId, "aria-selected": "false", tabindex: "-1" },
      label,
      element("span", { class: "tab-errors" }),
    );
    tablist.append(tab);
    const panel = element("div", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, hidden: true });
    for (const name of present) panel.append(renderProperty(name, schema.properties[name], values[name], schema));
    panels.append(panel);
  });
  selectTab($("[role=tab]", tablist));
}

function selectTab(tab) {
  if (!tab) return;
  for (const other of document.querySelectorAll("#settings-tabs [role=tab]")) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
  }
}

function onTabKey(event) {
  const tabs = [...document.querySelectorAll("#settings-tabs [role=tab]")];
  const index = tabs.indexOf(document.activeElement);
  if (index < 0) return;
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
  selectTab(next);
  next.focus();
}

function renderProperty(path, schema, value, root) {
  const node = describe(schema, root);
  const name = path.split(".").pop();
  if (node.type === "object" && node.properties) {
    const box = element("fieldset", { class: "group", "data-group": path });
    box.append(element("legend", { text: titleOf(name, node) }));
    if (node.description) box.append(element("p", { class: "hint", text: node.description }));
    for (const [child, childSchema] of Object.entries(node.properties)) {
      box.append(renderProperty(`${path}.${child}`, childSchema, (value || {})[child], root));
    }
    return box;
  }
  if (node.type === "object" && node.additionalProperties) return renderMap(path, name, node, value || {}, root);
  return renderValue(path, name, node, value, root);
}

function renderValue(path, name, node, value, root) {
  const id = fieldId(path);
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = node.description ? `${hintId} ${errorId}` : errorId;
  const wrap = element("p", { class: "field" });
  const label = element("label", { for: id, text: titleOf(name, node) });
  const common = {
    id, name: path, "data-path": path, "aria-describedby": described, "data-nullable": node.nullable ? "true" : null,
  };
  const choices = state.choices[path];
  let input;
  if (node.type === "boolean") {
    input = element("input", { ...common, type: "checkbox", "data-type": "boolean" });
    input.checked = Boolean(value);
    wrap.classList.add("check");
    wrap.append(input, label);
  } else if (node.type === "array") {
    const item = describe(node.items || {}, root);
    const itemType = item.type === "integer" || item.type === "number" ? "number" : "text";
    if (choices) {
      input = element("select", { ...common, multiple: true, "data-type": `list-${itemType}` });
      addOptions(input, choices, value || [], false);
    } else {
      input = element("input", { ...common, type: "text", "data-type": `list-${itemType}` });
      input.value = (value || []).join(", ");
    }
    wrap.append(label, input);
  } else {
    const enumValues = node.enum || (node.const !== undefined ? [node.const] : null);
    const type = node.mixed ? "mixed" : node.type === "integer" || node.type === "number" ? "number" : "text";
    if (choices || enumValues) {
      input = element("select", { ...common, "data-type": type });
      const options = choices || enumValues.map((option) => ({ value: option, label: String(option) }));
      addOptions(input, options, value === undefined || value === null ? [] : [value], node.nullable || !choices);
    } else {
      input = element("input", {
        ...common,
        type: type === "number" ? "number" : "text",
        inputmode: type === "number" ? "numeric" : null,
        "data-type": type,
      });
      input.value = value === undefined || value === null ? "" : String(value);
    }
    wrap.append(label, input);
  }
  input.dataset.initial = currentText(input);
  if (node.description) wrap.append(element("span", { class: "hint", id: hintId, text: node.description }));
  wrap.append(element("span", { class: "field-error", id: errorId }));
  return wrap;
}

function addOptions(select, options, selected, allowEmpty) {
  const chosen = new Set(selected.map(String));
  if (allowEmpty && !select.multiple) select.append(element("option", { value: "", text: "(none)" }));
  const known = new Set();
  for (const option of options) {
    known.add(String(option.value));
    // The value is shown once, so a person can match it with what Rackbeat shows, unless the label has it already.
    const label = option.label.includes(String(option.value)) ? option.label : `${option.label} (${option.value})`;
    select.append(element("option", { value: option.value, selected: chosen.has(String(option.value)), text: label }));
  }
  // A stored value the system no longer lists stays selectable, so opening the form never changes it.
  for (const value of chosen) {
    if (!known.has(value)) select.append(element("option", { value, selected: true, text: `${value} (not listed)` }));
  }
  if (!allowEmpty && !chosen.size && !select.multiple) {
    select.prepend(element("option", { value: "", selected: true, text: "(choose)" }));
  }
}

// A map (Shopbox branch → Rackbeat location, country → location): one row per key, the keys offered by the choices
// of `path` (e.g. the Shopbox branches), the values by those of `path.*`.
function renderMap(path, name, node, value, root) {
  const box = element("fieldset", { class: "map", "data-map": path });
  box.append(element("legend", { text: titleOf(name, node) }));
  if (node.description) box.append(element("p", { class: "hint", text: node.description }));
  const valueNode = describe(node.additionalProperties, root);
  const keyChoices = state.choices[path];
  const rows = element("div", { class: "map-rows" });
  const keys = keyChoices ? keyChoices.map((choice) => String(choice.value)) : [];
  for (const key of Object.keys(value)) if (!keys.includes(key)) keys.push(key);
  for (const key of keys) {
    const label = keyChoices && keyChoices.find((choice) => String(choice.value) === key);
    rows.append(mapRow(path, key, label ? label.label : key, valueNode, value[key], root, Boolean(keyChoices)));
  }
  box.append(rows, element("span", { class: "field-error", id: `${fieldId(path)}-error` }));
  if (!keyChoices) {
    const add = element("button", { type: "button", text: `Add a row to ${titleOf(name, node)}` });
    add.addEventListener("click", () => {
      const key = prompt("Key of the new row");
      if (key) rows.append(mapRow(path, key, key, valueNode, undefined, root, false));
    });
    box.append(add);
  }
  return box;
}

function mapRow(path, key, label, valueNode, value, root, offered) {
  const rowPath = `${path}.${key}`;
  const row = renderValue(rowPath, label, { ...valueNode, title: label, nullable: offered || valueNode.nullable },
    value, root);
  const input = $("[data-path]", row);
  input.dataset.mapKey = key;
  input.dataset.map = path;
  const valueChoices = state.choices[`${path}.*`];
  if (valueChoices && input.tagName === "INPUT") {
    const select = element("select", {
      id: input.id, name: input.name, "data-path": rowPath, "data-type": input.dataset.type, "data-map": path,
      "data-map-key": key, "aria-describedby": input.getAttribute("aria-describedby"),
    });
    addOptions(select, valueChoices, value === undefined || value === null ? [] : [value], true);
    input.replaceWith(select);
  }
  return row;
}

function currentText(input) {
  if (input.type === "checkbox") return String(input.checked);
  if (input.multiple) return [...input.selectedOptions].map((option) => option.value).join(",");
  return input.value;
}

function readInput(input) {
  const type = input.dataset.type;
  if (type === "boolean") return input.checked;
  if (type && type.startsWith("list-")) {
    const raw = input.multiple ? [...input.selectedOptions].map((o) => o.value) : input.value.split(",");
    return raw.map((part) => part.trim()).filter(Boolean).map((part) => (type === "list-number" ? number(part) : part));
  }
  const raw = input.value.trim();
  // Left empty: nothing for a setting that may be empty; for one that may not, the empty text is sent, so the
  // API's own rule says what it needs ("must not be blank"), beside the field.
  if (raw === "") return input.dataset.nullable ? null : "";
  if (type === "number" || (type === "mixed" && /^-?\d+$/.test(raw))) return number(raw);
  return raw;
}

// Text that is not a number is sent as it was typed: the API's validation names the field, the form does not guess.
function number(raw) {
  return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
}

function setPath(target, path, value) {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part];
  }
  node[parts[parts.length - 1]] = value;
}

function getPath(source, path) {
  return path.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), source);
}

// The saved document with the form's values put in: a value that was absent and is still empty stays absent.
function collectSettings() {
  const settings = structuredClone(state.settings.settings);
  const maps = {};
  for (const input of document.querySelectorAll("#settings-panels [data-path]")) {
    const value = readInput(input);
    if (input.dataset.map) {
      const map = (maps[input.dataset.map] ||= {});
      if (value !== null) map[input.dataset.mapKey] = value;
      continue;
    }
    const path = input.dataset.path;
    // A setting the document leaves out stays out unless the person changed its field.
    if (getPath(settings, path) === undefined && currentText(input) === input.dataset.initial) continue;
    setPath(settings, path, value);
  }
  for (const [path, map] of Object.entries(maps)) setPath(settings, path, map);
  return settings;
}

async function onSaveSettings(event) {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  const id = encodeURIComponent(state.connection.connection_id);
  try {
    const saved = await api("PUT", `/admin/connections/${id}/settings`, {
      version: state.settings.version,
      settings: collectSettings(),
    });
    await showSettings(state.connection.connection_id, { keepMessages: true });
    say(`Settings saved (version ${saved.version}).`);
  } catch (error) {
    if (error.status === 422) showSettingsErrors(error.body);
    else if (error.status === 409) warn(`${error.message} Reload to see the current settings, then save again.`);
    else warn(error.message);
  }
}

// Each problem beside its field; one the form has no field for is listed above the tabs. The first tab with a
// problem is opened and its first field focused.
function showSettingsErrors(body) {
  const general = $("#settings-general-errors");
  const list = element("ul");
  let first = null;
  for (const problem of body.errors || []) {
    const input = fieldFor(problem.field || "");
    const holder = input && document.getElementById(`${input.id}-error`);
    if (holder) {
      holder.textContent = holder.textContent ? `${holder.textContent} ${problem.message}` : problem.message;
      if (input.setAttribute) input.setAttribute("aria-invalid", "true");
      const panel = input.closest("[role=tabpanel]");
      const badge = panel && $(`#${panel.getAttribute("aria-labelledby")} .tab-errors`);
      if (badge) badge.textContent = ` (${Number(badge.textContent.replace(/\D/g, "") || 0) + 1} to fix)`;
      first ||= input;
    } else {
      list.append(element("li", { text: problem.field ? `${problem.field}: ${problem.message}` : problem.message }));
    }
  }
  general.replaceChildren(element("p", { text: body.message || "The settings were not saved." }), list);
  if (first) {
    selectTab($(`#${first.closest("[role=tabpanel]").getAttribute("aria-labelledby")}`));
    first.focus();
  } else {
    general.focus();
  }
  warn(body.message || "The settings were not saved; see the messages beside the fields.");
}

// `settings.orders.layout_id`, `orders.layout_id` or a path one level deeper than the form knows (a list's item, a
// key of a group the model refused) all land on the nearest field or group the form shows.
function fieldFor(field) {
  let parts = field.split(".").filter(Boolean);
  if (parts[0] === "settings" || parts[0] === "body") parts = parts.slice(parts[0] === "body" ? 2 : 1);
  if (parts[0] === "body") parts = parts.slice(1);
  while (parts.length) {
    const path = parts.join(".");
    const found =
      document.querySelector(`#settings-panels [data-path="${CSS.escape(path)}"]`) ||
      document.querySelector(`#settings-panels [data-map="${CSS.escape(path)}"] .field-error`)?.closest("fieldset") ||
      document.querySelector(`#settings-panels [data-group="${CSS.escape(path)}"]`);
    if (found) return found.tagName === "FIELDSET" ? groupErrorTarget(found, path) : found;
    parts = parts.slice(0, -1);
  }
  return null;
}

function groupErrorTarget(fieldset, path) {
  let holder = $(`#${fieldId(path)}-error`, fieldset);
  if (!holder) {
    holder = element("span", { class: "field-error", id: `${fieldId(path)}-error` });
    fieldset.append(holder);
  }
  fieldset.id ||= fieldId(path);
  fieldset.setAttribute("aria-describedby", holder.id);
  fieldset.tabIndex = -1;
  return fieldset;
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
  try {
    const started = await api("POST", `/admin/connections/${encodeURIComponent(id)}/initial-sync`);
    say(started.warning ? `Initial sync started. ${started.warning}` : "Initial sync started.");
    stopPolling();
    await showInitialSync(id);
  } catch (error) {
    warn(error.message);
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
  try {
    await api("POST", `/admin/connections/${id}/setup/${encodeURIComponent(button.dataset.step)}/${button.dataset.do}`);
    say(`Step ${button.dataset.step}: ${button.dataset.do === "run" ? "started" : "skipped"}.`);
    stopPolling();
    await showSetup(state.connection.connection_id);
  } catch (error) {
    warn(error.message);
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
