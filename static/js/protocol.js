// The wire format of PROTOCOL.md: binary frames with an 8-byte header.
export const HEADER_BYTES = 8;
const FLAG_SILENCE = 1 << 8;
const FLAG_FIRST_BLOCK = 1 << 9;
const SILENCE_ENERGY = 4;

/** Microphone PCM16 -> a binary frame: timestamp (ms), flags (energy 0-255, silence, first block). */
export function encodeAudioIn(samples, timestampMs, firstBlock) {
  const buffer = new ArrayBuffer(HEADER_BYTES + samples.byteLength);
  let sumSquares = 0;
  for (let i = 0; i < samples.length; i++) sumSquares += samples[i] * samples[i];
  const rms = Math.sqrt(sumSquares / Math.max(1, samples.length)) / 32768;
  const energy = Math.min(255, Math.round(rms * 4 * 255));
  let flags = energy;
  if (energy < SILENCE_ENERGY) flags |= FLAG_SILENCE;
  if (firstBlock) flags |= FLAG_FIRST_BLOCK;
  const view = new DataView(buffer);
  view.setUint32(0, timestampMs >>> 0, true);
  view.setUint32(4, flags, true);
  new Int16Array(buffer, HEADER_BYTES).set(samples);
  return buffer;
}

/** A server audio frame -> {turnId, sequence, samples (Int16Array)}. */
export function decodeAudioOut(buffer) {
  const view = new DataView(buffer);
  return {
    turnId: view.getUint32(0, true),
    sequence: view.getUint32(4, true),
    samples: new Int16Array(buffer.slice(HEADER_BYTES)),
  };
}
