/* The cars' alarms (issue 19: the tablet's alarm button, överfallslarm): shown above everything
 * on every console the moment the server hears of one (patrol.alarm), with the car, its crew,
 * the job's address, flat and door code, and where the car was; a sound repeats while one
 * stands. The operator acknowledges with the button (focused when nothing is being typed) or K;
 * the server tells every console and the car's tablet. Standing alarms are loaded again on
 * every (re)connection (GET /api/v1/alarms). */

import { $, clear, el } from "../common/dom.js";
import { api, errorText, notice } from "./api.js";
import { clockText, fmt } from "./format.js";
import { T } from "./state.js";

var alarms = new Map();  // alarm_id → alarm as the server shows it
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

function render() {
  var box = $("patrol-alarms"), list = standing();
  var hadFocus = box.contains(document.activeElement);
  clear(box);
  box.hidden = !list.length;
  sound(list.length > 0);
  if (!list.length) return;
  box.appendChild(el("h2", {text: T.safety.heading}));
  box.appendChild(el("ul", {}, list.map(line)));
  var first = box.querySelector(".patrol-alarm-ack");
  if (first && (hadFocus || !isTyping(document.activeElement))) first.focus();
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
  render();
}

/** All standing alarms, again (every connection: what came while we were away). */
export function loadAlarms() {
  return api("GET", "/api/v1/alarms").then(function (result) {
    if (!result.ok || !Array.isArray(result.data)) return;
    alarms = new Map(result.data.map(function (a) { return [a.alarm_id, a]; }));
    render();
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
}
