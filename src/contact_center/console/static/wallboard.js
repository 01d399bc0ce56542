// The wallboard (/wallboard): the board is re-read from the server on the live stream's
// notices (at most once a second, the last notice of a burst included) and every 10 s; the
// waits tick every second in between; the queue chart is drawn with Apache ECharts.
(function () {
  "use strict";
  var board = document.getElementById("wallboard");
  if (!board) { return; }
  var words = {};
  try { words = JSON.parse(board.getAttribute("data-words") || "{}"); } catch (e) { words = {}; }
  var MIN_GAP = 1000;
  var EVERY = 10000;
  var lastRun = 0;
  var pending = null;
  var inFlight = false;
  var again = false;
  var streamUp = true;
  var fetchUp = true;
  var offset = 0; // the browser's clock minus the server's, from the board's time
  var chart = null;

  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  }

  function showState() {
    var up = streamUp && fetchUp;
    Array.prototype.forEach.call(board.querySelectorAll("[data-wb-live]"), function (badge) {
      badge.textContent = up ? say("live") : say("down");
      badge.classList.toggle("down", !up);
    });
    board.setAttribute("data-live", up ? "up" : "down");
  }

  function clock(seconds) {
    if (seconds < 0) { seconds = 0; }
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = Math.floor(seconds % 60);
    var ss = (s < 10 ? "0" : "") + s;
    if (h) { return h + ":" + (m < 10 ? "0" : "") + m + ":" + ss; }
    return m + ":" + ss;
  }

  function tick() {
    var now = Date.now() - offset;
    Array.prototype.forEach.call(board.querySelectorAll("[data-since]"), function (cell) {
      var since = cell.getAttribute("data-since");
      if (!since) { return; }
      var at = Date.parse(since);
      if (!isNaN(at)) { cell.textContent = clock((now - at) / 1000); }
    });
  }

  function drawChart() {
    var holder = board.querySelector("[data-wb-chart]");
    if (!holder || !window.echarts) { return; }
    var data = {};
    try { data = JSON.parse(holder.getAttribute("data-wb-chart") || "{}"); } catch (e) { return; }
    if (chart && chart.getDom() !== holder) { chart.dispose(); chart = null; }
    if (!chart) { chart = window.echarts.init(holder, null, { renderer: "canvas" }); }
    var big = Math.max(12, Math.round(window.innerHeight / 60));
    chart.setOption({
      backgroundColor: "transparent",
      animationDurationUpdate: 400,
      textStyle: { color: "#c2d1e0", fontSize: big },
      legend: { top: 0, textStyle: { color: "#c2d1e0", fontSize: big }, data: [data.labels.waiting, data.labels.assigned] },
      grid: { left: 8, right: 24, top: big * 2.6, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1, axisLabel: { color: "#9fb3c8", fontSize: big }, splitLine: { lineStyle: { color: "#22324f" } } },
      yAxis: { type: "category", inverse: true, data: data.teams, axisLabel: { color: "#e6edf5", fontSize: big, width: window.innerWidth / 9, overflow: "truncate" }, axisLine: { lineStyle: { color: "#22324f" } } },
      series: [
        { name: data.labels.waiting, type: "bar", stack: "q", data: data.waiting, itemStyle: { color: "#f0b429" }, label: { show: true, color: "#0b1320", fontWeight: "bold", fontSize: big, formatter: function (p) { return p.value ? p.value : ""; } } },
        { name: data.labels.assigned, type: "bar", stack: "q", data: data.assigned, itemStyle: { color: "#3b82f6" }, label: { show: true, color: "#fff", fontSize: big, formatter: function (p) { return p.value ? p.value : ""; } } }
      ]
    }, { notMerge: false });
  }

  // Only as many people as the panel shows; the rest are counted.
  function fitPeople() {
    var list = board.querySelector(".wb-agents");
    var more = board.querySelector("[data-wb-more]");
    if (!list || !more) { return; }
    var items = Array.prototype.slice.call(list.children);
    items.forEach(function (item) { item.hidden = false; });
    var bottom = list.getBoundingClientRect().bottom;
    var hidden = 0;
    items.forEach(function (item) {
      if (item.getBoundingClientRect().bottom > bottom + 1) { item.hidden = true; hidden += 1; }
    });
    more.hidden = hidden === 0;
    more.textContent = hidden ? say("more", { count: hidden }) : "";
  }

  function settle() {
    var head = board.querySelector("[data-generated]");
    if (head) {
      var at = Date.parse(head.getAttribute("data-generated"));
      if (!isNaN(at)) { offset = Date.now() - at; }
    }
    showState();
    tick();
    drawChart();
    fitPeople();
  }

  function refresh() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    lastRun = Date.now();
    var request = new XMLHttpRequest();
    request.open("GET", board.getAttribute("data-src"));
    request.setRequestHeader("HX-Request", "true");
    request.onload = function () {
      inFlight = false;
      if (request.status === 200) {
        fetchUp = true;
        // The chart keeps its canvas (and animates to the new figures) across refreshes.
        var kept = chart ? chart.getDom() : null;
        board.innerHTML = request.responseText;
        var fresh = board.querySelector("[data-wb-chart]");
        if (kept && fresh) {
          kept.setAttribute("data-wb-chart", fresh.getAttribute("data-wb-chart"));
          fresh.parentNode.replaceChild(kept, fresh);
        }
        settle();
      } else if (request.status === 401 || request.status === 403) {
        window.location.reload();
        return;
      } else {
        fetchUp = false;
        showState();
      }
      if (again) { again = false; soon(); }
    };
    request.onerror = function () {
      inFlight = false;
      fetchUp = false;
      showState();
      if (again) { again = false; soon(); }
    };
    request.send();
  }

  // A notice refreshes at once if the last refresh is a second old, else when it is: a burst of
  // notices costs one refresh a second and its last notice is never lost.
  function soon() {
    if (pending) { return; }
    var wait = Math.max(0, lastRun + MIN_GAP - Date.now());
    pending = window.setTimeout(function () { pending = null; refresh(); }, wait);
  }

  document.addEventListener("sse:change", soon);
  document.addEventListener("htmx:sseOpen", function () { if (!streamUp) { streamUp = true; soon(); } else { showState(); } });
  document.addEventListener("htmx:sseError", function () { streamUp = false; showState(); });
  document.addEventListener("htmx:sseClose", function () { streamUp = false; showState(); });
  window.setInterval(function () { if (Date.now() - lastRun >= EVERY - 50) { refresh(); } }, 1000);
  window.setInterval(tick, 1000);
  window.addEventListener("resize", function () { if (chart) { chart.resize(); } fitPeople(); });
  lastRun = Date.now();
  if (document.readyState === "complete") { settle(); } else { window.addEventListener("load", settle); }
})();
