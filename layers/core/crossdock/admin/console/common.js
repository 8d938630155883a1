// The Crossdock console, part 1 of 3 (common.js → settings.js → app.js, classic scripts sharing one global scope,
// no build step): the shared state and DOM helpers, the admin API client, the sign-in and the field errors.
// It talks to the admin API only (docs/admin-api.md) and to Cognito's InitiateAuth; the id token lives in
// sessionStorage, so it is gone when the tab closes. Every page is a <section> of index.html, shown by the hash route.
"use strict";

const TOKEN_KEY = "crossdock.id_token";
const POLL_MS = 1000;

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
