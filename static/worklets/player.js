// Reply playback: a queue of the current turn's audio behind a small jitter buffer.
// - starts a turn once `prebufferSamples` are queued (or its end is known), so audio that
//   arrives at real time does not underrun;
// - `flush` empties the queue before the next render quantum and drops later audio of that
//   turn (frames already in flight when the server cut it);
// - `pause` holds a turn where it is (silence out, nothing dropped) until `resume` or `flush`;
// - reports how much of each turn was played, for the server's `playback` acks.
const MAX_STOPPED = 64;

class PlayerProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.prebufferSamples = options.processorOptions.prebufferSamples;
    this.reportEverySamples = Math.round(sampleRate * options.processorOptions.reportEveryMs / 1000);
    this.queue = []; // {turnId, samples, offset}
    this.queued = 0;
    this.playing = false;
    this.ended = new Set(); // turns whose last audio has been queued
    this.stopped = new Set();
    this.paused = new Set(); // turns held by tts_pause
    this.played = new Map(); // turnId -> samples played
    this.sinceReport = 0;
    this.underruns = 0;
    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  onMessage(message) {
    const turnId = message.turnId;
    if (message.type === "audio") {
      if (this.stopped.has(turnId)) return;
      this.queue.push({ turnId, samples: message.samples, offset: 0 });
      this.queued += message.samples.length;
    } else if (message.type === "end") {
      this.ended.add(turnId);
      if (!this.queue.some((item) => item.turnId === turnId)) this.finishTurn(turnId);
    } else if (message.type === "pause") {
      this.paused.add(turnId);
      this.port.postMessage({ type: "played", turnId, playedMs: this.playedMs(turnId), underruns: this.underruns });
    } else if (message.type === "resume") {
      this.paused.delete(turnId);
    } else if (message.type === "flush") {
      this.paused.delete(turnId);
      this.stopped.add(turnId);
      if (this.stopped.size > MAX_STOPPED) this.stopped.delete(this.stopped.values().next().value);
      const before = this.queued;
      this.queue = this.queue.filter((item) => item.turnId !== turnId);
      this.queued = this.queue.reduce((n, item) => n + item.samples.length - item.offset, 0);
      if (this.queued === 0) this.playing = false;
      const droppedMs = ((before - this.queued) / sampleRate) * 1000; // what would have played without the flush
      this.port.postMessage({ type: "flushed", turnId, playedMs: this.playedMs(turnId), droppedMs });
    } else if (message.type === "flushAll") {
      for (const item of this.queue) this.stopped.add(item.turnId);
      this.queue = [];
      this.queued = 0;
      this.playing = false;
    }
  }

  playedMs(turnId) {
    return ((this.played.get(turnId) || 0) / sampleRate) * 1000;
  }

  process(inputs, outputs) {
    const output = outputs[0];
    const out = output[0];
    if (!this.playing && this.queued > 0) {
      const head = this.queue[0].turnId;
      this.playing = this.queued >= this.prebufferSamples || this.ended.has(head);
    }
    let written = 0;
    let turnId = null;
    const held = this.queue.length > 0 && this.paused.has(this.queue[0].turnId);
    while (this.playing && !held && written < out.length && this.queue.length > 0) {
      const item = this.queue[0];
      turnId = item.turnId;
      const count = Math.min(out.length - written, item.samples.length - item.offset);
      out.set(item.samples.subarray(item.offset, item.offset + count), written);
      item.offset += count;
      written += count;
      this.queued -= count;
      this.played.set(turnId, (this.played.get(turnId) || 0) + count);
      if (item.offset === item.samples.length) {
        this.queue.shift();
        if (this.queue.length === 0 || this.queue[0].turnId !== turnId) this.finishTurn(turnId);
      }
    }
    if (held) out.fill(0, written);
    if (this.playing && this.queue.length === 0) {
      this.playing = false;
      if (turnId !== null && !this.ended.has(turnId)) this.underruns++;
    }
    for (let c = 1; c < output.length; c++) output[c].set(out);
    if (turnId !== null) {
      this.sinceReport += out.length;
      if (this.sinceReport >= this.reportEverySamples) {
        this.sinceReport = 0;
        this.port.postMessage({ type: "played", turnId, playedMs: this.playedMs(turnId), underruns: this.underruns });
      }
    }
    return true;
  }

  finishTurn(turnId) {
    if (this.ended.has(turnId)) {
      this.port.postMessage({ type: "finished", turnId, playedMs: this.playedMs(turnId), underruns: this.underruns });
      this.ended.delete(turnId);
      this.played.delete(turnId);
    }
  }
}

registerProcessor("parley-player", PlayerProcessor);
