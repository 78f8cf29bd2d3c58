/* Texts the console shows: "%(name)s" placeholders, times in the service's time zone, the
 * running timers, phone numbers as the tablet shows them, distances in km in the operator's
 * language, short street addresses. */

import { el } from "../common/dom.js";
import { cfg, state } from "./state.js";

/** "%(name)s" placeholders, as in the server's catalogs. */
export function fmt(text, params) {
  return String(text).replace(/%\((\w+)\)s/g, function (_m, key) {
    return params && params[key] != null ? params[key] : "";
  });
}

// -- time -------------------------------------------------------------------------------

export function now() { return Date.now() + state.skewMs; }

export function elapsed(iso) {
  if (!iso) return "";
  var s = Math.max(0, Math.floor((now() - Date.parse(iso)) / 1000));
  var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
  return h ? h + ":" + mm : mm;
}

var LANG = document.documentElement.lang || "sv";
// Dates and times as a Swedish service writes them in any language: a 24-hour clock, and in
// English the day before the month (en-GB), never the American 12/3/26, 10:49 PM.
var INTL = LANG === "en" ? "en-GB" : LANG;

/** Times in the service's time zone (DISPATCH_TZ), whatever the PC is set to. */
export function clockText(iso) {
  var d = iso ? new Date(iso) : new Date(now());
  return d.toLocaleTimeString(INTL, {hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
                                     timeZone: cfg.tz});
}

export function dateTimeText(iso) {
  return new Date(iso).toLocaleString(INTL, {dateStyle: "short", timeStyle: "short", hourCycle: "h23",
                                             timeZone: cfg.tz});
}

/** A running timer: its text is refreshed every second by tick() (main.js). */
export function timer(iso, label, cls) {
  return el("span", {class: "timer " + (cls || ""), dataset: {since: iso}},
            [label ? el("span", {class: "timer-label", text: label}) : null,
             el("span", {class: "timer-value", text: elapsed(iso)})]);
}

// -- phone numbers ------------------------------------------------------------------------

/** A number as people read it. The server formats every number it sends (``phone_display``,
 * ``caller_number_display``: dispatch/core/phones.py, as on the tablet), and that is what is
 * shown; this is only the fallback for a number without it (+46701740605 → 070-174 06 05). */
export function displayPhone(e164, display) {
  if (display) return display;
  if (!e164) return "";
  var m = /^\+467(\d)(\d{3})(\d{2})(\d{2})$/.exec(e164);
  if (m) return "07" + m[1] + "-" + m[2] + " " + m[3] + " " + m[4];
  m = /^\+468(\d+)$/.exec(e164);
  if (m) {
    var rest = m[1];
    var groups = rest.length === 8 ? [rest.slice(0, 3), rest.slice(3, 6), rest.slice(6)]
      : rest.length === 7 ? [rest.slice(0, 3), rest.slice(3, 5), rest.slice(5)] : [rest];
    return "08-" + groups.join(" ");
  }
  if (/^\+46\d+$/.test(e164)) return "0" + e164.slice(3);
  return e164;
}

export function telLink(e164, display) {
  return e164 ? el("a", {href: "tel:" + e164, class: "tel", text: displayPhone(e164, display)})
    : null;
}

// -- distances ----------------------------------------------------------------------------

var KM = new Intl.NumberFormat(LANG, {minimumFractionDigits: 1, maximumFractionDigits: 1});

/** Metres as km in the operator's language: 1234 → "1,2 km" in Swedish, "1.2 km" in English. */
export function kmText(metres) {
  if (metres == null || isNaN(metres)) return "";
  return KM.format(metres / 1000) + "\u00a0km";
}

/** "Götgatan 12B, 118 46 Stockholm" → "Götgatan 12B": the board is narrow. */
export function street(address) { return String(address || "").split(",")[0]; }
