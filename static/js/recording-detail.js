// The therapist's recording page: live processing progress, "use current time", seeking from
// listed moments, and a confirmation before revoking. Vanilla, no build step; the page works
// without it (forms post normally), it just stops updating by itself.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var MAX_BACKOFF_MS = 30000;

  function clock(seconds) {
    var whole = Math.max(0, Math.floor(seconds || 0));
    var hours = Math.floor(whole / 3600);
    var minutes = Math.floor((whole % 3600) / 60);
    var secs = whole % 60;
    var mm = (minutes < 10 ? "0" : "") + minutes;
    var ss = (secs < 10 ? "0" : "") + secs;
    return hours ? hours + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // --- Live progress while the recording is processed ------------------------------------------
  function watchProgress(panel) {
    var url = panel.getAttribute("data-poll-url");
    var startStatus = panel.getAttribute("data-status");
    var startShareable = panel.getAttribute("data-shareable") === "yes";
    if (!url || (startStatus !== "processing" && startStatus !== "uploading")) { return; }
    var bar = panel.querySelector("[data-progress-bar]");
    var text = panel.querySelector("[data-progress-text]");
    var lastSpoken = -1;
    var delay = POLL_MS;
    var timer = null;
    var stopped = false;

    function say(message) { if (text && text.textContent !== message) { text.textContent = message; } }

    function schedule(ms) {
      if (stopped) { return; }
      clearTimeout(timer);
      timer = setTimeout(poll, ms);
    }

    function reloadSoon(message) {
      stopped = true;
      say(message);
      setTimeout(function () { window.location.reload(); }, 600);
    }

    function show(data) {
      var percent = Math.round(Math.max(0, Math.min(1, Number(data.progress) || 0)) * 100);
      if (bar) { bar.value = percent; bar.textContent = percent + "%"; }
      if (data.status === "ready") { reloadSoon("Ready. Loading the player…"); return; }
      if (data.status === "failed") { reloadSoon("Processing failed. Loading the details…"); return; }
      if (Boolean(data.shareable) !== startShareable) {
        reloadSoon("The playable copies are ready. Loading the player…");
        return;
      }
      // Speak in steps of ten per cent, not every two seconds.
      var step = Math.floor(percent / 10);
      if (data.status === "uploading") {
        say("Waiting for the upload to finish.");
      } else if (step !== lastSpoken) {
        lastSpoken = step;
        say("Processing: " + percent + "% done.");
      }
    }

    function poll() {
      if (document.hidden) { return; } // picked up again when the tab is visible
      fetch(url, {
        headers: { "Accept": "application/json", "X-Revisit-Background": "1" },
        credentials: "same-origin",
        cache: "no-store"
      }).then(function (response) {
        if (response.status === 401) { reloadSoon("Your session ended. Reloading…"); return null; }
        if (response.status === 404) {
          stopped = true;
          say("This recording is no longer available.");
          return null;
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        if (!data || stopped) { return; }
        delay = POLL_MS;
        show(data);
        schedule(delay);
      }).catch(function () {
        say("Could not check the progress just now. Trying again…");
        lastSpoken = -1;
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        schedule(delay);
      });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !stopped) { schedule(0); }
    });
    schedule(POLL_MS);
  }

  // --- The player: fill a time field, jump to a listed moment ----------------------------------
  function wirePlayer(player) {
    document.querySelectorAll("[data-fill-time]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-fill-time"));
      if (!input) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        input.value = clock(player.currentTime);
        input.focus();
      });
    });
    document.querySelectorAll("[data-seek]").forEach(function (button) {
      button.addEventListener("click", function () {
        var at = parseFloat(button.getAttribute("data-seek"));
        if (isNaN(at)) { return; }
        player.currentTime = at;
        player.focus();
        var playing = player.play();
        if (playing && playing.catch) { playing.catch(function () { /* the person presses play */ }); }
      });
    });
  }

  function wireConfirmations() {
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      var form = button.form;
      if (!form) { return; }
      form.addEventListener("submit", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  var panel = document.querySelector("[data-recording-progress]");
  if (panel) { watchProgress(panel); }
  var player = document.querySelector("[data-player]");
  if (player) { wirePlayer(player); }
  wireConfirmations();
})();
