// The wire format of PROTOCOL.md: binary frames with an 8-byte header. The constants are
// generated from the server's own protocol definitions (scripts/gen_docs.py).
import { FLAG_ENERGY_MASK, FLAG_FIRST_BLOCK, FLAG_SILENCE, HEADER_BYTES } from "./protocol-constants.js";

const SILENCE_ENERGY = 4;

/** Microphone PCM16 -> a binary frame: timestamp (ms), flags (energy 0-255, silence, first block). */
export function encodeAudioIn(samples, timestampMs, firstBlock) {
  const buffer = new ArrayBuffer(HEADER_BYTES + samples.byteLength);
  let sumSquares = 0;
  for (let i = 0; i < samples.length; i++) sumSquares += samples[i] * samples[i];
  const rms = Math.sqrt(sumSquares / Math.max(1, samples.length)) / 32768;
  const energy = Math.min(FLAG_ENERGY_MASK, Math.round(rms * 4 * FLAG_ENERGY_MASK));
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
