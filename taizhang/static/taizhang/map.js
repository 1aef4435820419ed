/* The map (/command/map/): the points of the targets the user may see, clustered, coloured by
   state, each opening its target when clicked; street areas as outlines. Data from the page's
   JSON endpoints (command/map_views.py); a base layer only when one is configured, so the map
   works with no connection at all. */
(function () {
  "use strict";

  var element = document.getElementById("map");
  var configElement = document.getElementById("map-config");
  if (!element || !configElement || !window.L) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var words = document.getElementById("map-words").dataset;
  var summary = document.getElementById("map-summary");
  var form = document.getElementById("map-filters");

  // maxZoom on the map itself: without a tile layer to say it, the clusters need one.
  var map = L.map(element, {zoomControl: true, attributionControl: config.tiles.length > 0,
                            maxZoom: config.maxZoom, minZoom: 3});
  if (map.attributionControl) {
    map.attributionControl.setPrefix(false);
  }
  config.tiles.forEach(function (url) {
    L.tileLayer(url, {subdomains: config.subdomains, maxZoom: config.maxZoom,
                      attribution: config.attribution}).addTo(map);
  });
  map.fitBounds(config.bounds);
  L.control.scale({imperial: false}).addTo(map);

  var areas = L.layerGroup().addTo(map);
  var cluster = L.markerClusterGroup({chunkedLoading: true, showCoverageOnHover: false,
                                      disableClusteringAtZoom: 17, maxClusterRadius: 50});
  map.addLayer(cluster);
  var icons = {};

  function icon(state) {
    if (!icons[state]) {
      icons[state] = L.divIcon({className: "map-point state-" + state, iconSize: [14, 14]});
    }
    return icons[state];
  }

  function open(id) {
    window.location.href = config.target.replace("/0/", "/" + id + "/");
  }

  function draw(data) {
    cluster.clearLayers();
    var markers = [];
    var counts = {};
    data.states.forEach(function (state) { counts[state] = 0; });
    for (var n = 0; n < data.i.length; n++) {
      var state = data.states[data.k[n]];
      counts[state] += 1;
      var at = [data.y[n] / data.scale, data.x[n] / data.scale];  // sent in millionths of a degree
      var marker = L.marker(at, {icon: icon(state), title: data.c[n], alt: data.c[n], keyboard: true});
      marker.on("click", open.bind(null, data.i[n]));
      markers.push(marker);
    }
    cluster.addLayers(markers);
    data.states.forEach(function (state) {
      var count = document.getElementById("count-" + state);
      if (count) {
        count.textContent = counts[state] ? "(" + counts[state] + ")" : "";
      }
    });
    summary.textContent = data.i.length + " " + words.shown + (data.n ? " · " + data.n + " " + words.missing : "");
    if (markers.length) {
      map.fitBounds(cluster.getBounds(), {maxZoom: 16, padding: [20, 20]});
    }
    element.dataset.loading = "";
    element.dataset.points = String(markers.length);
  }

  function load(query) {
    element.dataset.loading = "1";
    fetch(config.points + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(draw)
      .catch(function () {
        summary.textContent = words.failed;
        element.dataset.loading = "";
      });
  }

  fetch(config.areas, {credentials: "same-origin"})
    .then(function (response) { return response.json(); })
    .then(function (data) {
      data.areas.forEach(function (area) {
        L.polygon(area.ring, {className: "street-area area-" + area.kind, interactive: false})
          .bindTooltip(area.name, {permanent: true, direction: "center", className: "street-name"})
          .addTo(areas);
      });
    });

  if (form) {
    var query = function () {
      return "?" + new URLSearchParams(new FormData(form)).toString();
    };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      history.replaceState(null, "", query());
      load(query());
    });
    form.addEventListener("change", function () {
      history.replaceState(null, "", query());
      load(query());
    });
  }
  load(window.location.search);
}());
