/* The board: open jobs by status and the patrols, loaded from GET /api/v1/board and then kept
 * current by the socket's events (every console applies the same events, so two consoles show
 * the same board); arrows move between jobs. */

import { $, clear, el } from "../common/dom.js";
import { updateAlarms } from "./alarms.js";
import { api, errorText, notice } from "./api.js";
import { renderCall } from "./call.js";
import { street, timer } from "./format.js";
import { jobChanged, openJob } from "./jobview.js";
import { renderMap } from "./map.js";
import { landlordById, patrolName, state, T } from "./state.js";

var OPEN_STATUSES = ["queued", "assigned", "accepted", "en_route", "on_site"];

var boardLoads = 0, buffered = [];

export function loadBoard() {
  boardLoads++;
  return api("GET", "/api/v1/board").then(function (result) {
    if (!result.ok) { notice(errorText(result), "error"); return; }
    if (result.date) {
      var skew = Date.parse(result.date) - Date.now();
      state.skewMs = Math.abs(skew) > 2000 ? skew : 0;
    }
    state.ackAfterS = result.data.ack_alarm_after_s;
    state.jobs = new Map(result.data.jobs.map(function (j) { return [j.job_id, j]; }));
    state.patrols = new Map(result.data.patrols.map(function (p) { return [p.patrol_id, p]; }));
    // The calls still waiting, oldest first (the one N takes), as the server knows them.
    state.calls = result.data.calls || [];
    renderCall();
  }).catch(function () {
    notice(T.request_failed, "error");
  }).then(function () {
    boardLoads--;
    if (boardLoads === 0) {
      // Events that came while the snapshot was on its way, in the order they came.
      var events = buffered;
      buffered = [];
      events.forEach(function (ev) { apply(ev[0], ev[1], false); });
      renderBoard();
      renderPatrols();
    }
  });
}

/** A socket event: a job ("job") or a patrol ("patrol") as it is now. */
export function apply(kind, data, render) {
  if (boardLoads > 0) { buffered.push([kind, data]); return; }
  if (kind === "job") {
    if (render !== false && !state.jobs.has(data.job_id) && data.status === "queued") {
      announceJob(data);
    }
    if (OPEN_STATUSES.indexOf(data.status) >= 0) state.jobs.set(data.job_id, data);
    else state.jobs.delete(data.job_id);
    if (render !== false) renderBoard();
    jobChanged(data);
  } else {
    state.patrols.set(data.patrol_id, data);
    if (render !== false) { renderPatrols(); renderBoard(); }
  }
}

/** A new job said to a screen reader (#announce, a polite live region, visually hidden). */
function announceJob(job) {
  var box = $("announce");
  if (!box) return;
  box.textContent = T.new_job.replace("%(job)s", job.job_id)
    .replace("%(category)s", T.categories[job.category] || job.category)
    .replace("%(address)s", street(job.address));
}

function renderBoard() {
  var board = $("board");
  var focused = document.activeElement && document.activeElement.closest &&
    document.activeElement.closest("#board .job");
  var focusedId = focused ? focused.dataset.jobId : null;
  clear(board);
  var jobs = Array.from(state.jobs.values());
  $("job-count").textContent = String(jobs.length);
  if (!jobs.length) board.appendChild(el("p", {class: "muted", text: T.no_jobs}));
  OPEN_STATUSES.forEach(function (status) {
    var group = jobs.filter(function (j) { return j.status === status; });
    if (!group.length) return;
    group.sort(function (a, b) {
      return a.priority - b.priority || Date.parse(a.created_at) - Date.parse(b.created_at);
    });
    var title = T.job_status[status] || status;
    board.appendChild(el("section", {class: "job-group status-" + status,
                                     "aria-label": title}, [
      el("h3", {}, [title, el("span", {class: "count", text: String(group.length)})]),
      el("ul", {class: "jobs"}, group.map(jobRow)),
    ]));
  });
  if (focusedId) {
    var again = board.querySelector('.job[data-job-id="' + focusedId + '"]');
    if (again) again.focus();
  }
  updateAlarms();
  renderMap();
}

function jobRow(job) {
  var landlord = landlordById.get(job.landlord_id);
  var patrol = job.patrol_id ? patrolName(job.patrol_id) : null;
  return el("li", {class: "job prio-" + job.priority, tabindex: "-1",
                   dataset: {jobId: job.job_id, status: job.status},
                   onclick: function () { openJob(job.job_id); }}, [
    el("div", {class: "job-line"}, [
      el("span", {class: "job-id", text: "#" + job.job_id}),
      el("span", {class: "prio", title: T.priorities[job.priority], text: "P" + job.priority}),
      el("span", {class: "cat", text: T.categories[job.category] || job.category}),
      el("span", {class: "addr", title: job.address, text: street(job.address) +
        (job.lagenhetsnummer ? ", " + T.flat + " " + job.lagenhetsnummer : "")}),
      landlord ? el("span", {class: "ll", text: landlord.code}) : null,
      job.outside_areas ? el("span", {class: "outside-areas", title: T.outside_areas,
                                      text: T.outside_areas}) : null,
      // The alarm in words as well as in colour (issue 18).
      job.alarm ? el("span", {class: "alarm-flag", title: T.alarms[job.alarm] || "",
                              text: "⚠ " + T.alarm}) : null,
    ]),
    el("div", {class: "job-line sub"}, [
      el("span", {class: "status-name", text: T.job_status[job.status] || job.status}),
      patrol ? el("span", {class: "patrol", text: patrol}) : null,
      timer(job.call_received_at, T.since_call),
      job.dispatched_at ? timer(job.dispatched_at, T.since_dispatch) : null,
      job.acknowledged_at ? timer(job.acknowledged_at, T.since_ack) : null,
    ]),
  ]);
}

function renderPatrols() {
  var body = $("patrols");
  clear(body);
  var patrols = Array.from(state.patrols.values()).sort(function (a, b) {
    return (a.call_sign || a.name).localeCompare(b.call_sign || b.name, "sv");
  });
  $("patrol-count").textContent = String(patrols.filter(function (p) {
    return p.status === "available";
  }).length) + "/" + patrols.length;
  if (!patrols.length) {
    body.appendChild(el("tr", {}, [
      el("td", {colspan: "3", class: "muted", text: T.no_patrols})]));
  }
  patrols.forEach(function (p) {
    body.appendChild(el("tr", {class: "patrol-" + p.status, dataset: {patrolId: p.patrol_id}}, [
      el("td", {}, [el("strong", {text: p.name}),
                    p.call_sign && (p.name || "").indexOf(p.call_sign) < 0  // not "Jour 11 (Söder) Jour 11"
                      ? el("span", {class: "muted small", text: " " + p.call_sign}) : null]),
      el("td", {}, [el("span", {class: "dot"}),
                    T.patrol_status[p.status] || p.status]),
      el("td", {class: "pos"}, p.lat != null
        ? [p.lat.toFixed(4) + ", " + p.lon.toFixed(4) + " ",
           p.position_at ? el("span", {class: "age"}, ["(", timer(p.position_at), ")"]) : null]
        : [el("span", {class: "muted", text: T.no_position})]),
    ]));
  });
  renderMap();
}

/** Board keys: arrows move between jobs, Enter opens one, D dispatches a queued one. */
export function focusBoard(step) {
  var rows = Array.from(document.querySelectorAll("#board .job"));
  if (!rows.length) return false;
  var at = rows.indexOf(document.activeElement);
  var next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step));
  rows[next].focus();
  return true;
}
