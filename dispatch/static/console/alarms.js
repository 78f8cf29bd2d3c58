/* Alarms: the server's acknowledgement timer (jobs/ack_timer.py) raises them, not this page
 * (it keeps time with no console open): a job the car has not accepted in time
 * ("not_accepted"), or one taken from such a car with no other car free ("no_car"). Each job
 * carries its alarm (job.alarm); here it is marked on the board and listed above it. */

import { $, clear, el } from "../common/dom.js";
import { fmt, street } from "./format.js";
import { patrolName, state, T } from "./state.js";

var alarmKey = "";

function isAlarm(job) {
  return !!job.alarm;
}

/** Jobs with an alarm standing: marked on the board, listed once above it. */
export function updateAlarms() {
  var alarmed = [];
  document.querySelectorAll("#board .job").forEach(function (row) {
    var job = state.jobs.get(Number(row.dataset.jobId));
    var on = !!job && isAlarm(job);
    row.classList.toggle("alarm", on);
    if (on) alarmed.push(job);
  });
  var key = alarmed.map(function (j) { return j.job_id + j.alarm; }).join(",");
  if (key === alarmKey) return;
  alarmKey = key;
  var box = $("alarms");
  clear(box);
  alarmed.forEach(function (job) {
    box.appendChild(el("p", {class: "alarm-line", text: fmt(
      job.alarm === "no_car" ? T.alarm_no_car : T.not_acknowledged, {
      job: job.job_id, address: street(job.address),
      patrol: job.patrol_id ? patrolName(job.patrol_id) : "–"})}));
  });
}
