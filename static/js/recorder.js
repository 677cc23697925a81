// Records a session in the browser with MediaRecorder, handing over a Blob every couple of
// seconds so it can be uploaded while the session goes on.
//
// With "the other side" (a shared tab or window's audio, e.g. the video call), the therapist's
// microphone goes on the left channel and the other side on the right, merged with a WebAudio
// ChannelMergerNode; otherwise the microphone is recorded as it is.
(function (global) {
  "use strict";

  var VIDEO_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm", "video/mp4"];
  var AUDIO_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];

  class RecorderError extends Error {
    constructor(message, cause) {
      super(message);
      this.name = "RecorderError";
      this.cause = cause;
    }
  }

  function pickType(candidates) {
    if (!global.MediaRecorder || typeof global.MediaRecorder.isTypeSupported !== "function") { return ""; }
    for (var i = 0; i < candidates.length; i += 1) {
      if (global.MediaRecorder.isTypeSupported(candidates[i])) { return candidates[i]; }
    }
    return "";
  }

  function stopAll(stream) {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
  }

  function explain(error, what) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "The browser was not allowed to use the " + what + ". Allow it in the address bar's site settings, then try again.";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      return "No " + what + " was found. Connect one, or choose a different option.";
    }
    if (name === "NotReadableError" || name === "AbortError") {
      return "The " + what + " is in use by another program or could not be started.";
    }
    return "The " + what + " could not be started" + (error && error.message ? ": " + error.message : ".");
  }

  class SessionRecorder {
    // options: video (camera too), otherSide (ask for a shared tab/window's audio),
    // timesliceMs (2000), onData(blob), onError(RecorderError), onOtherSideEnded().
    constructor(options) {
      this.video = Boolean(options.video);
      this.otherSide = Boolean(options.otherSide);
      this.timesliceMs = options.timesliceMs || 2000;
      this.onData = options.onData || function () {};
      this.onError = options.onError || function () {};
      this.onOtherSideEnded = options.onOtherSideEnded || function () {};
      this.mimeType = "";
      this.stereo = false;
      this.preview = null;
      this.startedAt = null;
      this._recorder = null;
      this._local = null;
      this._display = null;
      this._context = null;
      this._stopped = null;
    }

    static isSupported() {
      return Boolean(global.navigator.mediaDevices && global.navigator.mediaDevices.getUserMedia && global.MediaRecorder);
    }

    static canCaptureOtherSide() {
      return Boolean(global.navigator.mediaDevices && global.navigator.mediaDevices.getDisplayMedia && global.AudioContext);
    }

    // Call from a click: the screen-share prompt needs the user's gesture, so it is asked first.
    async start() {
      var devices = global.navigator.mediaDevices;
      if (this.otherSide) {
        this._context = new global.AudioContext();
        try {
          this._display = await devices.getDisplayMedia({
            video: true,
            audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
            systemAudio: "include",
            selfBrowserSurface: "exclude",
          });
        } catch (error) {
          this._release();
          throw new RecorderError(explain(error, "shared tab or window"), error);
        }
        if (!this._display.getAudioTracks().length) {
          this._release();
          throw new RecorderError(
            "The shared tab or window had no sound. Share the call's browser tab with \"Share tab audio\" ticked, " +
            "or untick \"Also record the other side\"."
          );
        }
      }
      try {
        this._local = await devices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
          video: this.video ? { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } } : false,
        });
      } catch (error) {
        this._release();
        throw new RecorderError(explain(error, this.video ? "camera and microphone" : "microphone"), error);
      }
      var audio = this._local.getAudioTracks();
      if (this._display) {
        audio = this._mergeStereo(audio, this._display.getAudioTracks());
        var self = this;
        this._display.getAudioTracks()[0].addEventListener("ended", function () { self.onOtherSideEnded(); });
      }
      var videoTracks = this._local.getVideoTracks();
      var stream = new global.MediaStream(videoTracks.concat(audio));
      this.preview = videoTracks.length ? new global.MediaStream(videoTracks) : null;
      this.mimeType = pickType(videoTracks.length ? VIDEO_TYPES : AUDIO_TYPES);
      var settings = { audioBitsPerSecond: this.stereo ? 128000 : 96000 };
      if (videoTracks.length) { settings.videoBitsPerSecond = 1500000; }
      if (this.mimeType) { settings.mimeType = this.mimeType; }
      try {
        this._recorder = new global.MediaRecorder(stream, settings);
      } catch (error) {
        this._release();
        throw new RecorderError("This browser cannot record here: " + error.message, error);
      }
      this.mimeType = this._recorder.mimeType || this.mimeType;
      var recorder = this;
      this._recorder.addEventListener("dataavailable", function (event) {
        if (event.data && event.data.size) { recorder.onData(event.data); }
      });
      this._recorder.addEventListener("error", function (event) {
        recorder.onError(new RecorderError("Recording stopped unexpectedly.", event.error));
      });
      this._stopped = new Promise(function (resolve) {
        recorder._recorder.addEventListener("stop", function () { resolve(); }, { once: true });
      });
      this._recorder.start(this.timesliceMs);
      this.startedAt = global.performance.now();
    }

    // Therapist's microphone left, the other side right.
    _mergeStereo(local, remote) {
      var context = this._context;
      var merger = context.createChannelMerger(2);
      // Each merger input is one channel: a stereo microphone is mixed down to mono on its way in.
      context.createMediaStreamSource(new global.MediaStream([local[0]])).connect(merger, 0, 0);
      context.createMediaStreamSource(new global.MediaStream([remote[0]])).connect(merger, 0, 1);
      var destination = context.createMediaStreamDestination();
      destination.channelCount = 2;
      destination.channelCountMode = "explicit";
      destination.channelInterpretation = "discrete";
      merger.connect(destination);
      if (context.state === "suspended") { context.resume(); }
      this.stereo = true;
      return destination.stream.getAudioTracks();
    }

    get recording() {
      return Boolean(this._recorder && this._recorder.state !== "inactive");
    }

    elapsedSeconds() {
      return this.startedAt === null ? 0 : (global.performance.now() - this.startedAt) / 1000;
    }

    // Stop; resolves after the last Blob was handed to onData.
    async stop() {
      if (this._recorder && this._recorder.state !== "inactive") {
        this._recorder.stop();
      }
      if (this._stopped) { await this._stopped; }
      this._release();
    }

    _release() {
      stopAll(this._local);
      stopAll(this._display);
      this._local = null;
      this._display = null;
      if (this._context) {
        this._context.close().catch(function () { /* already closed */ });
        this._context = null;
      }
    }
  }

  global.RevisitRecorder = { SessionRecorder: SessionRecorder, RecorderError: RecorderError };
})(window);
