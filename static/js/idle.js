// Idle sign-out with a warning. The server signs a quiet session out after the idle timeout (the
// page's data-idle-timeout, in seconds); this script keeps the page in step with it:
// - while someone is present (keys, clicks, touch, scrolling, or media playing in the player) it
//   sends an ordinary GET now and then, which resets the server's timer;
// - about a minute before the timeout it asks "Still there?", and "Stay signed in" sends that GET;
// - at the timeout it stops any media and signs out (POST with the CSRF token), so nothing private
//   stays on the screen.
// Tabs share the time of the last reset through localStorage (a timestamp only).
// Every signed-in page loads it (base.html); a page that also loads it gets one timer, not two.
(function () {
  "use strict";

  const script = document.currentScript;
  const timeoutS = parseInt(document.body.getAttribute("data-idle-timeout") || "", 10);
  if (!script || !timeoutS || timeoutS < 10) { return; }
  if (document.documentElement.hasAttribute("data-idle-watch")) { return; }
  document.documentElement.setAttribute("data-idle-watch", "");

  const keepaliveUrl = script.getAttribute("data-keepalive") || "/sessions/still-here/";
  const logoutUrl = script.getAttribute("data-logout") || "/accounts/logout/";
  const signinUrl = script.getAttribute("data-signin") || "/accounts/login/";
  const exitLink = document.querySelector("[data-quick-exit]");
  const quickExitUrl = exitLink ? exitLink.getAttribute("href") : "/quick-exit/";
  const TIMEOUT_MS = timeoutS * 1000;
  const WARN_MS = Math.min(60, Math.floor(timeoutS / 3)) * 1000;
  const PING_EVERY_MS = Math.max(10, Math.min(300, Math.floor(timeoutS / 4))) * 1000;
  const SHARED = "revisit.idle.touched";

  let touched = Date.now();   // loading this page reset the server's timer
  let present = false;        // someone did something since the last reset
  let pinging = false;
  let lastTry = 0;
  let leaving = false;
  let dialog = null;
  let countdown = null;
  let returnFocus = null;

  function readShared() {
    try { return parseInt(window.localStorage.getItem(SHARED) || "0", 10) || 0; } catch (e) { return 0; }
  }

  function writeShared(value) {
    try { window.localStorage.setItem(SHARED, String(value)); } catch (e) { /* private mode */ }
  }

  function lastTouch() { return Math.max(touched, readShared()); }

  function markPresent() {
    if (!dialog || !dialog.open) { present = true; }
  }

  function goToSignIn() {
    stopMedia();
    window.location.replace(signinUrl + "?idle=1");
  }

  function ping() {
    const now = Date.now();
    if (pinging || leaving || now - lastTry < 5000) { return; }
    pinging = true;
    lastTry = now;
    present = false;
    window.fetch(keepaliveUrl, {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
      headers: { Accept: "application/json" },
    }).then((response) => {
      if (response.status === 204) {
        touched = Date.now();
        writeShared(touched);
        closeDialog();
      } else if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        goToSignIn();  // the server has already signed this session out
      } else {
        present = true;
      }
    }).catch(() => {
      present = true;  // offline for a moment: try again on a later tick
    }).then(() => { pinging = false; });
  }

  function stopMedia() {
    document.querySelectorAll("video, audio").forEach((media) => {
      try { media.pause(); media.removeAttribute("src"); media.load(); } catch (e) { /* nothing */ }
    });
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { return meta.getAttribute("content") || ""; }
    const field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  function signOut() {
    if (leaving) { return; }
    leaving = true;
    stopMedia();
    closeDialog();
    const main = document.getElementById("main");
    if (main) { main.textContent = ""; }
    const token = csrfToken();
    if (!token) {
      window.location.reload();  // the server's idle timeout signs the session out
      return;
    }
    const form = document.createElement("form");
    form.method = "post";
    form.action = logoutUrl;
    form.hidden = true;
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "csrfmiddlewaretoken";
    input.value = token;
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
  }

  function buildDialog() {
    const box = document.createElement("dialog");
    box.className = "idle-dialog";
    box.setAttribute("aria-labelledby", "idle-title");
    box.setAttribute("aria-describedby", "idle-text");
    const title = document.createElement("h2");
    title.id = "idle-title";
    title.textContent = "Still there?";
    const text = document.createElement("p");
    text.id = "idle-text";
    text.append("Nothing has happened here for a while. To keep your sessions private, you will be signed out in ");
    countdown = document.createElement("span");
    text.append(countdown, ".");
    const actions = document.createElement("div");
    actions.className = "actions";
    const stay = document.createElement("button");
    stay.type = "button";
    stay.textContent = "Stay signed in";
    stay.autofocus = true;
    const leave = document.createElement("button");
    leave.type = "button";
    leave.className = "button-quiet";
    leave.textContent = "Sign out now";
    // The page behind a modal dialog cannot be clicked, so the dialog offers quick exit too.
    const exit = document.createElement("a");
    exit.className = "quick-exit";
    exit.href = quickExitUrl;
    exit.textContent = "Quick exit";
    exit.addEventListener("click", (event) => {
      event.preventDefault();
      leaving = true;
      stopMedia();
      document.body.textContent = "";
      window.location.replace(quickExitUrl);
    });
    actions.append(stay, leave, exit);
    box.append(title, text, actions);
    stay.addEventListener("click", () => { lastTry = 0; ping(); });
    leave.addEventListener("click", signOut);
    box.addEventListener("cancel", (event) => {
      event.preventDefault();  // Escape means "I'm here"
      lastTry = 0;
      ping();
    });
    document.body.appendChild(box);
    return box;
  }

  function describe(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return s >= 60 ? "about a minute" : s + (s === 1 ? " second" : " seconds");
  }

  function showDialog(remaining) {
    if (!dialog) { dialog = buildDialog(); }
    countdown.textContent = describe(remaining);
    if (dialog.open) { return; }
    returnFocus = document.activeElement;
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }

  function closeDialog() {
    if (!dialog || !dialog.open) { return; }
    if (dialog.close) { dialog.close(); } else { dialog.removeAttribute("open"); }
    if (returnFocus && returnFocus.focus && document.contains(returnFocus)) { returnFocus.focus(); }
    returnFocus = null;
  }

  function tick() {
    if (leaving) { return; }
    const now = Date.now();
    const last = lastTouch();
    if (present && now - last >= PING_EVERY_MS) { ping(); }
    const remaining = last + TIMEOUT_MS - now;
    if (remaining <= 0) {
      signOut();
    } else if (remaining <= WARN_MS) {
      if (present) { ping(); } else { showDialog(remaining); }
    } else {
      closeDialog();  // another tab (or a keep-alive) moved the deadline
    }
  }

  writeShared(Math.max(touched, readShared()));
  ["keydown", "pointerdown", "wheel", "touchstart", "scroll"].forEach((name) => {
    window.addEventListener(name, markPresent, { passive: true, capture: true });
  });
  document.addEventListener("revisit:activity", markPresent);
  // Watching or listening counts as being there, on any page with a player (media events do not
  // bubble, so they are caught on the way down).
  document.addEventListener("timeupdate", (event) => {
    if (event.target && !event.target.paused) { markPresent(); }
  }, true);
  window.setInterval(tick, 1000);
})();
