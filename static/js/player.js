// The client's player: a check-in first, then video, audio-only or transcript-only review with
// chapters, the therapist's highlights, private bookmarks, progress heartbeats and a closing rating.
// Plain browser JavaScript, no framework, no build step. Text from the server is only ever set with
// textContent, never parsed as HTML.
(function () {
  "use strict";

  const root = document.querySelector("[data-player]");
  if (!root) { return; }

  const PREF = "revisit.player.";  // localStorage keys hold display choices only, never PHI
  const HEARTBEAT_MS = 10000;
  const STEP_S = 10;
  const MODES = ["video", "audio", "transcript"];

  const q = (selector) => root.querySelector(selector);
  const urls = {
    review: root.dataset.reviewUrl,
    progress: root.dataset.progressUrl,
    bookmarks: root.dataset.bookmarksUrl,
    ratings: root.dataset.ratingsUrl,
    transcript: root.dataset.transcriptUrl,
    chapters: root.dataset.chaptersUrl,
    search: root.dataset.searchUrl,
    signin: root.dataset.signinUrl || "/accounts/login/",
  };
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  const el = {
    error: q("[data-error]"),
    announce: q("[data-announce]"),
    checkin: q("[data-checkin]"),
    start: q("[data-start]"),
    startStatus: q("[data-start-status]"),
    modes: q("[data-modes]"),
    modeSlot: q("[data-mode-slot]"),
    main: q("[data-player-main]"),
    resume: q("[data-resume]"),
    resumeText: q("[data-resume-text]"),
    resumeGo: q("[data-resume-go]"),
    resumeRestart: q("[data-resume-restart]"),
    videoFrame: q("[data-video-frame]"),
    video: q("[data-video]"),
    audio: q("[data-audio]"),
    waveFrame: q("[data-wave-frame]"),
    wave: q("[data-wave]"),
    textNote: q("[data-text-note]"),
    seek: q("[data-seek]"),
    time: q("[data-time]"),
    duration: q("[data-duration]"),
    play: q("[data-play]"),
    back: q("[data-back]"),
    forward: q("[data-forward]"),
    mute: q("[data-mute]"),
    captions: q("[data-captions]"),
    fullscreen: q("[data-fullscreen]"),
    speed: q("[data-speed]"),
    transcriptPanel: q("[data-transcript-panel]"),
    segments: q("[data-segments]"),
    transcriptEmpty: q("[data-transcript-empty]"),
    follow: q("[data-follow]"),
    chaptersPanel: q("[data-chapters-panel]"),
    chapters: q("[data-chapters]"),
    searchPanel: q("[data-search-panel]"),
    searchForm: q("[data-search-form]"),
    searchInput: q("[data-search-input]"),
    searchStatus: q("[data-search-status]"),
    searchResults: q("[data-search-results]"),
    highlightsPanel: q("[data-highlights-panel]"),
    highlights: q("[data-highlights]"),
    bookmarkAdd: q("[data-bookmark-add]"),
    bookmarkForm: q("[data-bookmark-form]"),
    bookmarkAt: q("[data-bookmark-at]"),
    bookmarkNote: q("[data-bookmark-note]"),
    bookmarkBring: q("[data-bookmark-bring]"),
    bookmarkCancel: q("[data-bookmark-cancel]"),
    bookmarks: q("[data-bookmarks]"),
    bookmarksEmpty: q("[data-bookmarks-empty]"),
    finish: q("[data-finish]"),
    rating: q("[data-rating]"),
    ratingForm: q("[data-rating-form]"),
    ratingError: q("[data-rating-error]"),
    ratingSkip: q("[data-rating-skip]"),
    backToPlayer: q("[data-back-to-player]"),
    done: q("[data-done]"),
    doneHeading: q("[data-done-heading]"),
    doneBack: q("[data-done-back]"),
  };

  const state = {
    review: null,
    duration: 0,
    mode: "audio",
    active: null,           // the <video> or <audio> element in use
    started: false,
    pendingSeek: null,
    segments: [],           // [{start, end, node}]
    currentSegment: -1,
    follow: true,
    chapters: [],
    currentChapter: -1,
    peaks: null,
    peaksPerSecond: 10,
    captionsOn: false,
    bookmarks: [],
    bookmarkTime: 0,
    span: null,             // the played range still growing: [start, last time seen]
    unsent: [],             // closed played ranges not yet reported
    lastSentPosition: -1,
    heartbeat: null,
    seekDragging: false,
    lastActivity: 0,
  };

  // --- small helpers ------------------------------------------------------------------------

  function pref(name, fallback) {
    try {
      const value = window.localStorage.getItem(PREF + name);
      return value === null ? fallback : value;
    } catch (e) { return fallback; }
  }

  function setPref(name, value) {
    try { window.localStorage.setItem(PREF + name, String(value)); } catch (e) { /* private mode */ }
  }

  function clock(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  function spoken(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const m = Math.floor(total / 60);
    const s = total % 60;
    const parts = [];
    if (m) { parts.push(m + (m === 1 ? " minute" : " minutes")); }
    parts.push(s + (s === 1 ? " second" : " seconds"));
    return parts.join(" ");
  }

  function announce(text) {
    // Clear first so the same words are announced again when repeated.
    el.announce.textContent = "";
    window.setTimeout(() => { el.announce.textContent = text; }, 30);
  }

  function showError(text) {
    el.error.textContent = text;
    el.error.hidden = !text;
  }

  function sameOrigin(url) {
    // Media URLs come from the API as absolute addresses; play them from this origin only.
    const parsed = new URL(url, window.location.href);
    return parsed.pathname + parsed.search;
  }

  function clearMedia() {
    [el.video, el.audio].forEach((media) => {
      try { media.pause(); media.removeAttribute("src"); media.load(); } catch (e) { /* nothing */ }
    });
  }

  function signedOut() {
    clearMedia();
    window.location.replace(urls.signin + "?idle=1");
  }

  async function api(method, url, body, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    if (method !== "GET") { headers["X-CSRFToken"] = csrf; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (opts.background) { headers["X-Revisit-Background"] = "1"; }
    const response = await window.fetch(url, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      cache: "no-store",
      keepalive: Boolean(opts.keepalive),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      signedOut();
      throw new Error("signed out");
    }
    return response;
  }

  async function json(method, url, body, options) {
    const response = await api(method, url, body, options);
    if (!response.ok) {
      const error = new Error("HTTP " + response.status);
      error.status = response.status;
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  function isTyping(target) {
    if (!target || !target.closest) { return false; }
    if (target.isContentEditable) { return true; }
    return Boolean(target.closest("input, textarea, select, [contenteditable]"));
  }

  function noteActivity() {
    // idle.js listens for this: watching or listening counts as being present.
    const now = Date.now();
    if (now - state.lastActivity > 5000) {
      state.lastActivity = now;
      document.dispatchEvent(new CustomEvent("revisit:activity"));
    }
  }

  // --- position and seeking -----------------------------------------------------------------

  function position() {
    if (state.pendingSeek !== null) { return state.pendingSeek; }
    return state.active ? state.active.currentTime || 0 : 0;
  }

  function clamp(t) {
    const end = state.duration || (state.active && state.active.duration) || 0;
    return Math.max(0, end ? Math.min(t, end) : t);
  }

  function seekTo(t, say) {
    const target = clamp(t);
    closeSpan();
    const media = state.active;
    if (media && media.readyState >= 1) {
      media.currentTime = target;
      state.pendingSeek = null;
    } else {
      state.pendingSeek = target;
      if (media) { ensureSource(media); }
    }
    render(target);
    if (say) { announce("Moved to " + clock(target)); }
  }

  function skip(delta) {
    seekTo(position() + delta, false);
    announce((delta < 0 ? "Back " : "Forward ") + Math.abs(delta) + " seconds, at " + clock(position()));
  }

  // --- media elements and modes -------------------------------------------------------------

  function mediaUrl(kind) {
    const media = state.review && state.review.media;
    return media && media[kind] ? sameOrigin(media[kind]) : "";
  }

  function ensureSource(media) {
    if (media.getAttribute("src")) { return; }
    if (media === el.video) {
      const poster = mediaUrl("poster");
      if (poster) { media.poster = poster; }
      const captions = mediaUrl("captions");
      if (captions && !media.querySelector("track")) {
        const track = document.createElement("track");
        track.kind = "captions";
        track.label = "Captions";
        track.srclang = (state.transcriptLanguage || "en");
        track.src = captions;
        media.appendChild(track);
      }
      media.src = mediaUrl("video");
      applyCaptions();
    } else {
      media.src = mediaUrl("audio");
    }
    media.preload = "metadata";
    media.playbackRate = Number(el.speed.value) || 1;
    media.muted = el.mute.getAttribute("aria-pressed") === "true";
  }

  function available(mode) {
    if (!state.review) { return false; }
    const media = state.review.media || {};
    if (mode === "video") { return Boolean(media.video); }
    if (mode === "audio") { return Boolean(media.audio); }
    return Boolean(state.review.has_transcript);
  }

  function modeInputs() {
    return Array.prototype.slice.call(root.querySelectorAll("[data-mode]"));
  }

  function setMode(mode, options) {
    const opts = options || {};
    if (!available(mode)) { mode = MODES.find(available) || "audio"; }
    const previous = state.active;
    const wasPlaying = Boolean(previous && !previous.paused);
    const at = position();
    const next = mode === "video" ? el.video : el.audio;
    state.mode = mode;
    setPref("mode", mode);
    modeInputs().forEach((input) => { input.checked = input.value === mode; });
    if (!state.started) { return; }

    if (previous && previous !== next) {
      previous.pause();
      closeSpan();
      if (!wasPlaying || mode === "transcript") { stopHeartbeat(); }
      sendProgress(false);
    }
    state.active = next;
    el.videoFrame.hidden = mode !== "video";
    el.waveFrame.hidden = mode !== "audio" || !state.peaks;
    el.textNote.hidden = mode !== "transcript";
    el.captions.hidden = mode !== "video" || !mediaUrl("captions");
    el.fullscreen.hidden = mode !== "video" || !el.video.requestFullscreen;
    root.classList.toggle("mode-transcript", mode === "transcript");
    el.transcriptPanel.hidden = !state.review.has_transcript && mode !== "transcript";

    if (mode === "transcript" && wasPlaying) {
      next.pause();
    }
    if (previous !== next) {
      ensureSource(next);
      seekTo(at, false);
      if (wasPlaying && mode !== "transcript") { play(); }
    }
    if (mode === "audio") { drawWave(); }
    updatePlayButton();
    if (opts.say) {
      const words = {
        video: "Video.",
        audio: "Audio only. The picture is hidden.",
        transcript: "Transcript only. Nothing plays unless you press Play.",
      };
      announce(words[mode]);
    }
  }

  function play() {
    const media = state.active;
    if (!media) { return; }
    ensureSource(media);
    const attempt = media.play();
    if (attempt && attempt.catch) {
      attempt.catch((error) => {
        if (error && error.name === "NotAllowedError") { return; }  // needs a press first
        showError("This recording could not start. Please try again in a moment.");
      });
    }
  }

  function togglePlay() {
    const media = state.active;
    if (!media) { return; }
    if (media.paused) { play(); } else { media.pause(); }
  }

  function updatePlayButton() {
    const playing = Boolean(state.active && !state.active.paused);
    el.play.textContent = playing ? "Pause" : "Play";
  }

  function toggleMute() {
    const muted = el.mute.getAttribute("aria-pressed") !== "true";
    el.mute.setAttribute("aria-pressed", String(muted));
    el.mute.textContent = muted ? "Unmute" : "Mute";
    el.video.muted = muted;
    el.audio.muted = muted;
    announce(muted ? "Sound off" : "Sound on");
  }

  function applyCaptions() {
    const tracks = el.video.textTracks;
    for (let i = 0; i < tracks.length; i += 1) {
      tracks[i].mode = state.captionsOn ? "showing" : "hidden";
    }
    el.captions.setAttribute("aria-pressed", String(state.captionsOn));
    el.captions.textContent = state.captionsOn ? "Captions on" : "Captions off";
  }

  function toggleCaptions() {
    state.captionsOn = !state.captionsOn;
    setPref("captions", state.captionsOn ? "on" : "off");
    applyCaptions();
    const where = state.mode === "video" ? "" : " (shown in video mode)";
    announce((state.captionsOn ? "Captions on" : "Captions off") + where);
  }

  function setSpeed(value) {
    const rate = Number(value);
    if (![0.75, 1, 1.25, 1.5].includes(rate)) { return; }
    el.speed.value = String(rate);
    el.video.playbackRate = rate;
    el.audio.playbackRate = rate;
    setPref("speed", rate);
  }

  // --- what the page shows for a position ---------------------------------------------------

  function render(t) {
    el.time.textContent = clock(t);
    if (!state.seekDragging) { el.seek.value = String(Math.floor(t)); }
    const text = clock(t) + " of " + clock(state.duration);
    el.seek.setAttribute("aria-valuetext", text);
    el.wave.setAttribute("aria-valuenow", String(Math.floor(t)));
    el.wave.setAttribute("aria-valuetext", text);
    markSegment(t);
    markChapter(t);
    if (state.mode === "audio") { drawWave(); }
  }

  function setDuration(seconds) {
    if (!seconds || !isFinite(seconds)) { return; }
    state.duration = seconds;
    el.duration.textContent = clock(seconds);
    el.seek.max = String(Math.ceil(seconds));
    el.wave.setAttribute("aria-valuemax", String(Math.ceil(seconds)));
  }

  function indexAt(items, t) {
    // The last item whose start is at or before t (items are sorted by start).
    let lo = 0;
    let hi = items.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid].start <= t + 0.05) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function markSegment(t) {
    const index = indexAt(state.segments, t);
    if (index === state.currentSegment) { return; }
    const old = state.segments[state.currentSegment];
    if (old) { old.node.classList.remove("is-current"); old.button.removeAttribute("aria-current"); }
    state.currentSegment = index;
    const now = state.segments[index];
    if (!now) { return; }
    now.node.classList.add("is-current");
    now.button.setAttribute("aria-current", "true");
    if (state.follow) { scrollToSegment(now.node); }
  }

  function scrollToSegment(node) {
    const box = el.segments;
    const top = node.offsetTop - box.offsetTop - box.clientHeight / 3;
    box.scrollTop = Math.max(0, top);
  }

  function stopFollowing() {
    if (!state.follow) { return; }
    state.follow = false;
    el.follow.hidden = false;
  }

  function markChapter(t) {
    const index = indexAt(state.chapters, t);
    if (index === state.currentChapter) { return; }
    const old = state.chapters[state.currentChapter];
    if (old) { old.button.removeAttribute("aria-current"); }
    state.currentChapter = index;
    const now = state.chapters[index];
    if (now) { now.button.setAttribute("aria-current", "true"); }
  }

  // --- played ranges and heartbeats ---------------------------------------------------------

  function trackPlayed(t) {
    const media = state.active;
    if (!media || media.paused || media.seeking) { return; }
    const span = state.span;
    if (span && t >= span[1] && t - span[1] <= 3) {
      span[1] = t;
    } else {
      closeSpan();
      state.span = [t, t];
    }
  }

  function closeSpan() {
    const span = state.span;
    if (span && span[1] - span[0] >= 0.2) { state.unsent.push([span[0], span[1]]); }
    state.span = null;
  }

  function takePlayed() {
    // Each second is reported once: the server counts a second reported twice as a replay.
    const played = state.unsent.splice(0, state.unsent.length);
    const span = state.span;
    if (span && span[1] - span[0] >= 0.2) {
      played.push([span[0], span[1]]);
      state.span = [span[1], span[1]];
    }
    return played.slice(-200).map((s) => [Math.round(s[0] * 10) / 10, Math.round(s[1] * 10) / 10]);
  }

  async function sendProgress(leaving) {
    if (!state.started || !urls.progress) { return; }
    const played = takePlayed();
    const at = Math.round(position() * 10) / 10;
    if (!played.length && Math.abs(at - state.lastSentPosition) < 0.5) { return; }
    try {
      await json("POST", urls.progress, { position: at, played: played },
        { background: true, keepalive: Boolean(leaving) });
      state.lastSentPosition = at;
    } catch (e) {
      if (!leaving) { state.unsent = played.concat(state.unsent).slice(0, 200); }
    }
  }

  function startHeartbeat() {
    if (state.heartbeat) { return; }
    state.heartbeat = window.setInterval(() => { sendProgress(false); }, HEARTBEAT_MS);
  }

  function stopHeartbeat() {
    if (state.heartbeat) { window.clearInterval(state.heartbeat); }
    state.heartbeat = null;
  }

  // --- media events -------------------------------------------------------------------------

  function bindMedia(media) {
    media.addEventListener("loadedmetadata", () => {
      if (media !== state.active) { return; }
      setDuration(state.duration || media.duration);
      if (state.pendingSeek !== null) {
        media.currentTime = state.pendingSeek;
        state.pendingSeek = null;
      }
    });
    media.addEventListener("timeupdate", () => {
      if (media !== state.active) { return; }
      const t = media.currentTime;
      trackPlayed(t);
      render(t);
      if (!media.paused) { noteActivity(); }
    });
    media.addEventListener("play", () => {
      if (media !== state.active) { media.pause(); return; }
      el.resume.hidden = true;
      updatePlayButton();
      startHeartbeat();
      announce("Playing");
    });
    media.addEventListener("pause", () => {
      if (media !== state.active) { return; }
      const span = state.span;
      if (span && media.currentTime >= span[1] && media.currentTime - span[1] <= 1) {
        span[1] = media.currentTime;  // the last moment before the pause
      }
      closeSpan();
      updatePlayButton();
      stopHeartbeat();
      sendProgress(false);
      if (!media.ended) { announce("Paused at " + clock(media.currentTime)); }
    });
    media.addEventListener("seeking", () => { if (media === state.active) { closeSpan(); } });
    media.addEventListener("ended", () => {
      if (media !== state.active) { return; }
      closeSpan();
      stopHeartbeat();
      sendProgress(false);
      showRating("You reached the end of the session.");
    });
    media.addEventListener("error", () => {
      if (media !== state.active || !media.getAttribute("src")) { return; }
      showError("This recording could not be loaded. It may no longer be shared, or the connection dropped. Reload the page to try again.");
    });
  }

  // --- the waveform -------------------------------------------------------------------------

  function drawWave() {
    const canvas = el.wave;
    if (!state.peaks || el.waveFrame.hidden) { return; }
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) { return; }
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const styles = window.getComputedStyle(canvas);
    const played = styles.getPropertyValue("--wave-played").trim() || "#2f5d62";
    const rest = styles.getPropertyValue("--wave-rest").trim() || "#8a8f98";
    const cursor = styles.getPropertyValue("--wave-cursor").trim() || "#b45309";
    const peaks = state.peaks;
    const duration = state.duration || peaks.length / state.peaksPerSecond;
    const bar = 3;
    const gap = 1;
    const bars = Math.max(1, Math.floor(width / (bar + gap)));
    const per = peaks.length / bars;
    const now = position();
    const middle = height / 2;
    for (let i = 0; i < bars; i += 1) {
      let peak = 0;
      const from = Math.floor(i * per);
      const to = Math.max(from + 1, Math.floor((i + 1) * per));
      for (let j = from; j < to && j < peaks.length; j += 1) { peak = Math.max(peak, peaks[j]); }
      const h = Math.max(2, peak * (height - 4));
      const x = i * (bar + gap);
      ctx.fillStyle = (x / width) * duration <= now ? played : rest;
      ctx.fillRect(x, middle - h / 2, bar, h);
    }
    if (duration) {
      const x = Math.min(width - 2, (now / duration) * width);
      ctx.fillStyle = cursor;
      ctx.fillRect(x, 0, 2, height);
    }
  }

  async function loadWave() {
    const url = mediaUrl("waveform");
    if (!url) { return; }
    try {
      const data = await json("GET", url);
      if (!data || !Array.isArray(data.peaks)) { return; }
      state.peaks = data.peaks.map((p) => Math.max(0, Math.min(1, Number(p) || 0)));
      state.peaksPerSecond = Number(data.peaks_per_second) || 10;
      el.waveFrame.hidden = state.mode !== "audio";
      drawWave();
    } catch (e) { /* the waveform is a nicety: audio mode works without it */ }
  }

  function waveSeek(event) {
    const rect = el.wave.getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width));
    seekTo(fraction * (state.duration || 0), true);
  }

  // --- transcript ---------------------------------------------------------------------------

  const SPEAKERS = { therapist: "Therapist", client: "You" };

  async function loadTranscript() {
    if (!state.review.has_transcript) {
      el.transcriptPanel.hidden = state.mode !== "transcript";
      el.transcriptEmpty.hidden = false;
      return;
    }
    el.transcriptPanel.hidden = false;
    try {
      const data = await json("GET", urls.transcript);
      state.transcriptLanguage = data.language;
      renderTranscript(data.segments || []);
    } catch (e) {
      if (e.message === "signed out") { return; }
      el.transcriptEmpty.textContent = "The transcript could not be loaded just now.";
      el.transcriptEmpty.hidden = false;
    }
  }

  function renderTranscript(segments) {
    el.segments.textContent = "";
    state.segments = [];
    state.currentSegment = -1;
    segments.forEach((segment) => {
      const item = document.createElement("li");
      item.className = "segment";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "segment-button";
      button.dataset.start = String(segment.start);
      const time = document.createElement("span");
      time.className = "segment-time";
      time.textContent = clock(segment.start);
      button.appendChild(time);
      if (segment.speaker) {
        const who = document.createElement("span");
        who.className = "segment-speaker";
        who.textContent = SPEAKERS[segment.speaker] || segment.speaker;
        button.appendChild(who);
      }
      const text = document.createElement("span");
      text.className = "segment-text";
      text.textContent = segment.text;
      button.appendChild(text);
      item.appendChild(button);
      el.segments.appendChild(item);
      state.segments.push({ start: Number(segment.start), end: Number(segment.end), node: item, button: button });
    });
    el.transcriptEmpty.hidden = segments.length > 0;
    markSegment(position());
  }

  // --- chapters and highlights --------------------------------------------------------------

  function jumpButton(at, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "jump";
    button.dataset.at = String(at);
    const time = document.createElement("span");
    time.className = "jump-time";
    time.textContent = clock(at);
    const text = document.createElement("span");
    text.className = "jump-text";
    text.textContent = label;
    button.appendChild(time);
    button.appendChild(text);
    return button;
  }

  async function loadChapters() {
    if (!state.review.has_chapters) { return; }
    try {
      const chapters = await json("GET", urls.chapters);
      if (!Array.isArray(chapters) || !chapters.length) { return; }
      el.chapters.textContent = "";
      state.chapters = chapters.map((chapter) => {
        const item = document.createElement("li");
        const button = jumpButton(Number(chapter.start), chapter.title);
        item.appendChild(button);
        el.chapters.appendChild(item);
        return { start: Number(chapter.start), button: button };
      });
      el.chaptersPanel.hidden = false;
      markChapter(position());
    } catch (e) { /* chapters may not exist yet (404): the list stays hidden */ }
  }

  function renderHighlights() {
    const highlights = state.review.highlights || [];
    el.highlights.textContent = "";
    highlights.forEach((highlight) => {
      const item = document.createElement("li");
      item.appendChild(jumpButton(Number(highlight.at), highlight.note || "A moment to revisit"));
      el.highlights.appendChild(item);
    });
    el.highlightsPanel.hidden = highlights.length === 0;
  }

  // --- search -------------------------------------------------------------------------------

  async function search(event) {
    event.preventDefault();
    const words = el.searchInput.value.trim();
    el.searchResults.textContent = "";
    el.searchResults.hidden = true;
    if (!words) {
      el.searchStatus.textContent = "Type a word or a few words to look for.";
      el.searchInput.focus();
      return;
    }
    el.searchStatus.textContent = "Searching…";
    const glue = urls.search.indexOf("?") === -1 ? "?" : "&";
    try {
      const hits = await json("GET", urls.search + glue + "q=" + encodeURIComponent(words));
      (hits || []).forEach((hit) => {
        const item = document.createElement("li");
        item.appendChild(jumpButton(Number(hit.start), hit.text));
        el.searchResults.appendChild(item);
      });
      const n = (hits || []).length;
      el.searchResults.hidden = n === 0;
      el.searchStatus.textContent = n === 0 ? "Nothing found. Try other words."
        : (n === 1 ? "1 place found" : n + " places found") + ", most likely first. Select one to move there.";
    } catch (e) {
      if (e.message !== "signed out") { el.searchStatus.textContent = "Search is not available just now. Please try again."; }
    }
  }

  // --- bookmarks ----------------------------------------------------------------------------

  function openBookmarkForm() {
    if (!state.started) { return; }
    if (state.active) { state.active.pause(); }
    state.bookmarkTime = Math.round(position() * 10) / 10;
    el.bookmarkAt.textContent = clock(state.bookmarkTime);
    el.bookmarkNote.value = "";
    el.bookmarkBring.checked = false;
    el.bookmarkForm.hidden = false;
    el.bookmarkNote.focus();
  }

  function closeBookmarkForm() {
    el.bookmarkForm.hidden = true;
    el.bookmarkAdd.focus();
  }

  async function saveBookmark(event) {
    event.preventDefault();
    const body = {
      at: state.bookmarkTime,
      note: el.bookmarkNote.value,
      bring_to_session: el.bookmarkBring.checked,
    };
    try {
      const bookmark = await json("POST", urls.bookmarks, body);
      state.bookmarks.push(bookmark);
      state.bookmarks.sort((a, b) => a.at - b.at);
      renderBookmarks();
      closeBookmarkForm();
      announce("Bookmark saved at " + clock(bookmark.at));
    } catch (e) {
      if (e.message !== "signed out") { announce("The bookmark could not be saved. Please try again."); showError("The bookmark could not be saved. Please try again."); }
    }
  }

  function renderBookmarks() {
    el.bookmarks.textContent = "";
    state.bookmarks.forEach((bookmark) => { el.bookmarks.appendChild(bookmarkItem(bookmark)); });
    el.bookmarksEmpty.hidden = state.bookmarks.length > 0;
  }

  function bookmarkItem(bookmark) {
    const item = document.createElement("li");
    item.className = "bookmark";
    item.dataset.bookmark = bookmark.id;

    const jump = jumpButton(bookmark.at, bookmark.note || "(no note)");
    jump.classList.add("bookmark-jump");
    item.appendChild(jump);

    const bringId = "bring-" + bookmark.id;
    const check = document.createElement("div");
    check.className = "check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = bringId;
    box.checked = Boolean(bookmark.bring_to_session);
    const boxLabel = document.createElement("label");
    boxLabel.htmlFor = bringId;
    boxLabel.textContent = "Bring to my next session";
    check.appendChild(box);
    check.appendChild(boxLabel);
    item.appendChild(check);
    box.addEventListener("change", async () => {
      try {
        const updated = await json("PATCH", urls.bookmarks + "/" + bookmark.id, { bring_to_session: box.checked });
        bookmark.bring_to_session = updated.bring_to_session;
        announce(box.checked ? "Your therapist will see this bookmark." : "This bookmark is private again.");
      } catch (e) {
        box.checked = !box.checked;
        announce("That change could not be saved.");
      }
    });

    const actions = document.createElement("div");
    actions.className = "actions";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "button-quiet button-small";
    edit.textContent = "Edit note";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button-quiet button-small";
    remove.textContent = "Delete";
    actions.appendChild(edit);
    actions.appendChild(remove);
    item.appendChild(actions);

    edit.addEventListener("click", () => { editBookmark(item, bookmark, edit); });
    remove.addEventListener("click", async () => {
      try {
        await json("DELETE", urls.bookmarks + "/" + bookmark.id);
        state.bookmarks = state.bookmarks.filter((b) => b.id !== bookmark.id);
        renderBookmarks();
        el.bookmarkAdd.focus();
        announce("Bookmark deleted");
      } catch (e) { announce("The bookmark could not be deleted."); }
    });
    return item;
  }

  function editBookmark(item, bookmark, editButton) {
    if (item.querySelector("form")) { return; }
    const form = document.createElement("form");
    form.className = "bookmark-edit";
    const areaId = "edit-" + bookmark.id;
    const label = document.createElement("label");
    label.htmlFor = areaId;
    label.textContent = "Note at " + clock(bookmark.at);
    const area = document.createElement("textarea");
    area.id = areaId;
    area.rows = 3;
    area.maxLength = 2000;
    area.value = bookmark.note;
    const actions = document.createElement("div");
    actions.className = "actions";
    const save = document.createElement("button");
    save.type = "submit";
    save.textContent = "Save note";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button-quiet";
    cancel.textContent = "Cancel";
    actions.appendChild(save);
    actions.appendChild(cancel);
    form.appendChild(label);
    form.appendChild(area);
    form.appendChild(actions);
    item.appendChild(form);
    area.focus();
    cancel.addEventListener("click", () => { form.remove(); editButton.focus(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const updated = await json("PATCH", urls.bookmarks + "/" + bookmark.id, { note: area.value });
        bookmark.note = updated.note;
        renderBookmarks();
        const again = el.bookmarks.querySelector('[data-bookmark="' + bookmark.id + '"] .bookmark-jump');
        if (again) { again.focus(); }
        announce("Note saved");
      } catch (e) { announce("The note could not be saved."); }
    });
  }

  // --- resume, finish and rating ------------------------------------------------------------

  function offerResume(at) {
    if (!(at >= 5) || (state.duration && at > state.duration - 5)) {
      el.play.focus();
      return;
    }
    el.resumeText.textContent = "Last time you stopped at " + clock(at) + ".";
    el.resumeGo.textContent = "Resume at " + clock(at);
    el.resume.hidden = false;
    el.resumeGo.focus();
    el.resumeGo.addEventListener("click", () => {
      el.resume.hidden = true;
      seekTo(at, false);
      if (state.mode !== "transcript") { play(); }
      el.play.focus();
    }, { once: true });
    el.resumeRestart.addEventListener("click", () => {
      el.resume.hidden = true;
      seekTo(0, false);
      if (state.mode !== "transcript") { play(); }
      el.play.focus();
    }, { once: true });
    seekTo(at, false);
  }

  function showRating(reason) {
    if (state.active) { state.active.pause(); }
    stopHeartbeat();
    sendProgress(false);
    el.main.hidden = true;
    el.done.hidden = true;
    el.rating.hidden = false;
    el.ratingError.hidden = true;
    el.rating.focus();
    announce(reason);
  }

  function backToPlayer() {
    el.rating.hidden = true;
    el.done.hidden = true;
    el.main.hidden = false;
    if (state.mode === "audio") { drawWave(); }
    el.play.focus();
  }

  function finishRating(heading) {
    el.rating.hidden = true;
    el.doneHeading.textContent = heading;
    el.done.hidden = false;
    el.done.focus();
  }

  async function sendRating(event) {
    event.preventDefault();
    const form = el.ratingForm;
    const helpfulness = form.querySelector('input[name="helpfulness"]:checked');
    const harm = form.querySelector('input[name="harm"]:checked');
    if (!helpfulness || !harm) {
      el.ratingError.textContent = "Please choose a number for both questions, or press Skip.";
      el.ratingError.hidden = false;
      (helpfulness ? form.querySelector('input[name="harm"]') : form.querySelector('input[name="helpfulness"]')).focus();
      return;
    }
    el.ratingError.hidden = true;
    try {
      await json("POST", urls.ratings, {
        helpfulness: Number(helpfulness.value),
        harm: Number(harm.value),
        comment: form.elements.comment.value,
      });
      form.reset();
      finishRating("Thank you. Your answers are saved.");
    } catch (e) {
      if (e.message === "signed out") { return; }
      el.ratingError.textContent = "Your answers could not be saved. Please try again, or press Skip.";
      el.ratingError.hidden = false;
    }
  }

  // --- keyboard -----------------------------------------------------------------------------

  function onKey(event) {
    if (!state.started || el.main.hidden) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    const target = event.target;
    if (isTyping(target)) { return; }
    if (target.closest && target.closest("dialog")) { return; }
    const onControl = target.closest && target.closest("button, a, summary, [role='slider']");
    const key = event.key;
    let handled = true;
    if (key === " " || key === "Spacebar") {
      if (onControl) { return; }  // Space presses the focused button
      togglePlay();
    } else if (key === "k" || key === "K") {
      togglePlay();
    } else if (key === "j" || key === "J" || key === "ArrowLeft") {
      skip(-STEP_S);
    } else if (key === "l" || key === "L" || key === "ArrowRight") {
      skip(STEP_S);
    } else if (key === "m" || key === "M") {
      toggleMute();
    } else if (key === "c" || key === "C") {
      toggleCaptions();
    } else if (key === "b" || key === "B") {
      openBookmarkForm();
    } else {
      handled = false;
    }
    if (handled) { event.preventDefault(); }
  }

  // --- start-up -----------------------------------------------------------------------------

  async function load() {
    try {
      state.review = await json("GET", urls.review);
    } catch (e) {
      if (e.message === "signed out") { return; }
      el.startStatus.textContent = "This session could not be loaded. Please reload the page, or come back later.";
      return;
    }
    setDuration(state.review.duration || 0);
    state.bookmarks = (state.review.bookmarks || []).slice().sort((a, b) => a.at - b.at);
    modeInputs().forEach((input) => {
      if (!available(input.value)) {
        input.disabled = true;
        input.closest("label").classList.add("is-unavailable");
      }
    });
    const wanted = pref("mode", "");
    setMode(MODES.includes(wanted) && available(wanted) ? wanted : (MODES.find(available) || "audio"));
    state.captionsOn = pref("captions", "off") === "on";
    setSpeed(pref("speed", "1"));
    el.start.disabled = false;
    el.startStatus.textContent = "Ready when you are.";
  }

  function start() {
    if (state.started || !state.review) { return; }
    state.started = true;
    el.modeSlot.appendChild(el.modes);
    el.checkin.hidden = true;
    el.main.hidden = false;
    renderHighlights();
    renderBookmarks();
    el.searchPanel.hidden = !state.review.has_transcript || !urls.search;
    setMode(state.mode);
    loadTranscript();
    loadChapters();
    loadWave();
    offerResume(Number(state.review.position) || 0);
  }

  function bind() {
    bindMedia(el.video);
    bindMedia(el.audio);
    el.start.addEventListener("click", start);
    modeInputs().forEach((input) => {
      input.addEventListener("change", () => { if (input.checked) { setMode(input.value, { say: true }); } });
    });
    el.play.addEventListener("click", togglePlay);
    el.back.addEventListener("click", () => { skip(-STEP_S); });
    el.forward.addEventListener("click", () => { skip(STEP_S); });
    el.mute.addEventListener("click", toggleMute);
    el.captions.addEventListener("click", toggleCaptions);
    el.fullscreen.addEventListener("click", () => {
      if (el.video.requestFullscreen) { el.video.requestFullscreen().catch(() => {}); }
    });
    el.speed.addEventListener("change", () => { setSpeed(el.speed.value); announce("Speed " + el.speed.value + " times"); });

    el.seek.addEventListener("input", () => {
      state.seekDragging = true;
      el.time.textContent = clock(Number(el.seek.value));
    });
    el.seek.addEventListener("change", () => {
      state.seekDragging = false;
      seekTo(Number(el.seek.value), true);
    });

    el.wave.addEventListener("click", waveSeek);
    el.wave.addEventListener("keydown", (event) => {
      if (event.key === "Home") { seekTo(0, true); event.preventDefault(); }
      if (event.key === "End") { seekTo(state.duration, true); event.preventDefault(); }
    });
    if (window.ResizeObserver) { new ResizeObserver(drawWave).observe(el.wave); }

    el.segments.addEventListener("click", (event) => {
      const button = event.target.closest(".segment-button");
      if (!button) { return; }
      seekTo(Number(button.dataset.start), true);
      state.follow = true;
      el.follow.hidden = true;
    });
    ["wheel", "touchmove", "pointerdown", "focusin"].forEach((name) => {
      el.segments.addEventListener(name, stopFollowing, { passive: true });
    });
    el.segments.addEventListener("keydown", (event) => {
      if (["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"].includes(event.key)) { stopFollowing(); }
    });
    el.follow.addEventListener("click", () => {
      state.follow = true;
      el.follow.hidden = true;
      const now = state.segments[state.currentSegment];
      if (now) { scrollToSegment(now.node); }
      announce("Following along");
    });

    [el.chapters, el.highlights, el.bookmarks, el.searchResults].forEach((list) => {
      list.addEventListener("click", (event) => {
        const button = event.target.closest(".jump");
        if (button) { seekTo(Number(button.dataset.at), true); }
      });
    });

    el.searchForm.addEventListener("submit", search);
    el.bookmarkAdd.addEventListener("click", openBookmarkForm);
    el.bookmarkCancel.addEventListener("click", closeBookmarkForm);
    el.bookmarkForm.addEventListener("submit", saveBookmark);

    el.finish.addEventListener("click", () => { showRating("Finished. Two optional questions follow."); });
    el.ratingForm.addEventListener("submit", sendRating);
    el.ratingSkip.addEventListener("click", () => { el.ratingForm.reset(); finishRating("Thank you"); });
    el.backToPlayer.addEventListener("click", backToPlayer);
    el.doneBack.addEventListener("click", backToPlayer);

    document.addEventListener("keydown", onKey);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") { sendProgress(true); }
    });
    window.addEventListener("pagehide", () => { sendProgress(true); });
    window.addEventListener("pageshow", (event) => {
      // Never show a stale copy of this page from the back/forward cache.
      if (event.persisted) { window.location.reload(); }
    });
  }

  bind();
  load();
})();
