// A microphone the test speaks into on cue: getUserMedia returns a live stream that is
// silent until `window.testMicrophone.play(base64Pcm16, rate)` plays speech into it. The
// page captures it exactly as it captures a real microphone; the test decides *when* the
// user speaks from what it observes (the bot playing, say), not from a fixed timeline.
(() => {
  let context = null;
  let destination = null;
  const ready = () => {
    if (!context) {
      context = new AudioContext({ sampleRate: 24000 });
      destination = context.createMediaStreamDestination();
    }
    return destination;
  };
  navigator.mediaDevices.getUserMedia = async () => ready().stream;
  window.testMicrophone = {
    play(base64, rate) {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const pcm = new Int16Array(bytes.buffer);
      const buffer = context.createBuffer(1, pcm.length, rate);
      const channel = buffer.getChannelData(0);
      for (let i = 0; i < pcm.length; i++) channel[i] = pcm[i] / 32768;
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(destination);
      source.start();
      return new Promise((resolve) => (source.onended = () => resolve(pcm.length / rate)));
    },
  };
})();
