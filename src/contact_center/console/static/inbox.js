// The inbox (docs/inbox.md, "The console"): live refresh of the list, the views' counts and the
// open conversation; presence heartbeats; the tab title; desktop notifications and a short
// sound (off by default); search; keyboard shortcuts.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root || !window.htmx) { return; }
  var htmx = window.htmx;
  var messages = {};
  try { messages = JSON.parse(document.body.getAttribute("data-messages") || "{}"); } catch (e) { messages = {}; }
  function say(key) { return messages[key] || key; }
  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }
  function $(selector, base) { return (base || document).querySelector(selector); }
  function $all(selector, base) { return Array.prototype.slice.call((base || document).querySelectorAll(selector)); }

  var openId = root.getAttribute("data-open") || "";
  var baseTitle = root.getAttribute("data-title") || document.title;
  var lastUnread = null;

  // --- preferences (localStorage; both off by default) ------------------------------------
  function pref(name) { try { return window.localStorage.getItem("inbox." + name) === "on"; } catch (e) { return false; } }
  function setPref(name, on) { try { window.localStorage.setItem("inbox." + name, on ? "on" : "off"); } catch (e) { /* private mode */ } }
  function syncPrefs() {
    $all("input[data-pref]").forEach(function (box) { box.checked = pref(box.getAttribute("data-pref")); });
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-pref]")) { return; }
    var name = box.getAttribute("data-pref");
    setPref(name, box.checked);
    if (name === "notify" && box.checked && window.Notification && window.Notification.permission === "default") {
      window.Notification.requestPermission();
    }
  });

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      var audio = new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.18);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.2);
      tone.onended = function () { audio.close(); };
    } catch (e) { /* no sound */ }
  }

  // --- the tab title and the alerts, from the views pane's counts ---------------------------
  function readCounts() {
    var inner = $("#inbox-views .views-inner");
    if (!inner) { return; }
    var unread = parseInt(inner.getAttribute("data-mine-unread") || "0", 10) || 0;
    document.title = (unread ? "(" + unread + ") " : "") + baseTitle;
    if (lastUnread !== null && unread > lastUnread) {
      if (pref("notify") && window.Notification && window.Notification.permission === "granted") {
        try { new window.Notification(say("newMessage"), { body: baseTitle, tag: "inbox" }); } catch (e) { /* unsupported */ }
      }
      if (pref("sound")) { beep(); }
    }
    lastUnread = unread;
    syncPrefs();
  }

  // --- refreshing the panes -----------------------------------------------------------------
  function searching() {
    return !!$("#inbox-items .search-results");
  }
  function listSrc() {
    var inner = $("#inbox-items .list-inner[data-src]");
    return inner ? inner.getAttribute("data-src") : "/console/partials/inbox/list?view=mine";
  }
  // Every pane's refresh names the pane as its source: htmx runs one request per source at a
  // time and keeps only the last one waiting, so refreshes of one pane never drop another's
  // (with no source they would all queue on <body>, and a thread refresh could drop the list's).
  function refreshList() {
    var views = $("#inbox-views .views-inner");
    if (views) {
      htmx.ajax("GET", views.getAttribute("data-src"), { source: "#inbox-views", target: "#inbox-views", swap: "innerHTML" });
    }
    if (searching()) { return; }
    // As many rows as "Load more" showed (the server caps it, then shows the first page).
    var shown = $all("#inbox-items .conv-list > [role=option]").length;
    var src = listSrc() + (shown > 50 ? "&shown=" + shown : "") + (openId ? "&open=" + encodeURIComponent(openId) : "");
    // Each refresh carries the count of "Load more" pages its row count was taken with (it may
    // wait behind the one in flight, and answers after later ones were asked for).
    htmx.ajax("GET", src, { source: "#inbox-items", target: "#inbox-items", swap: "innerHTML", headers: { "X-Inbox-Refresh": String(listAppends) } });
  }
  // "Load more" pages appended to this list so far: a refresh whose rows were counted before a
  // page was appended answers with fewer rows than are shown now and is not swapped in (another
  // one goes, counting every row).
  var listAppends = 0;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "inbox-items") { return; }
    var config = event.detail.requestConfig || {};
    var counted = config.headers ? config.headers["X-Inbox-Refresh"] : undefined;
    if (counted === undefined || counted === null) {
      listAppends = 0;  // another view or a search: a new list
    } else if (String(counted) !== String(listAppends)) {
      event.detail.shouldSwap = false;
      soonRefreshList();
      return;
    }
    // A refresh must not take the keyboard away: the row that had focus gets it back.
    var active = document.activeElement;
    focusedRow = active && target.contains(active) && active.matches("a[data-open-link]") ? active.getAttribute("href") : null;
  });
  var focusedRow = null;
  var listTimer = null;
  function soonRefreshList() {
    if (listTimer) { return; }
    listTimer = window.setTimeout(function () { listTimer = null; refreshList(); }, 300);
  }
  function atBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 40; }
  function refreshThread() {
    var thread = $("#thread");
    if (!thread) { return; }
    var stick = atBottom(thread);
    htmx.ajax("GET", thread.getAttribute("data-src"), { source: "#thread", target: "#thread", swap: "innerHTML" }).then(function () {
      var conv = $("#conv");
      if (hitPinned && conv) { showHit(conv); } else if (stick) { thread.scrollTop = thread.scrollHeight; }
    });
  }
  function refreshPresence() {
    var marker = $("#presence");
    if (marker) { htmx.ajax("GET", marker.getAttribute("data-src"), { source: "#presence", target: "#presence", swap: "innerHTML" }); }
  }

  document.addEventListener("sse:change", function (event) {
    var data = {};
    try { data = JSON.parse((event.detail && event.detail.data) || "{}"); } catch (e) { data = {}; }
    if (data.type === "presence") {
      if (data.interactionId === openId) { refreshPresence(); }
      return;
    }
    soonRefreshList();
    if (openId && data.interactionId === openId) { refreshThread(); }
  });
  // While the live stream is down, poll (as the other pages do).
  window.setInterval(function () {
    var badge = document.getElementById("live-state");
    if (badge && badge.classList.contains("down")) {
      refreshList();
      if (openId) { refreshThread(); }
    }
  }, 10000);
  // A change made on this page (a reply, a note, an action) shows at once.
  document.body.addEventListener("cc:changed", function () {
    soonRefreshList();
    if (openId) { window.setTimeout(refreshThread, 300); }
  });

  // --- presence: heartbeats while a conversation is open ------------------------------------
  var typing = false;
  var typingTimer = null;
  var beatTimer = null;
  function presence(id, method, body) {
    if (!id) { return; }
    var init = {
      method: method,
      keepalive: true,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }
    };
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    fetch("/api/interactions/" + encodeURIComponent(id) + "/presence", init).catch(function () { /* next beat */ });
  }
  function beat() { presence(openId, "PUT", { typing: typing }); }
  function leave(id) {
    if (beatTimer) { window.clearInterval(beatTimer); beatTimer = null; }
    if (typingTimer) { window.clearTimeout(typingTimer); typingTimer = null; }
    typing = false;
    presence(id, "DELETE");
  }
  function arrive() {
    beat();
    beatTimer = window.setInterval(beat, 10000);
    refreshPresence();
  }
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!openId || !field.closest || !field.closest("#composer") || field.tagName !== "TEXTAREA") { return; }
    if (!typing) { typing = true; beat(); }
    if (typingTimer) { window.clearTimeout(typingTimer); }
    typingTimer = window.setTimeout(function () { typing = false; typingTimer = null; beat(); }, 5000);
  });
  window.addEventListener("pagehide", function () { if (openId) { leave(openId); } });

  // --- opening a conversation ---------------------------------------------------------------
  function markSelected() {
    $all("#inbox-items [role=option]").forEach(function (row) {
      row.setAttribute("aria-selected", row.getAttribute("data-id") === openId ? "true" : "false");
    });
  }
  // Words without case or accents, as the search matched them.
  function plain(text) {
    return String(text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  // The transcript turn (or the summary) holding the first searched word, by its stem.
  function turnWith(section, q) {
    var stems = plain(q).split(/[^a-z0-9ñ]+/).filter(function (w) { return w.length > 1; })
      .map(function (w) { return w.length > 3 ? w.slice(0, Math.max(3, w.length - 2)) : w; });
    if (!stems.length) { return null; }
    var parts = $all(".turn, .summary", section);
    for (var i = 0; i < parts.length; i += 1) {
      var text = plain(parts[i].textContent);
      if (stems.some(function (stem) { return text.indexOf(stem) >= 0; })) { return parts[i]; }
    }
    return null;
  }
  function showHit(conv) {
    var hit = conv.getAttribute("data-hit") || "";
    var thread = $("#thread");
    var target = null;
    if (hit === "transcript" || hit === "summary") {
      var section = document.getElementById("transcript");
      target = (section && turnWith(section, conv.getAttribute("data-q"))) || document.getElementById(hit) || section;
    } else if (hit) {
      target = document.getElementById("m-" + hit);
    }
    if (target) {
      target.classList.add("hit");
      hitPinned = true;
      reveal(target, thread);
      // Again whenever the thread's box changes size (the composer's notes and canned replies
      // load after it, and shrink it), until the reader scrolls it.
      if (hitWatch) { hitWatch.disconnect(); hitWatch = null; }
      if (thread && window.ResizeObserver) {
        hitWatch = new window.ResizeObserver(function () {
          if (hitPinned && target.isConnected) { reveal(target, thread); }
        });
        hitWatch.observe(thread);
      }
    } else if (thread) {
      unpin();
      thread.scrollTop = thread.scrollHeight;
    }
  }
  var hitWatch = null;
  function unpin() {
    hitPinned = false;
    if (hitWatch) { hitWatch.disconnect(); hitWatch = null; }
  }
  // The hit wholly inside the thread's box (centred when it fits, else its top at the top),
  // scrolling the thread alone and at once: no smooth scroll left running to race a refresh.
  function reveal(target, thread) {
    if (!thread || !thread.contains(target)) { target.scrollIntoView({ block: "nearest" }); return; }
    var box = thread.getBoundingClientRect();
    var rect = target.getBoundingClientRect();
    var offset = rect.top - box.top + thread.scrollTop - thread.clientTop;
    var room = thread.clientHeight;
    var top = rect.height + 16 >= room ? offset - 8 : offset - (room - rect.height) / 2;
    thread.scrollTop = Math.max(0, Math.min(top, thread.scrollHeight - room));
  }
  // Once the reader scrolls the thread, a refresh no longer brings the hit back.
  var hitPinned = false;
  ["wheel", "touchmove", "keydown", "mousedown"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (hitPinned && event.target.closest && event.target.closest("#thread")) { unpin(); }
    }, { passive: true });
  });
  function loadCanned(base) {
    $all("select[data-canned][data-src]", base).forEach(function (select) {
      if (select.ccLoaded) { return; }
      select.ccLoaded = true;
      fetch(select.getAttribute("data-src"), { headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { select.innerHTML = html; } })
        .catch(function () { /* the box works without the picker */ });
    });
  }
  function opened() {
    var conv = $("#conv");
    var id = conv ? conv.getAttribute("data-conversation") : "";
    if (openId && openId !== id) { leave(openId); }
    var fresh = id !== openId || !beatTimer;
    openId = id;
    root.setAttribute("data-open", id);
    root.classList.toggle("has-open", !!id);
    markSelected();
    if (conv) {
      loadCanned(conv);
      showHit(conv);
      if (fresh) { arrive(); }
    }
  }
  var moreHadFocus = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-load-more]")) { moreHadFocus = document.activeElement === elt; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (target.id === "conversation") {
      opened();
      // Its unread badge is gone now (again a little later, in case a refresh that left
      // before the read mark was written answered after it).
      soonRefreshList();
      window.setTimeout(refreshList, 1500);
      var heading = $("#conv-title");
      if (heading && window.matchMedia("(max-width: 800px)").matches) { window.scrollTo(0, 0); }
    } else if (target.id === "inbox-views") {
      readCounts();
    } else if (target.id === "inbox-items") {
      markSelected();
      if (focusedRow) {
        var again = $all("#inbox-items a[data-open-link]").filter(function (a) { return a.getAttribute("href") === focusedRow; })[0];
        if (again) { again.focus({ preventScroll: true }); }
        focusedRow = null;
      }
    } else if (target.classList && target.classList.contains("conv-list")) {
      // "Load more" appended a page: j/k go on over it; the keyboard lands on its first row.
      listAppends += 1;
      markSelected();
      var start = $("[data-page-start]", target);
      if (start) {
        start.removeAttribute("data-page-start");
        if (moreHadFocus) { $("a", start).focus(); }
      }
      moreHadFocus = false;
    }
  });
  // Back and forward: the page htmx restores is a whole inbox again.
  document.addEventListener("htmx:historyRestore", function () {
    root = document.getElementById("inbox") || root;
    var restored = root.getAttribute("data-open") || "";
    if (openId && openId !== restored) { leave(openId); }
    openId = "";
    opened();
  });

  // A row swapped in a moment ago may not be set up by htmx yet (it does that as the swap
  // settles): a click then would load the whole page (the list's first page only). Set the
  // row's link up before the click reaches it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#inbox-items a[data-open-link]");
    if (link) { htmx.process(link); }
  }, true);

  // The phone's back button: the list again.
  function backToList() {
    if (openId) { leave(openId); }
    openId = "";
    root.classList.remove("has-open");
    root.setAttribute("data-open", "");
    markSelected();
    var url = "/inbox";
    if (window.location.pathname !== url) { window.history.pushState({}, "", url); }
    var selected = $("#inbox-items [role=option][aria-selected=true] a") || $("#inbox-items [role=option] a");
    if (selected) { selected.focus({ preventScroll: true }); }
  }
  document.addEventListener("click", function (event) {
    var back = event.target.closest && event.target.closest("[data-back]");
    if (back && window.matchMedia("(max-width: 800px)").matches) { event.preventDefault(); backToList(); return; }
    if (event.target.closest && event.target.closest("[data-help]")) { help(); return; }
    if (event.target.closest && event.target.closest("[data-resolve-open]")) { resolve(); return; }
    if (event.target.closest && event.target.closest("[data-clear-search]")) {
      var box = $("#inbox-q");
      if (box) { box.value = ""; }
      $("#inbox-items").innerHTML = "";
      var src = "/console/partials/inbox/list?view=mine";
      var views = $("#inbox-views .views-inner");
      if (views) { src = views.getAttribute("data-src").replace("/views?", "/list?"); }
      htmx.ajax("GET", src + (openId ? "&open=" + encodeURIComponent(openId) : ""), { source: "#inbox-items", target: "#inbox-items", swap: "innerHTML" });
    }
  });
  // Switching views: the list and the views pane (its current view) follow, the URL too.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-view-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    var query = link.getAttribute("href").split("?")[1] || "view=mine";
    var box = $("#inbox-q");
    if (box) { box.value = ""; }
    htmx.ajax("GET", "/console/partials/inbox/list?" + query + (openId ? "&open=" + encodeURIComponent(openId) : ""), { source: "#inbox-items", target: "#inbox-items", swap: "innerHTML" });
    htmx.ajax("GET", "/console/partials/inbox/views?" + query, { source: "#inbox-views", target: "#inbox-views", swap: "innerHTML" });
    if (!openId) { window.history.pushState({}, "", link.getAttribute("href")); }
    if (window.matchMedia("(max-width: 800px)").matches) { root.classList.remove("has-open"); }
  });
  // An emptied search box shows the list again.
  document.addEventListener("input", function (event) {
    if (event.target.id === "inbox-q" && event.target.value.trim() === "" && searching()) {
      htmx.ajax("GET", (($("#inbox-views .views-inner") || {}).getAttribute ? $("#inbox-views .views-inner").getAttribute("data-src").replace("/views?", "/list?") : "/console/partials/inbox/list?view=mine"), { source: "#inbox-items", target: "#inbox-items", swap: "innerHTML" });
    }
  });

  // --- the composer: Enter sends (Shift+Enter: a new line), Ctrl+Enter too -----------------
  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (event.defaultPrevented || event.key !== "Enter" || event.isComposing) { return; }
    if (!area.matches || !area.matches("#composer textarea")) { return; }
    if (event.shiftKey && !(event.ctrlKey || event.metaKey)) { return; }
    if (area.value.trim() === "") { return; }
    event.preventDefault();
    if (area.form.requestSubmit) { area.form.requestSubmit(); } else { area.form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true })); }
    typing = false;
    beat();
  });

  // --- keyboard shortcuts -------------------------------------------------------------------
  function help() {
    var dialog = document.getElementById("inbox-help");
    if (dialog && !dialog.open) { dialog.showModal(); }
  }
  function rows() { return $all("#inbox-items [role=option]"); }
  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var current = list.findIndex(function (row) { return row.getAttribute("aria-selected") === "true"; });
    var next = current < 0 ? 0 : Math.min(list.length - 1, Math.max(0, current + step));
    list.forEach(function (row, i) { row.setAttribute("aria-selected", i === next ? "true" : "false"); });
    var link = $("a", list[next]);
    link.focus({ preventScroll: false });
    link.scrollIntoView({ block: "nearest" });
    link.click();
  }
  function tab(name) {
    var button = document.getElementById("tab-" + name);
    if (!button) { return null; }
    button.click();
    var area = $("#pane-" + name + " textarea");
    if (area) { area.focus(); }
    return area;
  }
  function resolve() {
    var form = $("#conv form.wf-resolve");
    if (!form) { return; }
    var field = $("input[name=resolutionCode]", form);
    form.classList.add("flash");
    form.scrollIntoView({ block: "center" });
    if (field) { field.focus(); field.select(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var typingHere = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Escape") {
      if (event.defaultPrevented) { return; } // the bar's menu closed
      var dialog = document.getElementById("inbox-help");
      if (dialog && dialog.open) { return; } // the dialog closes itself
      if (typingHere) { target.blur(); return; }
      if (root.classList.contains("has-open") && window.matchMedia("(max-width: 800px)").matches) { backToList(); }
      return;
    }
    if (typingHere || event.defaultPrevented) { return; }
    var handled = true;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter":
        var row = $("#inbox-items [role=option][aria-selected=true] a");
        if (row && document.activeElement !== row) { row.click(); } else { handled = false; }
        break;
      case "r": tab("reply"); break;
      case "n": tab("note"); break;
      case "e": resolve(); break;
      case "a":
        var mine = $("#conv form[data-assign-me]");
        if (mine) { mine.requestSubmit(); }
        break;
      case "/":
        var picker = $("#pane-reply select[data-canned]");
        if (picker) { tab("reply"); picker.focus(); } else { handled = false; }
        break;
      case "?": help(); break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  readCounts();
  if (openId) { opened(); }
})();
