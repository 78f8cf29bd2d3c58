/* Alarms: an assignment the car has not acknowledged in time is marked on the board and
 * announced once (checked on every board change and every second). */

import { $, clear, el } from "../common/dom.js";
import { fmt, now, street } from "./format.js";
import { patrolName, state, T } from "./state.js";

var alarmKey = "";

function isAlarm(job) {
  return job.status === "assigned" && !job.acknowledged_at && job.dispatched_at &&
    now() - Date.parse(job.dispatched_at) > state.ackAfterS * 1000;
}

/** Unacknowledged assignments past the limit: marked on the board, announced once. */
export function updateAlarms() {
  var alarmed = [];
  document.querySelectorAll("#board .job").forEach(function (row) {
    var job = state.jobs.get(Number(row.dataset.jobId));
    var on = !!job && isAlarm(job);
    row.classList.toggle("alarm", on);
    if (on) alarmed.push(job);
  });
  var key = alarmed.map(function (j) { return j.job_id; }).join(",");
  if (key === alarmKey) return;
  alarmKey = key;
  var box = $("alarms");
  clear(box);
  alarmed.forEach(function (job) {
    box.appendChild(el("p", {class: "alarm-line", text: fmt(T.not_acknowledged, {
      job: job.job_id, address: street(job.address),
      patrol: job.patrol_id ? patrolName(job.patrol_id) : "–"})}));
  });
}
