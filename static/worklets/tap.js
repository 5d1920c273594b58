// A pass-through tap after the player: reports when its output becomes audible or silent,
// so the page (and its tests) can see what was really played, even with no sound card.
const AUDIBLE = 1e-4;

class TapProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.audible = false;
  }

  process(inputs, outputs) {
    const input = inputs[0];
    const output = outputs[0];
    let peak = 0;
    for (let c = 0; c < output.length; c++) {
      const source = input[c] || input[0];
      if (!source) {
        output[c].fill(0);
        continue;
      }
      output[c].set(source);
      for (let i = 0; i < source.length; i++) peak = Math.max(peak, Math.abs(source[i]));
    }
    const audible = peak > AUDIBLE;
    if (audible !== this.audible) {
      this.audible = audible;
      this.port.postMessage({ type: "level", audible, at: currentTime });
    }
    return true;
  }
}

registerProcessor("parley-tap", TapProcessor);
