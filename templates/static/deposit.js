// Search-as-you-type for the contributor step: the plain search form works without this script;
// with it, matching people appear while typing (the server renders the same result list).
(function () {
  "use strict";
  var input = document.querySelector("[data-live-search]");
  var target = document.getElementById("person-results");
  if (!input || !target || !window.fetch) { return; }
  var timer = null;
  var latest = 0;
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var query = input.value.trim();
      var ticket = ++latest;
      var url = input.getAttribute("data-live-search") + "&q=" + encodeURIComponent(query);
      if (query.length < 2) { return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { if (ticket === latest && html) { target.innerHTML = html; } });
    }, 250);
  });
}());
