// The Crossdock console, part 1 of 3 (common.js → settings.js → app.js, classic scripts sharing one global scope,
// no build step): the shared state and DOM helpers, the admin API client, the sign-in and the field errors.
// It talks to the admin API only (docs/admin-api.md) and to Cognito's InitiateAuth; the id and refresh tokens live
// in sessionStorage, so they are gone when the tab closes. Every page is a <section> of index.html, shown by the hash
// route.
"use strict";

const TOKEN_KEY = "crossdock.id_token";
// Cognito's refresh token (12 hours, template.yaml), kept for the tab only as the id token is (docs/console.md says
// why sessionStorage): one REFRESH_TOKEN_AUTH when the API answers 401. It goes to Cognito and nowhere else, and is
// never written to the page or the browser's console.
const REFRESH_KEY = "crossdock.refresh_token";
const SESSION_ENDED = "Your session has ended; sign in again.";
const POLL_MS = 1000;

const KIND_NAMES = {
  rackbeat_shopify: "Rackbeat ⇄ Shopify",
  rackbeat_shopbox: "Rackbeat ⇄ Shopbox",
  rackbeat_webshipper: "Rackbeat ⇄ Webshipper",
  peakwms_shopify: "PeakWMS ⇄ Shopify",
};

const state = {
  config: null, me: null, challenge: null, connection: null, settings: null, choices: {}, unavailable: [], timers: [],
  cursor: null, refreshing: null,
};

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

// The answer's body.
async function api(method, path, body) {
  return (await apiAnswer(method, path, body)).body;
}

// The answer's `{body, headers}`. A 401 (the id token expired: 60 minutes) is answered by one refresh of the id token
// and the same call once more; a 401 to that too, or a refresh Cognito refuses, signs out.
async function apiAnswer(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY) || "";
  let answer = await send(method, path, body, token);
  if (answer.status === 401 && (await refreshedSince(token))) {
    answer = await send(method, path, body, sessionStorage.getItem(TOKEN_KEY) || "");
  }
  if (answer.status === 401) {
    signOut(SESSION_ENDED);
    // The page's own handlers show an error's message: this one says the same as the sign-out did.
    throw new ApiError(401, { message: SESSION_ENDED });
  }
  if (!answer.ok) throw new ApiError(answer.status, answer.body);
  return answer;
}

async function send(method, path, body, token) {
  const headers = { Authorization: token };
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
  return { status: response.status, ok: response.ok, headers: response.headers, body: parsed };
}

function query(params) {
  const pairs = Object.entries(params).filter(([, value]) => value !== "" && value !== null && value !== undefined);
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

// ---- sign-in (Cognito USER_PASSWORD_AUTH, as the AWS SDK sends it) -------------------------------------------------

// One call to Cognito's JSON API, as the AWS SDK sends it; Cognito's refusal (its `message`) is thrown with its type.
async function cognito(target, body) {
  const endpoint = new URL(state.config.cognito_endpoint, location.href).toString();
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify({ ClientId: state.config.client_id, ...body }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(answer.message || "");
    error.type = String(answer.__type || "").split("#").pop();
    throw error;
  }
  return answer;
}

// Cognito's AuthenticationResult (`{result}`), or the challenge it asks to be answered first
// (`{challenge, session, username}`).
async function initiateAuth(email, password) {
  let answer;
  try {
    answer = await cognito("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
  } catch (error) {
    // Cognito's NotAuthorizedException / UserNotFoundException: one message, so e-mails cannot be probed.
    throw new Error("The e-mail or password is not right.");
  }
  if (answer.ChallengeName) {
    // Answered with the e-mail the user signed in with (the pool signs in by e-mail, and Cognito takes it as the
    // username), not the challenge's USERNAME (the user's sub): moto names the token's `email` claim after it.
    return { challenge: answer.ChallengeName, session: answer.Session, username: email };
  }
  return { result: answer.AuthenticationResult };
}

// Whether there is an id token newer than `expired` to call with now. Calls refused at the same time (the settings
// page asks for the settings and the choices together) share one refresh; a call refused with a token another call
// has already replaced takes the new one without asking Cognito again.
async function refreshedSince(expired) {
  const current = sessionStorage.getItem(TOKEN_KEY);
  if (current !== expired) return Boolean(current);
  if (!state.refreshing) state.refreshing = refreshIdToken().finally(() => (state.refreshing = null));
  return state.refreshing;
}

// A new id token from the refresh token (REFRESH_TOKEN_AUTH; Cognito answers no new refresh token); false when there
// is none, or Cognito refuses it (expired after 12 hours, or revoked by a global sign-out).
async function refreshIdToken() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (!refreshToken) return false;
  try {
    const answer = await cognito("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    sessionStorage.setItem(TOKEN_KEY, answer.AuthenticationResult.IdToken);
    return true;
  } catch (_) {
    return false;  // the reason stays unshown: Cognito's message may quote what it was sent
  }
}

// Cognito's AuthenticationResult of a sign-in: the id token for the API, the refresh token for later.
async function signedIn(result) {
  sessionStorage.setItem(TOKEN_KEY, result.IdToken);
  if (result.RefreshToken) sessionStorage.setItem(REFRESH_KEY, result.RefreshToken);
  else sessionStorage.removeItem(REFRESH_KEY);
  state.me = await api("GET", "/admin/me");
  showIdentity();
  say(`Signed in as ${state.me.email}.`);
  if (location.hash === "#/connections") await route();
  else location.hash = "#/connections";
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
    const answer = await initiateAuth(email, password);
    form.password.value = "";
    if (answer.challenge === "NEW_PASSWORD_REQUIRED") return askNewPassword(answer);
    if (answer.challenge) throw new Error(`This account must first complete "${answer.challenge}"; ask an operator.`);
    await signedIn(answer.result);
  } catch (error) {
    forgetTokens();
    warn(error.message);
  }
}

// ---- a user invited without a password (FORCE_CHANGE_PASSWORD) chooses one at first sign-in -----------------------

function askNewPassword(challenge) {
  state.challenge = challenge;
  $("#sign-in-form").hidden = true;
  const form = $("#new-password-form");
  clearFieldErrors(form);
  form.hidden = false;
  say("Choose a new password for your account.");
  form.new_password.focus();
}

async function onNewPassword(event) {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  const password = form.new_password.value;
  if (!password) return showFieldError(form.new_password, "Enter a new password.");
  if (password !== form.new_password_again.value) {
    return showFieldError(form.new_password_again, "The two passwords are not the same.");
  }
  const challenge = state.challenge;
  try {
    const answer = await cognito("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: password },
    });
    if (!answer.AuthenticationResult) throw new Error("Cognito asked for another step; ask an operator.");
    state.challenge = null;
    form.reset();
    form.hidden = true;
    $("#sign-in-form").hidden = false;
    await signedIn(answer.AuthenticationResult);
  } catch (error) {
    if (error.type === "InvalidPasswordException") {
      // The pool's policy (template.yaml: at least 12 characters, upper and lower case, a digit) is Cognito's to keep.
      const detail = error.message ? ` (${error.message})` : "";
      showFieldError(form.new_password, `The password is refused by the account policy${detail}.`);
      return;
    }
    forgetTokens();
    // An expired session (NotAuthorizedException): the temporary password must be given again.
    form.hidden = true;
    $("#sign-in-form").hidden = false;
    warn(error.message || "The new password could not be set; sign in again with the temporary one.");
  }
}

function forgetTokens() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
}

function signOut(message) {
  forgetTokens();
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
