/* The map (Leaflet, the global L from vendor/leaflet.js): patrols and open jobs. It fits the
 * markers once, then stays where the operator puts it; without tiles it still shows them. */

import { $ } from "../common/dom.js";
import { cfg, state, T } from "./state.js";

var map = null, layers = null, fitted = false, areaLayer = null;
var moved = false, points = [];

export function initMap() {
  if (!window.L) { $("map").hidden = true; return; }
  // No fade: a redrawn car's old name would linger 200 ms over its new one.
  map = L.map("map", {zoomControl: true, attributionControl: true, keyboard: true,
                      fadeAnimation: false})
    .setView([59.3293, 18.0686], 12);
  map.attributionControl.setPrefix(false);
  if (cfg.tile_url) {
    var tiles = L.tileLayer(cfg.tile_url, {attribution: cfg.attribution, maxZoom: 19});
    var warned = false;
    tiles.on("tileerror", function () {
      if (warned) return;
      warned = true;
      $("map-note").textContent = T.tiles_failed;
      $("map").classList.add("no-tiles");
    });
    tiles.addTo(map);
  } else {
    $("map").classList.add("no-tiles");
  }
  layers = {jobs: L.layerGroup().addTo(map), patrols: L.layerGroup().addTo(map)};
  map.on("zoomend", declutterLabels); // names that fitted apart may meet when zoomed out
  drawAreas();
  // The grid settles its sizes after Leaflet has measured the box; measure again then.
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      map.invalidateSize();
      if (fitted && !moved) fitMarkers();
    }).observe($("map"));
  }
  // Once the operator has moved the map, it stays where they put it.
  ["pointerdown", "wheel", "keydown"].forEach(function (name) {
    $("map").addEventListener(name, function () { moved = true; }, {passive: true});
  });
}

/** The cars' patrol areas (cfg.areas, GeoJSON), under the markers, each named by its car. */
function drawAreas() {
  showAreas(cfg.areas);
  // With no job or car to fit yet, show the areas.
  if (!areaLayer) return;
  var bounds = areaLayer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, {padding: [20, 20], animate: false});
}

function showAreas(collection) {
  if (areaLayer) { areaLayer.remove(); areaLayer = null; }
  if (!(collection && collection.features && collection.features.length)) return;
  areaLayer = L.geoJSON(collection, {
    style: function () { return {className: "m-area", weight: 2}; },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(T.area_of.replace("%(patrol)s", feature.properties.name),
                        {sticky: true});
    },
  }).addTo(map).bringToBack();
}

/** An admin changed an area: draw the new set where the operator is looking (no refit). */
export function redrawAreas(collection) {
  cfg.areas = collection;
  if (map) showAreas(collection);
}

// Where a car's name may go, tried in this order until it overlaps no name placed before it:
// beside the dot, above, below, then stepped down or up the right side. A name that fits
// nowhere is hidden (the board lists every car) rather than written over another.
var LABEL_PLACES = [["right", 0, 0], ["left", 0, 0], ["top", 0, 0], ["bottom", 0, 0],
                    ["right", 0, 14], ["right", 0, -14], ["left", 0, 14], ["left", 0, -14],
                    ["right", 0, 28], ["right", 0, -28], ["left", 0, 28], ["left", 0, -28]];

function overlaps(a, b) {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** Put the cars' names where they do not overlap each other (after every draw and zoom). */
export function declutterLabels() {
  if (!map) return;
  var placed = [];
  layers.patrols.eachLayer(function (marker) {
    var tooltip = marker.getTooltip(), node = tooltip && tooltip.getElement();
    if (!node) return;
    node.classList.remove("m-label-hidden");
    var fits = LABEL_PLACES.some(function (place) {
      tooltip.options.direction = place[0];
      tooltip.options.offset = L.point(place[1], place[2]);
      tooltip.update();
      var box = node.getBoundingClientRect();
      if (placed.some(function (other) { return overlaps(box, other); })) return false;
      placed.push(box);
      return true;
    });
    if (!fits) node.classList.add("m-label-hidden");
  });
}

function fitMarkers() {
  if (points.length) map.fitBounds(points, {padding: [30, 30], maxZoom: 15, animate: false});
}

export function renderMap() {
  if (!map) return;
  layers.patrols.clearLayers();
  layers.jobs.clearLayers();
  points = [];
  state.patrols.forEach(function (p) {
    if (p.lat == null || p.status === "off_duty") return;
    points.push([p.lat, p.lon]);
    L.circleMarker([p.lat, p.lon], {radius: 7, weight: 2, className: "m-patrol m-" + p.status})
      .bindTooltip(p.name, {permanent: true, direction: "right", className: "m-label"})
      .addTo(layers.patrols);
  });
  state.jobs.forEach(function (j) {
    if (j.lat == null) return;
    points.push([j.lat, j.lon]);
    L.circleMarker([j.lat, j.lon], {radius: 12, weight: 2,
                                    className: "m-job m-prio-" + j.priority})
      .bindTooltip("#" + j.job_id + " P" + j.priority + " " + (T.categories[j.category] || j.category),
                   {direction: "top"})
      .addTo(layers.jobs);
  });
  if (!fitted && points.length) {
    fitted = true;
    fitMarkers();
  }
  declutterLabels();
}
