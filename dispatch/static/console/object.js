/* The object view: the chosen flat's facts, door code, tenants, neighbours (a digit marks one
 * as the suspected source) and earlier complaints. */

import { $, clear, el } from "../common/dom.js";
import { api, errorText, notice } from "./api.js";
import { saveDraft } from "./draft.js";
import { dateTimeText, fmt, telLink } from "./format.js";
import { state, T } from "./state.js";

var objectSeq = 0;

/** Forget an object view on its way: a newer choice (or none) wins. */
export function cancelObjectLoad() { objectSeq++; }

export function loadObject() {
  var seq = ++objectSeq;
  state.object = null;
  state.objectKeptFor = null;
  var chosen = state.chosen;
  if (!chosen || chosen.kind !== "object") { renderObject(); return; }
  api("GET", "/api/v1/objects/" + chosen.id).then(function (result) {
    if (seq !== objectSeq) return;
    if (result.ok) state.object = result.data;
    else notice(errorText(result), "error");
    renderObject();
  }).catch(function () { notice(T.request_failed, "error"); });
}

export function renderObject() {
  var body = $("object-body");
  clear(body);
  var o = state.object;
  if (!o) {
    if (state.chosen && state.chosen.kind === "entrance") {
      body.appendChild(el("p", {class: "object-address", text: state.chosen.label}));
    } else {
      body.appendChild(el("p", {class: "muted", text: T.object_placeholder || ""}));
    }
    return;
  }
  body.appendChild(el("p", {class: "object-address"}, [
    el("strong", {text: o.address}),
    o.lagenhetsnummer
      ? el("span", {class: "flat", text: T.flat + " " + o.lagenhetsnummer}) : null,
  ]));
  body.appendChild(el("dl", {class: "facts"}, [
    el("dt", {text: T.selected_address}), el("dd", {text: o.full_address}),
    el("dt", {text: T.floor}), el("dd", {text: o.floor != null ? String(o.floor) : "–"}),
    el("dt", {text: T.objektsnummer}), el("dd", {text: o.objektsnummer}),
    el("dt", {text: T.door_code}),
    doorCode(o),
  ]));
  body.appendChild(el("h3", {text: T.tenants_title}));
  body.appendChild(o.tenants.length
    ? el("ul", {class: "tenants"}, o.tenants.map(function (t) {
      return el("li", {}, [el("span", {text: t.name}), " ", telLink(t.phone, t.phone_display)]);
    }))
    : el("p", {class: "muted", text: T.no_tenants}));

  body.appendChild(el("h3", {text: T.neighbours_title}));
  if (!o.neighbours.length) {
    body.appendChild(el("p", {class: "muted", text: T.no_neighbours}));
  } else {
    var shown = o.neighbours.slice(0, 9);
    body.appendChild(el("ol", {class: "neighbours"}, shown.map(function (n, i) {
      var marked = state.suspectedObjectId === n.object_id;
      return el("li", {class: marked ? "marked" : ""}, [
        el("kbd", {class: "key", text: String(i + 1)}),
        el("span", {class: "rel rel-" + n.relation, text: T.neighbours[n.relation]}),
        el("span", {class: "flat", text: n.lagenhetsnummer}),
        el("span", {class: "names", text: n.tenants.join(", ") || T.no_tenants}),
        state.objectKeptFor != null ? null
          : el("button", {type: "button", class: "link", text: T.mark,
                          onclick: function () { markNeighbour(i); }}),
      ]);
    })));
  }
  body.appendChild(el("h3", {text: T.history_title}));
  if (!o.history.length) {
    body.appendChild(el("p", {class: "muted", text: T.no_history}));
  } else {
    body.appendChild(el("ul", {class: "history"}, o.history.slice(0, 10).map(function (h) {
      return el("li", {}, [
        el("span", {class: "when", text: dateTimeText(h.at)}),
        " " + (T.categories[h.category] || h.category),
        " · " + (T.history_roles[h.role] || h.role),
        h.lagenhetsnummer ? " · " + T.flat + " " + h.lagenhetsnummer : "",
        h.status ? " · " + (T.job_status[h.status] || h.status) : "",
      ]);
    })));
  }
}

/** The object view kept after logging ``jobId`` goes once that job is sent (or set aside);
 * a view of an address chosen since stays. */
export function releaseKeptObject(jobId) {
  if (state.objectKeptFor == null || state.objectKeptFor !== jobId) return;
  state.objectKeptFor = null;
  state.object = null;
  renderObject();
}

/** One key: this neighbour is the suspected source. */
export function markNeighbour(index) {
  if (state.objectKeptFor != null) return false; // the logged complaint's: its form is gone
  var n = state.object && state.object.neighbours[index];
  if (!n) return false;
  state.suspectedObjectId = n.object_id;
  $("f-suspected").value = fmt(T.suspected, {relation: T.neighbours[n.relation],
                                             flat: n.lagenhetsnummer}) +
    (n.tenants.length ? " (" + n.tenants.join(", ") + ")" : "");
  saveDraft();
  renderObject();
  notice($("f-suspected").value);
  return true;
}

/** The door code is shown only when asked for (each "show" is audited on the server). */
function doorCode(o) {
  var dd = el("dd", {class: "door-code"});
  if (!o.door_code_known) { dd.textContent = T.none; return dd; }
  var button = el("button", {type: "button", class: "door-code-show", text: T.show_door_code});
  button.addEventListener("click", function () {
    button.disabled = true;
    api("POST", "/console/objects/" + o.object_id + "/door-code", {}).then(function (result) {
      if (state.object !== o) return;
      if (result.ok) { dd.textContent = result.data.door_code || T.none; return; }
      button.disabled = false;
      notice(errorText(result), "error");
    }).catch(function () { button.disabled = false; notice(T.request_failed, "error"); });
  });
  dd.appendChild(button);
  return dd;
}
