// Typed messages between the form and the server's echo. Each is shown at once; the echo
// (`final_transcript{source: text}`) confirms it, a refusal says why on the message itself.
// While the link is down one message waits and goes out on reconnect; a second is refused
// on the spot, so nothing typed is ever silently lost.
const MAX_WAITING = 1;

export class Outbox {
  constructor(view, send) {
    this.view = view;
    this.send = send; // (message) -> bool: false when the link is down
    this.inFlight = []; // sent, not yet echoed: bubbles in send order
    this.waiting = []; // typed while disconnected: {text, item}
  }

  submit(text, linkOpen) {
    if (linkOpen && this.send({ type: "text_input", text })) {
      this.inFlight.push(this.view.outgoing(text, false));
      return;
    }
    const item = this.view.outgoing(text, true);
    if (this.waiting.length >= MAX_WAITING) {
      this.view.refused(item, "not sent: another message is already waiting for the connection.");
      return;
    }
    this.waiting.push({ text, item });
  }

  /** The server echoed a typed turn: the oldest bubble in flight is that turn. */
  echoed(turnId) {
    const item = this.inFlight.shift();
    if (item) this.view.confirmed(item, turnId);
  }

  /** A refusal of the oldest message in flight; false when nothing was in flight. */
  refusedOldest(reason) {
    const item = this.inFlight.shift();
    if (!item) return false;
    this.view.refused(item, reason);
    return true;
  }

  /** The link dropped: what was sent but not echoed may not have arrived; it waits again. */
  linkLost() {
    for (const item of this.inFlight.splice(0)) {
      this.view.sending(item, true);
      this.waiting.unshift({ text: item.querySelector(".text").textContent, item });
    }
    this.waiting.splice(MAX_WAITING).forEach(({ item }) => this.view.refused(item, "not sent: the connection dropped."));
  }

  /** The server's history is on the page: show what still waits after it, and send it. */
  historyShown(items) {
    const lastUser = [...items].reverse().find((item) => item.role === "user");
    for (const { text, item } of this.waiting.splice(0)) {
      if (lastUser && lastUser.text === text) continue; // it did arrive before the drop
      this.view.log.append(item);
      if (this.send({ type: "text_input", text })) {
        this.view.sending(item, false);
        this.inFlight.push(item);
      } else {
        this.waiting.push({ text, item });
      }
    }
  }

  /** A new conversation: nothing typed before it is waited for any more. */
  clear() {
    this.inFlight = [];
    this.waiting = [];
  }
}
