// Microphone capture: every input sample, converted to PCM16 and posted in fixed frames.
// Runs on the audio rendering thread, so the main thread never polls and never loses audio.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frameSamples = options.processorOptions.frameSamples;
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.active = true;
    this.port.onmessage = (event) => {
      if (event.data.type === "stop") this.active = false;
    };
  }

  process(inputs) {
    if (!this.active) return false;
    const channel = inputs[0][0]; // the node down-mixes to mono (channelCount 1, explicit)
    if (!channel) return true; // no input connected yet
    for (let i = 0; i < channel.length; i++) {
      const v = Math.max(-1, Math.min(1, channel[i]));
      this.frame[this.filled++] = v < 0 ? v * 0x8000 : v * 0x7fff;
      if (this.filled === this.frameSamples) {
        this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
        this.frame = new Int16Array(this.frameSamples);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("parley-capture", CaptureProcessor);
