/* Dispatch: the logged complaint's recommended cars (a digit sends one) and sending a job, to
 * a chosen car or to the nearest available one. */

import { $, clear, el } from "../common/dom.js";
import { api, errorText, notice } from "./api.js";
import { fmt, kmText } from "./format.js";
import { releaseKeptObject } from "./object.js";
import { patrolName, state, T } from "./state.js";

var shownJob = null;

export function renderResult() {
  var panel = $("result"), body = $("result-body"), r = state.result;
  // The logged complaint's object view stays until its job is sent or the panel is set aside.
  if (shownJob != null && (!r || r.job_id !== shownJob)) releaseKeptObject(shownJob);
  shownJob = r ? r.job_id : null;
  if (r && r.outcomeKind === "ok") releaseKeptObject(r.job_id);
  clear(body);
  panel.hidden = !r;
  // While a logged job waits for its car, the digits choose cars, not neighbours.
  $("console").classList.toggle("dispatch-pending", !!r && !r.outcome);
  if (!r) return;
  body.appendChild(el("p", {class: "result-head"}, [
    el("strong", {text: fmt(T.logged, {job: r.job_id})}),
    " · " + r.category + " · " + r.address,
  ]));
  if (r.outcome) {
    body.appendChild(el("p", {class: "outcome " + (r.outcomeKind || ""), text: r.outcome}));
    return;
  }
  if (!r.recommended.length) {
    body.appendChild(el("p", {class: "warning", text: T.no_patrol}));
  } else {
    body.appendChild(el("ol", {class: "recommended"}, r.recommended.map(function (c, i) {
      return el("li", {class: i === 0 ? "first" : ""}, [
        el("kbd", {class: "key", text: String(i + 1)}),
        el("strong", {text: c.name}),
        el("span", {class: "num distance", text: kmText(c.distance_m)}),
        el("span", {class: "num", text: fmt(T.eta, {min: c.eta_min})}),
        el("button", {type: "button", text: i === 0 ? T.dispatch_first : T.dispatch_this,
                      class: i === 0 ? "primary" : "",
                      onclick: function () { dispatchJob(r.job_id, c.patrol_id); }}),
      ]);
    })));
  }
  body.appendChild(el("p", {class: "hint muted small", text: T.dispatch_hint}));
}

/** Send the job: to the given patrol, or (none given) to the nearest available one. */
export function dispatchJob(jobId, patrolId) {
  var body = patrolId ? {patrol_id: patrolId} : {};
  return api("POST", "/api/v1/jobs/" + jobId + "/dispatch", body).then(function (result) {
    var text, kind;
    if (result.ok && result.data.patrol_id) {
      text = fmt(T.dispatched, {job: jobId, patrol: patrolName(result.data.patrol_id)});
      kind = "ok";
    } else if (result.ok) {
      text = fmt(T.still_queued, {job: jobId});
      kind = "warning";
    } else {
      text = fmt(T.dispatch_failed, {message: errorText(result)});
      kind = "error";
    }
    if (state.result && state.result.job_id === jobId) {
      state.result.outcome = text;
      state.result.outcomeKind = kind;
      renderResult();
    }
    notice(text, kind);
  }).catch(function () { notice(T.request_failed, "error"); });
}
