// Dashboard charts from JSON embedded in the page (the CSP forbids inline scripts; JSON blocks do not run).
(function () {
  if (!window.Chart) { return; }
  var dark = document.documentElement.getAttribute("data-bs-theme") === "dark";
  Chart.defaults.color = dark ? "#dee2e6" : "#212529";
  Chart.defaults.animation = false;
  function data(name) {
    var node = document.getElementById("chart-" + name);
    return node ? JSON.parse(node.textContent) : null;
  }
  function canvas(name) { return document.querySelector('canvas[data-chart="' + name + '"]'); }
  var signIns = data("sign-ins");
  if (signIns && canvas("sign-ins")) {
    new Chart(canvas("sign-ins"), {
      type: "bar",
      data: {
        labels: signIns.map(function (d) { return d.day.slice(5); }),
        datasets: [
          { label: "Succeeded", data: signIns.map(function (d) { return d.success; }), backgroundColor: "#198754" },
          { label: "Failed", data: signIns.map(function (d) { return d.failure; }), backgroundColor: "#dc3545" }
        ]
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  var syncs = data("syncs");
  if (syncs && canvas("syncs")) {
    new Chart(canvas("syncs"), {
      type: "bar",
      data: {
        labels: syncs.map(function (r) { return "#" + r.run + " " + r.mode; }),
        datasets: [
          { type: "bar", label: "Changes", data: syncs.map(function (r) { return r.changes; }), backgroundColor: "#0d6efd", yAxisID: "y" },
          { type: "line", label: "Seconds", data: syncs.map(function (r) { return r.seconds; }), borderColor: "#fd7e14", yAxisID: "y1" }
        ]
      },
      options: { scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } }
    });
  }
})();
