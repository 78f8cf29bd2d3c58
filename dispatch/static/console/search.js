/* The address search: a combobox that asks the server as the operator types, lists hits (or
 * an entrance's flats) and never picks one by itself; the chosen address of the complaint. */

import { $, clear, el } from "../common/dom.js";
import { api, errorText } from "./api.js";
import { saveDraft } from "./draft.js";
import { fmt } from "./format.js";
import { loadObject } from "./object.js";
import { state, T } from "./state.js";

var SEARCH_DELAY_MS = 120;

var search = {seq: 0, timer: null, items: [], active: -1, mode: "hits", entrance: null};

function listOpen() { return !$("search-list").hidden; }

export function closeList() {
  $("search-list").hidden = true;
  $("f-search").setAttribute("aria-expanded", "false");
  $("f-search").removeAttribute("aria-activedescendant");
  $("search-hint").textContent = "";
}

/** Whether an answer is on its way: the list on screen may be about to change. */
function setBusy(on) {
  $("search-list").setAttribute("aria-busy", on ? "true" : "false");
}

export function scheduleSearch() {
  clearTimeout(search.timer);
  var q = $("f-search").value.trim();
  search.seq++;
  setBusy(q.length >= 2);
  if (q.length < 2) { closeList(); return; }
  search.timer = setTimeout(function () { runSearch(q); }, SEARCH_DELAY_MS);
}

/** GET the list's next items; an answer to an older request than the latest (seq) is dropped. */
function fetchItems(seq, url, show) {
  api("GET", url).then(function (result) {
    if (seq !== search.seq) return; // the operator typed on: a newer search is coming
    setBusy(false);
    if (!result.ok) { $("search-hint").textContent = errorText(result); return; }
    show(result.data);
  }).catch(function () {
    if (seq !== search.seq) return;
    setBusy(false);
    $("search-hint").textContent = T.request_failed;
  });
}

function runSearch(q) {
  var seq = ++search.seq;
  var landlord = $("f-landlord").value;
  var url = "/api/v1/addresses/search?limit=8&q=" + encodeURIComponent(q) +
    (landlord ? "&landlord=" + encodeURIComponent(landlord) : "");
  $("search-hint").textContent = T.searching;
  fetchItems(seq, url, function (hits) {
    search.mode = "hits";
    showItems(hits.map(function (hit) { return {hit: hit}; }));
  });
}

/** Show candidates; none is active until the operator moves to it: never auto-pick. */
function showItems(items) {
  search.items = items;
  search.active = -1;
  renderList();
}

function itemLabel(item) {
  if (item.hit) {
    var h = item.hit;
    return h.address + (h.lagenhetsnummer ? ", " + T.flat + " " + h.lagenhetsnummer : "");
  }
  if (item.whole) return search.entrance.address;
  return search.entrance.address + ", " + T.flat + " " + (item.object.lagenhetsnummer ||
                                                           item.object.objektsnummer);
}

/** "There is no number 99 on Hornsgatan": the best hit's street lacks the asked number. */
function missingNumberText() {
  var first = search.mode === "hits" && search.items[0] && search.items[0].hit;
  if (!first || !first.missing_number) return "";
  return fmt(T.no_such_number, {number: first.missing_number, street: first.street});
}

function renderList() {
  var list = $("search-list"), input = $("f-search");
  clear(list);
  var missing = missingNumberText();
  if (missing) {
    list.appendChild(el("li", {id: "search-missing", class: "note", role: "presentation",
                               text: missing}));
  }
  if (!search.items.length) {
    list.appendChild(el("li", {class: "empty", role: "presentation", text: T.no_results}));
  }
  search.items.forEach(function (item, i) {
    var main, sub;
    if (item.hit) {
      var h = item.hit;
      main = itemLabel(item);
      sub = [h.postnummer, h.ort].filter(Boolean).join(" ") + " · " + h.landlord;
    } else if (item.whole) {
      main = T.whole_entrance;
      sub = search.entrance.full_address;
    } else {
      var o = item.object;
      main = T.flat + " " + (o.lagenhetsnummer || o.objektsnummer) +
        (o.floor != null ? " · " + T.floor + " " + o.floor : "");
      sub = o.tenants.length ? o.tenants.join(", ") : T.no_tenants;
    }
    list.appendChild(el("li", {
      id: "opt-" + i, role: "option", class: "option" + (i === search.active ? " active" : ""),
      "aria-selected": i === search.active ? "true" : "false",
      onmousedown: function (e) { e.preventDefault(); search.active = i; pickActive(); },
    }, [el("span", {class: "opt-main"}, [el("span", {class: "opt-title", text: main}),
                                       el("span", {class: "opt-sub", text: sub})])]));
  });
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
  if (search.active >= 0) {
    input.setAttribute("aria-activedescendant", "opt-" + search.active);
    var node = $("opt-" + search.active);
    if (node) node.scrollIntoView({block: "nearest"});
  } else {
    input.removeAttribute("aria-activedescendant");
  }
  $("search-hint").textContent = search.mode === "flats"
    ? fmt(T.choose_flat, {address: search.entrance.address}) + " — " + T.pick_hint
    : (search.items.length ? T.pick_hint : "");
}

function moveActive(step) {
  if (!search.items.length) return;
  var n = search.items.length;
  search.active = search.active < 0 ? (step > 0 ? 0 : n - 1) : (search.active + step + n) % n;
  renderList();
}

function pickActive() {
  var item = search.items[search.active];
  if (!item) return;
  if (item.hit && item.hit.object_id != null) {
    var h = item.hit;
    choose({kind: "object", id: h.object_id, label: itemLabel(item), landlord: h.landlord});
    afterPick();
  } else if (item.hit) {
    loadEntrance(item.hit);
  } else if (item.whole) {
    choose({kind: "entrance", id: search.entrance.entrance_id, label: search.entrance.address,
            landlord: search.landlord});
    afterPick();
  } else {
    choose({kind: "object", id: item.object.object_id, label: itemLabel(item),
            landlord: search.landlord});
    afterPick();
  }
}

function afterPick() {
  closeList();
  saveDraft();
  $("f-category").focus();
}

/** A hit without a flat: list the entrance's flats to choose from. */
function loadEntrance(hit) {
  var seq = ++search.seq;
  setBusy(true);
  $("search-hint").textContent = T.searching;
  fetchItems(seq, "/api/v1/entrances/" + hit.entrance_id, function (entrance) {
    search.mode = "flats";
    search.entrance = entrance;
    search.landlord = hit.landlord;
    showItems([{whole: true}].concat(entrance.objects.map(function (o) {
      return {object: o};
    })));
  });
}

/** The address of the complaint is chosen: show it, load the object view. */
export function choose(chosen) {
  state.chosen = chosen;
  state.suspectedObjectId = null;
  if (chosen.landlord) $("f-landlord").value = chosen.landlord;
  $("f-search").value = chosen.label;
  renderChosen();
  loadObject();
}

export function renderChosen() {
  var node = $("chosen");
  clear(node);
  if (state.chosen) {
    node.appendChild(el("span", {class: "chosen-mark", text: "✓ "}));
    node.appendChild(document.createTextNode(state.chosen.label));
  }
}

/** The combobox's own keys: arrows move in the list, Enter picks, Esc closes the list. */
function onSearchKey(e) {
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    if (!listOpen() && search.items.length) renderList();
    moveActive(e.key === "ArrowDown" ? 1 : -1);
  } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
    e.preventDefault(); // never submit the form from here
    if (listOpen() && search.active >= 0) pickActive();
  } else if (e.key === "Escape" && listOpen()) {
    e.preventDefault();
    e.stopPropagation();
    closeList();
  }
}

export function initSearch() {
  $("f-search").addEventListener("keydown", onSearchKey);
  $("f-search").addEventListener("blur", function () { setTimeout(closeList, 150); });
}
