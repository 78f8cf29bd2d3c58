/* The draft complaint lives in localStorage until it is logged, so that a reload or a crash
 * loses nothing: the form's fields, the chosen address, the call and the marked neighbour. */

import { $ } from "../common/dom.js";
import { cfg, state } from "./state.js";

var DRAFT_KEY = "dispatch.console.draft." + cfg.user_id;

/** The form's fields: the draft's key → the field's id. */
export var FIELDS = {landlord: "f-landlord", search: "f-search", category: "f-category",
                     priority: "f-priority", description: "f-description",
                     caller_name: "f-caller-name", caller_phone: "f-caller-phone",
                     disturbed_party: "f-disturbed", suspected_source: "f-suspected"};

export function saveDraft() {
  var draft = {chosen: state.chosen, call_id: state.callId,
               suspected_object_id: state.suspectedObjectId,
               call_label: $("draft-call").textContent};
  Object.keys(FIELDS).forEach(function (key) { draft[key] = $(FIELDS[key]).value; });
  try { localStorage.setItem(DRAFT_KEY, JSON.stringify(draft)); } catch (e) { /* full or off */ }
}

/** The saved draft, or null. */
export function loadDraft() {
  try {
    return JSON.parse(localStorage.getItem(DRAFT_KEY) || "null");
  } catch (e) {
    return null;
  }
}

export function discardDraft() {
  try { localStorage.removeItem(DRAFT_KEY); } catch (e) { /* ignore */ }
}
