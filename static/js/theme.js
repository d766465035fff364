// Applies the saved or preferred colour theme before the page paints, to avoid a flash.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("frontdesk-theme"); } catch (e) { /* storage may be blocked */ }
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-bs-theme", saved || (dark ? "dark" : "light"));
})();
