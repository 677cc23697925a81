// A small tus 1.0.0 client (core, creation, creation-defer-length, checksum, termination) for
// Revisit's upload endpoint. No library, no build step.
//
// Two ways to feed it:
//   - a File: its length is declared on creation and it is sent in chunks; with a fingerprint
//     and a ResumeStore, a reloaded page that is given the same file again continues from the
//     server's offset;
//   - a growing stream of Blobs (live recording): created with Upload-Defer-Length: 1, each
//     pushed Blob is sent as soon as the previous request finished; finish() declares the length.
// Network errors, 5xx, 409, 423, 429 and 460 are retried with backoff, after a HEAD that tells
// where the server is. Other 4xx answers stop the upload with the server's `detail` message.
(function (global) {
  "use strict";

  var TUS_VERSION = "1.0.0";
  var DEFAULT_CHUNK = 5 * 1024 * 1024;
  var RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  var RETRYABLE = [408, 409, 423, 429, 460];
  var STALL_MS = 30000; // no upload progress for this long while sending a body: treat as a drop
  var SPEED_WINDOW_MS = 8000;
  // Each request costs a round trip and a commit on the server; on a fast link, bigger chunks
  // keep that small, on a slow one smaller chunks keep what a dropped request loses small.
  var GROW_BELOW_MS = 2000;
  var SHRINK_ABOVE_MS = 15000;
  var MIN_CHUNK = 1024 * 1024;
  var STORE_PREFIX = "revisit.upload.";
  var STORE_MAX_AGE_MS = 24 * 3600 * 1000; // the server lets an unfinished upload expire after a day

  class UploadError extends Error {
    constructor(message, status, retryable) {
      super(message);
      this.name = "UploadError";
      this.status = status || 0;
      this.retryable = Boolean(retryable);
    }
  }

  class UploadAborted extends Error {
    constructor() {
      super("The upload was cancelled.");
      this.name = "UploadAborted";
    }
  }

  function base64Bytes(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i += 1) { text += String.fromCharCode(bytes[i]); }
    return global.btoa(text);
  }

  function encodeMetadata(metadata) {
    var encoder = new TextEncoder();
    return Object.keys(metadata)
      .filter(function (key) { return metadata[key] !== null && metadata[key] !== undefined && metadata[key] !== ""; })
      .map(function (key) { return key + " " + base64Bytes(encoder.encode(String(metadata[key]))); })
      .join(",");
  }

  function hasSubtle() {
    return Boolean(global.crypto && global.crypto.subtle && global.isSecureContext !== false);
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  // A SHA-256 of who is uploading and the file's name, size and date: the key under which the
  // upload's address is remembered. The name itself is never stored. Null without WebCrypto
  // (plain http on another host): then an upload resumes only while the page stays open.
  async function fileFingerprint(file, salt) {
    if (!hasSubtle()) { return null; }
    var text = [salt || "", file.name, file.size, file.lastModified, file.type].join("\u001f");
    var digest = await global.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return hex(digest);
  }

  // Where unfinished uploads are remembered across page loads (localStorage; ids and addresses
  // only, never names or titles).
  var ResumeStore = {
    _storage: function () {
      try { return global.localStorage; } catch (e) { return null; }
    },
    get: function (key) {
      var storage = this._storage();
      if (!storage) { return null; }
      try {
        var record = JSON.parse(storage.getItem(STORE_PREFIX + key) || "null");
        if (record && Date.now() - (record.savedAt || 0) > STORE_MAX_AGE_MS) {
          storage.removeItem(STORE_PREFIX + key);
          return null;
        }
        return record;
      } catch (e) {
        return null;
      }
    },
    put: function (key, record) {
      var storage = this._storage();
      if (!storage) { return; }
      try {
        var value = Object.assign({ savedAt: Date.now() }, record);
        storage.setItem(STORE_PREFIX + key, JSON.stringify(value));
      } catch (e) { /* storage full or disabled: resuming after a reload will not work */ }
    },
    remove: function (key) {
      var storage = this._storage();
      if (storage) { try { storage.removeItem(STORE_PREFIX + key); } catch (e) { /* ignore */ } }
    },
    // [{key, record}] for keys starting with `prefix`, dropping expired ones.
    list: function (prefix) {
      var storage = this._storage();
      var found = [];
      if (!storage) { return found; }
      for (var i = storage.length - 1; i >= 0; i -= 1) {
        var full = storage.key(i);
        if (!full || full.indexOf(STORE_PREFIX + (prefix || "")) !== 0) { continue; }
        var key = full.slice(STORE_PREFIX.length);
        var record = this.get(key);
        if (record) { found.push({ key: key, record: record }); }
      }
      return found;
    },
  };

  // One HTTP request with XMLHttpRequest (it reports upload progress; fetch does not).
  function send(method, url, headers, body, onSent, holder) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var lastActivity = Date.now();
      var sending = body !== null && body !== undefined;
      var watchdog = global.setInterval(function () {
        if (sending && Date.now() - lastActivity > STALL_MS) { xhr.abort(); }
      }, 1000);
      function settle() {
        global.clearInterval(watchdog);
        if (holder.xhr === xhr) { holder.xhr = null; }
      }
      holder.xhr = xhr;
      xhr.open(method, url, true);
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (sending) {
        xhr.upload.onprogress = function (event) {
          lastActivity = Date.now();
          if (onSent) { onSent(event.loaded); }
        };
        xhr.upload.onload = function () { sending = false; };
      }
      xhr.onload = function () {
        settle();
        resolve({
          status: xhr.status,
          header: function (name) { return xhr.getResponseHeader(name); },
          text: xhr.responseText,
        });
      };
      xhr.onerror = function () {
        settle();
        reject(new UploadError("The connection to the server was lost.", 0, true));
      };
      xhr.onabort = function () {
        settle();
        reject(new UploadError("The request was interrupted.", 0, true));
      };
      xhr.send(sending ? body : null);
    });
  }

  function problemDetail(response) {
    if (response.status === 401) {
      return "You were signed out. Sign in again, come back to this page and choose the same file: " +
        "the upload continues where it stopped.";
    }
    try {
      var problem = JSON.parse(response.text || "");
      if (problem && typeof problem.detail === "string" && problem.detail) { return problem.detail; }
    } catch (e) { /* not JSON */ }
    return "The server refused the upload (HTTP " + response.status + ").";
  }

  function errorFrom(response) {
    var status = response.status;
    var retryable = status >= 500 || RETRYABLE.indexOf(status) !== -1;
    return new UploadError(problemDetail(response), status, retryable);
  }

  // Same-origin path of the Location the server sent (it may name the public address).
  function localPath(location) {
    var parsed = new URL(location, global.location.href);
    return parsed.pathname + parsed.search;
  }

  class TusUpload {
    // options: endpoint, csrfToken, metadata {client, title, source}, and either file (a File or
    // Blob) or deferLength: true. Optional: chunkSize, maxChunkSize (a file's chunks grow towards
    // it while each request takes under GROW_BELOW_MS), checksum (default true), url (continue an
    // existing upload), fingerprint + store (+ storeRecord) for resuming after a reload,
    // maxFailures (consecutive failed attempts before pausing; Infinity for live recording),
    // onProgress({bytesSent, bytesTotal, speed, secondsLeft}), onEvent(name, detail).
    constructor(options) {
      this.endpoint = options.endpoint;
      this.csrfToken = options.csrfToken || "";
      this.metadata = options.metadata || {};
      this.chunkSize = Math.max(1, options.chunkSize || DEFAULT_CHUNK);
      this.maxChunkSize = Math.max(this.chunkSize, options.maxChunkSize || this.chunkSize);
      this.minChunkSize = Math.min(this.chunkSize, MIN_CHUNK);
      this.checksum = options.checksum !== false && hasSubtle();
      this.file = options.file || null;
      this.fingerprint = options.fingerprint || null;
      this.store = this.fingerprint ? options.store || null : null;
      this.storeRecord = options.storeRecord || {};
      this.maxFailures = options.maxFailures === undefined ? RETRY_DELAYS_MS.length + 4 : options.maxFailures;
      this.onProgress = options.onProgress || function () {};
      this.onEvent = options.onEvent || function () {};

      this.url = options.url || null;
      this.offset = 0; // confirmed by the server
      this.length = this.file ? this.file.size : null;
      this.lengthAnnounced = false;
      this.recordingId = null;
      this.state = "idle"; // idle, running, paused, done, failed, aborted
      this.bytesQueued = 0; // live mode: pushed but not yet confirmed

      this._parts = []; // live mode: Blobs from `offset` on
      this._finishing = false;
      this._needsHead = Boolean(this.url);
      this._failures = 0;
      this._generation = 0;
      this._holder = { xhr: null };
      this._wake = null;
      this._samples = [];
      var self = this;
      this.done = new Promise(function (resolve, reject) {
        self._resolve = resolve;
        self._reject = reject;
      });
      this.done.catch(function () { /* callers handle failures through their own await */ });
      this._onOnline = function () { self._wakeUp(); };
      global.addEventListener("online", this._onOnline);
    }

    // Begin (or continue a remembered upload); resolves {recordingId} when the server has it all.
    start() {
      if (this.state !== "idle") { return this.done; }
      if (!this.url && this.store) {
        var record = this.store.get(this.fingerprint);
        if (record && record.url && record.client === this.metadata.client) {
          this.url = record.url;
          this._needsHead = true;
        }
      }
      this.state = "running";
      this._run();
      return this.done;
    }

    // Live mode: queue a Blob; it is sent as soon as the requests before it are through.
    push(blob) {
      if (this.length !== null || this._finishing) { throw new Error("This upload is already finishing."); }
      if (!blob || !blob.size) { return; }
      this._parts.push(blob);
      this.bytesQueued += blob.size;
      this._wakeUp();
    }

    // Live mode: no more Blobs. Sends what is left with the final Upload-Length.
    finish() {
      this._finishing = true;
      this._settleLength();
      if (this.state === "idle") { this.start(); }
      this._wakeUp();
      return this.done;
    }

    // Once finishing, the length is what the server has plus what is queued (after a HEAD, if the
    // server's offset is not known yet, as when keeping what an interrupted recording saved).
    _settleLength() {
      if (this._finishing && this.length === null && !this._needsHead) {
        this.length = this.offset + this.bytesQueued;
      }
    }

    pause() {
      if (this.state !== "running") { return; }
      this.state = "paused";
      this._generation += 1;
      this._abortRequest();
      this._wakeUp();
      this.onEvent("paused", { offset: this.offset });
    }

    resume() {
      if (this.state !== "paused") { return; }
      this.state = "running";
      this._failures = 0;
      this._needsHead = Boolean(this.url);
      this._samples = [];
      this.onEvent("resumed", { offset: this.offset });
      this._run();
    }

    // Stop for good and ask the server to delete what it has (tus termination).
    async abort() {
      if (this.state === "done" || this.state === "aborted") { return; }
      this.state = "aborted";
      this._generation += 1;
      this._abortRequest();
      this._wakeUp();
      this._forget();
      this._cleanup();
      if (this.url) {
        for (var attempt = 0; attempt < 3; attempt += 1) {
          try {
            var response = await send("DELETE", this.url, this._headers({}), null, null, { xhr: null });
            if (response.status < 500) { break; }
          } catch (e) { /* offline: the server expires it within a day */ }
          await new Promise(function (r) { global.setTimeout(r, 1000); });
        }
      }
      this._reject(new UploadAborted());
    }

    _headers(extra) {
      var headers = { "Tus-Resumable": TUS_VERSION };
      if (this.csrfToken) { headers["X-CSRFToken"] = this.csrfToken; }
      return Object.assign(headers, extra);
    }

    _abortRequest() {
      if (this._holder.xhr) { this._holder.xhr.abort(); }
    }

    _wakeUp() {
      if (this._wake) {
        var wake = this._wake;
        this._wake = null;
        wake();
      }
    }

    _sleep(ms) {
      var self = this;
      return new Promise(function (resolve) {
        var timer = global.setTimeout(function () { self._wake = null; resolve(); }, ms);
        self._wake = function () { global.clearTimeout(timer); resolve(); };
      });
    }

    _forget() {
      if (this.store) { this.store.remove(this.fingerprint); }
    }

    _cleanup() {
      global.removeEventListener("online", this._onOnline);
    }

    async _run() {
      var generation = ++this._generation;
      var self = this;
      function current() { return self._generation === generation && self.state === "running"; }
      while (current()) {
        try {
          if (!this.url) {
            await this._create(current);
          } else if (this._needsHead) {
            await this._head(current);
          }
          if (!current()) { return; }
          this._settleLength();
          if (this._isComplete()) {
            this._succeed();
            return;
          }
          var chunk = this._nextChunk();
          if (chunk === null) {
            await this._sleep(60000); // until push(), finish(), pause() or abort()
            continue;
          }
          await this._patch(chunk, current);
          this._failures = 0;
        } catch (error) {
          if (!current()) { return; }
          if (!(error instanceof UploadError)) { error = new UploadError(String(error && error.message || error), 0, false); }
          if (!error.retryable) {
            this._fail(error);
            return;
          }
          this._failures += 1;
          this._needsHead = Boolean(this.url);
          if (this._failures > this.maxFailures) {
            this.state = "paused";
            this._generation += 1;
            this.onEvent("stalled", { message: error.message });
            return;
          }
          var delay = RETRY_DELAYS_MS[Math.min(this._failures - 1, RETRY_DELAYS_MS.length - 1)];
          if (error.status === 404 || error.status === 410) { delay = 0; }
          this.onEvent("retrying", { delayMs: delay, status: error.status, message: error.message, attempt: this._failures });
          if (delay) { await this._sleep(delay); }
        }
      }
    }

    _isComplete() {
      return this.url !== null && this.length !== null && this.lengthAnnounced && this.offset === this.length &&
        (this.file !== null || this.bytesQueued === 0);
    }

    _succeed() {
      this.state = "done";
      this._forget();
      this._cleanup();
      this._progress(this.offset, true);
      this._resolve({ recordingId: this.recordingId, url: this.url });
    }

    _fail(error) {
      this.state = "failed";
      this._cleanup();
      if (error.status === 404 || error.status === 410 || error.status === 422) { this._forget(); }
      this.onEvent("failed", { message: error.message, status: error.status });
      this._reject(error);
    }

    async _create(current) {
      var headers = this._headers({ "Upload-Metadata": encodeMetadata(this.metadata) });
      if (this.length !== null) {
        headers["Upload-Length"] = String(this.length);
      } else {
        headers["Upload-Defer-Length"] = "1";
      }
      var response = await send("POST", this.endpoint, headers, null, null, this._holder);
      if (response.status !== 201) {
        var error = errorFrom(response);
        if (response.status === 404 || response.status === 410) { error.retryable = false; }
        throw error;
      }
      var location = response.header("Location");
      if (!location) { throw new UploadError("The server did not say where to send the file.", 0, false); }
      if (!current()) { return; }
      this.url = localPath(location);
      this.offset = 0;
      this.lengthAnnounced = this.length !== null;
      this._needsHead = false;
      if (this.store) {
        this.store.put(this.fingerprint, Object.assign({ url: this.url, client: this.metadata.client }, this.storeRecord));
      }
      this.onEvent("created", { url: this.url });
    }

    async _head(current) {
      var response = await send("HEAD", this.url, this._headers({}), null, null, this._holder);
      if (!current()) { return; }
      if (response.status === 404 || response.status === 410 || response.status === 403) {
        if (this.file) {
          // The earlier upload expired or is not ours: start a new one with the whole file.
          this._forget();
          this.url = null;
          this.offset = 0;
          this._needsHead = false;
          this.onEvent("restarted", {});
          return;
        }
        throw new UploadError("The server no longer has this recording's upload; it may have expired.", response.status, false);
      }
      if (response.status !== 200) { throw errorFrom(response); }
      var offset = parseInt(response.header("Upload-Offset"), 10);
      if (!(offset >= 0)) { throw new UploadError("The server sent no Upload-Offset.", 0, true); }
      var declared = response.header("Upload-Length");
      if (declared !== null && declared !== "") {
        var serverLength = parseInt(declared, 10);
        if (this.file && serverLength !== this.file.size) {
          this._forget();
          this.url = null;
          this.offset = 0;
          this._needsHead = false;
          this.onEvent("restarted", {});
          return;
        }
        if (this.length === null || serverLength === this.length) { this.lengthAnnounced = true; }
        if (this.length === null) { this.length = serverLength; }
      }
      var before = this.offset;
      this._adopt(offset);
      this._needsHead = false;
      this._samples = [];
      if (before === 0 && offset > 0 && this.file) { this.onEvent("resuming", { offset: offset, length: this.length }); }
      this._progress(this.offset);
    }

    // Take the server's offset: drop live bytes it already has.
    _adopt(offset) {
      if (this.file) {
        this.offset = Math.min(offset, this.file.size);
        return;
      }
      if (offset < this.offset) {
        throw new UploadError("The server lost part of this recording.", 0, false);
      }
      var drop = offset - this.offset;
      while (drop > 0 && this._parts.length) {
        var first = this._parts[0];
        if (first.size <= drop) {
          drop -= first.size;
          this.bytesQueued -= first.size;
          this._parts.shift();
        } else {
          this._parts[0] = first.slice(drop);
          this.bytesQueued -= drop;
          drop = 0;
        }
      }
      this.offset = offset;
    }

    _nextChunk() {
      var declare = this.length !== null && !this.lengthAnnounced;
      if (this.file) {
        if (this.offset >= this.length && !declare) { return null; }
        var end = Math.min(this.offset + this.chunkSize, this.length);
        return { blob: this.file.slice(this.offset, end), declare: declare };
      }
      var pieces = [];
      var size = 0;
      for (var i = 0; i < this._parts.length && size < this.chunkSize; i += 1) {
        var part = this._parts[i];
        var take = Math.min(part.size, this.chunkSize - size);
        pieces.push(take === part.size ? part : part.slice(0, take));
        size += take;
      }
      if (size === 0 && !declare) { return null; }
      return { blob: new Blob(pieces), declare: declare };
    }

    async _patch(chunk, current) {
      var start = this.offset;
      var headers = this._headers({
        "Upload-Offset": String(start),
        "Content-Type": "application/offset+octet-stream",
      });
      if (chunk.declare) { headers["Upload-Length"] = String(this.length); }
      var body = chunk.blob;
      if (this.checksum && chunk.blob.size) {
        body = await chunk.blob.arrayBuffer();
        var digest = await global.crypto.subtle.digest("SHA-256", body);
        headers["Upload-Checksum"] = "sha256 " + base64Bytes(new Uint8Array(digest));
        if (!current()) { return; }
      }
      var self = this;
      var began = Date.now();
      var response = await send("PATCH", this.url, headers, body, function (sent) {
        if (current()) { self._progress(start + sent); }
      }, this._holder);
      if (!current()) { return; }
      if (response.status !== 204) {
        var error = errorFrom(response);
        if (response.status === 404 || response.status === 410) { error.retryable = true; } // HEAD decides
        throw error;
      }
      if (chunk.declare) { this.lengthAnnounced = true; }
      if (this.file && chunk.blob.size === this.chunkSize) { this._adaptChunk(Date.now() - began); }
      var recording = response.header("Revisit-Recording");
      if (recording) { this.recordingId = recording; }
      var offset = parseInt(response.header("Upload-Offset"), 10);
      if (offset >= 0) {
        this._adopt(offset);
      } else {
        this._needsHead = true;
      }
      this._progress(this.offset);
    }

    _adaptChunk(tookMs) {
      if (tookMs < GROW_BELOW_MS) {
        this.chunkSize = Math.min(this.maxChunkSize, this.chunkSize * 2);
      } else if (tookMs > SHRINK_ABOVE_MS) {
        this.chunkSize = Math.max(this.minChunkSize, Math.floor(this.chunkSize / 2));
      }
    }

    _progress(bytesSent, final) {
      var now = Date.now();
      this._samples.push({ t: now, b: bytesSent });
      while (this._samples.length > 2 && now - this._samples[0].t > SPEED_WINDOW_MS) { this._samples.shift(); }
      var first = this._samples[0];
      var elapsed = (now - first.t) / 1000;
      var speed = elapsed >= 0.25 ? Math.max(0, (bytesSent - first.b) / elapsed) : null;
      var total = this.length;
      var left = null;
      if (total !== null && speed) { left = Math.max(0, (total - bytesSent) / speed); }
      if (final) { left = 0; }
      this.onProgress({ bytesSent: bytesSent, bytesTotal: total, speed: speed, secondsLeft: left });
    }
  }

  global.RevisitTus = {
    TusUpload: TusUpload,
    UploadError: UploadError,
    UploadAborted: UploadAborted,
    ResumeStore: ResumeStore,
    fileFingerprint: fileFingerprint,
    encodeMetadata: encodeMetadata,
  };
})(window);
