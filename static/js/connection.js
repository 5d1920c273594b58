// One WebSocket to /ws that survives drops: it reconnects with backoff and resumes the
// session by id (kept in sessionStorage, so a page reload resumes it too). Where the server
// requires a token, the page is opened as .../#token=...: the token is kept for the tab,
// taken out of the address bar, and offered as a subprotocol (browsers cannot set headers).
import { CLOSE_CODES } from "./protocol-constants.js";

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const MAX_BUFFERED_BYTES = 256 * 1024; // beyond this the link is stalled: drop audio, not memory
const SESSION_KEY = "parley.session_id";
const TOKEN_KEY = "parley.token";
const REPLACED = CLOSE_CODES.REPLACED;
const IDLE = CLOSE_CODES.IDLE;

export class Connection {
  constructor({ onMessage, onAudio, onLink }) {
    this.onMessage = onMessage;
    this.onAudio = onAudio;
    this.onLink = onLink; // (state: connecting | open | reconnecting | replaced | closed, detail)
    // detail of "open": the `session` message, and `askedFor`: the session id this connection asked to resume
    this.sessionId = sessionStorage.getItem(SESSION_KEY);
    this.token = takeToken();
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.closing = false;
    this.droppedAudioFrames = 0;
    this.idle = false; // closed by the server after a long silence: reconnect on the next use
    this.reconnectAfterMs = null; // the server's hint when it goes away (`going_away`)
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    this.idle = false;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const askedFor = this.sessionId;
    const query = askedFor ? `?session_id=${encodeURIComponent(askedFor)}` : "";
    const protocols = ["parley", ...(this.token ? [`parley.token.${this.token}`] : [])];
    const ws = new WebSocket(`${scheme}//${location.host}/ws${query}`, protocols);
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
      } else if (event.code === IDLE) {
        this.idle = true;
        this.onLink("idle");
      } else {
        const backoff = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
        const delay = this.reconnectAfterMs ?? backoff;
        this.reconnectAfterMs = null;
        this.attempt++;
        this.onLink("reconnecting", { code: event.code, delayMs: delay });
        this.timer = setTimeout(() => this.connect(), delay);
      }
    };
  }

  /** After an idle close: connect again because the user is doing something. */
  wake() {
    if (this.idle) this.connect();
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

/** The access token from the address (#token=...), kept for this tab; or the one kept before. */
function takeToken() {
  const match = location.hash.match(/[#&]token=([^&]+)/);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}
