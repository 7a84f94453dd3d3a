// The agent console: keeps the live board in step with the server (server-sent events),
// sends Accept / Pass without leaving the page, and shows times in the agent's time zone.
// The server renders every card; this file only places them.
"use strict";

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) {
      el.textContent = when.toLocaleString([], {dateStyle: "medium", timeStyle: "medium"});
      el.title = el.getAttribute("datetime");
    }
  }
}

function fragment(html) {
  const t = document.createElement("template");
  t.innerHTML = html.trim();
  const el = t.content.firstElementChild;
  if (el) localTimes(el);
  return el;
}

const Board = {
  root: null,

  start(root) {
    this.root = root;
    this.refresh();
    const live = document.getElementById("live");
    const source = new EventSource(root.dataset.stream);
    source.addEventListener("open", () => this.status(live, "live", "live"));
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) return this.signedOut(source);  // refused: signed out
      this.status(live, "reconnecting", "reconnecting…");
    });
    source.addEventListener("signed-out", () => this.signedOut(source));  // signed out elsewhere, or idle
    source.addEventListener("snapshot", (e) => this.snapshot(JSON.parse(e.data).calls));
    source.addEventListener("call", (e) => this.place(JSON.parse(e.data)));
    document.dispatchEvent(new CustomEvent("board-stream", {detail: source}));  // for the presence panel
    document.addEventListener("submit", (e) => this.answer(e));
  },

  signedOut(source) {
    source.close();
    window.location.assign("/console/sign-in?next=" + encodeURIComponent(window.location.pathname));
  },

  status(live, state, text) {
    live.dataset.state = state;
    live.querySelector(".live-text").textContent = text;
  },

  snapshot(calls) {
    const seen = new Set(calls.map((c) => c.call_sid));
    for (const card of this.root.querySelectorAll(".card[data-call]")) {
      if (!seen.has(card.dataset.call)) card.remove();
    }
    for (const item of calls) this.place(item, true);
    this.refresh();
  },

  // Put one call's card where its section says; "ended" removes it.
  place(item, quiet) {
    const old = document.getElementById("call-" + item.call_sid);
    if (item.section === "ended" || !item.html) {
      if (old) old.remove();
    } else {
      const card = fragment(item.html);
      const list = document.getElementById("section-" + item.section);
      if (!card || !list) return;
      if (old && old.parentElement === list) {
        const keepOpen = [...old.querySelectorAll("details")].map((d) => d.open);
        card.querySelectorAll("details").forEach((d, i) => { if (i < keepOpen.length) d.open = keepOpen[i]; });
        old.replaceWith(card);
      } else {
        if (old) old.remove();
        list.prepend(card);
        if (!quiet) card.classList.add("arrived");
      }
    }
    if (!quiet) this.refresh();
  },

  refresh() {
    for (const list of this.root.querySelectorAll(".cards")) {
      const section = list.id.replace("section-", "");
      const n = list.querySelectorAll(".card").length;
      const count = this.root.querySelector(`[data-count="${section}"]`);
      if (count) count.textContent = n;
      let empty = list.querySelector(".empty");
      if (n === 0 && !empty) {
        empty = document.createElement("p");
        empty.className = "empty";
        empty.textContent = list.dataset.empty;
        list.append(empty);
      } else if (n > 0 && empty) {
        empty.remove();
      }
    }
    const mine = this.root.querySelectorAll(".card-mine form.answer").length;
    document.title = (mine ? `(${mine}) ` : "") + "Live board · Support line";
  },

  async answer(e) {
    const form = e.target;
    if (!form.matches("form.answer")) return;
    e.preventDefault();
    const data = new FormData(form);
    if (e.submitter && e.submitter.name) data.set(e.submitter.name, e.submitter.value);
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    let reply;
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: {"Accept": "application/json"},
      });
      reply = await response.json();
    } catch (err) {
      reply = {message: "The server could not be reached. Try again."};
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
    this.notice(reply.message || reply.error || "");
    if (reply.call_sid) this.place(reply);
  },

  notice(text) {
    const el = document.getElementById("notice");
    el.textContent = text;
    el.classList.toggle("hidden", !text);
  },
};

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  const board = document.getElementById("board");
  if (board) Board.start(board);
});

// Presence: the agent's own state (available / away) and everyone's, kept current by the
// board's event stream ("presence" events carry the panel's new HTML).
const Presence = {
  show(html) {
    const panel = document.getElementById("presence");
    if (!panel || !html) return;
    panel.innerHTML = html;
    localTimes(panel);
  },

  async choose(e) {
    const form = e.target;
    if (!form.matches("form.presence-form")) return;
    e.preventDefault();
    const data = new FormData(form);
    if (e.submitter && e.submitter.name) data.set(e.submitter.name, e.submitter.value);
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST", body: data, credentials: "same-origin", headers: {"Accept": "application/json"},
      });
      const reply = await response.json();
      this.show(reply.html);
      Board.notice(reply.message || reply.error || "");
    } catch (err) {
      Board.notice("The server could not be reached. Try again.");
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  },
};

document.addEventListener("board-stream", (e) => {
  e.detail.addEventListener("presence", (m) => Presence.show(JSON.parse(m.data).html));
});
document.addEventListener("submit", (e) => Presence.choose(e));
