/* The job view: a board row opened (Enter or a click) shows the job's details and its whole
 * history (every kind the server records, known ones in words, others as they come), and the
 * operator's actions, by keyboard: R sends it to the next nearest car that has not had it,
 * 1–9 to the car listed under that digit, Q puts it back in the queue, C cancels it (the
 * reason is required: the field takes it, Enter sends, Esc leaves it). Esc closes the view. */

import { $, clear, el } from "../common/dom.js";
import { api, errorText, notice } from "./api.js";
import { dateTimeText, fmt, kmText, street } from "./format.js";
import { landlordById, patrolName, state, T } from "./state.js";

var OPEN = ["queued", "assigned", "accepted", "en_route", "on_site"];
var view = null;   // {job, events, cars, cancelling}

export function jobViewOpen() { return !!view; }

/** Open the job (from the board). */
export function openJob(jobId) {
  return api("GET", "/api/v1/jobs/" + jobId).then(function (result) {
    if (!result.ok) { notice(errorText(result), "error"); return; }
    view = {job: result.data, events: result.data.events || [], cancelling: false};
    render();
    $("jobview").focus();
  }).catch(function () { notice(T.request_failed, "error"); });
}

export function closeJob() {
  if (!view) return false;
  var jobId = view.job.job_id;
  view = null;
  render();
  var row = document.querySelector('#board .job[data-job-id="' + jobId + '"]');
  if (row) row.focus(); else $("console").focus();
  return true;
}

/** A job changed (socket): the open view follows it, its history read again. */
export function jobChanged(job) {
  if (!view || view.job.job_id !== job.job_id) return;
  api("GET", "/api/v1/jobs/" + job.job_id).then(function (result) {
    if (!result.ok || !view || view.job.job_id !== job.job_id) return;
    view.job = result.data;
    view.events = result.data.events || [];
    render();
  }).catch(function () {});
}

function isOpen() { return view && OPEN.indexOf(view.job.status) >= 0; }

function rad(x) { return x * Math.PI / 180; }

function metres(lat1, lon1, lat2, lon2) {
  var a = Math.pow(Math.sin(rad(lat2 - lat1) / 2), 2) +
    Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.pow(Math.sin(rad(lon2 - lon1) / 2), 2);
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

/** The cars free to take it, nearest first (the digits choose among the first nine). */
function freeCars(job) {
  return Array.from(state.patrols.values()).filter(function (p) {
    return p.status === "available" && p.patrol_id !== job.patrol_id;
  }).map(function (p) {
    var d = (p.lat != null && job.lat != null) ? metres(job.lat, job.lon, p.lat, p.lon) : null;
    return {patrol: p, distance: d};
  }).sort(function (a, b) {
    return (a.distance == null) - (b.distance == null) || a.distance - b.distance ||
      a.patrol.name.localeCompare(b.patrol.name, "sv");
  }).slice(0, 9);
}

function historyText(e) {
  var name = T.history_kinds[e.kind];
  var parts = [name || e.kind];
  var d = e.details || {};
  if (e.kind === "call_attempt") {
    if (d.number) parts.push(d.number);
    if (d.answered != null) parts.push(d.answered ? T.answered : T.not_answered);
  } else if (d.reason) {
    parts.push(T.reasons[d.reason] || d.reason);
  } else if (!name) {
    // A kind this page does not know: its details as they come, so nothing is hidden.
    Object.keys(d).forEach(function (key) {
      if (d[key] != null && typeof d[key] !== "object") parts.push(key + ": " + d[key]);
    });
  }
  return parts.join(" · ");
}

function render() {
  var panel = $("jobview"), body = $("jobview-body");
  clear(body);
  panel.hidden = !view;
  $("console").classList.toggle("job-open", !!view);
  if (!view) return;
  var job = view.job;
  var landlord = landlordById.get(job.landlord_id);
  $("jobview-title").textContent = fmt(T.job_title, {job: job.job_id});
  body.appendChild(el("p", {class: "jobview-head"}, [
    el("strong", {text: street(job.address) +
      (job.lagenhetsnummer ? ", " + T.flat + " " + job.lagenhetsnummer : "")}),
    " · " + (T.categories[job.category] || job.category) + " · P" + job.priority,
  ]));
  var facts = [
    [T.status, T.job_status[job.status] || job.status],
    [T.patrol, job.patrol_id ? patrolName(job.patrol_id) : "–"],
    [T.landlord, landlord ? landlord.name : "–"],
  ];
  if (job.description) facts.push([T.description, job.description]);
  body.appendChild(el("dl", {class: "facts"}, facts.reduce(function (all, f) {
    return all.concat([el("dt", {text: f[0]}), el("dd", {text: f[1]})]);
  }, [])));
  if (job.alarm) {
    body.appendChild(el("p", {class: "alarm-line", role: "alert",
                              text: T.alarms[job.alarm] || job.alarm}));
  }
  body.appendChild(el("h3", {text: T.history}));
  body.appendChild(el("ol", {class: "job-history"}, view.events.map(function (e) {
    var who = [e.patrol, e.user].filter(Boolean).join(", ");
    return el("li", {dataset: {kind: e.kind}}, [
      el("span", {class: "when", text: dateTimeText(e.at)}), " ",
      el("span", {class: "what", text: historyText(e)}),
      who ? el("span", {class: "who muted", text: " (" + who + ")"}) : null,
    ]);
  })));
  if (!isOpen()) return;
  if (view.cancelling) {
    body.appendChild(el("form", {class: "cancel-form", novalidate: true,
                                 onsubmit: function (ev) { ev.preventDefault(); cancelJob(); }}, [
      el("label", {for: "cancel-reason", text: T.cancel_reason}),
      el("input", {id: "cancel-reason", type: "text", maxlength: "500", autocomplete: "off",
                   "aria-describedby": "cancel-error"}),
      el("p", {id: "cancel-error", class: "error", role: "alert"}),
      el("div", {class: "actions"}, [
        el("button", {type: "submit", class: "danger", text: T.cancel_confirm}),
        el("button", {type: "button", text: T.cancel_keep,
                      onclick: function () { view.cancelling = false; render(); }}),
      ]),
    ]));
    return;
  }
  view.cars = freeCars(job);
  if (view.cars.length) {
    body.appendChild(el("h3", {text: T.send_to}));
    body.appendChild(el("ol", {class: "recommended"}, view.cars.map(function (c, i) {
      return el("li", {}, [
        el("kbd", {class: "key", text: String(i + 1)}),
        el("strong", {text: c.patrol.name}),
        el("span", {class: "num distance", text: c.distance != null ? kmText(c.distance) : ""}),
        el("button", {type: "button", text: T.dispatch_this,
                      onclick: function () { redispatchJob(c.patrol.patrol_id); }}),
      ]);
    })));
  }
  body.appendChild(el("div", {class: "actions job-actions"}, [
    el("button", {type: "button", onclick: function () { redispatchJob(); }},
       [el("kbd", {text: "R"}), " " + T.redispatch_next]),
    job.status !== "queued" ? el("button", {type: "button", onclick: requeueJob},
                                 [el("kbd", {text: "Q"}), " " + T.to_queue]) : null,
    el("button", {type: "button", class: "danger", onclick: startCancel},
       [el("kbd", {text: "C"}), " " + T.cancel_job]),
    el("button", {type: "button", onclick: closeJob}, [el("kbd", {text: "Esc"}), " " + T.close]),
  ]));
}

function done(result, okText) {
  if (result.ok) {
    notice(okText, "ok");
  } else {
    notice(fmt(T.action_failed, {message: errorText(result)}), "error");
  }
  return result;
}

/** R (no car: the next nearest that has not had it) or a digit (that car). */
export function redispatchJob(patrolId) {
  if (!isOpen()) return;
  var jobId = view.job.job_id;
  var body = patrolId ? {patrol_id: patrolId} : {};
  return api("POST", "/api/v1/jobs/" + jobId + "/redispatch", body).then(function (result) {
    done(result, result.ok ? fmt(T.dispatched, {job: jobId,
                                               patrol: patrolName(result.data.patrol_id)}) : "");
  }).catch(function () { notice(T.request_failed, "error"); });
}

/** A digit in the view: the car listed under it. */
export function chooseCar(i) {
  if (!isOpen() || view.cancelling || !view.cars || !view.cars[i]) return false;
  redispatchJob(view.cars[i].patrol.patrol_id);
  return true;
}

export function requeueJob() {
  if (!isOpen() || view.job.status === "queued") return;
  var jobId = view.job.job_id;
  return api("POST", "/api/v1/jobs/" + jobId + "/requeue", {}).then(function (result) {
    done(result, fmt(T.requeued, {job: jobId}));
  }).catch(function () { notice(T.request_failed, "error"); });
}

export function startCancel() {
  if (!isOpen()) return;
  view.cancelling = true;
  render();
  $("cancel-reason").focus();
}

export function cancelling() { return !!view && view.cancelling; }

export function stopCancel() {
  if (!cancelling()) return false;
  view.cancelling = false;
  render();
  $("jobview").focus();
  return true;
}

function cancelJob() {
  var input = $("cancel-reason"), jobId = view.job.job_id;
  var reason = input.value.trim();
  if (!reason) {
    $("cancel-error").textContent = T.reason_required;
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  api("POST", "/api/v1/jobs/" + jobId + "/cancel", {reason: reason}).then(function (result) {
    if (!result.ok) {
      // What was typed stays; the error is said beside it.
      $("cancel-error").textContent = errorText(result);
      input.setAttribute("aria-invalid", "true");
      return;
    }
    notice(fmt(T.cancelled, {job: jobId}), "ok");
    view.cancelling = false;
    jobChanged(view.job);
  }).catch(function () { $("cancel-error").textContent = T.request_failed; });
}
