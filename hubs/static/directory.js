/* Fedora Hubs directory search: filters directory.json as the reader types. The index is
   fetched on first focus or keystroke, so a reader who only browses never downloads it; the
   pages list every hub without this script. Nothing here is global. */
(() => {
  "use strict";

  const form = document.querySelector("form.directory-search");
  if (!form) return;

  const input = form.querySelector("input[type=search]");
  const status = form.querySelector(".search-status");
  const list = form.querySelector(".search-results");
  const root = form.dataset.root || "";
  const LIMIT = 50;
  let hubs = null;     // [{name, summary, team, text}] once the index has loaded
  let loading = null;  // the fetch in flight, or done

  const rows = (pairs, team) => pairs.map(([name, summary]) => (
    { name, summary, team, text: `${name}\n${summary.toLowerCase()}` }));

  function load() {
    if (loading) return;
    status.textContent = "Loading the list of hubs…";
    loading = fetch(form.dataset.index, { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((index) => {
        hubs = [...rows(index.teams, true), ...rows(index.people, false)];
        show();
      })
      .catch(() => {
        loading = null;  // the next focus or keystroke tries again
        status.textContent = "Search is unavailable right now; the lists on this page still work.";
      });
  }

  /** How well *hub* matches: 0 its name, 1 a name prefix, 2 in its name, 3 elsewhere. */
  function rank(hub, query, words) {
    if (!words.every((word) => hub.text.includes(word))) return -1;
    if (hub.name === query) return 0;
    if (hub.name.startsWith(query)) return 1;
    return hub.name.includes(query) ? 2 : 3;
  }

  /** The best LIMIT matches, and how many there are: a one-letter query matches most of
      100,000 hubs, and only counting those past the first LIMIT of a rank keeps it quick. */
  function matches(query) {
    const words = query.split(/\s+/);
    const byRank = [[], [], [], []];
    let count = 0;
    for (const hub of hubs) {
      const r = rank(hub, query, words);
      if (r < 0) continue;
      count += 1;
      if (byRank[r].length < LIMIT) byRank[r].push(hub);  // by name, as the index is
    }
    return { best: byRank.flat().slice(0, LIMIT), count };
  }

  function card(hub) {
    const item = document.createElement("li");
    item.className = "hub-card search-result";
    const link = document.createElement("a");
    link.href = `${root}${hub.name}/index.html`;
    const name = document.createElement("strong");
    name.textContent = hub.name;
    if (hub.team) {
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = "team";
      name.append(" ", tag);
    }
    const summary = document.createElement("small");
    summary.textContent = hub.summary;
    link.append(name, summary);
    item.append(link);
    return item;
  }

  function show() {
    const query = input.value.trim().toLowerCase();
    if (!hubs) return;
    if (!query) {
      list.replaceChildren();
      status.textContent = "";
      return;
    }
    const { best, count } = matches(query);
    list.replaceChildren(...best.map(card));
    const quoted = `“${input.value.trim()}”`;
    if (!count) status.textContent = `No hub matches ${quoted}.`;
    else if (count > LIMIT) {
      status.textContent = `The first ${LIMIT} of ${count.toLocaleString()} hubs matching ${quoted}.`;
    } else status.textContent = `${count} ${count === 1 ? "hub matches" : "hubs match"} ${quoted}.`;
  }

  /** Up and down move between the box and the results, Escape empties the box. */
  function move(event) {
    const links = [...list.querySelectorAll("a")];
    const at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && links.length) {
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      (at === 0 ? input : links[at - 1]).focus();
    } else if (event.key === "Escape" && input.value) {
      input.value = "";
      show();
      input.focus();
    } else return;
    event.preventDefault();
  }

  form.hidden = false;
  input.addEventListener("focus", load);
  input.addEventListener("input", () => { load(); show(); });
  form.addEventListener("keydown", move);
  form.addEventListener("submit", (event) => {  // Enter opens the best match
    event.preventDefault();
    const best = list.querySelector("a");
    if (best) window.location.assign(best.href);
  });
  if (input.value) load();  // the browser restored a query on going back
})();
