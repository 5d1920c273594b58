// One WebSocket to /ws that survives drops: it reconnects with backoff and resumes the
// session by id (kept in sessionStorage, so a page reload resumes it too).
import { CLOSE_CODES } from "./protocol-constants.js";

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const MAX_BUFFERED_BYTES = 256 * 1024; // beyond this the link is stalled: drop audio, not memory
const SESSION_KEY = "parley.session_id";
const REPLACED = CLOSE_CODES.REPLACED;

export class Connection {
  constructor({ onMessage, onAudio, onLink }) {
    this.onMessage = onMessage;
    this.onAudio = onAudio;
    this.onLink = onLink; // (state: connecting | open | reconnecting | replaced | closed, detail)
    // detail of "open": the `session` message, and `askedFor`: the session id this connection asked to resume
    this.sessionId = sessionStorage.getItem(SESSION_KEY);
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.closing = false;
    this.droppedAudioFrames = 0;
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const askedFor = this.sessionId;
    const query = askedFor ? `?session_id=${encodeURIComponent(askedFor)}` : "";
    const ws = new WebSocket(`${scheme}//${location.host}/ws${query}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.onLink(this.attempt === 0 ? "connecting" : "reconnecting");
    ws.onopen = () => {
      this.attempt = 0;
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        const message = JSON.parse(event.data);
        if (message.type === "session") {
          this.sessionId = message.session_id;
          sessionStorage.setItem(SESSION_KEY, message.session_id);
          this.onLink("open", { ...message, askedFor });
        }
        this.onMessage(message);
      } else {
        this.onAudio(event.data);
      }
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closing) {
        this.onLink("closed");
      } else if (event.code === REPLACED) {
        this.onLink("replaced"); // another tab resumed this conversation; do not fight it
      } else {
        const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
        this.attempt++;
        this.onLink("reconnecting", { code: event.code, delayMs: delay });
        this.timer = setTimeout(() => this.connect(), delay);
      }
    };
  }

  sendJson(message) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  sendAudio(frame) {
    if (!this.open || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.droppedAudioFrames++;
      return false;
    }
    this.ws.send(frame);
    return true;
  }

  close() {
    this.closing = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "page closed");
  }
}
