// The console's own script: live-state indicator, polling fallback, tabs, and forms that post
// JSON to the API and say in words what happened.
(function () {
  "use strict";
  var live = false;
  // The page's words, in the reader's language (<body data-messages>, rendered by the server).
  var messages = {};
  try { messages = JSON.parse(document.body.getAttribute("data-messages") || "{}"); } catch (e) { messages = {}; }
  function say(key, values) {
    var text = messages[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  }

  function setLive(on) {
    live = on;
    var badge = document.getElementById("live-state");
    if (badge) {
      badge.textContent = on ? say("live") : say("polling");
      badge.classList.toggle("down", !on);
    }
  }
  document.addEventListener("htmx:sseOpen", function () { setLive(true); });
  document.addEventListener("htmx:sseError", function () { setLive(false); });
  document.addEventListener("htmx:sseClose", function () { setLive(false); });

  // While the live stream is down, an element with data-poll="30s" is refreshed at that period
  // (its hx-trigger listens for cc:poll). A timer here, not an htmx trigger filter: filters are
  // evaluated code, which the Content Security Policy refuses.
  function period(text) {
    var match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text || "");
    if (!match) { return 0; }
    return parseFloat(match[1]) * { ms: 1, s: 1000, m: 60000 }[match[2]];
  }
  // Elements swapped in later (a revealed page, a refreshed list) register too.
  function registerPolling(root) {
    var found = root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll("[data-poll]")) : [];
    if (root.matches && root.matches("[data-poll]")) { found.push(root); }
    found.forEach(function (element) {
      if (element.ccPolling) { return; }
      var every = period(element.getAttribute("data-poll"));
      if (!every) { return; }
      element.ccPolling = true;
      var timer = window.setInterval(function () {
        if (!document.body.contains(element)) { window.clearInterval(timer); return; }
        if (!live && window.htmx) { window.htmx.trigger(element, "cc:poll"); }
      }, every);
    });
  }
  registerPolling(document);
  document.addEventListener("htmx:load", function (event) { registerPolling(event.detail.elt || document); });

  // The phone header: the menu button opens and closes the navigation.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".menu-toggle");
    if (!toggle) { return; }
    var bar = toggle.closest(".topbar");
    var open = !bar.classList.contains("open");
    bar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // The bar's Administration menu closes on a click elsewhere, and on Esc (back to its button).
  document.addEventListener("click", function (event) {
    Array.prototype.forEach.call(document.querySelectorAll("details[data-more-menu][open]"), function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) { return; }
    var menu = event.target.closest("details[data-more-menu][open]");
    if (!menu) { return; }
    menu.open = false;
    menu.querySelector("summary").focus();
    event.preventDefault();
  });

  // An htmx form marked data-reset-on-success empties once its request succeeded.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful && form && form.matches && form.matches("form[data-reset-on-success]")) {
      form.reset();
    }
    // A change made from a form (a reply…): the parts of the page that show it refresh now,
    // live stream or not (they listen for cc:changed). A form marked data-changes-nothing (a
    // redacted value's reveal) changes nothing shown, and its answer must stay on the page.
    var verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    if (event.detail.successful && form && form.matches && form.matches("form:not([data-changes-nothing])") && verb && verb !== "get") {
      document.body.dispatchEvent(new Event("cc:changed"));
    }
  });

  // What went wrong, in the reader's words where the console knows the error's code, else the
  // API's own message; field details only where they add something the message does not say.
  function explain(status, body) {
    var error = body && body.error;
    if (!error) { return say("failedStatus", { status: status }); }
    var known = (messages.errors || {})[error.code];
    var text = known || error.message || say("failed");
    if (!known && Array.isArray(error.details) && error.details.length) {
      var extra = error.details.map(function (d) { return d.message ? d.message : ""; })
        .filter(function (m) { return m && text.toLowerCase().indexOf(m.toLowerCase()) < 0; });
      if (extra.length) { text += " (" + extra.join("; ") + ")"; }
    }
    return text;
  }

  function show(target, kind, text, link) {
    if (!target) { return; }
    target.innerHTML = "";
    var p = document.createElement("p");
    p.className = "notice " + kind;
    p.setAttribute("role", kind === "error" ? "alert" : "status");
    p.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      p.appendChild(document.createTextNode(" "));
      p.appendChild(a);
    }
    target.appendChild(p);
  }

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  // A secret the server shows once (a new API token, a generated password): shown in the page,
  // selectable, never stored by the page.
  // Where a success message links to: the interaction a send created, or the row of a new user
  // or token (data-created on the form names the row's id prefix).
  function createdLink(form, body) {
    if (!body) { return null; }
    if (body.interactionId) { return { href: "/interactions/" + encodeURIComponent(body.interactionId), text: say("open") }; }
    var kind = form.getAttribute("data-created");
    if (kind === "complaint" && body.id) { return { href: "/complaints/" + encodeURIComponent(body.id), text: say("open") }; }
    var key = kind === "token" ? body.prefix : kind === "user" ? body.username : null;
    return key ? { href: "#" + kind + "-" + key, text: say("show") } : null;
  }

  function showSecret(target, label, value, link) {
    if (!target) { return; }
    target.innerHTML = "";
    var box = document.createElement("div");
    box.className = "notice ok secret";
    box.setAttribute("role", "status");
    var text = document.createElement("p");
    text.textContent = label + " " + say("secretOnce");
    var code = document.createElement("code");
    code.className = "secret-value";
    code.textContent = value;
    box.appendChild(text);
    box.appendChild(code);
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      box.appendChild(a);
    }
    target.appendChild(box);
  }

  // htmx does not swap error answers: say what went wrong in the form's result area.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var source = event.detail.elt;
    var form = source && source.closest ? source.closest("form") : null;
    var result = form ? (form.querySelector(".result") || (form.parentElement && form.parentElement.querySelector(".result"))) : null;
    if (!result) { return; }
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") === 0) { result.innerHTML = xhr.responseText; return; }
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
    var wait = xhr.getResponseHeader("Retry-After");
    show(result, "error", explain(xhr.status, body) + (wait ? " " + say("retryIn", { seconds: wait }) : ""));
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-api]")) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) { return; }
    var payload = {};
    new FormData(form).forEach(function (value, key) {
      var field = form.elements[key];
      var kind = field && field.getAttribute ? field.getAttribute("type") : null;
      if (field && field.hasAttribute && field.hasAttribute("data-list")) {
        // A comma-separated field is a list (empty: an empty list).
        payload[key] = String(value).split(",").map(function (item) { return item.trim(); })
          .filter(function (item) { return item !== ""; });
        return;
      }
      if (typeof value === "string" && value.trim() !== "") {
        // A local date and time is sent as an instant (the API wants its time zone).
        payload[key] = kind === "datetime-local" ? new Date(value).toISOString() : value.trim();
      }
    });
    // Fields whose API value is not a string: a multi-select's list, a checkbox's true or false,
    // a whole number, an empty choice that means null (anything else goes as typed, for the API
    // to refuse and say why).
    Array.prototype.forEach.call(form.querySelectorAll("[data-json]"), function (field) {
      var kind = field.getAttribute("data-json");
      if (!field.name) { return; }
      if (kind === "list") {
        payload[field.name] = Array.prototype.filter.call(field.options, function (option) { return option.selected; })
          .map(function (option) { return option.value; });
      } else if (kind === "bool") {
        payload[field.name] = field.checked;
      } else if (kind === "int" && /^-?\d+$/.test(payload[field.name] || "")) {
        payload[field.name] = parseInt(payload[field.name], 10);
      } else if (kind === "nullable" && !(field.name in payload)) {
        // Left empty: the API's null (e.g. "for everyone" rather than one team).
        payload[field.name] = null;
      } else if (kind === "minutes") {
        // Minutes typed, seconds sent (empty: null, no target).
        var minutes = payload[field.name];
        payload[field.name] = /^\d+$/.test(minutes || "") ? parseInt(minutes, 10) * 60
          : (minutes === undefined ? null : minutes);
      } else if (kind === "intervals") {
        // "09:00-13:00, 14:00-18:00" → [{opens, closes}, …] at a dotted path (hours.monday).
        var text = payload[field.name] || "";
        delete payload[field.name];
        var intervals = text.split(",").map(function (item) { return item.trim(); })
          .filter(function (item) { return item !== ""; }).map(function (item) {
            var parts = item.split("-");
            return { opens: (parts[0] || "").trim(), closes: (parts.slice(1).join("-") || "").trim() };
          });
        var path = field.name.split("."), target = payload;
        path.slice(0, -1).forEach(function (key) { target = target[key] = target[key] || {}; });
        target[path[path.length - 1]] = intervals;
      }
    });
    var result = form.querySelector(".result") || (form.parentElement && form.parentElement.querySelector(".result"));
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    fetch(form.getAttribute("data-api"), {
      method: form.getAttribute("data-method") || "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok && body && (body.token || body.password)) {
          var owner = (body.user && body.user.username) || body.username;
          showSecret(result, body.token ? say("newToken", { prefix: body.prefix, username: body.username })
            : say("oneTimePassword", { username: owner }), body.token || body.password,
            createdLink(form, body));
          form.reset();
          // The new user or token shows in its table now (the secret stays shown).
          document.body.dispatchEvent(new Event("cc:changed"));
          return;
        }
        if (response.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname)); return; }
        if (response.ok) {
          // `data-saved`: a record kept here (a note), not something sent on.
          var kept = form.hasAttribute("data-saved");
          show(result, "ok", !kept && (response.status === 202 || response.status === 201) ? say("accepted") : say("saved"),
            kept ? null : createdLink(form, body));
          if (form.hasAttribute("data-reload")) { window.location.reload(); return; }
          if (response.status !== 200) { form.reset(); }
          document.body.dispatchEvent(new Event("cc:changed"));
        } else {
          var wait = response.headers.get("Retry-After");
          show(result, "error", explain(response.status, body) + (wait ? " " + say("retryIn", { seconds: wait }) : ""));
        }
      });
    }).catch(function () {
      show(result, "error", say("unreachable"));
    }).finally(function () { if (button) { button.disabled = false; } });
  });

  // A selector marked data-submit-on-change saves as soon as it changes (the availability).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("[data-submit-on-change]") || !field.form) { return; }
    if (field.form.requestSubmit) { field.form.requestSubmit(); } else { field.form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true })); }
  });

  // A filter form sends only the filters that are set: an empty field would reach the API's
  // strict query parsing (`status=` is not a status) instead of meaning "any".
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.filters")) { return; }
    var emptied = Array.prototype.filter.call(form.elements, function (field) {
      return field.name && !field.disabled && field.type !== "checkbox" && field.value.trim() === "";
    });
    emptied.forEach(function (field) { field.disabled = true; });
    // Back in the page (history), the fields work again.
    window.setTimeout(function () { emptied.forEach(function (field) { field.disabled = false; }); }, 0);
  });

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[data-tab]");
    if (!tab) { return; }
    var panel = tab.closest(".panel");
    panel.querySelectorAll("[data-tab]").forEach(function (t) {
      t.setAttribute("aria-selected", t === tab ? "true" : "false");
    });
    panel.querySelectorAll("[data-tab-panel]").forEach(function (f) {
      f.hidden = f.getAttribute("data-tab-panel") !== tab.getAttribute("data-tab");
    });
    var result = panel.querySelector(".result");
    if (result) { result.innerHTML = ""; }
  });
})();
