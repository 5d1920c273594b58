// Rendering. Model and user text is only ever set with textContent, never as HTML.
const STATE_LABELS = {
  idle: "Microphone off",
  listening: "Listening",
  thinking: "Thinking",
  speaking: "Speaking",
  stopped: "Stopped",
  offline: "Not connected",
};
const LINK_LABELS = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Connection lost, reconnecting…",
  replaced: "This conversation continues in another tab",
  closed: "Disconnected",
  idle: "Disconnected while idle: it reconnects when you speak or type",
  leaving: "The server is restarting; reconnecting soon…",
};
const ERROR_SHOWN_MS = 8000;
const NEAR_BOTTOM_PX = 64; // closer than this to the end of the log counts as reading the newest message

export class View {
  constructor(root) {
    this.log = root.querySelector("#log");
    this.state = root.querySelector("#state");
    this.link = root.querySelector("#link");
    this.errors = root.querySelector("#errors");
    this.service = root.querySelector("#service");
    this.newest = root.querySelector("#newest");
    this.turns = new Map(); // turnId -> {user, assistant, latency, spoken, sentences}
    this.following = true; // the log follows new text unless the user scrolled up to read
    this.log.addEventListener("scroll", () => {
      this.following = this.atBottom();
      if (this.following) this.newest.hidden = true;
    });
    this.newest.addEventListener("click", () => this.scroll(true));
  }

  setState(state) {
    this.state.dataset.state = state;
    this.state.textContent = STATE_LABELS[state] || state;
  }

  setLink(state, detail) {
    this.link.dataset.link = state;
    let label = LINK_LABELS[state] || state;
    if (state === "open" && detail && detail.resumed) label = "Reconnected: conversation resumed";
    this.link.textContent = label;
  }

  /** The server's engines: loading (turns wait), ready, or failed (turns are refused, and why). */
  setService(state, reason) {
    this.service.dataset.service = state;
    this.service.hidden = state === "ready";
    if (state === "failed") {
      this.service.textContent = `Parley cannot answer: ${reason} Fix the server's configuration and restart it.`;
    } else if (state === "starting") {
      this.service.textContent = "Loading the speech and language models… the first answer may take a moment.";
    } else if (state !== "ready") {
      this.service.textContent = reason;
    }
  }

  turn(turnId) {
    let turn = this.turns.get(turnId);
    if (!turn) {
      turn = { user: null, assistant: null, latency: null, spoken: false, sentences: [] };
      this.turns.set(turnId, turn);
    }
    return turn;
  }

  bubble(role) {
    const item = document.createElement("li");
    item.className = `message ${role}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You" : "Parley";
    const text = document.createElement("p");
    text.className = "text";
    item.append(who, text);
    this.log.append(item);
    return item;
  }

  /** Forget everything shown: a new conversation, or the server's history replaces it. */
  clear() {
    this.log.replaceChildren();
    this.turns.clear();
    this.following = true;
    this.newest.hidden = true;
  }

  /** The conversation as the server remembers it (on every connect). */
  showHistory(items) {
    this.clear();
    for (const item of items) {
      const turn = this.turn(item.turn_id);
      if (item.role === "user") {
        turn.user = this.bubble("user");
        turn.spoken = item.source === "speech";
        turn.user.querySelector(".text").textContent = item.text;
      } else {
        turn.assistant = this.bubble("assistant");
        const heardPrefix = item.text.startsWith(item.heard_text);
        turn.assistant.querySelector(".text").textContent = heardPrefix ? item.text : item.heard_text;
        if (item.status === "interrupted" && heardPrefix) this.greyOutUnheard(turn.assistant, item.heard_text.length);
        if (item.status === "failed") turn.assistant.classList.add("failed");
      }
    }
    this.scroll(true);
  }

  notice(text) {
    const item = document.createElement("li");
    item.className = "notice";
    item.textContent = text;
    this.log.append(item);
    this.scroll();
  }

  /** A typed message on its way: shown at once, confirmed by the server's echo or refused. */
  outgoing(text, waiting) {
    const item = this.bubble("user");
    item.classList.add("pending");
    item.querySelector(".text").textContent = text;
    const note = document.createElement("span");
    note.className = "note";
    note.textContent = waiting ? "Waiting for the connection…" : "Sending…";
    item.append(note);
    this.scroll(true);
    return item;
  }

  sending(item, waiting) {
    item.querySelector(".note").textContent = waiting ? "Waiting for the connection…" : "Sending…";
  }

  refused(item, reason) {
    item.classList.replace("pending", "refused");
    item.querySelector(".note").textContent = `Not answered: ${reason}`;
    this.scroll();
  }

  /** The server's echo of a typed message: the bubble already shown becomes that turn's. */
  confirmed(item, turnId) {
    item.classList.remove("pending");
    item.querySelector(".note").remove();
    this.log.append(item); // after anything that arrived meanwhile
    const turn = this.turn(turnId);
    turn.user = item;
    turn.spoken = false;
  }

  userText(turnId, content, final, source = "speech") {
    const turn = this.turn(turnId);
    turn.spoken = source === "speech";
    if (!turn.user) {
      this.dropUnfinishedSpeech();
      turn.user = this.bubble("user");
    }
    turn.user.classList.toggle("partial", !final);
    turn.user.querySelector(".text").textContent = content;
    this.scroll();
  }

  /** Speech that never became a turn (too short to cut the bot off, or nothing recognised). */
  dropUnfinishedSpeech() {
    for (const [turnId, turn] of this.turns) {
      if (turn.user && turn.user.classList.contains("partial") && !turn.assistant) {
        turn.user.remove();
        this.turns.delete(turnId);
      }
    }
  }

  assistantText(turnId, content) {
    const turn = this.turn(turnId);
    if (!turn.assistant) turn.assistant = this.bubble("assistant");
    turn.assistant.querySelector(".text").textContent = content;
    this.scroll();
  }

  sentenceStarted(turnId, text, offsetMs) {
    this.turn(turnId).sentences.push({ text, offsetMs });
  }

  /** The reply was cut after `playedMs` of audio: grey out the sentences never heard. */
  markInterrupted(turnId, playedMs) {
    const turn = this.turns.get(turnId);
    if (!turn || !turn.assistant) return;
    const content = turn.assistant.querySelector(".text").textContent;
    let cut = 0;
    for (const sentence of turn.sentences) {
      const at = content.indexOf(sentence.text, cut);
      if (at < 0) break;
      if (sentence.offsetMs >= playedMs) {
        cut = at;
        break;
      }
      cut = at + sentence.text.length;
    }
    this.greyOutUnheard(turn.assistant, cut);
  }

  greyOutUnheard(bubble, heardChars) {
    bubble.classList.add("interrupted");
    const element = bubble.querySelector(".text");
    const content = element.textContent;
    if (heardChars >= content.length) return;
    const unheard = document.createElement("span");
    unheard.className = "unheard";
    unheard.title = "Not heard: you cut in";
    unheard.textContent = content.slice(heardChars);
    element.textContent = content.slice(0, heardChars);
    element.append(unheard);
  }

  showLatency(turnId, metrics) {
    const turn = this.turn(turnId);
    if (!turn.assistant) turn.assistant = this.bubble("assistant");
    if (!turn.latency) {
      turn.latency = document.createElement("span");
      turn.latency.className = "latency";
      turn.assistant.append(turn.latency);
    }
    const first = metrics.first_audio_sent_ms;
    const parts = [first === null ? "no audio" : `first audio ${(first / 1000).toFixed(2)} s`];
    if (turn.spoken && metrics.final_transcript_ms !== null) parts.push(`transcript ${(metrics.final_transcript_ms / 1000).toFixed(2)} s`);
    if (metrics.interrupted) parts.push("interrupted");
    turn.latency.textContent = parts.join(" · ");
    turn.latency.title = "Measured by the server from the end of your speech";
    this.scroll();
  }

  showError(code, message) {
    const item = document.createElement("p");
    item.className = "error";
    item.textContent = `${message} (${code})`;
    this.errors.append(item);
    setTimeout(() => item.remove(), ERROR_SHOWN_MS);
  }

  atBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < NEAR_BOTTOM_PX;
  }

  /** Keep the newest message in view, unless the user scrolled up to read (then offer a way down). */
  scroll(force = false) {
    if (force || this.following) {
      this.log.scrollTop = this.log.scrollHeight;
      this.following = true;
      this.newest.hidden = true;
    } else {
      this.newest.hidden = false;
    }
  }
}
