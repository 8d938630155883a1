// The Crossdock console, part 2 of 3: a connection's settings form, rendered from the JSON Schema and the settings
// the API returns, drop-downs from /choices, and a refused save's problems shown beside their fields.
"use strict";

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
// ---- settings: tabs rendered from the schema the API returns, drop-downs from /choices ----------------------------

async function showSettings(connectionId, { keepMessages = false } = {}) {
  const id = encodeURIComponent(connectionId);
  const [settings, choices] = await Promise.all([
    api("GET", `/admin/connections/${id}/settings`),
    apiAnswer("GET", `/admin/connections/${id}/choices`).catch((error) => {
      // The settings stay editable by hand when a system cannot be asked for its lists right now.
      if (error.status === 401) throw error;
      say(`The drop-down lists could not be read (${error.message}); type the values instead.`);
      return { body: {}, headers: new Headers() };
    }),
  ]);
  state.settings = settings;
  state.choices = choices.body || {};
  state.unavailable = systemsNamed(choices.headers.get(UNAVAILABLE_HEADER));
  showUnavailable(state.unavailable);
  const saved = settings.saved_at ? ` saved ${settings.saved_at}` : "";
  const by = settings.saved_by ? ` by ${settings.saved_by}` : "";
  $("#settings-version").textContent = `Version ${settings.version}${saved}${by}`;
  renderSettingsForm(state.connection.kind, settings.schema, settings.settings);
  if (!keepMessages) clearFieldErrors($("#settings-form"));
}

// ---- a system that could not be read: its fields take free text until it answers again ---------------------------

// The answer's header naming the systems whose lists are left out (docs/admin-api.md: `rackbeat,shopbox`).
const UNAVAILABLE_HEADER = "Crossdock-Choices-Unavailable";
const SYSTEM_NAMES = {
  rackbeat: "Rackbeat", shopify: "Shopify", shopbox: "Shopbox", webshipper: "Webshipper", peakwms: "PeakWMS",
};

function systemsNamed(header) {
  return (header || "").split(",").map((name) => name.trim()).filter(Boolean);
}

function namesOf(systems) {
  const names = systems.map((system) => SYSTEM_NAMES[system] || system);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}` : names[0];
}

// Above the tabs, so it is seen whichever tab is open. The answer names the systems, not their fields: a field whose
// list is missing is a text field like any field without choices, and its stored value is kept as it is.
function showUnavailable(systems) {
  const notice = $("#settings-unavailable");
  notice.replaceChildren();
  notice.hidden = !systems.length;
  if (!systems.length) return;
  const names = namesOf(systems);
  const one = systems.length === 1;
  notice.append(
    element("p", {
      text: `${names} could not be read just now, so ${one ? "its" : "their"} lists are missing from this form. ` +
        `The fields that would list ${one ? "its" : "their"} values take free text meanwhile: type the value as ` +
        `${names} shows it. Reload to try again.`,
    }),
  );
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
  return node.title || name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " ");
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
  // The field's own title, never its model's (a `$ref` resolves to a class name such as "ProductSync").
  const node = { ...describe(schema, root), title: schema.title };
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
      "data-nullable": input.dataset.nullable || null,
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
