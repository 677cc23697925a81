// The "New recording" page: choose the client and title, then upload a file (picker or drop) or
// record in the browser. Uses RevisitTus (tus-upload.js) and RevisitRecorder (recorder.js).
(function () {
  "use strict";

  var root = document.querySelector("[data-capture]");
  if (!root || !window.RevisitTus) { return; }
  var Tus = window.RevisitTus;
  var Rec = window.RevisitRecorder;

  var RECORDING_PREFIX = "rec-";
  var HEARTBEAT_MS = 3000;
  var ABANDONED_AFTER_MS = 15000;

  function $(selector, scope) { return (scope || root).querySelector(selector); }
  function $all(selector, scope) { return Array.prototype.slice.call((scope || root).querySelectorAll(selector)); }

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";
  var endpoint = root.getAttribute("data-upload-endpoint");
  var recordingUrl = root.getAttribute("data-recording-url");
  var userId = root.getAttribute("data-user") || "";

  var clientSelect = $("[data-client-select]");
  var titleInput = $("[data-title-input]");
  var methods = $("[data-methods]");
  var statusBox = $("[data-status]");
  var errorBox = $("[data-error]");
  var donePanel = $("[data-done]");
  var fileInput = $("[data-file-input]");
  var dropzone = $("[data-dropzone]");
  var transfer = $("[data-transfer]");
  var progressBar = $("[data-progress]");
  var progressText = $("[data-progress-text]");
  var pauseButton = $("[data-pause]");
  var resumeButton = $("[data-resume]");
  var cancelButton = $("[data-cancel]");
  var pendingNote = $("[data-pending-note]");
  var recSetup = $("[data-rec-setup]");
  var recLive = $("[data-rec-live]");
  var recStart = $("[data-rec-start]");
  var recStop = $("[data-rec-stop]");
  var recConfirm = $("[data-rec-confirm]");
  var recOther = $("[data-rec-other]");
  var recElapsed = $("[data-rec-elapsed]");
  var recIndicator = $("[data-rec-indicator]");
  var recSaved = $("[data-rec-saved]");
  var recPreview = $("[data-rec-preview]");
  var recover = $("[data-recover]");

  var busy = false;
  var checking = false;
  var upload = null;
  var recorder = null;

  // --- messages ---------------------------------------------------------------------------------

  function say(text) {
    statusBox.textContent = text || "";
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function megabytes(bytes) {
    var mb = bytes / 1e6;
    return mb < 10 ? mb.toFixed(1) : String(Math.round(mb));
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function timeLeft(seconds) {
    if (seconds === null || !isFinite(seconds)) { return ""; }
    if (seconds < 60) { return "less than a minute left"; }
    if (seconds < 3600) { return "about " + Math.round(seconds / 60) + " min left"; }
    return "about " + (seconds / 3600).toFixed(1) + " h left";
  }

  // --- choosing the client and the method -----------------------------------------------------

  function selectedOption() {
    return clientSelect.options[clientSelect.selectedIndex];
  }

  function clientLabel(id) {
    var option = $all("option", clientSelect).filter(function (o) { return o.value === id; })[0];
    return option ? option.getAttribute("data-label") : "this client";
  }

  function updateClient() {
    var option = selectedOption();
    var consented = option.getAttribute("data-consent") === "yes";
    $all("[data-consent-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-consent-panel") !== option.value;
    });
    methods.hidden = !consented;
    $all("[data-client-name]").forEach(function (el) { el.textContent = option.getAttribute("data-label"); });
    if (recConfirm) { recConfirm.checked = false; }
    showError("");
  }

  function updateMethod() {
    var chosen = $all("[data-method]").filter(function (r) { return r.checked; })[0];
    var value = chosen ? chosen.value : "upload";
    $all("[data-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-panel") !== value;
    });
    showError("");
  }

  function lock(locked) {
    busy = locked;
    clientSelect.disabled = locked;
    titleInput.disabled = locked;
    $all("[data-method]").forEach(function (r) { r.disabled = locked; });
    fileInput.disabled = locked;
    dropzone.classList.toggle("is-busy", locked);
  }

  function finished(result) {
    var id = result && result.recordingId;
    $all("[data-panel]").forEach(function (panel) { panel.hidden = true; });
    methods.hidden = true;
    say("");
    showError("");
    var link = $("[data-done-link]");
    if (id) {
      donePanel.setAttribute("data-recording-id", id);
      link.href = recordingUrl.replace("{id}", encodeURIComponent(id));
      link.hidden = false;
    } else {
      link.hidden = true;
    }
    donePanel.hidden = false;
    donePanel.focus();
  }

  // --- uploading a file ------------------------------------------------------------------------

  function sizeAttribute(name) {
    var value = parseInt(root.getAttribute(name), 10);
    return value > 0 ? value : undefined;
  }

  // Uploading or recording counts as being there: idle.js must not sign out mid-session.
  function stillWorking() {
    document.dispatchEvent(new CustomEvent("revisit:activity"));
  }

  function showProgress(p) {
    stillWorking();
    var total = p.bytesTotal || 0;
    var percent = total ? Math.floor((p.bytesSent / total) * 100) : 0;
    if (total && p.bytesSent >= total) { percent = 100; }
    progressBar.value = percent;
    var parts = [percent + "%", megabytes(p.bytesSent) + " of " + megabytes(total) + " MB"];
    if (p.speed) { parts.push(megabytes(p.speed) + " MB/s"); }
    var left = percent < 100 ? timeLeft(p.secondsLeft) : "";
    if (left) { parts.push(left); }
    progressText.textContent = parts.join(" · ");
    if (percent === 100 && !checking) {
      checking = true;
      say("All sent. Checking that the file is a playable recording…");
    }
  }

  function setPaused(paused) {
    pauseButton.hidden = paused;
    resumeButton.hidden = !paused;
  }

  function uploadEvent(name, detail) {
    if (name === "created") { say("Uploading…"); }
    if (name === "resuming") {
      var percent = detail.length ? Math.floor((detail.offset / detail.length) * 100) : 0;
      say("Continuing an earlier upload of this file from " + percent + "%.");
    }
    if (name === "restarted") { say("The earlier upload of this file had expired; starting again from the beginning."); }
    if (name === "paused") { setPaused(true); say("Paused. Press Resume to continue."); }
    if (name === "resumed") { setPaused(false); say("Resuming…"); }
    if (name === "retrying") {
      say(detail.delayMs
        ? "The connection dropped. Trying again in " + Math.round(detail.delayMs / 1000) + " s…"
        : "Checking where the upload stopped…");
    }
    if (name === "stalled") {
      setPaused(true);
      say("The server could not be reached for a while, so the upload is paused. Press Resume to try again.");
    }
  }

  function acceptable(file) {
    if (!file) { return "Choose a file first."; }
    if (!file.size) { return "This file is empty."; }
    if (file.type && !/^(audio|video)\//.test(file.type)) {
      return "This does not look like a video or audio file. Choose the recording of the session.";
    }
    return "";
  }

  async function startUpload(file) {
    if (busy) { return; }
    var problem = acceptable(file);
    if (problem) { showError(problem); return; }
    showError("");
    lock(true);
    var client = clientSelect.value;
    var fingerprint = null;
    try { fingerprint = await Tus.fileFingerprint(file, userId); } catch (e) { fingerprint = null; }
    upload = new Tus.TusUpload({
      endpoint: endpoint,
      csrfToken: csrfToken,
      file: file,
      chunkSize: sizeAttribute("data-chunk-size"),
      maxChunkSize: sizeAttribute("data-max-chunk-size"),
      checksum: root.getAttribute("data-checksum") === "on",
      metadata: { client: client, title: titleInput.value.trim() },
      fingerprint: fingerprint,
      store: Tus.ResumeStore,
      storeRecord: { user: userId },
      onProgress: showProgress,
      onEvent: uploadEvent,
    });
    transfer.hidden = false;
    checking = false;
    setPaused(false);
    progressBar.value = 0;
    progressText.textContent = "0%";
    say("Starting the upload…");
    try {
      var result = await upload.start();
      finished(result);
    } catch (error) {
      transfer.hidden = true;
      if (error instanceof Tus.UploadAborted) {
        say("Upload cancelled. Nothing was kept.");
      } else {
        say("");
        showError(error.message || "The upload failed.");
      }
      lock(false);
      fileInput.value = "";
    } finally {
      upload = null;
    }
  }

  fileInput.addEventListener("change", function () {
    if (fileInput.files && fileInput.files[0]) { startUpload(fileInput.files[0]); }
  });
  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) {
      event.preventDefault();
      if (!busy) { dropzone.classList.add("is-over"); }
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    dropzone.addEventListener(type, function () { dropzone.classList.remove("is-over"); });
  });
  // A file dropped beside the zone must not replace the page (and stop an upload).
  ["dragover", "drop"].forEach(function (type) {
    window.addEventListener(type, function (event) {
      if (!dropzone.contains(event.target)) { event.preventDefault(); }
    });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length > 1) { showError("Drop one file at a time."); return; }
    if (files && files[0]) { startUpload(files[0]); }
  });
  pauseButton.addEventListener("click", function () { if (upload) { upload.pause(); } });
  resumeButton.addEventListener("click", function () { if (upload) { upload.resume(); } });
  cancelButton.addEventListener("click", function () {
    if (upload) { say("Cancelling…"); upload.abort(); }
  });

  function notePendingUploads() {
    var pending = Tus.ResumeStore.list("").filter(function (entry) {
      return entry.key.indexOf(RECORDING_PREFIX) !== 0 && entry.record.user === userId;
    });
    if (pending.length) {
      pendingNote.textContent = pending.length === 1
        ? "An upload from this browser did not finish. Choose the same file again and it continues where it stopped."
        : pending.length + " uploads from this browser did not finish. Choose the same file again and it continues where it stopped.";
      pendingNote.hidden = false;
    }
  }

  // --- recording in the browser ----------------------------------------------------------------

  var ticker = null;
  var heartbeat = null;
  var recordingKey = null;

  function warnBeforeLeaving(event) {
    event.preventDefault();
    event.returnValue = "";
    return "";
  }

  function recordingProgress(p) {
    var waiting = upload ? upload.bytesQueued : 0;
    var text = "Saved on the server: " + megabytes(p.bytesSent) + " MB.";
    if (waiting > 512 * 1024) { text += " Waiting to send: " + megabytes(waiting) + " MB (kept in this browser)."; }
    recSaved.textContent = text;
  }

  function recordingEvent(name, detail) {
    if (name === "created") {
      recordingKey = RECORDING_PREFIX + detail.url.split("/").filter(Boolean).pop();
      rememberRecording(detail.url);
      say("Recording. Each part goes to the server as you record.");
    }
    if (name === "retrying" && detail.delayMs) {
      say("The connection dropped. The recording goes on and is kept in this browser until it is back.");
    }
  }

  function rememberRecording(url) {
    Tus.ResumeStore.put(recordingKey, {
      url: url,
      client: clientSelect.value,
      user: userId,
      startedAt: Date.now(),
      lastSeen: Date.now(),
    });
  }

  function touchRecording() {
    if (!recordingKey) { return; }
    var record = Tus.ResumeStore.get(recordingKey);
    if (record) {
      record.lastSeen = Date.now();
      Tus.ResumeStore.put(recordingKey, record);
    }
  }

  function forgetRecording() {
    if (recordingKey) { Tus.ResumeStore.remove(recordingKey); }
    recordingKey = null;
  }

  function stopTimers() {
    window.clearInterval(ticker);
    window.clearInterval(heartbeat);
    ticker = null;
    heartbeat = null;
  }

  function resetRecordingUi() {
    stopTimers();
    recLive.hidden = true;
    recSetup.hidden = false;
    recStop.hidden = false;
    recIndicator.hidden = false;
    recPreview.srcObject = null;
    recPreview.hidden = true;
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    lock(false);
  }

  async function startRecording() {
    if (busy) { return; }
    showError("");
    if (!Rec || !Rec.SessionRecorder.isSupported()) {
      showError("This browser cannot record here. Record with another app and upload the file instead.");
      return;
    }
    if (!recConfirm.checked) {
      showError("Tick the box to confirm " + selectedOption().getAttribute("data-label") + " has agreed to this session being recorded.");
      recConfirm.focus();
      return;
    }
    var kind = $all("[data-rec-kind]").filter(function (r) { return r.checked; })[0];
    var wantOther = Boolean(recOther && recOther.checked);
    if (wantOther && !Rec.SessionRecorder.canCaptureOtherSide()) {
      showError("This browser cannot capture another tab's sound. Untick \"Also record the other side\" to record your microphone only.");
      return;
    }
    lock(true);
    recStart.disabled = true;
    say("Starting the " + (kind && kind.value === "audio" ? "microphone" : "camera and microphone") + "…");
    upload = new Tus.TusUpload({
      endpoint: endpoint,
      csrfToken: csrfToken,
      metadata: { client: clientSelect.value, title: titleInput.value.trim(), source: "browser" },
      chunkSize: 8 * 1024 * 1024,
      maxFailures: Infinity,
      onProgress: recordingProgress,
      onEvent: recordingEvent,
    });
    var session = upload;
    recorder = new Rec.SessionRecorder({
      video: !kind || kind.value === "video",
      otherSide: wantOther,
      timesliceMs: 2000,
      onData: function (blob) { try { session.push(blob); } catch (e) { /* already finishing */ } },
      onError: function (error) { showError(error.message); stopRecording(); },
      onOtherSideEnded: function () { say("The shared tab or window stopped sharing; its side is silent from here on."); },
    });
    try {
      await recorder.start();
    } catch (error) {
      recorder = null;
      upload = null;
      recStart.disabled = false;
      say("");
      showError(error.message);
      lock(false);
      return;
    }
    window.addEventListener("beforeunload", warnBeforeLeaving);
    recSetup.hidden = true;
    recLive.hidden = false;
    recStart.disabled = false;
    recSaved.textContent = "Nothing saved yet.";
    if (recorder.preview) {
      recPreview.srcObject = recorder.preview;
      recPreview.hidden = false;
    }
    recElapsed.textContent = duration(0);
    ticker = window.setInterval(function () {
      if (recorder) { recElapsed.textContent = duration(recorder.elapsedSeconds()); stillWorking(); }
    }, 500);
    heartbeat = window.setInterval(touchRecording, HEARTBEAT_MS);
    recStop.focus();
    session.start().then(function (result) {
      forgetRecording();
      window.removeEventListener("beforeunload", warnBeforeLeaving);
      stopTimers();
      recLive.hidden = true;
      finished(result);
    }, function (error) {
      if (error instanceof Tus.UploadAborted) { return; }
      // The server refused it (consent withdrawn, quota, not a usable recording): stop recording.
      if (recorder) { recorder.stop(); recorder = null; }
      forgetRecording();
      resetRecordingUi();
      say("");
      showError(error.message);
    });
  }

  async function stopRecording() {
    if (!recorder) { return; }
    var active = recorder;
    var session = upload;
    recorder = null;
    recStop.disabled = true;
    window.clearInterval(ticker); // the heartbeat goes on until the last bytes are on the server
    ticker = null;
    await active.stop();
    recStop.disabled = false;
    recStop.hidden = true;
    recIndicator.hidden = true;
    recPreview.srcObject = null;
    recPreview.hidden = true;
    say("Recording stopped after " + recElapsed.textContent + ". Sending the last seconds…");
    if (session && session.state !== "failed" && session.state !== "aborted") {
      session.finish();
    }
  }

  // A recording whose page closed (or crashed) before Stop: keep what reached the server, or discard.
  async function offerRecovery() {
    var entries = Tus.ResumeStore.list(RECORDING_PREFIX).filter(function (entry) {
      // lastSeen is 0 once its page closed; a page that crashed stops updating it.
      return entry.record.user === userId && Date.now() - (entry.record.lastSeen || 0) > ABANDONED_AFTER_MS;
    });
    if (!entries.length) { return; }
    var entry = entries[0];
    var upload0 = new Tus.TusUpload({
      endpoint: endpoint,
      csrfToken: csrfToken,
      url: entry.record.url,
      maxFailures: 3,
      onProgress: function () {},
      onEvent: function () {},
    });
    var head;
    try {
      head = await new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open("HEAD", entry.record.url, true);
        xhr.setRequestHeader("Tus-Resumable", "1.0.0");
        xhr.onload = function () { resolve(xhr); };
        xhr.onerror = reject;
        xhr.send();
      });
    } catch (e) {
      return; // offline: ask again next time
    }
    if (head.status !== 200 || head.getResponseHeader("Upload-Length") !== null) {
      Tus.ResumeStore.remove(entry.key); // gone, or already finished
      return;
    }
    var saved = parseInt(head.getResponseHeader("Upload-Offset"), 10) || 0;
    if (!saved) {
      Tus.ResumeStore.remove(entry.key);
      upload0.abort();
      return;
    }
    var when = new Date(entry.record.startedAt || Date.now());
    $("[data-recover-text]").textContent =
      "A recording for " + clientLabel(entry.record.client) + " that started at " +
      when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) +
      " stopped before it was finished. " + megabytes(saved) + " MB of it reached the server.";
    recover.hidden = false;
    $("[data-recover-keep]").addEventListener("click", function () {
      recover.hidden = true;
      say("Keeping what was saved…");
      upload0.finish().then(function (result) {
        Tus.ResumeStore.remove(entry.key);
        finished(result);
      }, function (error) {
        Tus.ResumeStore.remove(entry.key);
        say("");
        showError(error.message);
      });
    }, { once: true });
    $("[data-recover-discard]").addEventListener("click", function () {
      recover.hidden = true;
      Tus.ResumeStore.remove(entry.key);
      upload0.abort();
      say("The interrupted recording was discarded.");
    }, { once: true });
  }

  // Closing the tab mid-recording: mark it as left at once, so the next visit offers to keep it.
  window.addEventListener("pagehide", function () {
    if (!recordingKey) { return; }
    var record = Tus.ResumeStore.get(recordingKey);
    if (record) {
      record.lastSeen = 0;
      Tus.ResumeStore.put(recordingKey, record);
    }
  });

  recStart.addEventListener("click", startRecording);
  recStop.addEventListener("click", stopRecording);

  // --- start ------------------------------------------------------------------------------------

  $all("[data-without-script]").forEach(function (el) { el.hidden = true; });
  clientSelect.addEventListener("change", updateClient);
  $all("[data-method]").forEach(function (radio) { radio.addEventListener("change", updateMethod); });
  if (recOther && Rec && !Rec.SessionRecorder.canCaptureOtherSide()) {
    recOther.closest(".check").hidden = true;
  }
  updateClient();
  updateMethod();
  notePendingUploads();
  offerRecovery();
})();
