/* The patrol tablet: offline-first. Everything the patrol sees or does is kept in
 * localStorage first (jobs, drafts, the outbox), then sent over the /field socket in order.
 * A job arrives as often as the server likes (it re-sends until acknowledged); it is shown
 * once, keyed on job_id. Each outgoing message carries an id that makes its resend harmless.
 *
 * An ES module: the shell maps ../common/dom.js to its ?v= URL (an import map), so that the
 * service worker, which keeps that URL, has it when the tablet starts with no network. */

import { $, el } from "../common/dom.js";

var CONFIG = JSON.parse(document.getElementById("config").textContent);
var T = CONFIG.text;
var STEPS = ["accepted", "en_route", "on_site", "done"];
var LANG = document.documentElement.lang || "sv";
// Dates and times as a Swedish service writes them in any language: a 24-hour clock, and in
// English the day before the month (en-GB), never the American 12/3/26, 10:49 PM.
var INTL = LANG === "en" ? "en-GB" : LANG;
var PREFIX = "sj.field.";

// -- storage ----------------------------------------------------------------------------
function load(name, fallback) {
  try {
    var raw = localStorage.getItem(PREFIX + name);
    return raw ? JSON.parse(raw) : fallback;
  } catch (e) { return fallback; }
}
function save(name, value) { localStorage.setItem(PREFIX + name, JSON.stringify(value)); }
function wipe() {
  ["session", "jobs", "outbox", "drafts", "duty", "owner", "alarm"].forEach(function (n) {
    localStorage.removeItem(PREFIX + n);
  });
}

var session = load("session", null);   // {token, call_sign, patrol, user, expires_at}
var jobs = load("jobs", []);            // [{job, received_at, steps, calls, revoked, report}]
var outbox = load("outbox", []);        // [{id, event, data, job_id, step, queued_at}]
var drafts = load("drafts", {});        // job_id → report form values
var duty = load("duty", null);          // available, busy, off_duty
var alarm = load("alarm", null);        // the last alarm: {event_id, kind, state, alarm_id, at, ...}

function saveJobs() { save("jobs", jobs); }
function saveOutbox() { save("outbox", outbox); }

// -- small helpers ----------------------------------------------------------------------
function t(key, params) {
  var text = T[key] || key;
  Object.keys(params || {}).forEach(function (k) {
    text = text.split("%(" + k + ")s").join(params[k]);
  });
  return text;
}
function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  var b = crypto.getRandomValues(new Uint8Array(16));
  return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
}
function now() { return new Date().toISOString(); }
function hhmm(iso) {
  return iso ? new Date(iso).toLocaleTimeString(INTL, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) : "";
}
function day(iso) { return new Date(iso).toLocaleDateString(INTL); }
function toLocalInput(iso) {
  if (!iso) return "";
  var d = new Date(iso);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}
function fromLocalInput(value) { return value ? new Date(value).toISOString() : null; }
function find(jobId) {
  for (var i = 0; i < jobs.length; i++) if (jobs[i].job.job_id === jobId) return jobs[i];
  return null;
}
function errorText(error) {
  return (error && (T.errors[error.code] || error.message)) || "?";
}
function notice(text) {
  var box = $("notice");
  box.textContent = text;
  box.hidden = !text;
}
// Said by a screen reader (#announce is a polite live region, visually hidden): emptied first
// so that the same words twice are said twice.
function announce(text) {
  var box = $("announce");
  box.textContent = "";
  setTimeout(function () { box.textContent = text; }, 50);
}
function isOnline() { return !!(socket && socket.connected && navigator.onLine); }

// -- the outbox: statuses, reports, the car's status, sent one by one in order ------------
var socket = null;
var inFlight = null;
var sequence = 0;
var retryTimer = null;
var retryDelay = 0;  // the last back-off in ms; 0 after the server has answered
// Error acknowledgements that say "not now" rather than "never": the server could not
// record the event (a fault, a database restarting), so it stays first in the outbox and is
// sent again, 1 s, 2 s, 4 s ... 30 s apart. Every other refusal (unknown_job,
// invalid_status, ...) will never succeed: it is shown and dropped, as before. Resending is
// harmless: job.status carries its event_id, a report replaces the last, a status is a status.
var TRANSIENT = ["internal_error", "unavailable", "service_unavailable", "database_unavailable",
  "busy", "timeout", "try_again"];

function enqueue(event, data, extra) {
  var item = Object.assign({ id: uuid(), event: event, data: data, queued_at: now() }, extra || {});
  outbox.push(item);
  saveOutbox();
  renderQueue();
  flush();
  return item;
}

function retryLater(ms) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, ms);
}

function backOff() {
  retryDelay = retryDelay ? Math.min(retryDelay * 2, 30000) : 1000;
  // A little jitter, so that tablets refused at the same moment do not all come back at once.
  retryLater(Math.round(retryDelay * (0.8 + 0.4 * Math.random())));
}

function transient(answer) {
  return !!(answer && answer.ok === false && answer.error && TRANSIENT.indexOf(answer.error.code) >= 0);
}

function flush() {
  if (inFlight || !outbox.length || !isOnline()) return;
  var item = outbox[0];
  var mine = inFlight = { id: item.id, seq: ++sequence };
  renderQueue();
  socket.timeout(15000).emit(item.event, item.data, function (err, answer) {
    if (inFlight !== mine) return;  // an answer to an attempt abandoned on disconnect
    inFlight = null;
    if (err) { backOff(); return renderQueue(); }  // no answer: send again (harmless)
    if (!outbox.length || outbox[0].id !== item.id) return flush();
    if (transient(answer)) { backOff(); return renderQueue(); }  // kept, in order
    retryDelay = 0;
    outbox.shift();
    saveOutbox();
    if (answer && answer.ok) sent(item, answer); else refused(item, (answer && answer.error) || {});
    renderAll();
    flush();
  });
}

function sent(item, answer) {
  var j = item.job_id ? find(item.job_id) : null;
  if (item.event === "patrol.alarm") return alarmSent(item, answer);
  if (item.event === "job.report" && j) {
    j.report = { state: "sent", at: now(), report_id: answer.report_id };
    forgetDoorCode(j);
    saveJobs();
    refreshDuty();  // the car is free again (or already has the queue's next job)
  } else if (item.event === "patrol.status" && answer.status) {
    setDuty(answer.status);
  }
}

function refused(item, error) {
  var j = item.job_id ? find(item.job_id) : null;
  if (item.event === "job.report" && j) {
    j.report = { state: "failed", at: now(), message: errorText(error) };
    saveJobs();
  } else if (item.event === "patrol.status") {
    // Refused (a car with a job in hand may not go off duty: has_job): the button goes back
    // to what the car is, and the notice says why.
    if (item.prev) setDuty(item.prev);
    refreshDuty();
  }
  if (error.code === "not_your_job" && j) { j.revoked = true; forgetDoorCode(j); saveJobs(); }
  notice(t("failed", { message: errorText(error) }));
}

function queueLabel(item) {
  var j = item.job_id ? find(item.job_id) : null;
  var where = j ? " – " + j.job.address : "";
  if (item.event === "job.status") return t("status_queued", { status: T.steps[item.data.status] }) + where;
  if (item.event === "job.report") return t("report_waiting", { address: j ? j.job.address : "" });
  if (item.event === "patrol.alarm") return T.alarm_waiting;
  if (item.event === "job.check_in") return T.check_in_waiting + where;
  if (item.event === "job.call_attempt") return T.call_log + ": " + (item.data.answered ? T.answered : T.no_answer) + where;
  return T.duty_waiting + ": " + (item.data.status === "off_duty" ? T.off_duty : T.on_duty);
}

// -- the header: connection, what waits, the car's status -------------------------------
function renderNet() {
  var net = $("net");
  var state = isOnline() ? "connected" : (navigator.onLine && socket && socket.active ? "connecting" : "offline");
  net.className = "net net-" + state;
  net.textContent = T[state];
  net.hidden = !session;  // logged out there is no connection to speak of
}

function renderQueue() {
  renderNet();
  var box = $("queue");
  var offline = !isOnline();
  box.innerHTML = "";
  if (!session || (!offline && !outbox.length)) { box.hidden = true; return; }
  box.hidden = false;
  box.className = "queue" + (offline ? " queue-offline" : "");
  // "Offline" is said once, by the pill in the bar; the banner says what it means.
  if (offline) box.appendChild(el("p", { class: "queue-head", text: T.offline_help }));
  if (outbox.length) {
    box.appendChild(el("p", { text: offline ? T.waiting : T.sending }));
    box.appendChild(el("ul", { id: "waiting" }, outbox.map(function (item) {
      return el("li", { text: queueLabel(item) });
    })));
  } else {
    box.appendChild(el("p", { text: T.all_sent }));
  }
}

function setDuty(status) {
  duty = status;
  save("duty", duty);
  renderDuty();
  watchPosition();
}

function renderDuty() {
  var button = $("duty");
  var on = duty === "available" || duty === "busy";
  button.hidden = !session;
  button.textContent = on ? (duty === "busy" ? T.on_duty + " · " + T.busy : T.on_duty) : T.off_duty;
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.className = "duty " + (on ? "duty-on" : "duty-off");
  button.title = on ? T.go_off_duty : T.go_on_duty;
}

function hasOpenJob() {
  return jobs.some(function (j) { return !j.revoked && !(j.report && j.report.state === "sent") && !j.steps.done; });
}

function toggleDuty() {
  var on = duty === "available" || duty === "busy";
  // A car with a job in hand cannot go off duty (the server refuses it: has_job): the button
  // keeps saying what the car is, and the notice says why.
  if (on && (duty === "busy" || hasOpenJob())) { notice(T.busy_no_off_duty); return; }
  // Going off duty takes the car out of dispatch: asked, so that a stray tap does not.
  if (on && !window.confirm(T.off_duty_confirm)) return;
  var next = on ? "off_duty" : "available";
  var prev = duty;
  setDuty(next);
  enqueue("patrol.status", { status: next }, { prev: prev });
}

function refreshDuty() {
  if (!session || !navigator.onLine) return;
  fetch("/api/v1/patrols", { headers: { Authorization: "Bearer " + session.token } })
    .then(function (r) { return r.ok ? r.json() : []; })
    .then(function (list) {
      var pending = outbox.some(function (i) { return i.event === "patrol.status"; });
      list.forEach(function (p) {
        if (session && p.call_sign === session.call_sign && !pending) setDuty(p.status);
      });
    })
    .catch(function () {});
}

// -- position: every 15 s and on movement, while on duty -------------------------------
var watchId = null;
var lastFix = null;
var lastSent = null;

function metres(a, b) {
  var r = 6371000, rad = Math.PI / 180;
  var dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
  var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
  return 2 * r * Math.asin(Math.sqrt(h));
}

function sendPosition() {
  if (!lastFix || !isOnline() || duty === "off_duty") return;
  socket.emit("position", { lat: lastFix.lat, lon: lastFix.lon, accuracy_m: lastFix.accuracy, at: now() });
  lastSent = { lat: lastFix.lat, lon: lastFix.lon, at: Date.now() };
}

function watchPosition() {
  var wanted = session && duty && duty !== "off_duty" && "geolocation" in navigator;
  if (wanted && watchId === null) {
    watchId = navigator.geolocation.watchPosition(function (p) {
      lastFix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy };
      if (!lastSent || metres(lastSent, lastFix) > 25 || Date.now() - lastSent.at > 15000) sendPosition();
      checkArrival();
    }, function () { notice(T.position_off); }, { enableHighAccuracy: true, maximumAge: 10000 });
  } else if (!wanted && watchId !== null) {
    navigator.geolocation.clearWatch(watchId);
    watchId = null;
  }
}
setInterval(sendPosition, (CONFIG.position_interval_s || 15) * 1000);

// -- arrival: within 50 m of the address for 30 s, the tablet suggests "on site" ----------
// Only a suggestion: the patrol confirms (the step button's own path) or says not yet.
var ARRIVAL_M = 50, ARRIVAL_S = 30;
var arrival = {};  // job_id → {since, dismissed} while the car is within ARRIVAL_M of it

function checkArrival() {
  jobs.forEach(function (j) {
    var job = j.job, open = !j.revoked && !j.steps.on_site && !j.steps.done && job.lat != null;
    var near = open && lastFix && metres(lastFix, { lat: job.lat, lon: job.lon }) <= ARRIVAL_M;
    if (!near) delete arrival[job.job_id];
    else if (!arrival[job.job_id]) arrival[job.job_id] = { since: Date.now(), dismissed: false };
    var card = cardOf(j), a = arrival[job.job_id];
    var box = card && card.querySelector(".arrival");
    var show = !!(a && !a.dismissed && Date.now() - a.since >= ARRIVAL_S * 1000);
    if (box && !show) box.remove();
    if (!card || box || !show) return;
    var yes = el("button", { type: "button", class: "primary", text: T.steps.on_site });
    var later = el("button", { type: "button", class: "ghost", text: T.arrival_later });
    yes.addEventListener("click", function () { delete arrival[job.job_id]; pressStep(j, "on_site"); checkArrival(); });
    later.addEventListener("click", function () { a.dismissed = true; checkArrival(); });
    card.insertBefore(el("div", { class: "arrival", role: "alert" }, [
      el("p", { text: T.arrival }), yes, later]), card.querySelector(".info-slot"));
  });
}
setInterval(checkArrival, 1000);

// -- jobs arriving ----------------------------------------------------------------------
function acknowledge(payload, ack) {
  if (socket && payload.delivery_id) socket.emit("job.ack", { delivery_id: payload.delivery_id });
  if (typeof ack === "function") ack({ ok: true });
}

function onAssigned(payload, ack) {
  var j = find(payload.job_id), fresh = false;
  if (j) {
    j.job = payload;
    j.revoked = false;
    delete j.revoked_reason;
  } else {
    j = { job: payload, received_at: now(), steps: {}, calls: [], revoked: false, report: null };
    jobs.push(j);
    if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
    announce(t("new_job", { category: T.categories[payload.category] || payload.category || "",
                            address: payload.address || "" }));
    setDuty("busy");
    fresh = true;
  }
  saveJobs();  // kept before acknowledging: an acknowledged job is never lost
  acknowledge(payload, ack);
  renderAll();
  if (fresh) callOut(j);
}

// A new job whose card is out of sight (the crew is reading another one further down) is
// called out in the bar that stays on screen; a tap there shows it. Gone once it is accepted.
var calledOut = null;
function callOut(j) {
  var card = cardOf(j);
  if (!card) return;
  var top = card.getBoundingClientRect().top, bar = document.querySelector(".bar").offsetHeight;
  if (top >= bar && top < window.innerHeight - 80) return;  // in sight already
  calledOut = j.job.job_id;
  renderCallOut();
}
function renderCallOut() {
  var button = $("newjob"), j = calledOut == null ? null : find(calledOut);
  if (!j || j.revoked || j.steps.accepted) { calledOut = null; button.hidden = true; return; }
  button.textContent = t("show_new_job", { category: T.categories[j.job.category] || j.job.category || "",
                                           address: j.job.address || "" });
  button.hidden = false;
}
function showCalledOut() {
  var j = calledOut == null ? null : find(calledOut), card = j && cardOf(j);
  calledOut = null;
  $("newjob").hidden = true;
  if (!card) return;
  var bar = document.querySelector(".bar").offsetHeight;
  window.scrollTo({ top: card.getBoundingClientRect().top + window.scrollY - bar - 8 });
  var heading = card.querySelector("h2");
  if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
}

function onRevoked(payload, ack) {
  var j = find(payload.job_id);
  if (j) { j.revoked = true; j.revoked_reason = payload.reason || "moved"; forgetDoorCode(j); saveJobs(); }
  acknowledge(payload, ack);
  renderAll();
}

// The door code is on the tablet only while the job is this car's and open: it goes from the
// screen and the storage when the job ends (done, cancelled), is moved to another car, or the
// session ends (forgetShift wipes everything).
function forgetDoorCode(j) {
  if (j && j.job && "portkod" in j.job) { delete j.job.portkod; j.job.door_code_removed = true; }
}

// -- a job card ---------------------------------------------------------------------------
function geoUri(job) {
  var label = encodeURIComponent(job.address || "");
  if (job.lat !== null && job.lat !== undefined) return "geo:" + job.lat + "," + job.lon + "?q=" + job.lat + "," + job.lon + "(" + label + ")";
  return "geo:0,0?q=" + label;
}

// The disturbed tenant once: the caller's name and the operator's "disturbed party" often say
// the same ("Anna Andersson" and "Anna Andersson, lgh 1102"), and the flat is on the card already.
function tenantName(job) {
  var flat = job.lagenhetsnummer;
  var strip = function (text) {
    if (!text || !flat) return text || "";
    return text.replace(new RegExp("[,;·\\s]*(lgh|lägenhet|flat|huoneisto)?\\.?\\s*" + flat + "\\b", "i"), "").trim();
  };
  var names = [];
  [(job.caller || {}).name, job.disturbed_party].forEach(function (raw) {
    var text = strip(raw);
    if (!text) return;
    var low = text.toLowerCase();
    for (var i = 0; i < names.length; i++) {
      var other = names[i].toLowerCase();
      if (other.indexOf(low) >= 0) return;
      if (low.indexOf(other) >= 0) { names[i] = text; return; }
    }
    names.push(text);
  });
  return names.join(" · ");
}

function buildInfo(j) {
  var job = j.job;
  var where = [];
  if (job.lagenhetsnummer) where.push(t("flat", { n: job.lagenhetsnummer }));
  if (job.floor !== null && job.floor !== undefined) where.push(t("floor", { n: job.floor }));
  var caller = job.caller || {};
  var suspected = job.suspected_source || "";
  // The operator's words often name the flat already ("Ovanför: lgh 1202 (…)"): not twice.
  if (job.suspected && job.suspected.lagenhetsnummer &&
      suspected.indexOf(job.suspected.lagenhetsnummer) < 0) {
    suspected = (suspected ? suspected + " – " : "") + t("flat", { n: job.suspected.lagenhetsnummer }) +
      (job.suspected.floor !== null && job.suspected.floor !== undefined ? ", " + t("floor", { n: job.suspected.floor }) : "");
  }
  var earlier = (job.earlier || []).map(function (e) {
    return el("li", { text: day(e.at) + " " + hhmm(e.at) + " · " + (T.categories[e.category] || e.category) + " · " +
      (T.roles[e.role] || e.role) + (e.lagenhetsnummer ? " · " + t("flat", { n: e.lagenhetsnummer }) : "") });
  });
  var phones = caller.phone ? [{ phone: caller.phone, display: caller.phone_display || caller.phone }]
    : (job.tenants || []).map(function (p) { return { phone: p.phone, display: p.phone_display || p.phone, name: p.name }; });
  return el("div", { class: "info" }, [
    el("h2", { class: "address", text: job.address }),
    where.length ? el("p", { class: "where", text: where.join(" · ") }) : null,
    el("div", { class: "access" }, [
      job.door_code_removed ? null : el("div", { class: "door" }, [
        el("span", { class: "label", text: T.door_code }),
        job.portkod ? el("span", { class: "code", text: job.portkod }) : el("span", { class: "muted", text: T.no_door_code })
      ]),
      el("a", { class: "button nav", href: geoUri(job), text: T.navigate })
    ]),
    el("div", { class: "steps" }),  // filled by renderSteps, right under the address
    el("section", { class: "tenant" }, [
      el("h3", { text: T.disturbed }),
      el("p", { class: "tenant-name", text: tenantName(job) || "–" }),
      !caller.phone && phones.length ? el("p", { class: "muted tenant-source", text: T.tenant_phone }) : null,
      phones.length ? el("div", { class: "phones" }, phones.map(function (p) {
        return el("a", { class: "button call", href: "tel:" + p.phone, "data-call": p.phone, "data-display": p.display,
          text: t("call", { phone: (p.name ? p.name + " " : "") + p.display }) });
      })) : el("p", { class: "muted", text: T.no_phone }),
      el("div", { class: "calls" })
    ]),
    el("div", { class: "card-tools" }, [
      job.object_id ? el("button", { type: "button", class: "tool", "data-object": String(job.object_id), text: T.object_view }) : null,
      el("button", { type: "button", class: "tool", "data-history": "1", text: T.job_history })
    ]),
    el("section", { class: "history", hidden: true }),
    suspected ? el("section", {}, [el("h3", { text: T.suspected }), el("p", { text: suspected })]) : null,
    job.description ? el("section", {}, [el("h3", { text: T.description }), el("p", { class: "description", text: job.description })]) : null,
    el("section", { class: "earlier" }, [
      el("h3", { text: T.earlier }),
      earlier.length ? el("ul", {}, earlier) : el("p", { class: "muted", text: T.no_earlier })
    ])
  ]);
}

function renderCalls(card, j) {
  var box = card.querySelector(".calls");
  if (!box) return;
  box.innerHTML = "";
  if (!j.calls.length) return;
  box.appendChild(el("h4", { text: T.call_log }));
  box.appendChild(el("ol", {}, j.calls.map(function (c) {
    var item = el("li", {}, [hhmm(c.at) + (c.display || c.number ? " · " + (c.display || c.number) : "") +
      (c.result ? " – " + T[c.result] : "")]);
    if (!c.result) {
      item.appendChild(el("span", { class: "call-question", text: " " + T.call_question }));
      ["answered", "no_answer"].forEach(function (result) {
        var b = el("button", { type: "button", class: "small answer", text: T[result] });
        b.addEventListener("click", function () { answerCall(card, j, c, result); });
        item.appendChild(b);
      });
    }
    return item;
  })));
}

// The call button was pressed: the attempt is kept on the tablet; when the patrol says whether
// the tenant answered, it goes to the server through the outbox (its id makes a resend harmless).
function answerCall(card, j, c, result) {
  c.result = result;
  c.id = c.id || uuid();
  saveJobs();
  // (A call kept by an older version of the app has no number: it stays on the tablet.)
  if (c.number) enqueue("job.call_attempt", { job_id: j.job.job_id, number: c.number, answered: result === "answered",
    at: c.at, event_id: c.id }, { job_id: j.job.job_id });
  renderCalls(card, j);
  var form = card.querySelector("form.report");  // a call answered: the tenant was contacted
  if (result === "answered" && !form.elements.tenant_contacted.value) {
    form.querySelector("[name=tenant_contacted][value=yes]").checked = true;
    autosave(form, j);
  }
}

function pendingSteps(jobId) {
  var pending = {};
  outbox.forEach(function (i) {
    if (i.job_id === jobId && i.event === "job.status") pending[i.data.status] = true;
    if (i.job_id === jobId && i.event === "job.report") pending.done = true;  // the report closes it
  });
  return pending;
}

function renderSteps(card, j) {
  var box = card.querySelector(".steps");
  box.innerHTML = "";
  var pending = pendingSteps(j.job.job_id);
  var reached = -1;
  STEPS.forEach(function (s, i) { if (j.steps[s]) reached = i; });
  STEPS.forEach(function (s, i) {
    var stamp = j.steps[s];
    var b = el("button", { type: "button", class: "step" + (stamp ? " step-done" : "") + (stamp && pending[s] ? " step-pending" : "") +
      (i === reached + 1 ? " step-next" : ""),
      disabled: i <= reached || j.revoked }, [
      el("span", { text: stamp ? T.steps[s] : T.step_actions[s] }),
      stamp ? el("small", { text: hhmm(stamp) + (pending[s] ? " · " + T.not_sent : " ✓") }) : null
    ]);
    b.addEventListener("click", function () { pressStep(j, s); });
    box.appendChild(b);
  });
}

function pressStep(j, step) {
  var at = now();
  j.steps[step] = at;
  saveJobs();
  enqueue("job.status", { job_id: j.job.job_id, status: step, at: at, event_id: uuid() },
    { job_id: j.job.job_id });
  var form = cardOf(j).querySelector("form.report");
  if (step === "on_site" && !form.elements.arrived_at.value) form.elements.arrived_at.value = toLocalInput(at);
  if (step === "done" && !form.elements.left_at.value) form.elements.left_at.value = toLocalInput(at);
  if (step === "done") forgetDoorCode(j);
  saveJobs();
  autosave(form, j);
  if (step === "done") form.scrollIntoView({ behavior: "smooth", block: "start" });
  renderAll();
}

// -- the report form: autosaved on the tablet, queued like everything else ---------------
var YES_NO = ["disturber_reached", "tenant_contacted", "can_testify"];
var TEXTS = ["observations", "disturber_response", "actions", "text"];

function formValues(form) {
  var values = { arrived_at: form.elements.arrived_at.value, left_at: form.elements.left_at.value,
    outcome: form.elements.outcome.value };
  TEXTS.forEach(function (n) { values[n] = form.elements[n].value; });
  YES_NO.forEach(function (n) { values[n] = form.elements[n].value; });
  return values;
}

function fillForm(form, values) {
  Object.keys(values || {}).forEach(function (n) {
    if (form.elements[n]) form.elements[n].value = values[n];
  });
}

function autosave(form, j) {
  drafts[j.job.job_id] = Object.assign(formValues(form), { saved_at: now() });
  save("drafts", drafts);
  renderReportState(cardOf(j), j);
}

function submitReport(form, j) {
  var v = formValues(form);
  if (!v.outcome) {
    fieldError(form.querySelector(".outcomes"), T.outcome_required);
    form.querySelector(".outcomes").scrollIntoView({ block: "center" });
    return;
  }
  fieldError(form.querySelector(".outcomes"), "");
  notice("");
  var left = j.steps.done || now();
  if (!v.left_at) { v.left_at = toLocalInput(left); form.elements.left_at.value = v.left_at; }
  autosave(form, j);
  // The form shows minutes; a time the patrol did not change keeps its seconds.
  var precise = function (value, iso) { return iso && value === toLocalInput(iso) ? iso : fromLocalInput(value); };
  var yn = function (x) { return x === "yes" ? true : (x === "no" ? false : null); };
  var data = { job_id: j.job.job_id, arrived_at: precise(v.arrived_at, j.steps.on_site),
    left_at: precise(v.left_at, left), outcome: v.outcome };
  TEXTS.forEach(function (n) { data[n] = v[n]; });
  YES_NO.forEach(function (n) { data[n] = yn(v[n]); });
  // A report still waiting is replaced where it stands, so that the order is kept.
  var waiting = outbox.filter(function (i) { return i.event === "job.report" && i.job_id === j.job.job_id; })[0];
  if (!j.steps.done) { j.steps.done = data.left_at; }
  j.report = { state: "queued", at: now() };
  saveJobs();
  if (waiting && (!inFlight || inFlight.id !== waiting.id)) {
    waiting.data = data;
    saveOutbox();
    renderAll();
  } else {
    enqueue("job.report", data, { job_id: j.job.job_id });
    renderAll();
  }
}

// An error shown next to its field (the field marked), in the label's own word; gone when
// the field is filled in.
function fieldError(field, message) {
  var box = field.querySelector(".field-error") || field.nextElementSibling;
  field.classList.toggle("invalid", !!message);
  if (message) field.setAttribute("aria-invalid", "true"); else field.removeAttribute("aria-invalid");
  if (box && box.classList.contains("field-error")) { box.textContent = message; box.hidden = !message; }
}

function renderReportState(card, j) {
  var state = card.querySelector(".report-state");
  var text = "", cls = "report-state";
  var r = j.report;
  if (r && r.state === "sent") { text = t("report_sent", { time: hhmm(r.at) }); cls += " ok"; }
  else if (r && r.state === "queued") { text = T.report_queued; cls += " waiting"; }
  else if (r && r.state === "failed") { text = t("report_failed", { message: r.message }); cls += " bad"; }
  else if (j.steps.done) { text = T.report_missing; cls += " waiting"; }
  else if (drafts[j.job.job_id]) { text = t("report_draft_saved", { time: hhmm(drafts[j.job.job_id].saved_at) }); }
  state.textContent = text;
  state.className = cls;
  // A sent report may still be corrected (until the landlord's reports are released): the
  // button then says that it sends the changes, not the report anew.
  var submit = card.querySelector("form.report button[type=submit]");
  if (submit) {
    if (!submit.dataset.first) submit.dataset.first = submit.textContent;
    submit.textContent = r && r.state === "sent" ? T.send_changes : submit.dataset.first;
  }
}

function cardOf(j) { return document.getElementById("job-" + j.job.job_id); }

function buildCard(j) {
  var job = j.job;
  var card = el("article", { class: "job", id: "job-" + job.job_id, "data-job": job.job_id }, [
    el("header", { class: "job-head" }),
    el("p", { class: "revoked", hidden: true }),
    el("div", { class: "info-slot" })
  ]);
  var form = document.importNode($("report-template").content, true).querySelector("form");
  card.appendChild(form);
  fillForm(form, drafts[job.job_id]);
  form.addEventListener("input", function () { autosave(form, j); });
  form.addEventListener("change", function () {
    if (form.elements.outcome.value) fieldError(form.querySelector(".outcomes"), "");
    autosave(form, j);
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); submitReport(form, j); });
  var close = el("button", { type: "button", class: "ghost close", hidden: true, text: T.close_job });
  close.addEventListener("click", function () { removeJob(j); });
  card.appendChild(close);
  card.addEventListener("click", function (e) {
    var call = e.target.closest("[data-call]");
    if (call) {
      j.calls.push({ id: uuid(), at: now(), number: call.getAttribute("data-call"),
        display: call.getAttribute("data-display"), result: null });
      saveJobs();
      renderCalls(card, j);
    }
    var obj = e.target.closest("[data-object]");
    if (obj) openRegister({ object_id: Number(obj.getAttribute("data-object")) });
    if (e.target.closest("[data-history]")) showHistory(card, j);
  });
  return card;
}

function updateCard(card, j) {
  var job = j.job;
  var head = card.querySelector(".job-head");
  head.innerHTML = "";
  head.appendChild(el("span", { class: "cat", text: T.categories[job.category] || job.category }));
  if (job.priority === 1) head.appendChild(el("span", { class: "prio", text: T.urgent }));
  head.appendChild(el("span", { class: "jobno", text: t("job", { id: job.job_id }) + " · " + t("received", { time: hhmm(j.received_at) }) }));
  var slot = card.querySelector(".info-slot");
  if (slot.dataset.key !== JSON.stringify(job)) {
    slot.innerHTML = "";
    slot.appendChild(buildInfo(j));
    slot.dataset.key = JSON.stringify(job);
  }
  renderCalls(card, j);
  renderSteps(card, j);
  renderReportState(card, j);
  renderCheckIn(card, j);
  var revoked = card.querySelector(".revoked");
  revoked.hidden = !j.revoked;
  revoked.textContent = j.revoked_reason === "cancelled" ? T.revoked_cancelled : T.revoked;
  var finished = j.revoked || (j.report && j.report.state === "sent");
  card.querySelector(".close").hidden = !finished;
  card.classList.toggle("job-finished", !!finished);
  card.classList.toggle("job-new", !j.steps.accepted && !finished);
}

function removeJob(j) {
  jobs = jobs.filter(function (x) { return x !== j; });
  outbox = outbox.filter(function (i) { return i.job_id !== j.job.job_id || (inFlight && inFlight.id === i.id); });
  delete drafts[j.job.job_id];
  saveJobs(); saveOutbox(); save("drafts", drafts);
  renderAll();
}

// The card the crew is reading stays where it is on the screen when the cards are put in order
// again (a new job goes above a finished one): the page scrolls by as much as the card moved.
function cardInSight(main) {
  if (window.scrollY <= 0) return null;  // at the top a new job shows itself
  var bar = document.querySelector(".bar").offsetHeight;
  var cards = main.querySelectorAll("article.job");
  for (var i = 0; i < cards.length; i++) if (cards[i].getBoundingClientRect().bottom > bar) return cards[i];
  return null;
}

function renderJobs() {
  var main = $("jobs");
  var seen = {};
  var anchor = cardInSight(main), before = anchor && anchor.getBoundingClientRect().top;
  var ordered = jobs.slice().sort(function (a, b) {
    var fa = a.revoked || (a.report && a.report.state === "sent") ? 1 : 0;
    var fb = b.revoked || (b.report && b.report.state === "sent") ? 1 : 0;
    return fa - fb || (a.received_at < b.received_at ? -1 : 1);
  });
  ordered.forEach(function (j) {
    var card = cardOf(j) || buildCard(j);
    updateCard(card, j);
    main.appendChild(card);  // (re)appending keeps the order; an existing card just moves
    seen[card.id] = true;
  });
  Array.prototype.slice.call(main.querySelectorAll("article.job")).forEach(function (card) {
    if (!seen[card.id]) card.remove();
  });
  var empty = main.querySelector(".empty");
  if (!jobs.length && !empty) main.appendChild(el("p", { class: "empty", text: T.no_jobs }));
  if (jobs.length && empty) empty.remove();
  if (anchor && anchor.isConnected) {
    var moved = anchor.getBoundingClientRect().top - before;
    if (moved) window.scrollBy(0, moved);
  }
  renderCallOut();
}

function renderAll() {
  $("car").textContent = session ? session.call_sign : "";
  $("car").title = session && session.crew ? t("crew", { names: session.crew.join(", ") }) : "";
  $("logout").hidden = !session;
  renderAlarm();
  $("search-open").hidden = !session || !$("register").hidden;
  renderDuty();
  renderQueue();
  if (session) renderJobs();
}

// -- the register, read-only, for a car on duty (issue 13) --------------------------------
// The same search and object view as the console, through the tablet's API with the shift's
// device token; nothing of it is kept on the tablet. An off-duty car is refused by the
// server (off_duty), and the screen says so.
function readApi(path) {
  if (!navigator.onLine) return Promise.reject({ code: "needs_network" });
  return fetch("/api/v1/field" + path, { headers: { Authorization: "Bearer " + session.token } })
    .then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.ok) return body;
        throw (body && body.error) || { code: "read_failed" };
      });
    }, function () { throw { code: "needs_network" }; });
}

function readError(error) {
  if (error && error.code === "needs_network") return T.needs_network;
  if (error && error.code === "unauthorized") { revokedHere(); return ""; }
  return (error && T.errors[error.code]) || T.read_failed;
}

function registerMessage(text) {
  var box = $("register-message");
  box.textContent = text || "";
  box.hidden = !text;
}

function openRegister(what) {
  $("jobs").hidden = true;
  $("register").hidden = false;
  $("search-open").hidden = true;
  $("register-view").innerHTML = "";
  registerMessage("");
  if (what && what.object_id) { $("register-hits").innerHTML = ""; showObject(what.object_id); }
  else $("register-q").focus();
  window.scrollTo(0, 0);
}

function closeRegister() {
  $("register").hidden = true;
  $("jobs").hidden = false;
  $("register-view").innerHTML = "";
  $("register-hits").innerHTML = "";
  registerMessage("");
  renderAll();
}

function searchRegister(q) {
  var hits = $("register-hits");
  hits.innerHTML = "";
  $("register-view").innerHTML = "";
  if (q.trim().length < 2) return;
  registerMessage(T.searching);
  readApi("/search?q=" + encodeURIComponent(q.trim())).then(function (list) {
    if (!list.length) { registerMessage(T.no_hits); return; }
    registerMessage(list[0].missing_number ? t("no_such_number", { number: list[0].missing_number, street: list[0].street }) : "");
    list.forEach(function (h) {
      var where = [h.postnummer, h.ort].filter(Boolean).join(" ");
      var flat = h.lagenhetsnummer ? t("flat", { n: h.lagenhetsnummer }) : "";
      var b = el("button", { type: "button", class: "hit" }, [
        el("strong", { text: h.address }), el("span", { text: [flat, where].filter(Boolean).join(" · ") })]);
      b.addEventListener("click", function () {
        if (h.object_id) showObject(h.object_id); else showEntrance(h.entrance_id);
      });
      hits.appendChild(el("li", {}, [b]));
    });
  }, function (error) { registerMessage(readError(error)); });
}

function historyList(items) {
  if (!items.length) return el("p", { class: "muted", text: T.no_earlier });
  return el("ul", { class: "plain" }, items.map(function (e) {
    return el("li", { text: day(e.at) + " " + hhmm(e.at) + " · " + (T.categories[e.category] || e.category) + " · " +
      (T.roles[e.role] || e.role) + (e.lagenhetsnummer ? " · " + t("flat", { n: e.lagenhetsnummer }) : "") });
  }));
}

function showObject(objectId) {
  var view = $("register-view");
  view.innerHTML = "";
  registerMessage(T.searching);
  readApi("/objects/" + objectId).then(function (o) {
    registerMessage("");
    $("register-hits").innerHTML = "";
    var where = [];
    if (o.lagenhetsnummer) where.push(t("flat", { n: o.lagenhetsnummer }));
    if (o.floor !== null && o.floor !== undefined) where.push(t("floor", { n: o.floor }));
    view.appendChild(el("article", { class: "object", id: "object-" + o.object_id }, [
      el("h2", { class: "address", text: o.full_address || o.address }),
      where.length ? el("p", { class: "where", text: where.join(" · ") }) : null,
      el("section", { class: "tenants" }, [el("h3", { text: T.tenants }),
        o.tenants.length ? el("ul", { class: "plain" }, o.tenants.map(function (p) {
          return el("li", {}, [el("span", { text: p.name }),
            p.phone ? el("a", { class: "button call", href: "tel:" + p.phone, text: t("call", { phone: p.phone_display || p.phone }) }) : null]);
        })) : el("p", { class: "muted", text: T.no_tenants })]),
      el("section", { class: "neighbours" }, [el("h3", { text: T.neighbours }),
        o.neighbours.length ? el("ul", { class: "plain" }, o.neighbours.map(function (n) {
          var b = el("button", { type: "button", class: "hit" }, [
            el("strong", { text: (T.neighbours_rel[n.relation] || n.relation) + ": " + t("flat", { n: n.lagenhetsnummer }) }),
            el("span", { text: n.tenants.join(", ") || "–" })]);
          b.addEventListener("click", function () { showObject(n.object_id); });
          return el("li", {}, [b]);
        })) : el("p", { class: "muted", text: T.no_neighbours })]),
      el("section", { class: "premise-history" }, [el("h3", { text: T.premise_history }), historyList(o.history)])
    ]));
  }, function (error) { registerMessage(readError(error)); });
}

function showEntrance(entranceId) {
  var view = $("register-view");
  view.innerHTML = "";
  readApi("/entrances/" + entranceId).then(function (e) {
    registerMessage("");
    view.appendChild(el("article", { class: "object" }, [
      el("h2", { class: "address", text: e.full_address || e.address }),
      el("h3", { text: T.flats }),
      el("ul", { class: "plain" }, e.objects.map(function (o) {
        var b = el("button", { type: "button", class: "hit" }, [
          el("strong", { text: o.lagenhetsnummer ? t("flat", { n: o.lagenhetsnummer }) : o.objektsnummer }),
          el("span", { text: o.tenants.join(", ") || "–" })]);
        b.addEventListener("click", function () { showObject(o.object_id); });
        return el("li", {}, [b]);
      }))
    ]));
  }, function (error) { registerMessage(readError(error)); });
}

function showHistory(card, j) {
  var box = card.querySelector(".history");
  if (!box) return;
  if (!box.hidden) { box.hidden = true; return; }
  box.hidden = false;
  box.innerHTML = "";
  box.appendChild(el("h3", { text: T.job_history }));
  var status = el("p", { class: "muted", role: "status", text: T.searching });
  box.appendChild(status);
  readApi("/jobs/" + j.job.job_id + "/history").then(function (h) {
    status.remove();
    if (!h.events.length) { box.appendChild(el("p", { class: "muted", text: T.no_history })); return; }
    box.appendChild(el("ol", { class: "plain" }, h.events.map(function (e) {
      var what = T.history_kinds[e.kind] || e.kind;
      if (e.kind === "call_attempt") what += " – " + (e.answered ? T.answered : T.no_answer);
      return el("li", { text: hhmm(e.at) + " · " + what + (e.call_sign ? " · " + e.call_sign : "") });
    })));
  }, function (error) { status.textContent = readError(error); });
}

$("search-open").addEventListener("click", function () { openRegister(null); });
$("newjob").addEventListener("click", showCalledOut);
$("register-back").addEventListener("click", closeRegister);
$("register-form").addEventListener("submit", function (e) {
  e.preventDefault();
  searchRegister($("register-q").value);
});

// -- the alarm button (issue 19) -----------------------------------------------------------
// A long press (1.5 s) on a big target, by pointer events (a glove or a finger, no click): a
// tap or a brush does nothing. The alarm goes first in the outbox, ahead of anything waiting,
// with the car's last position; kept there while offline and sent first on reconnect. The
// loud alarm beeps and vibrates on the tablet; the silent one does neither.
var HOLD_MS = 1500;

function raiseAlarm(kind) {
  var item = { id: uuid(), event: "patrol.alarm", queued_at: now(), data: {
    event_id: uuid(), kind: kind, at: now(),
    lat: lastFix ? lastFix.lat : null, lon: lastFix ? lastFix.lon : null,
    accuracy_m: lastFix ? lastFix.accuracy : null } };
  alarm = { event_id: item.data.event_id, kind: kind, state: "queued", at: item.data.at };
  save("alarm", alarm);
  outbox.unshift(item);  // first, before everything waiting
  saveOutbox();
  inFlight = null;  // not behind a message waiting for its answer (a resend is harmless)
  if (kind === "alarm") { alarmSound(); if (navigator.vibrate) navigator.vibrate([500, 200, 500]); }
  renderAll();
  flush();
}

function alarmSound() {
  try {
    var ctx = new (window.AudioContext || window.webkitAudioContext)();
    var osc = ctx.createOscillator();
    osc.frequency.value = 990;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.6);
  } catch (e) { /* no sound: the screen says it */ }
}

function alarmSent(item, answer) {
  if (!alarm || alarm.event_id !== item.data.event_id) return;
  alarm.alarm_id = answer.alarm_id;
  alarm.state = answer.acknowledged_at ? "acknowledged" : "sent";
  alarm.sent_at = now();
  save("alarm", alarm);
}

function onAlarmAcknowledged(payload) {
  if (!alarm || alarm.alarm_id !== payload.alarm_id) return;
  alarm.state = "acknowledged";
  alarm.acknowledged_at = payload.acknowledged_at;
  alarm.acknowledged_by = payload.acknowledged_by || "";
  save("alarm", alarm);
  renderAlarm();
}

function renderAlarm() {
  $("safety").hidden = !session;
  var box = $("alarm-state");
  if (!alarm) { box.hidden = true; return; }
  box.hidden = false;
  box.className = "alarm-state alarm-" + alarm.state;
  box.textContent = alarm.state === "queued" ? T.alarm_queued
    : alarm.state === "sent" ? t("alarm_sent", { time: hhmm(alarm.sent_at || alarm.at) })
    : t("alarm_acknowledged", { time: hhmm(alarm.acknowledged_at), user: alarm.acknowledged_by || "" });
}

function holdToRaise(button, kind) {
  var timer = null;
  function start(e) {
    if (timer || (e.type === "keydown" && (e.repeat || (e.key !== " " && e.key !== "Enter")))) return;
    if (e.type === "pointerdown" && button.setPointerCapture) button.setPointerCapture(e.pointerId);
    e.preventDefault();
    button.classList.add("holding");
    timer = setTimeout(function () { timer = null; button.classList.remove("holding"); raiseAlarm(kind); }, HOLD_MS);
  }
  function stop() {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    button.classList.remove("holding");
  }
  button.addEventListener("pointerdown", start);
  button.addEventListener("keydown", start);
  ["pointerup", "pointercancel", "lostpointercapture", "keyup", "blur"].forEach(function (name) {
    button.addEventListener(name, stop);
  });
  button.addEventListener("contextmenu", function (e) { e.preventDefault(); });  // long-press menu
}
holdToRaise($("alarm"), "alarm");
holdToRaise($("alarm-silent"), "silent");

// -- the check-in while on site (issue 19) -------------------------------------------------
// From on_site the tablet asks "all well?" every interval (the server's settings: shorter for
// fight or threat); the answer goes through the outbox. The server keeps the timer: a missed
// check-in raises the console's alarm whether or not this tablet is on.
// The job's own interval (check_in_s: its landlord's and category's setting) comes with the
// job; the page's defaults are for a job stored before it did.
function checkInAt(j) {
  if (!j.steps.on_site || j.steps.done || j.revoked) return null;
  var every = (j.job.check_in_s || (j.job.category === "fight_threat" ? CONFIG.check_in.fight_threat_s : CONFIG.check_in.default_s)) * 1000;
  return new Date(j.checked_in_at || j.steps.on_site).getTime() + every;
}
function checkInDue(j) {
  var at = checkInAt(j);
  return at !== null && Date.now() >= at;
}

function renderCheckIn(card, j) {
  var box = card.querySelector(".check-in");
  var due = checkInDue(j), at = checkInAt(j);
  var next = card.querySelector(".check-in-next");
  if (at === null || due) { if (next) next.remove(); }
  else {
    if (!next) {
      next = el("p", { class: "check-in-next muted" });
      card.insertBefore(next, card.querySelector(".info-slot"));
    }
    var text = t("check_in_next", { time: hhmm(new Date(at).toISOString()) });
    if (next.textContent !== text) next.textContent = text;
  }
  if (box && !due) box.remove();
  if (!due || box) return;
  var yes = el("button", { type: "button", class: "primary big", text: T.check_in_yes });
  yes.addEventListener("click", function () {
    j.checked_in_at = now();
    saveJobs();
    enqueue("job.check_in", { job_id: j.job.job_id, event_id: uuid(), at: j.checked_in_at }, { job_id: j.job.job_id });
    renderAll();
  });
  card.insertBefore(el("div", { class: "check-in", role: "alert" }, [
    el("p", { text: T.check_in_question }), yes]), card.querySelector(".info-slot"));
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
}
setInterval(function () {
  jobs.forEach(function (j) { var card = cardOf(j); if (card) renderCheckIn(card, j); });
}, 5000);

// -- the connection ----------------------------------------------------------------------
function connect() {
  if (!session || typeof io !== "function") return;
  if (socket) socket.disconnect();
  socket = io("/field", { auth: { token: session.token, call_sign: session.call_sign }, reconnectionDelayMax: 5000 });
  socket.on("connect", function () { notice(""); renderQueue(); refreshDuty(); sendPosition(); flush(); });
  socket.on("disconnect", function (reason) {
    inFlight = null;
    renderQueue();
    // The server ended the connection (a revoked session, say): ask again, and the refusal
    // says why; socket.io does not reconnect by itself after a server's disconnect.
    if (reason === "io server disconnect" && socket) socket.connect();
  });
  socket.on("session.revoked", function () { revokedHere(); });
  socket.on("connect_error", function (err) {
    var reason = (err && err.message) || "";
    if (reason === "revoked") {
      revokedHere();
    } else if (reason === "unauthorized" || reason === "forbidden" || reason.indexOf("unknown patrol") === 0) {
      endSession(reason.indexOf("unknown patrol") === 0 ? "unknown_call_sign" : reason);
    } else {
      renderQueue();
    }
  });
  socket.on("job.assigned", onAssigned);
  socket.on("job.revoked", onRevoked);
  socket.on("alarm.acknowledged", onAlarmAcknowledged);
}

window.addEventListener("offline", function () {
  if (socket) socket.disconnect();  // say "offline" now, not after the ping times out
  inFlight = null;
  renderQueue();
});
window.addEventListener("online", function () {
  if (socket && !socket.connected) socket.connect();
  else if (!socket) connect();
  renderQueue();
});

// -- log-in and log-out -------------------------------------------------------------------
// The log-in ends, but what the patrol did stays on the tablet for the next log-in with the
// same car; a log-in for another car starts clean.
function endSession(code) {
  if (socket) { socket.off(); socket.disconnect(); socket = null; }
  session = null;
  localStorage.removeItem(PREFIX + "session");
  showLogin(T.errors[code] || "");
}

// Log-out, or the session revoked (a lost tablet): nothing of the shift stays on the tablet,
// neither jobs and door codes nor drafts and the outbox.
function forgetShift(message) {
  if (socket) { socket.off(); socket.disconnect(); socket = null; }
  wipe();
  session = null; jobs = []; outbox = []; drafts = {}; duty = null; alarm = null;
  $("jobs").innerHTML = "";
  $("register").hidden = true;
  $("register-view").innerHTML = "";
  $("register-hits").innerHTML = "";
  watchPosition();
  showLogin(message);
}
function revokedHere() { forgetShift(T.errors.unauthorized); }

function showLogin(message) {
  $("jobs").hidden = true;
  $("register").hidden = true;
  $("login").hidden = false;
  renderAll();
  var error = $("login-error");
  error.textContent = message || "";
  error.hidden = !message;
  var select = $("login-car");
  fetch("/api/v1/field/patrols").then(function (r) { return r.json(); }).then(function (cars) {
    var chosen = select.value || load("owner", "");
    select.length = 1;
    cars.forEach(function (c) {
      select.appendChild(el("option", { value: c.call_sign, text: c.call_sign + (c.name !== c.call_sign ? " – " + c.name : "") }));
    });
    select.value = chosen;
  }).catch(function () {});
  $("login-email").focus();
}

function showApp() {
  $("login").hidden = true;
  $("jobs").hidden = false;
  renderAll();
  watchPosition();
  connect();
}

$("login-form").addEventListener("submit", function (e) {
  e.preventDefault();
  var form = e.target;
  var crew = [form.elements.crew1.value, form.elements.crew2.value].map(function (n) { return n.trim(); })
    .filter(Boolean);
  var body = { email: form.elements.email.value, password: form.elements.password.value,
    call_sign: form.elements.call_sign.value, crew: crew };
  var error = $("login-error");
  var crewField = form.elements.crew1;
  var crewError = function (message) {
    crewField.classList.toggle("invalid", !!message);
    if (message) crewField.setAttribute("aria-invalid", "true"); else crewField.removeAttribute("aria-invalid");
    $("login-crew-error").textContent = message || "";
    $("login-crew-error").hidden = !message;
  };
  crewError("");
  if (!body.call_sign) { error.textContent = T.errors.unknown_call_sign; error.hidden = false; return; }
  if (!crew.length) { error.hidden = true; crewError(T.errors.missing_crew); crewField.focus(); return; }
  fetch("/api/v1/field/session", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) })
    .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
    .then(function (res) {
      if (!res.ok) {
        var code = res.data.error && res.data.error.code;
        if (code === "missing_crew" || code === "invalid_crew") { crewError(errorText(res.data.error)); return; }
        error.textContent = errorText(res.data.error); error.hidden = false; return;
      }
      if (load("owner", null) !== res.data.patrol.call_sign) {
        wipe();
        jobs = []; outbox = []; drafts = {};
      }
      session = { token: res.data.token, call_sign: res.data.patrol.call_sign, patrol: res.data.patrol,
        user: res.data.user, expires_at: res.data.expires_at, crew: res.data.crew };
      save("session", session);
      save("owner", session.call_sign);
      setDuty(res.data.patrol.status);
      form.elements.password.value = "";
      error.hidden = true;
      showApp();
    })
    .catch(function () { error.textContent = T.login_failed; error.hidden = false; });
});

$("logout").addEventListener("click", function () {
  if (!window.confirm(outbox.length ? T.log_out_pending : T.log_out_confirm)) return;
  var token = session && session.token;
  if (token) fetch("/api/v1/field/session", { method: "DELETE", headers: { Authorization: "Bearer " + token } }).catch(function () {});
  forgetShift("");
});

$("duty").addEventListener("click", toggleDuty);

// -- start ----------------------------------------------------------------------------------
// Jobs closed more than 12 hours ago are not kept.
var cutoff = Date.now() - 12 * 3600 * 1000;
jobs = jobs.filter(function (j) {
  var finished = j.revoked || (j.report && j.report.state === "sent");
  return !finished || new Date(j.report ? j.report.at : j.received_at).getTime() > cutoff;
});
jobs.forEach(function (j) {
  if (j.revoked || j.steps.done || (j.report && j.report.state === "sent")) forgetDoorCode(j);
});
saveJobs();

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(CONFIG.sw_url, { scope: CONFIG.scope }).catch(function () {});
}
if (session) showApp(); else showLogin("");
