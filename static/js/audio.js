// The page's audio: one AudioContext at the protocol's 24 kHz (no resampler needed for the
// microphone), a capture worklet, and a player worklet followed by a tap that reports what
// is really audible.
const CONTEXT_RATE = 24000;
const FRAME_MS = 20;
const PREBUFFER_MS = 80; // jitter buffer: 50-100 ms absorbs network jitter at real-time pace
const REPORT_EVERY_MS = 150; // playback acks while playing
const WORKLETS = ["capture", "player", "tap"];

export class AudioEngine {
  constructor({ onCaptured, onPlayer, onLevel }) {
    this.onCaptured = onCaptured; // (Int16Array frame)
    this.onPlayer = onPlayer; // ({type: played | flushed | finished, turnId, playedMs})
    this.onLevel = onLevel; // ({audible, at})
    this.context = null;
    this.player = null;
    this.stream = null;
    this.capture = null;
    this.source = null;
  }

  get sampleRate() {
    return this.context ? this.context.sampleRate : CONTEXT_RATE;
  }

  /** Create the context and the playback graph; call from a user gesture. */
  async init() {
    if (this.context) {
      if (this.context.state === "suspended") await this.context.resume();
      return;
    }
    const context = new AudioContext({ sampleRate: CONTEXT_RATE, latencyHint: "interactive" });
    this.context = context;
    await Promise.all(WORKLETS.map((name) => context.audioWorklet.addModule(`/static/worklets/${name}.js`)));
    this.player = new AudioWorkletNode(context, "parley-player", {
      numberOfInputs: 0,
      outputChannelCount: [1],
      processorOptions: {
        prebufferSamples: Math.round((context.sampleRate * PREBUFFER_MS) / 1000),
        reportEveryMs: REPORT_EVERY_MS,
      },
    });
    this.player.port.onmessage = (event) => this.onPlayer(event.data);
    const tap = new AudioWorkletNode(context, "parley-tap", { outputChannelCount: [1] });
    tap.port.onmessage = (event) => this.onLevel(event.data);
    this.player.connect(tap).connect(context.destination);
    if (context.state === "suspended") await context.resume();
  }

  /** Open the microphone; echo cancellation, noise suppression and auto gain stay on for
   * real users so the bot does not hear (and interrupt) itself. */
  async startMicrophone({ processing = true } = {}) {
    await this.init();
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing },
    });
    this.source = this.context.createMediaStreamSource(this.stream);
    this.capture = new AudioWorkletNode(this.context, "parley-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: "explicit",
      channelInterpretation: "speakers",
      processorOptions: { frameSamples: Math.round((this.context.sampleRate * FRAME_MS) / 1000) },
    });
    this.capture.port.onmessage = (event) => this.onCaptured(new Int16Array(event.data));
    this.source.connect(this.capture);
  }

  stopMicrophone() {
    if (this.capture) {
      this.capture.port.postMessage({ type: "stop" });
      this.source.disconnect();
      this.capture = null;
      this.source = null;
    }
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
      this.stream = null;
    }
  }

  /** Queue a turn's PCM16 (at `rate`) for playback. */
  play(turnId, samples, rate) {
    if (!this.player) return;
    let floats = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) floats[i] = samples[i] / 32768;
    if (rate !== this.context.sampleRate) floats = resampleLinear(floats, rate, this.context.sampleRate);
    this.player.port.postMessage({ type: "audio", turnId, samples: floats }, [floats.buffer]);
  }

  endTurn(turnId) {
    if (this.player) this.player.port.postMessage({ type: "end", turnId });
  }

  /** Hold a turn's audio where it is (nothing queued is dropped). */
  pause(turnId) {
    if (this.player) this.player.port.postMessage({ type: "pause", turnId });
  }

  resume(turnId) {
    if (this.player) this.player.port.postMessage({ type: "resume", turnId });
  }

  flush(turnId) {
    if (this.player) this.player.port.postMessage({ type: "flush", turnId });
  }

  flushAll() {
    if (this.player) this.player.port.postMessage({ type: "flushAll" });
  }
}

/** Linear interpolation, for a server whose output rate differs from the context's. */
function resampleLinear(input, fromRate, toRate) {
  const output = new Float32Array(Math.round((input.length * toRate) / fromRate));
  const step = fromRate / toRate;
  for (let i = 0; i < output.length; i++) {
    const position = i * step;
    const index = Math.floor(position);
    const next = Math.min(index + 1, input.length - 1);
    output[i] = input[index] + (input[next] - input[index]) * (position - index);
  }
  return output;
}
