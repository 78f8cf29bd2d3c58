/* The console's keys (the map on the page): N, /, 1–9, Ctrl+Enter, D, B, Esc, the arrows and
 * Enter on the board, and in an open job R, 1–9, Q, C. The address field's own keys are the
 * combobox's (search.js). */

import { $ } from "../common/dom.js";
import { focusBoard } from "./board.js";
import { newComplaint } from "./call.js";
import { dispatchJob, renderResult } from "./dispatch.js";
import { submitComplaint } from "./intake.js";
import {
  cancelling, chooseCar, closeJob, jobViewOpen, openJob, redispatchJob, requeueJob, startCancel,
  stopCancel,
} from "./jobview.js";
import { markNeighbour } from "./object.js";
import { state } from "./state.js";

function isTyping(target) {
  if (!target || !target.tagName) return false;
  var tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

function onKey(e) {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    submitComplaint();
    return;
  }
  var typing = isTyping(e.target);
  if (e.key === "Escape") {
    if (cancelling()) {
      stopCancel();  // the job stays as it was
    } else if (jobViewOpen() && !typing) {
      closeJob();
    } else if (typing) {
      e.target.blur();
      $("console").focus();
    } else if (state.result) {
      state.result = null;
      renderResult();
      $("console").focus();
    } else if (document.activeElement && document.activeElement !== document.body) {
      document.activeElement.blur();
      $("console").focus();
    }
    return;
  }
  if (typing || e.ctrlKey || e.altKey || e.metaKey) return;
  var onBoard = document.activeElement && document.activeElement.closest &&
    document.activeElement.closest("#board .job");
  var key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (onBoard && (key === "ArrowDown" || key === "ArrowUp")) {
    e.preventDefault();
    focusBoard(key === "ArrowDown" ? 1 : -1);
    return;
  }
  if (onBoard && key === "Enter") {
    e.preventDefault();
    openJob(Number(onBoard.dataset.jobId));
    return;
  }
  var onControl = document.activeElement && /^(A|BUTTON)$/.test(document.activeElement.tagName);
  if (jobViewOpen() && !onBoard) {
    // The open job's actions.
    if (key === "r") { e.preventDefault(); redispatchJob(); return; }
    if (key === "q") { e.preventDefault(); requeueJob(); return; }
    if (key === "c") { e.preventDefault(); startCancel(); return; }
    if (/^[1-9]$/.test(key) && chooseCar(Number(key) - 1)) { e.preventDefault(); return; }
  }
  if (key === "/") {
    e.preventDefault();
    $("f-search").focus();
    $("f-search").select();
  } else if (key === "n" || (key === "Enter" && !onControl && !onBoard && state.calls.length)) {
    e.preventDefault();
    newComplaint();
  } else if (key === "d") {
    e.preventDefault();
    // From the board only a waiting job: D must never move one a car already has.
    if (onBoard) {
      if (onBoard.dataset.status === "queued") dispatchJob(Number(onBoard.dataset.jobId));
    } else if (state.result && !state.result.outcome) {
      dispatchJob(state.result.job_id);
    }
  } else if (key === "b") {
    e.preventDefault();
    focusBoard(0);
  } else if (/^[1-9]$/.test(key)) {
    var i = Number(key) - 1;
    if (state.result && !state.result.outcome) {
      var candidate = state.result.recommended[i];
      if (candidate) {
        e.preventDefault();
        dispatchJob(state.result.job_id, candidate.patrol_id);
      }
    } else if (markNeighbour(i)) {
      e.preventDefault();
    }
  }
}

export function initKeyboard() {
  document.addEventListener("keydown", onKey);
}
