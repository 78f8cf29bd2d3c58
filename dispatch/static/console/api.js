/* Talking to the server's JSON API, and the notice line that reports what came of it. */

import { $ } from "../common/dom.js";
import { T } from "./state.js";

var csrfToken = document.querySelector('meta[name="csrf-token"]').content;

/** A JSON API call; resolves to {ok, status, data, date}, rejects only when the network fails. */
export function api(method, path, body) {
  var options = {method: method, credentials: "same-origin",
                 headers: {Accept: "application/json"}};
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRFToken"] = csrfToken;
    options.body = JSON.stringify(body);
  }
  return fetch(path, options).then(function (response) {
    return response.json().catch(function () { return null; }).then(function (data) {
      return {ok: response.ok, status: response.status, data: data,
              date: response.headers.get("Date")};
    });
  });
}

export function errorText(result) {
  var error = result && result.data && result.data.error;
  if (!error) return T.request_failed;
  return T.errors[error.code] || error.message || T.request_failed;
}

// -- notices --------------------------------------------------------------------------------

var noticeTimer = null;

export function notice(text, kind) {
  var node = $("notice");
  node.textContent = text;
  node.className = "notice" + (kind ? " notice-" + kind : "");
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(function () { node.textContent = ""; }, 15000);
}
