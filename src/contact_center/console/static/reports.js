// The reports page (/reports): the period picker, and the charts drawn with Apache ECharts
// from the figures the page carries (<div data-report>, rendered by the server in the
// reader's language).
(function () {
  "use strict";
  var form = document.querySelector("[data-report-form]");
  var holder = document.querySelector("[data-report]");
  var lang = document.documentElement.getAttribute("lang") || "es-AR";
  var MAX_GROUPS = 10;

  // --- the period: a preset fills the dates; a date typed makes the range custom ------------
  if (form) {
    var preset = form.querySelector("[data-preset]");
    var custom = Array.prototype.slice.call(form.querySelectorAll("[data-custom]"));
    var showDates = function () {
      var on = preset.value === "custom";
      custom.forEach(function (label) {
        label.classList.toggle("inactive", !on);
        label.querySelector("input").disabled = !on;
      });
    };
    preset.addEventListener("change", function () {
      showDates();
      if (preset.value !== "custom") { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      else { custom[0].querySelector("input").focus(); }
    });
    custom.forEach(function (label) {
      label.addEventListener("click", function () {
        if (preset.value !== "custom") { preset.value = "custom"; showDates(); label.querySelector("input").focus(); }
      });
    });
    showDates();
  }

  if (!holder || !window.echarts) { return; }
  var data = {};
  try { data = JSON.parse(holder.getAttribute("data-report") || "{}"); } catch (e) { return; }
  var words = data.words || {};
  // Tooltips are HTML: names people typed (teams, agents, intents) go in as text.
  var esc = window.echarts.format.encodeHTML;
  var number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  var INK = "#1c2430", MUTED = "#5d6b7e", LINE = "#dde2e9";
  var COLORS = ["#0b5cad", "#16a34a", "#f59e0b", "#7c3aed", "#dc2626"];

  function percent(value) { return value === null || value === undefined ? "—" : number.format(value) + " %"; }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    if (seconds < 60) { return number.format(seconds) + " " + words.s; }
    if (seconds < 3600) { return number.format(Math.round(seconds / 6) / 10) + " " + words.min; }
    if (seconds < 86400) { return number.format(Math.round(seconds / 360) / 10) + " " + words.h; }
    return number.format(Math.round(seconds / 8640) / 10) + " " + words.d;
  }
  function top(list) { return (list || []).slice(0, MAX_GROUPS); }
  var small = window.innerWidth < 600;
  var base = {
    textStyle: { color: INK, fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif" },
    color: COLORS,
    animationDuration: 400,
    tooltip: { trigger: "axis", confine: true }
  };
  // On a phone each series' name has its own line above the plot.
  function legend() {
    return small ? { top: 0, left: 0, orient: "vertical", itemGap: 6, textStyle: { color: MUTED } }
      : { top: 0, left: "center", textStyle: { color: MUTED }, itemGap: 12 };
  }
  function plotTop(series) { return small ? 8 + 22 * series : (series > 3 ? 56 : 36); }
  function groupAxis() {
    return {
      type: "category", inverse: true, data: top(data.groups),
      axisLabel: { color: INK, width: small ? 90 : 140, overflow: "truncate" },
      axisLine: { lineStyle: { color: LINE } }, axisTick: { show: false }
    };
  }
  function rateSeries(name, values, counts) {
    return {
      name: name, type: "bar", data: top(values), barMaxWidth: 18,
      label: {
        show: !small, position: "right", color: MUTED, fontSize: 11,
        formatter: function (p) { return p.value === null || p.value === undefined ? "" : percent(p.value) + " · n=" + number.format(counts[p.dataIndex]); }
      }
    };
  }
  function rateTooltip(counts) {
    return {
      trigger: "axis", confine: true, axisPointer: { type: "shadow" },
      formatter: function (items) {
        return items.map(function (p, i) {
          return (i === 0 ? esc(p.name) + "<br>" : "") + p.marker + esc(p.seriesName) + ": " + percent(p.value) + " (n=" + number.format(counts[p.seriesIndex][p.dataIndex]) + ")";
        }).join("<br>");
      }
    };
  }

  var options = {
    heatmap: function () {
      var hours = []; for (var h = 0; h < 24; h++) { hours.push(String(h)); }
      var most = Math.max.apply(null, [1].concat(data.heatmap.map(function (c) { return c[2]; })));
      return {
        tooltip: { position: "top", formatter: function (p) { return esc(data.weekdays[p.value[1]] + " " + p.value[0] + ":00 · " + number.format(p.value[2]) + " " + words.volume.toLowerCase()); } },
        grid: { left: 8, right: 8, top: 8, bottom: 48, containLabel: true },
        xAxis: { type: "category", data: hours, splitArea: { show: true }, axisLabel: { color: MUTED, interval: small ? 3 : 0 } },
        yAxis: { type: "category", data: data.weekdays, inverse: true, splitArea: { show: true }, axisLabel: { color: INK } },
        visualMap: { min: 0, max: most, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: small ? 120 : 200, textStyle: { color: MUTED }, inRange: { color: ["#eef4fb", "#0b5cad"] } },
        series: [{ name: words.volume, type: "heatmap", data: data.heatmap, emphasis: { itemStyle: { borderColor: INK, borderWidth: 1 } } }]
      };
    },
    series: function () {
      var s = data.series;
      return {
        legend: legend(),
        grid: { left: 8, right: 8, top: plotTop(2), bottom: 8, containLabel: true },
        tooltip: {
          trigger: "axis", confine: true,
          formatter: function (items) {
            return items.map(function (p, i) {
              var value = p.seriesIndex === 1 ? percent(p.value) + " (n=" + number.format(s.slaN[p.dataIndex]) + ")" : number.format(p.value);
              return (i === 0 ? esc(p.name) + "<br>" : "") + p.marker + esc(p.seriesName) + ": " + value;
            }).join("<br>");
          }
        },
        xAxis: { type: "category", data: s.labels, axisLabel: { color: MUTED }, axisLine: { lineStyle: { color: LINE } } },
        yAxis: [
          { type: "value", minInterval: 1, axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: LINE } } },
          { type: "value", min: 0, max: 100, axisLabel: { color: MUTED, formatter: "{value} %" }, splitLine: { show: false } }
        ],
        series: [
          { name: words.volume, type: "bar", data: s.volume, barMaxWidth: 28 },
          { name: words.slaFirst, type: "line", yAxisIndex: 1, data: s.sla, connectNulls: true, symbolSize: 6, itemStyle: { color: "#16a34a" } }
        ]
      };
    },
    sla: function () {
      var s = data.sla;
      return {
        legend: legend(),
        tooltip: rateTooltip([s.firstN, s.nextN, s.resolutionN]),
        grid: { left: 8, right: small ? 16 : 110, top: plotTop(3), bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100, axisLabel: { color: MUTED, formatter: "{value} %" }, splitLine: { lineStyle: { color: LINE } } },
        yAxis: groupAxis(),
        series: [
          rateSeries(words.slaFirst, s.first, s.firstN),
          rateSeries(words.slaNext, s.next, s.nextN),
          rateSeries(words.slaResolution, s.resolution, s.resolutionN)
        ]
      };
    },
    times: function () {
      var t = data.times;
      function bars(name, values, color) {
        return { name: name, type: "bar", data: top(values).map(function (v) { return v === null ? null : Math.max(v, 1); }), barMaxWidth: 14, itemStyle: { color: color } };
      }
      return {
        legend: legend(),
        tooltip: {
          trigger: "axis", confine: true, axisPointer: { type: "shadow" },
          formatter: function (items) {
            return items.map(function (p, i) { return (i === 0 ? esc(p.name) + "<br>" : "") + p.marker + esc(p.seriesName) + ": " + duration(p.value); }).join("<br>");
          }
        },
        grid: { left: 8, right: 32, top: plotTop(4), bottom: 8, containLabel: true },
        xAxis: { type: "log", min: 1, logBase: 10, axisLabel: { color: MUTED, formatter: duration, hideOverlap: true }, splitLine: { lineStyle: { color: LINE } } },
        yAxis: groupAxis(),
        series: [
          bars(words.firstP50, t.firstP50, "#60a5fa"),
          bars(words.firstP90, t.firstP90, "#0b5cad"),
          bars(words.resolutionP50, t.resolutionP50, "#fbbf24"),
          bars(words.resolutionP90, t.resolutionP90, "#d97706")
        ]
      };
    },
    quality: function () {
      var q = data.quality;
      return {
        legend: legend(),
        tooltip: rateTooltip([q.csatN, q.fcrN]),
        grid: { left: 8, right: small ? 16 : 110, top: plotTop(2), bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100, axisLabel: { color: MUTED, formatter: "{value} %" }, splitLine: { lineStyle: { color: LINE } } },
        yAxis: groupAxis(),
        series: [rateSeries(words.csat, q.csat, q.csatN), rateSeries(words.fcr, q.fcr, q.fcrN)]
      };
    }
  };

  var charts = [];
  Array.prototype.forEach.call(holder.querySelectorAll("[data-chart]"), function (element) {
    var kind = element.getAttribute("data-chart");
    if (!options[kind]) { return; }
    var grouped = kind === "sla" || kind === "times" || kind === "quality";
    if (grouped && !(data.groups || []).length) {
      element.classList.add("chart-empty");
      element.textContent = words.noData;
      return;
    }
    if (grouped) {
      // Room for each group's bars.
      var rows = Math.min((data.groups || []).length, MAX_GROUPS);
      var per = kind === "quality" ? 34 : 44;
      var legendRows = small ? { sla: 3, times: 4, quality: 2 }[kind] * 22 : 40;
      element.style.height = Math.max(240, 30 + legendRows + rows * per) + "px";
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    var option = options[kind]();
    Object.keys(base).forEach(function (key) { if (!(key in option)) { option[key] = base[key]; } });
    chart.setOption(option);
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
})();
