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
  // htmx posts carry the CSRF token of the page (forms also send it as a field).
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector('input[name="csrf_token"]');
    if (token) { event.detail.headers["X-CSRFToken"] = token.value; }
  });
})();
