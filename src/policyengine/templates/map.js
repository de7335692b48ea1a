/* The home page map: recolour the counties for the chosen action, date and colouring.
   Data come from map-data.js (window.PE_MAP), written by `policyengine site`. */
(function () {
  "use strict";
  var D = window.PE_MAP;
  if (!D) { return; }
  var action = document.getElementById("action");
  var by = document.getElementById("by");
  var date = document.getElementById("date");
  var status = document.getElementById("map-status");
  var legend = document.getElementById("legend");
  var legendTitle = document.getElementById("legend-title");
  var svgTitle = document.querySelector("#map svg > title");
  var svgLegend = document.querySelector("#map svg .legend");
  if (svgLegend) { svgLegend.style.display = "none"; }

  function words(text) { return text.replace(/_/g, " "); }

  function paint() {
    var a = action.value, i = Number(date.value), mode = by.value;
    var row = D.cells[a][i];
    var colours = D.colours[mode];
    var counts = {};
    D.fips.forEach(function (fips, k) {
      var s = D.states[row[k]];
      var value = mode === "verdict" ? s[0] : s[1];
      counts[value] = (counts[value] || 0) + 1;
      var el = document.getElementById("c" + fips);
      el.setAttribute("fill", colours[value]);
      el.setAttribute("data-verdict", s[0]);
      el.setAttribute("data-practice", s[1]);
      el.querySelector("title").textContent = D.names[fips] + "\n" + s[2];
    });
    var label = words(a) + ": " + mode + " as of " + D.dates[i];
    status.textContent = label;
    if (svgTitle) { svgTitle.textContent = label; }
    document.querySelector("#map svg").setAttribute("data-action", a);
    document.querySelector("#map svg").setAttribute("data-date", D.dates[i]);
    document.querySelector("#map svg").setAttribute("data-by", mode);
    legendTitle.textContent = mode === "verdict" ? "Verdict" : "Practice";
    legend.textContent = "";
    Object.keys(colours).forEach(function (value) {
      var li = document.createElement("li");
      var sw = document.createElement("span");
      sw.className = "sw";
      sw.style.background = colours[value];
      li.appendChild(sw);
      li.appendChild(document.createTextNode(words(value) + " (" + (counts[value] || 0) + ")"));
      legend.appendChild(li);
    });
    document.getElementById("prev").disabled = i === 0;
    document.getElementById("next").disabled = i === D.dates.length - 1;
  }

  action.addEventListener("change", paint);
  by.addEventListener("change", paint);
  date.addEventListener("change", paint);
  document.getElementById("prev").addEventListener("click", function () {
    if (date.selectedIndex > 0) { date.selectedIndex -= 1; paint(); }
  });
  document.getElementById("next").addEventListener("click", function () {
    if (date.selectedIndex < date.options.length - 1) { date.selectedIndex += 1; paint(); }
  });
  paint();
}());
