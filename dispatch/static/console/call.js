/* The screen pop: calls to the on-call number as the telephony announces them, taken oldest
 * first: the panel shows the call that waited longest (N starts a complaint prefilled from
 * it) and how many wait. The board's load brings the calls still waiting (GET /board); a call
 * taken here (N: POST /calls/<id>/take) or on another console (call.taken) leaves the list. */

import { $, clear, el } from "../common/dom.js";
import { api, errorText, notice } from "./api.js";
import { saveDraft } from "./draft.js";
import { clockText, displayPhone, fmt, street, telLink, timer } from "./format.js";
import { resetForm } from "./intake.js";
import { choose } from "./search.js";
import { state, T } from "./state.js";

export function onCall(pop) {
  if (state.calls.some(function (c) { return c.call_id === pop.call_id; })) return;
  state.calls.push(pop);
  renderCall();
  var panel = $("call");
  panel.classList.remove("ringing");
  void panel.offsetWidth; // restart the animation
  panel.classList.add("ringing");
}

export function renderCall() {
  var body = $("call-body");
  clear(body);
  var call = state.calls[0];
  $("call").dataset.empty = call ? "false" : "true";
  if (!call) {
    body.appendChild(el("p", {class: "muted", text: T.no_call || ""}));
    return;
  }
  var landlord = call.landlord ? call.landlord.name + " (" + call.landlord.code + ")"
    : T.unknown_landlord;
  body.appendChild(el("div", {class: "call-head"}, [
    el("span", {class: "call-number"}, [call.caller_number ? telLink(call.caller_number,
                                                                   call.caller_number_display)
                                                           : T.unknown_caller]),
    el("span", {class: "call-landlord", text: landlord}),
    timer(call.received_at, "", "call-timer"),
  ]));
  if (call.tenants.length) {
    body.appendChild(el("ul", {class: "call-tenants"}, call.tenants.map(function (t) {
      return el("li", {}, [el("strong", {text: t.name}), " · " + t.address +
        (t.lagenhetsnummer ? " · " + T.flat + " " + t.lagenhetsnummer : "")]);
    })));
  } else {
    body.appendChild(el("p", {class: "muted", text: T.no_tenant_match}));
  }
  body.appendChild(el("p", {class: "call-hint"}, [el("kbd", {text: "N"}), " " + T.press_n]));
  body.appendChild(el("p", {class: "calls-waiting", id: "calls-waiting"}, [
    fmt(T.calls_waiting[state.calls.length === 1 ? "one" : "other"],
        {n: state.calls.length}) + " · " + T.oldest_waiting + " ",
    timer(call.received_at, "", "wait-timer"),
  ]));
}

/** Another console took the call (logged a complaint from it). */
export function callTaken(callId) {
  var before = state.calls.length;
  state.calls = state.calls.filter(function (c) { return c.call_id !== callId; });
  if (state.calls.length !== before) renderCall();
}

/** N: a new complaint, prefilled from the call that waited longest, if one waits. */
export function newComplaint() {
  var call = state.calls.shift();
  resetForm();
  renderCall();
  if (call) {
    // Taken: off the other consoles' waiting calls (and this one's, after a reload).
    api("POST", "/api/v1/calls/" + call.call_id + "/take", {}).then(function (result) {
      if (!result.ok) notice(errorText(result), "error");
    }).catch(function () { notice(T.request_failed, "error"); });
    state.callId = call.call_id;
    if (call.landlord) $("f-landlord").value = call.landlord.code;
    if (call.caller_number) $("f-caller-phone").value = displayPhone(call.caller_number,
                                                                call.caller_number_display);
    $("draft-call").textContent = "· " + clockText(call.received_at);
    var objects = Array.from(new Set(call.tenants.map(function (t) { return t.object_id; })));
    if (call.tenants.length === 1) {
      $("f-caller-name").value = call.tenants[0].name;
    }
    if (objects.length === 1) {
      var t = call.tenants[0];
      $("f-disturbed").value = call.tenants.map(function (x) { return x.name; }).join(", ") +
        (t.lagenhetsnummer ? ", " + T.flat + " " + t.lagenhetsnummer : "");
      choose({kind: "object", id: t.object_id,
              label: street(t.address) +
                (t.lagenhetsnummer ? ", " + T.flat + " " + t.lagenhetsnummer : ""),
              landlord: call.landlord && call.landlord.code});
      saveDraft();
      $("f-category").focus();
      return;
    }
  }
  saveDraft();
  $("f-search").focus();
}
