// Rendering. Model and user text is only ever set with textContent, never as HTML.
const STATE_LABELS = {
  idle: "Microphone off",
  listening: "Listening",
  thinking: "Thinking",
  speaking: "Speaking",
  stopped: "Stopped",
};
const LINK_LABELS = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Connection lost, reconnecting…",
  replaced: "This conversation continues in another tab",
  closed: "Disconnected",
};
const ERROR_SHOWN_MS = 8000;

export class View {
  constructor(root) {
    this.log = root.querySelector("#log");
    this.state = root.querySelector("#state");
    this.link = root.querySelector("#link");
    this.errors = root.querySelector("#errors");
    this.turns = new Map(); // turnId -> {user, assistant, latency}
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
    turn.assistant.classList.add("interrupted");
    const element = turn.assistant.querySelector(".text");
    const content = element.textContent;
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
    if (cut >= content.length) return;
    const unheard = document.createElement("span");
    unheard.className = "unheard";
    unheard.title = "Not heard: you cut in";
    unheard.textContent = content.slice(cut);
    element.textContent = content.slice(0, cut);
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
  }

  showError(code, message) {
    const item = document.createElement("p");
    item.className = "error";
    item.textContent = `${message} (${code})`;
    this.errors.append(item);
    setTimeout(() => item.remove(), ERROR_SHOWN_MS);
  }

  scroll() {
    this.log.lastElementChild?.scrollIntoView({ block: "end", behavior: "smooth" });
  }
}
