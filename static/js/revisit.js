// Revisit's shared page behaviour: quick exit (button or Escape twice). No framework, no build step.
(function () {
  "use strict";
  function quickExit(event) {
    if (event) { event.preventDefault(); }
    var link = document.querySelector("[data-quick-exit]");
    var target = link ? link.getAttribute("href") : "/quick-exit/";
    document.querySelectorAll("video, audio").forEach(function (el) {
      try { el.pause(); el.removeAttribute("src"); el.load(); } catch (e) { /* nothing to clear */ }
    });
    document.body.innerHTML = "";
    // replace() keeps this page out of the back-button history.
    window.location.replace(target);
  }
  document.querySelectorAll("[data-quick-exit]").forEach(function (link) {
    link.addEventListener("click", quickExit);
  });
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - lastEscape < 800) { quickExit(); }
    lastEscape = now;
  });
})();
