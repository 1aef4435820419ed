/* The command room's charts (ECharts, served from node_modules). The page is whole without this
   script: every figure is in the table beside its chart, each count a link to the ledger.
   Charts are drawn when they come into view, resize with their box, and a click on a bar or a
   point opens the ledger behind it (the figure's `url`, set by the server). No inline code:
   the data comes as JSON (json_script), so the Content-Security-Policy needs no exception. */
(function () {
  "use strict";

  var source = document.getElementById("command-charts");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  var charts = JSON.parse(source.textContent);
  var locale = (document.documentElement.lang || "").indexOf("zh") === 0 ? "ZH" : "EN";
  var narrow = window.matchMedia("(max-width: 576px)");

  function label(params) {
    if (!params.data || params.data.label === undefined || params.data.count === 0) {
      return "";  // nothing to mark on an empty bar
    }
    return params.data.label;
  }

  function marks(chart) {
    if (!chart.marks.length) {
      return undefined;
    }
    return {
      silent: true, symbol: "none", lineStyle: {type: "dashed"},
      label: {formatter: "{b}", position: "insideEndTop", fontSize: 10},
      data: chart.marks.map(function (mark) {
        var item = {name: mark.name};
        item[mark.axis === "x" ? "xAxis" : "yAxis"] = mark.value;
        return item;
      })
    };
  }

  function series(chart) {
    return chart.series.map(function (s, index) {
      var out = {name: s.name, type: s.type, data: s.data, stack: s.stack || undefined};
      if (s.type === "bar") {
        out.label = {show: true, position: s.stack ? "inside" : (chart.kind === "hbar" ? "right" : "top"),
                     formatter: label, fontSize: 10};
        out.cursor = "pointer";
      } else if (s.type === "line") {
        out.showSymbol = true;
        out.symbolSize = 6;
        out.cursor = "pointer";
        out.connectNulls = false;
      } else if (s.type === "scatter") {
        out.symbol = index === 1 ? "triangle" : "diamond";
        out.symbolSize = 12;
        out.silent = true;
      }
      if (index === 0) {
        out.markLine = marks(chart);
      }
      return out;
    });
  }

  function option(chart) {
    var category = {type: "category", data: chart.categories, axisLabel: {hideOverlap: true}};
    var value = {type: "value", minInterval: chart.unit ? 0 : 1,  // counts are whole targets
                 axisLabel: {formatter: chart.unit ? "{value}" + chart.unit : "{value}"}};
    if (chart.unit === "%") {
      value.max = 100;
    }
    var horizontal = chart.kind === "hbar";
    if (chart.kind === "time") {
      category = {type: "time", axisLabel: {hideOverlap: true}};
    } else if (!horizontal && !narrow.matches) {
      category.axisLabel.interval = 0;
    }
    if (horizontal) {
      category.inverse = true;
    }
    return {
      animation: false,
      grid: {left: 8, right: horizontal ? 48 : 24, top: 36, bottom: 8, containLabel: true},
      legend: {top: 0, type: "scroll"},
      // Drawn on the canvas: an HTML tooltip would carry style attributes the CSP refuses.
      tooltip: {trigger: chart.kind === "time" ? "axis" : "item", confine: true, renderMode: "richText"},
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series(chart)
    };
  }

  function draw(box) {
    var chart = charts[box.dataset.chart];
    var instance = echarts.init(box, null, {locale: locale});
    instance.setOption(option(chart));
    instance.on("click", function (params) {
      if (params.data && params.data.url) {
        window.location.assign(params.data.url);
      }
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () { instance.resize(); }).observe(box);
    }
    box.dataset.drawn = "1";
  }

  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
  if (!window.IntersectionObserver) {
    boxes.forEach(draw);
    return;
  }
  var watcher = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        watcher.unobserve(entry.target);
        draw(entry.target);
      }
    });
  }, {rootMargin: "200px"});
  boxes.forEach(function (box) { watcher.observe(box); });
}());
