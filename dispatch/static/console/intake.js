/* The complaint form: its draft restored after a reload, the 112 advice, the form's errors
 * next to their fields, and logging the complaint (which opens the dispatch panel). */

import { $ } from "../common/dom.js";
import { api, errorText, notice } from "./api.js";
import { renderResult } from "./dispatch.js";
import { discardDraft, FIELDS, loadDraft, saveDraft } from "./draft.js";
import { cancelObjectLoad, loadObject, renderObject } from "./object.js";
import { closeList, renderChosen, scheduleSearch } from "./search.js";
import { state, T } from "./state.js";

export function restoreDraft() {
  var draft = loadDraft();
  if (!draft) return;
  Object.keys(FIELDS).forEach(function (key) {
    if (draft[key] != null) $(FIELDS[key]).value = draft[key];
  });
  state.chosen = draft.chosen || null;
  state.callId = draft.call_id || null;
  state.suspectedObjectId = draft.suspected_object_id || null;
  $("draft-call").textContent = draft.call_label || "";
  renderChosen();
  updateAdvice();
  loadObject();
  var typed = Object.keys(FIELDS).some(function (key) {
    return key !== "priority" && draft[key];
  });
  if (typed) notice(T.draft_restored);
}

/** An empty form. ``keepObject``: the object view stays (a complaint just logged: the operator
 * still reads tenants and neighbours while sending the car; dispatch.js clears it then). */
export function resetForm(keepObject) {
  $("intake").reset();
  state.chosen = null;
  state.callId = null;
  state.suspectedObjectId = null;
  if (!keepObject) {
    state.object = null;
    state.objectKeptFor = null;
    cancelObjectLoad();
  }
  $("draft-call").textContent = "";
  closeList();
  renderChosen();
  if (!keepObject) renderObject();
  showFormError("");
  updateAdvice();
}

function updateAdvice() {
  $("advice-112").hidden = $("f-category").value !== "fight_threat";
}

function showFormError(text, fieldId) {
  $("form-error").textContent = text;
  document.querySelectorAll("#intake [aria-invalid]").forEach(function (node) {
    node.removeAttribute("aria-invalid");
  });
  if (fieldId) {
    $(fieldId).setAttribute("aria-invalid", "true");
    $(fieldId).focus();
  }
}

var ERROR_FIELDS = {invalid_category: "f-category", invalid_priority: "f-priority",
                    address_required: "f-search", unknown_object: "f-search",
                    unknown_entrance: "f-search", unknown_landlord: "f-landlord",
                    invalid_phone: "f-caller-phone"};

export function submitComplaint() {
  if (state.submitting) return;
  var chosen = state.chosen;
  var body = {
    landlord: $("f-landlord").value,
    category: $("f-category").value,
    priority: parseInt($("f-priority").value, 10) || 2,
    description: $("f-description").value,
    caller: {name: $("f-caller-name").value, phone: $("f-caller-phone").value},
    disturbed_party: $("f-disturbed").value || null,
    suspected_source: $("f-suspected").value || null,
    suspected_object_id: state.suspectedObjectId,
    call_id: state.callId,
  };
  if (chosen && chosen.kind === "object") body.object_id = chosen.id;
  if (chosen && chosen.kind === "entrance") body.entrance_id = chosen.id;
  state.submitting = true;
  $("log").disabled = true;
  var address = chosen ? chosen.label : "";
  var category = T.categories[body.category] || body.category;
  api("POST", "/api/v1/complaints", body).then(function (result) {
    if (!result.ok) {
      var code = result.data && result.data.error && result.data.error.code;
      showFormError(errorText(result), ERROR_FIELDS[code]);
      return;
    }
    discardDraft();
    resetForm(true);
    state.objectKeptFor = state.object ? result.data.job_id : null;
    state.result = {job_id: result.data.job_id, recommended: result.data.recommended,
                    address: address, category: category, outcome: null};
    renderResult();
    $("result").focus();
  }).catch(function () {
    showFormError(T.request_failed);
  }).then(function () {
    state.submitting = false;
    $("log").disabled = false;
  });
}

/** The form's events and the Clear button. */
export function initIntake() {
  var form = $("intake");
  form.addEventListener("submit", function (e) { e.preventDefault(); submitComplaint(); });
  form.addEventListener("input", function (e) {
    if (e.target.id === "f-suspected") state.suspectedObjectId = null;
    if (e.target.id === "f-search") scheduleSearch();
    saveDraft();
  });
  form.addEventListener("change", function (e) {
    if (e.target.id === "f-category") {
      updateAdvice();
      if (e.target.value === "fight_threat") $("f-priority").value = "1";
    }
    if (e.target.id === "f-landlord" && $("f-search").value.trim().length >= 2 &&
        !state.chosen) scheduleSearch();
    saveDraft();
  });
  $("clear").addEventListener("click", function () {
    resetForm();
    discardDraft();
    $("f-search").focus();
  });
}
