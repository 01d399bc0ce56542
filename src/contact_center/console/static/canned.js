// Canned replies in the reply box: pick one from the list, or type "/" and its shortcut, and
// its body (with its {{variables}}) goes into the message; the server fills them in on send.
(function () {
  if (window.ccCanned) { return; }
  window.ccCanned = true;

  // The picker's options: the replies this person may use.
  function load(select) {
    fetch(select.getAttribute("data-src"), { headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { select.innerHTML = html; } })
      .catch(function () { /* the box works without the picker */ });
  }
  document.querySelectorAll("select[data-canned][data-src]").forEach(load);

  function insert(area, text) {
    var start = area.selectionStart, end = area.selectionEnd;
    if (typeof start === "number" && area.value !== "") {
      area.setRangeText(text, start, end, "end");
    } else {
      area.value = text;
    }
    area.focus();
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-canned]")) { return; }
    var option = select.options[select.selectedIndex];
    var area = select.form && select.form.querySelector("textarea[name=body]");
    if (!option || !option.value || !area) { return; }
    insert(area, option.getAttribute("data-body") || "");
    select.value = "";
  });

  // "/saludo" alone in the box, followed by a space or Enter, becomes that reply.
  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (!area.matches || !area.matches("form textarea[name=body]")) { return; }
    if (event.key !== " " && event.key !== "Enter" && event.key !== "Tab") { return; }
    var typed = /^\/([a-z0-9_-]{1,32})$/.exec(area.value.trim());
    var select = typed && area.form.querySelector("select[data-canned]");
    if (!select) { return; }
    var found = Array.prototype.filter.call(select.options, function (o) {
      return o.getAttribute("data-shortcut") === typed[1];
    })[0];
    if (!found) { return; }
    event.preventDefault();
    area.value = found.getAttribute("data-body") || "";
  });
})();
