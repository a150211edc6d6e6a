/* Fedora Hubs live client: swaps newer widget fragments into a pre-rendered hub page as the
   events shim announces them, polling versions.json while events are unavailable.
   The page is complete without it; nothing here is global. */
(() => {
  "use strict";

  const main = document.querySelector("main[data-hub]");
  if (!main) return;

  const hub = main.dataset.hub;
  const eventsUrl = main.dataset.events;
  const pollMs = (Number(main.dataset.pollSeconds) || 15) * 1000;
  const RETRY_FIRST_MS = Math.max(pollMs * 2, 10_000);
  const RETRY_MAX_MS = 60_000;
  const RETRY_MISSING_MS = 5 * 60_000;  // events this page never had: the site may have none
  const STALE_AFTER_MS = 3 * 60_000;
  const HIGHLIGHT_MS = 2_000;
  const FOCUSABLE = "a[href], area[href], button, input, select, textarea, summary, iframe, "
    + "[tabindex], [contenteditable]";
  const BADGE_TEXT = {
    live: ["Live", "Widgets update as things happen."],
    "catching-up": ["Catching up", "Reconnecting; checking for updates meanwhile."],
    polling: [`Updates every ${pollMs / 1000} s`,
      `This site sends no live updates; the page checks for them every ${pollMs / 1000} s.`],
    stale: ["Out of date", "No update confirmed for a few minutes; reload to be sure."],
    file: ["Reload for updates", "Opened as a file, the page cannot check for updates: "
      + "reload it after a build, or serve the directory (python3 -m http.server -d build)."],
  };
  // Opened from disk (file://), the browser lets the page fetch nothing: neither /events nor
  // versions.json. Polling would fail every time and call the page out of date in minutes.
  const fromFile = location.protocol === "file:";
  let seq = Number(main.dataset.seq) || 0;
  /** Widget id -> the newest {version, seq} announced for it; starts as the page itself. */
  let announced = new Map([...main.querySelectorAll(".widget[data-widget-id]")].map(
    (el) => [el.dataset.widgetId, { version: el.dataset.version, seq }]));
  /** Widget element -> seq of the state its content came from (default: the page's). */
  const shownSeq = new WeakMap();
  const queued = new Map();    // widget id -> {version, seq} to fetch when its fetch ends
  const fetching = new Set();  // widget ids with a fetch in flight
  const highlightTimers = new WeakMap();
  const unannounced = new Set();
  let announceTimer = 0;
  let layoutSeq = 0;           // the page must be at least this new to have the right widgets
  let layoutLoading = false;
  let source = null;
  let errors = 0;              // since the last successful open
  let retryMs = RETRY_FIRST_MS;
  let retryTimer = 0;
  let everOpened = false;      // an events stream opened since the page loaded
  let eventsMissing = false;   // the first stream failed before it opened: polling is the plan
  let pollTimer = 0;
  let pollInFlight = false;
  let etag = null;
  let confirmedAt = Date.now();

  if (!main.querySelector("[data-live-status]")) {
    main.insertAdjacentHTML("beforeend", '<div class="visually-hidden" role="status" '
      + 'aria-live="polite" data-live-status></div>');
  }
  const status = main.querySelector("[data-live-status]");
  const badge = document.createElement("span");
  badge.className = "live-badge";
  badge.setAttribute("aria-live", "off");  // a state, not news: the status region has the news
  (main.querySelector(".hub-kind") ?? main.querySelector(".hub-title") ?? main).append(" ", badge);

  // --- Versions: what the server announced, against what the page shows ---
  function widgetElement(id) {
    return main.querySelector(`.widget[data-widget-id="${CSS.escape(id)}"]`);
  }

  function seqShown(el) {
    return shownSeq.get(el) ?? Number(main.dataset.seq);
  }

  function onVersions({ seq: at, widgets, complete }) {
    if (at < seq) {
      // A whole map numbered below ours: the hub's numbering restarted (its output was
      // rebuilt from nothing), and every number this page holds means something else now.
      if (complete) location.reload();
      return;  // else older than what we already know
    }
    seq = at;
    if (complete) announced = new Map();
    for (const [id, version] of Object.entries(widgets)) announced.set(id, { version, seq: at });
    const shown = [...main.querySelectorAll(".widget[data-widget-id]")];
    const sameWidgets = shown.length === announced.size
      && shown.every((el) => announced.has(el.dataset.widgetId));
    if (sameWidgets) refreshChanged();
    else reloadLayout(at);  // widgets were added or removed
  }

  function refreshChanged() {
    for (const [id, { version, seq: at }] of announced) want(id, version, at);
  }

  function want(id, version, at) {
    const el = widgetElement(id);
    if (!el || el.dataset.version === version || at <= seqShown(el)) return;
    queued.set(id, { version, seq: at });
    if (!fetching.has(id)) drain(id);
  }

  // One fetch per widget at a time; versions announced meanwhile collapse into the newest.
  async function drain(id) {
    fetching.add(id);
    for (let next; (next = queued.get(id));) {
      queued.delete(id);
      try {
        await refreshWidget(id, next.version, next.seq);
      } catch (error) {
        console.warn(`hubs live: widget ${id}:`, error);
        setTimeout(refreshChanged, pollMs);  // so one network blip leaves no widget behind
      }
    }
    fetching.delete(id);
  }

  async function refreshWidget(id, version, at) {
    // The query gives each version its own URL: no stale 304 after a same-size rewrite.
    const url = `widgets/${encodeURIComponent(id)}.json?v=${encodeURIComponent(version)}`;
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const fragment = await response.json();
    const el = widgetElement(id);
    // Responses race: the page may have been replaced by a newer one meanwhile.
    if (el && fragment.version !== el.dataset.version && at > seqShown(el)) {
      swapWidget(el, fragment, at);
    }
  }

  function swapWidget(el, fragment, at) {
    changeKeepingPlace(el, () => { el.innerHTML = fragment.html; });
    el.dataset.version = fragment.version;
    shownSeq.set(el, at);
    el.classList.toggle("is-stale", fragment.error != null);
    if (fragment.error != null) {
      el.title = fragment.error;
      return;  // the same content, now marked stale: nothing new to point out
    }
    el.removeAttribute("title");
    highlight(el);
    announce(widgetName(el));
  }

  // --- The page itself, when the set of widgets changed ---
  async function reloadLayout(atLeast) {
    layoutSeq = Math.max(layoutSeq, atLeast);
    if (layoutLoading) return;
    layoutLoading = true;
    try {
      // The page is written after versions.json, so it may lag the news by a moment.
      for (let attempt = 0; Number(main.dataset.seq) < layoutSeq && attempt < 5; attempt++) {
        if (attempt) await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
        // Not "no-cache": revalidating can get a 304 for a page rewritten within the same
        // second at the same size; this is rare enough to fetch in full.
        const response = await fetch(location.pathname, { cache: "no-store" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        swapLayout(new DOMParser().parseFromString(await response.text(), "text/html"));
      }
    } catch (error) {
      console.warn("hubs live: page:", error);
    } finally {
      layoutLoading = false;
    }
    refreshChanged();  // versions announced while the page was on its way
  }

  function swapLayout(page) {
    const fresh = page.querySelector("main[data-hub]");
    const freshColumns = fresh?.querySelector(".hub-columns");
    const columns = main.querySelector(".hub-columns");
    if (!freshColumns || !columns || Number(fresh.dataset.seq) <= Number(main.dataset.seq)) return;
    changeKeepingPlace(columns, () => columns.replaceChildren(...freshColumns.childNodes));
    main.dataset.seq = fresh.dataset.seq;
    announce("Page layout");
  }

  // --- Keeping the reader's place, and telling them what changed ---
  // The browser's scroll anchoring cannot do this: its anchor is often inside the widget
  // being replaced, and then it keeps nothing still. The stylesheet turns it off where this
  // script runs (the class below), so the page is never moved twice.
  document.documentElement.classList.add("live-keeps-place");
  // Where the last correction meant its anchor to be, and where it got: scroll offsets are
  // whole device pixels, so a correction may fall short by a fraction, and swap after swap
  // those fractions would add up to a drift.
  let lastPlace = null;

  function changeKeepingPlace(container, change) {
    const refocus = rememberFocus(container);
    const anchor = readingAnchor(container);
    change();
    if (anchor) {
      const same = lastPlace?.key === anchor.key && Math.abs(lastPlace.got - anchor.before) < 1;
      const meant = same ? lastPlace.meant : anchor.before;
      window.scrollBy(0, anchor.top() - meant);
      lastPlace = { key: anchor.key, meant, got: anchor.top() };
    }
    refocus();
  }

  /** What the reader is reading, if *container* starts above the view (a change there would
      move it): the first widget in view but *container*, in page order (the main column
      first), or the footer; found again after the change by its id. */
  function readingAnchor(container) {
    if (container.getBoundingClientRect().top >= 0) return null;  // the change is in view
    for (const el of document.querySelectorAll(".widget[id], .site-footer")) {
      if (el === container) continue;  // its top stays put; what follows it is what moves
      const { top, bottom } = el.getBoundingClientRect();
      if (bottom > 0 && top < window.innerHeight) {
        const find = () => (el.id && document.getElementById(el.id)) || el;
        return { key: el.id || "footer", before: top,
                 top: () => find().getBoundingClientRect().top };
      }
    }
    return null;
  }

  /** Returns how to focus, once *container* has changed, the equivalent of what has focus:
      the element with its id, else the one that is what it was (tag, link and text), else
      one going to the same place, and only then the one at its position, which new items
      before it would shift. */
  function rememberFocus(container) {
    const active = document.activeElement;
    const widget = active?.closest(".widget[id]");
    if (!widget || !container.contains(widget)) return () => {};
    const before = [...widget.querySelectorAll(FOCUSABLE)];
    const index = before.indexOf(active);
    // Which of the elements alike it, should the widget hold several (the same link twice)
    const alike = (withText) => {
      const key = identity(active, withText);
      const nth = before.slice(0, index).filter((el) => identity(el, withText) === key).length;
      return (els) => els.filter((el) => identity(el, withText) === key)[nth];
    };
    const [same, sameLink] = [alike(true), alike(false)];
    return () => {
      const home = document.getElementById(widget.id);
      if (!home) return;
      const after = [...home.querySelectorAll(FOCUSABLE)];
      const byId = active.id ? document.getElementById(active.id) : null;
      const target = (home.contains(byId) ? byId : null)
        ?? same(after) ?? sameLink(after) ?? after[index];
      target?.focus({ preventScroll: true });
    };
  }

  /** What an element is, to find it again among new ones: its tag, where it leads, and (with
      *withText*) what it says. */
  function identity(el, withText = true) {
    const leads = el.getAttribute("href") ?? el.getAttribute("name") ?? "";
    return `${el.tagName}|${leads}|${withText ? el.textContent.trim() : ""}`;
  }

  function highlight(el) {
    el.classList.remove("is-updated");
    void el.offsetWidth;  // restarts the CSS animation if the last update still shows
    el.classList.add("is-updated");
    clearTimeout(highlightTimers.get(el));
    highlightTimers.set(el, setTimeout(() => el.classList.remove("is-updated"), HIGHLIGHT_MS));
  }

  function widgetName(el) {
    const title = el.querySelector(".panel-title")?.textContent.trim();
    if (title) return title;
    const plugin = [...el.classList].find((c) => c.startsWith("widget-"))?.slice(7) || "widget";
    return plugin[0].toUpperCase() + plugin.slice(1).replaceAll("_", " ");
  }

  // Batched, so widgets changing together make one sentence; emptied first, so the same
  // sentence twice is still read out.
  function announce(name) {
    if (!unannounced.size) status.textContent = "";
    unannounced.add(name);
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      status.textContent = `${[...unannounced].join(", ")} updated`;
      unannounced.clear();
    }, 300);
  }

  // --- Connection: events while they work, polling while they do not ---
  function connect() {
    if (document.hidden || source) return;  // a retry timer may fire after that changed
    const separator = eventsUrl.includes("?") ? "&" : "?";
    const events = new EventSource(
      `${eventsUrl}${separator}hub=${encodeURIComponent(hub)}&since=${seq}`);
    source = events;
    errors = 0;
    events.addEventListener("open", () => {
      everOpened = true;
      eventsMissing = false;
      errors = 0;
      retryMs = RETRY_FIRST_MS;
      clearInterval(pollTimer);
      pollTimer = 0;
      noteConfirmed();
    });
    events.addEventListener("versions", (event) => {
      noteConfirmed();
      onVersions(JSON.parse(event.data));
    });
    events.addEventListener("error", () => {
      // The browser reconnects by itself (sending Last-Event-ID) unless it was refused.
      errors += 1;
      if (!everOpened) settleOnPolling();
      else if (events.readyState === EventSource.CLOSED || errors >= 2) fallBack();
      else showState();
    });
  }

  // Events that worked went away: catch up by polling, and try them again soon.
  function fallBack() {
    closeEvents();
    startPolling();
    retryEventsIn(retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    showState();
  }

  // Events that never worked (a static server has no /events: 404, or nothing listening):
  // polling is how this page updates, the badge says so, and events are tried rarely.
  function settleOnPolling() {
    closeEvents();
    eventsMissing = true;
    startPolling();
    retryEventsIn(RETRY_MISSING_MS);
    showState();
  }

  function closeEvents() {
    source?.close();
    source = null;
  }

  function retryEventsIn(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = 0;
      connect();
    }, ms);
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(poll, pollMs);
    poll();
  }

  async function poll() {
    if (pollInFlight) return;
    pollInFlight = true;
    try {
      const response = await fetch("versions.json",
        { cache: "no-store", headers: etag ? { "If-None-Match": etag } : {} });
      if (response.ok) {
        onVersions({ ...(await response.json()), complete: true });
        etag = response.headers.get("ETag");
      }
      if (response.ok || response.status === 304) noteConfirmed();
    } catch (error) {
      console.warn("hubs live: versions.json:", error);  // offline: the badge says so in time
    } finally {
      pollInFlight = false;
    }
  }

  // --- The badge: how fresh the page is known to be ---
  function noteConfirmed() {
    confirmedAt = Date.now();
    showState();
  }

  function showState() {
    const open = source !== null && source.readyState === EventSource.OPEN;
    if (open) confirmedAt = Date.now();  // keep-alives never reach scripts: open is confirmed
    const state = fromFile ? "file" : Date.now() - confirmedAt > STALE_AFTER_MS ? "stale"
      : open ? "live" : eventsMissing ? "polling" : "catching-up";
    if (badge.dataset.state === state) return;
    const [text, title] = BADGE_TEXT[state];
    badge.dataset.state = state;
    badge.textContent = text;
    badge.title = title;
  }

  // Browsers open six HTTP/1.1 connections per site: a stream held by every background tab
  // would starve the seventh page. Hidden tabs let go of theirs and catch up when shown.
  function onVisibility() {
    if (document.hidden) {
      closeEvents();
      clearInterval(pollTimer);
      pollTimer = 0;
      clearTimeout(retryTimer);
      retryTimer = 0;
      showState();
    } else if (!source && !pollTimer) {
      if (eventsMissing) settleOnPolling();
      else if (window.EventSource && eventsUrl) connect();
      else startPolling();
    }
  }

  showState();
  if (fromFile) return;
  setInterval(showState, 10_000);
  document.addEventListener("visibilitychange", onVisibility);
  if (window.EventSource && eventsUrl) connect();
  else startPolling();
})();

/* Relative times: fragments show absolute UTC times (they must not go stale between
   rewrites); here each <time datetime> on the page, including in fragments swapped in
   later, reads "3 hours ago", with the absolute time as its title, and is kept current. */
(() => {
  "use strict";

  const REFRESH_MS = 60_000;
  const UNITS = [["year", 31_536_000], ["month", 2_592_000], ["week", 604_800],
    ["day", 86_400], ["hour", 3_600], ["minute", 60]];
  const words = new Intl.RelativeTimeFormat(document.documentElement.lang || "en",
    { numeric: "always" });

  function relativeTime(when, now) {
    const seconds = Math.round((when - now) / 1000);
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return words.format(Math.trunc(seconds / size), unit);
    }
    return "just now";
  }

  function showRelative(el, now) {
    const when = Date.parse(el.dateTime);
    if (Number.isNaN(when)) return;
    if (!el.dataset.absolute) {
      el.dataset.absolute = el.textContent;
      el.title = el.textContent;
    }
    const text = relativeTime(when, now);
    if (el.textContent !== text) el.textContent = text;  // unchanged text: no mutation
  }

  function showAllRelative(root) {
    const now = Date.now();
    for (const el of root.querySelectorAll("time[datetime]")) showRelative(el, now);
  }

  function onAdded(mutations) {
    const now = Date.now();
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.matches("time[datetime]")) showRelative(node, now);
        else for (const el of node.querySelectorAll("time[datetime]")) showRelative(el, now);
      }
    }
  }

  showAllRelative(document);
  new MutationObserver(onAdded).observe(document.body, { childList: true, subtree: true });
  setInterval(() => { if (!document.hidden) showAllRelative(document); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) showAllRelative(document);
  });
})();
