// Small behaviours without inline scripts (the CSP forbids them): theme toggle and confirm dialogs.
(function () {
  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var root = document.documentElement;
      var next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-bs-theme", next);
      try { localStorage.setItem("frontdesk-theme", next); } catch (e) { /* ignore */ }
    });
  }
  // Forms marked data-confirm ask before a destructive action is sent, with or without htmx.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  // Times are sent in UTC; show them in the reader's own time zone (the UTC text stays when scripts are off).
  function localise(root) {
    // dateStyle/timeStyle cannot be combined with timeZoneName (a TypeError), so name the parts instead.
    var fmt = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short", day: "numeric", hour: "numeric",
                                                  minute: "2-digit", timeZoneName: "short"});
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) { el.textContent = fmt.format(when); el.title = el.getAttribute("datetime"); }
    });
    root.querySelectorAll("[data-utc]").forEach(function (el) {
      var when = new Date(el.getAttribute("data-utc"));
      if (!isNaN(when)) { el.title = fmt.format(when); }
    });
  }
  localise(document);
  document.addEventListener("htmx:afterSwap", function (event) { localise(event.target); });
  // Workflow editor: ticking a service means "only these services" (the radio still decides when scripts are off).
  document.addEventListener("change", function (event) {
    var box = event.target;
    var some = document.getElementById("scope-some");
    if (some && box.name === "categories" && box.checked) { some.checked = true; }
  });
  // Mapping page: a group ticked in the search results joins the chosen groups (and chooses group scope), so a
  // later search does not lose it; Enter in the search box searches instead of submitting the mapping.
  document.addEventListener("change", function (event) {
    var box = event.target, chosen = document.getElementById("chosen-groups");
    if (!chosen || !box.hasAttribute("data-scope-pick") || !box.checked) { return; }
    var item = box.closest(".scope-group"), empty = document.getElementById("no-groups");
    if (empty) { empty.remove(); }
    box.removeAttribute("data-scope-pick");
    item.className = "scope-group";
    chosen.appendChild(item);
    var groups = document.querySelector('input[name="scope"][value="groups"]');
    if (groups) { groups.checked = true; }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.id === "group-search") {
      event.preventDefault();
      if (window.htmx) { window.htmx.trigger(event.target, "search"); }
    }
  });
  // htmx posts carry the CSRF token of the page (forms also send it as a field).
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector('input[name="csrf_token"]');
    if (token) { event.detail.headers["X-CSRFToken"] = token.value; }
  });
})();
