/* The cars' alarms (issue 19: the tablet's alarm button, överfallslarm): shown above everything
 * on every console the moment the server hears of one (patrol.alarm), with the car, its crew,
 * the job's address, flat and door code, and where the car was; a sound repeats while one
 * stands. The operator acknowledges with the button (focused when nothing is being typed) or K;
 * the server tells every console and the car's tablet.
 *
 * The supervisor's view: the banner also lists every job the server's timer alarms (not
 * accepted in time, or no car free: job.alarm on the board's jobs), with a button that opens
 * it, until it is handled; and below it, "handled tonight": every alarm that ended since noon,
 * who handled it, when, how and how long it stood. All of it is loaded again on every
 * (re)connection and reload (GET /api/v1/alarms/board); live from patrol.alarm and the
 * board's job.updated in between. */

import { $, clear, el } from "../common/dom.js";
import { api, errorText, notice } from "./api.js";
import { clockText, fmt, street } from "./format.js";
import { openJob } from "./jobview.js";
import { patrolName, state, T } from "./state.js";

var alarms = new Map();  // alarm_id → alarm as the server shows it
var handled = new Map();  // key → an alarm that ended tonight (the server's board shape)
var jobKey = "";
var refreshing = null;
var audio = null;
var beeping = null;

function standing() {
  return Array.from(alarms.values()).filter(function (a) { return !a.acknowledged_at; })
    .sort(function (a, b) { return a.alarm_id - b.alarm_id; });
}

function isTyping(node) {
  var tag = node && node.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (node && node.isContentEditable);
}

/** A short two-tone signal (Web Audio: no file to load); every 2 s while an alarm stands. */
function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    [880, 660].forEach(function (hz, i) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = hz;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + i * 0.25);
      osc.stop(audio.currentTime + i * 0.25 + 0.22);
    });
  } catch (e) { /* no audio device: the banner still shows */ }
}

function sound(on) {
  document.body.classList.toggle("patrol-alarm-on", on);
  if (on && !beeping) { beep(); beeping = setInterval(beep, 2000); }
  if (!on && beeping) { clearInterval(beeping); beeping = null; }
}

function line(a) {
  var where = a.address ? a.address + (a.lagenhetsnummer ? ", " + fmt(T.safety.flat, {n: a.lagenhetsnummer}) : "")
    : T.safety.no_job;
  var parts = [
    el("strong", {class: "patrol-alarm-title", text: fmt(a.kind === "silent" ? T.safety.silent_title
      : a.kind === "checkin_missed" ? T.safety.checkin_title : T.safety.title,
                                                          {patrol: a.call_sign || "–"})}),
    el("span", {class: "patrol-alarm-where", text: where}),
    el("span", {class: "patrol-alarm-code", text: a.portkod ? fmt(T.safety.door_code, {code: a.portkod}) : T.safety.no_door_code}),
    el("span", {text: a.crew && a.crew.length ? fmt(T.safety.crew, {names: a.crew.join(", ")}) : T.safety.no_crew}),
    el("span", {text: fmt(T.safety.raised, {time: clockText(a.raised_at)})}),
    a.lat != null ? el("span", {class: "muted", text: fmt(T.safety.position, {lat: a.lat.toFixed(5), lon: a.lon.toFixed(5)})}) : null,
  ];
  var ack = el("button", {type: "button", class: "patrol-alarm-ack", dataset: {alarmId: a.alarm_id},
                          "aria-keyshortcuts": "K", text: T.safety.acknowledge});
  ack.addEventListener("click", function () { acknowledge(a.alarm_id); });
  return el("li", {class: "patrol-alarm", dataset: {alarmId: a.alarm_id}}, parts.concat([ack]));
}

/** Jobs the server's timer alarms (the board's jobs carry job.alarm), oldest first. */
function jobAlarms() {
  return Array.from(state.jobs.values()).filter(function (j) { return !!j.alarm; })
    .sort(function (a, b) { return String(a.alarm_at).localeCompare(String(b.alarm_at)) || a.job_id - b.job_id; });
}

function jobTitle(kind, job, patrol) {
  return fmt(kind === "no_car" ? T.safety.no_car_title : T.safety.not_accepted_title,
             {job: job, patrol: patrol || "–"});
}

function jobLine(job) {
  var open = el("button", {type: "button", class: "patrol-alarm-open", dataset: {jobId: job.job_id},
                           text: T.safety.open_job});
  open.addEventListener("click", function () { openJob(job.job_id); });
  return el("li", {class: "patrol-alarm job-alarm", dataset: {jobId: job.job_id, kind: job.alarm}}, [
    el("strong", {class: "patrol-alarm-title", text: jobTitle(job.alarm, job.job_id,
      job.patrol_id ? patrolName(job.patrol_id) : null)}),
    el("span", {class: "patrol-alarm-where", text: street(job.address) || ""}),
    el("span", {text: fmt(T.safety.raised, {time: clockText(job.alarm_at)})}),
    open,
  ]);
}

function render() {
  var box = $("patrol-alarms"), list = standing(), jobs = jobAlarms();
  var hadFocus = box.contains(document.activeElement);
  clear(box);
  box.hidden = !list.length && !jobs.length;
  sound(list.length > 0);
  jobKey = jobs.map(function (j) { return j.job_id + j.alarm; }).join(",");
  if (box.hidden) return;
  box.appendChild(el("h2", {text: list.length ? T.safety.heading : T.safety.jobs_heading}));
  box.appendChild(el("ul", {}, list.map(line).concat(jobs.map(jobLine))));
  var first = box.querySelector(".patrol-alarm-ack");
  if (first && (hadFocus || !isTyping(document.activeElement))) first.focus();
}

function duration(from, to) {
  var s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  var m = Math.floor(s / 60);
  return m ? fmt(T.safety.min_s, {min: m, s: s % 60}) : fmt(T.safety.s, {s: s});
}

function handledText(a) {
  var params = {user: a.handled_by || "–", patrol: a.handled_by || "–", time: clockText(a.handled_at)};
  var how = a.how === "operator" ? T.safety.how_operator
    : a.how === "check_in" ? T.safety.how_check_in
    : a.how === "left_site" ? T.safety.how_left_site
    : a.how === "accepted" ? T.safety.how_accepted
    : a.how === "moved" ? (a.handled_by ? T.safety.how_moved : T.safety.how_moved_server)
    : a.how === "cancelled" ? T.safety.how_cancelled
    : a.how === "queued" ? (a.handled_by ? T.safety.how_queued_by : T.safety.how_queued)
    : T.safety.how_other;
  return fmt(how, params) + " · " + fmt(T.safety.after, {duration: duration(a.raised_at, a.handled_at)});
}

function title(a) {
  if (a.source === "job") return jobTitle(a.kind, a.job_id, a.call_sign);
  return fmt(a.kind === "silent" ? T.safety.silent_title
    : a.kind === "checkin_missed" ? T.safety.checkin_title : T.safety.title, {patrol: a.call_sign || "–"});
}

function renderHandled() {
  var box = $("alarms-handled");
  if (!box) return;
  var list = Array.from(handled.values()).sort(function (a, b) {
    return Date.parse(b.handled_at) - Date.parse(a.handled_at);
  });
  var wasOpen = !!box.querySelector("details[open]");
  clear(box);
  box.hidden = !list.length;
  if (!list.length) return;
  var details = el("details", {}, [
    el("summary", {text: fmt(T.safety.handled_heading, {n: list.length})}),
    el("ol", {class: "handled-list"}, list.map(function (a) {
      return el("li", {class: "handled-alarm", dataset: {key: a.key, kind: a.kind}}, [
        el("span", {class: "handled-when", text: clockText(a.raised_at)}),
        el("strong", {text: title(a)}),
        el("span", {class: "muted", text: a.address ? street(a.address) : T.safety.no_job}),
        el("span", {class: "handled-how", text: handledText(a)}),
      ]);
    })),
  ]);
  if (wasOpen) details.open = true;
  box.appendChild(details);
}

/** A job's timer alarm came or went (the board's jobs changed): shown at once; when one went,
 * who handled it is read from the server (the job's history says), shortly. */
function watchJobs() {
  var jobs = jobAlarms();
  var key = jobs.map(function (j) { return j.job_id + j.alarm; }).join(",");
  if (key === jobKey) return;
  var now = key.split(",");
  var ended = jobKey.split(",").filter(function (k) { return k && now.indexOf(k) < 0; });
  render();
  if (ended.length) scheduleRefresh();
}

function scheduleRefresh() {
  if (refreshing) return;
  refreshing = setTimeout(function () { refreshing = null; loadAlarms(); }, 700);
}

function acknowledge(alarmId) {
  api("POST", "/api/v1/alarms/" + alarmId + "/acknowledge", {}).then(function (result) {
    if (!result.ok) { notice(errorText(result), "error"); return; }
    show(result.data);
    notice(fmt(T.safety.acknowledged, {patrol: result.data.call_sign || "–",
                                       user: result.data.acknowledged_by || ""}), "ok");
  }, function () { notice(T.request_failed, "error"); });
}

/** An alarm from the server (new, or acknowledged by someone). */
export function show(a) {
  alarms.set(a.alarm_id, a);
  if (a.acknowledged_at) {
    handled.set("alarm:" + a.alarm_id, Object.assign({}, a, {
      key: "alarm:" + a.alarm_id, source: "patrol", handled_at: a.acknowledged_at,
      handled_by: a.acknowledged_by, how: a.resolution || "operator"}));
    renderHandled();
  }
  render();
}

/** Everything standing and handled tonight, again (every connection: what came while we
 * were away). */
export function loadAlarms() {
  return api("GET", "/api/v1/alarms/board").then(function (result) {
    if (!result.ok || !result.data || !Array.isArray(result.data.standing)) return;
    alarms = new Map(result.data.standing.filter(function (a) { return a.source === "patrol"; })
      .map(function (a) { return [a.alarm_id, a]; }));
    handled = new Map(result.data.handled.map(function (a) { return [a.key, a]; }));
    render();
    renderHandled();
  }, function () {});
}

export function initSafety() {
  document.addEventListener("keydown", function (e) {
    if (e.key.toLowerCase() !== "k" || e.ctrlKey || e.altKey || e.metaKey || isTyping(e.target)) return;
    var first = standing()[0];
    if (!first) return;
    e.preventDefault();
    acknowledge(first.alarm_id);
  });
  // Browsers start audio only after a gesture on the page: the first key or click unlocks it.
  ["keydown", "pointerdown"].forEach(function (name) {
    document.addEventListener(name, function () { if (audio && audio.state === "suspended") audio.resume(); });
  });
  loadAlarms();
  setInterval(watchJobs, 500);
}
