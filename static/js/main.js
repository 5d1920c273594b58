// Wiring: microphone -> WebSocket, server events -> view and player, player -> playback acks.
import { AudioEngine } from "./audio.js";
import { Connection } from "./connection.js";
import { decodeAudioOut, encodeAudioIn } from "./protocol.js";
import { View } from "./ui.js";

const params = new URLSearchParams(location.search);
const view = new View(document);
const toggle = document.querySelector("#toggle");
const form = document.querySelector("#say");
const input = document.querySelector("#text");

// Counters for diagnostics and the end-to-end tests (window.parley.stats, with ?debug).
const stats = {
  framesSent: 0,
  samplesSent: 0,
  playbackAcks: 0,
  underruns: 0,
  stopReceivedAt: {}, // turnId -> performance.now() when tts_stop arrived
  levels: [], // {audible, at: performance.now()} from the tap after the player
  sessions: [], // every `session` message
};

let micOn = false;
let serverState = "listening";
let outputRate = 24000;
let framesSinceStart = 0;
const stoppedTurns = new Set(); // turns cut by tts_stop: their late frames are dropped
const MAX_STOPPED_TURNS = 64;

const audio = new AudioEngine({
  onCaptured(frame) {
    if (!micOn) return;
    const timestamp = Math.round((framesSinceStart * frame.length * 1000) / audio.sampleRate);
    if (connection.sendAudio(encodeAudioIn(frame, timestamp, framesSinceStart === 0))) {
      stats.framesSent++;
      stats.samplesSent += frame.length;
    }
    framesSinceStart++;
  },
  onPlayer(report) {
    stats.underruns = report.underruns ?? stats.underruns;
    if (connection.sendJson({ type: "playback", turn_id: report.turnId, played_ms: report.playedMs })) {
      stats.playbackAcks++;
    }
  },
  onLevel(level) {
    stats.levels.push({ audible: level.audible, at: performance.now() });
    if (stats.levels.length > 2000) stats.levels.splice(0, 1000);
  },
});

const connection = new Connection({
  onLink(state, detail) {
    view.setLink(state, detail);
    if (state === "open") {
      stats.sessions.push(detail);
      audio.flushAll(); // a reply cut by the drop will not continue
      if (micOn) {
        connection.sendJson({ type: "configure", input_sample_rate: audio.sampleRate });
        connection.sendJson({ type: "start" });
      }
    }
  },
  onMessage: handle,
  onAudio(buffer) {
    const frame = decodeAudioOut(buffer);
    if (!stoppedTurns.has(frame.turnId)) audio.play(frame.turnId, frame.samples, outputRate);
  },
});

function handle(message) {
  switch (message.type) {
    case "session":
      outputRate = message.output_sample_rate;
      break;
    case "status":
      serverState = message.state;
      view.setState(micOn || message.state !== "listening" ? message.state : "idle");
      break;
    case "partial_transcript":
      view.userText(message.turn_id, message.content, false);
      break;
    case "final_transcript":
      view.userText(message.turn_id, message.content, true, message.source);
      break;
    case "llm_response":
      if (message.content && !stoppedTurns.has(message.turn_id)) view.assistantText(message.turn_id, message.content);
      break;
    case "tts_start":
      outputRate = message.sample_rate;
      view.sentenceStarted(message.turn_id, message.text, message.offset_ms);
      break;
    case "tts_end":
      audio.endTurn(message.turn_id);
      break;
    case "tts_stop":
      stats.stopReceivedAt[message.turn_id] = performance.now();
      stoppedTurns.add(message.turn_id);
      if (stoppedTurns.size > MAX_STOPPED_TURNS) stoppedTurns.delete(stoppedTurns.values().next().value);
      audio.flush(message.turn_id); // the player answers with `flushed`, sent as a playback ack
      view.markInterrupted(message.turn_id, message.played_ms);
      break;
    case "metrics":
      view.showLatency(message.turn_id, message);
      break;
    case "error":
      view.showError(message.code, message.message);
      break;
    default:
      break; // acknowledgements and llm_status need no rendering
  }
}

async function start() {
  toggle.disabled = true;
  try {
    await audio.startMicrophone({ processing: params.get("processing") !== "off" });
    micOn = true;
    framesSinceStart = 0;
    connection.sendJson({ type: "configure", input_sample_rate: audio.sampleRate });
    connection.sendJson({ type: "start" });
    toggle.textContent = "Stop";
    toggle.setAttribute("aria-pressed", "true");
    view.setState("listening");
  } catch (error) {
    view.showError("microphone", `Could not open the microphone: ${error.message}`);
  } finally {
    toggle.disabled = false;
  }
}

function stop() {
  micOn = false;
  audio.stopMicrophone();
  connection.sendJson({ type: "stop" });
  toggle.textContent = "Start";
  toggle.setAttribute("aria-pressed", "false");
}

toggle.addEventListener("click", () => (micOn ? stop() : start()));

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  await audio.init(); // a user gesture: playback may start
  if (serverState === "stopped") connection.sendJson({ type: "start" }); // typing needs no microphone
  if (connection.sendJson({ type: "text_input", text })) input.value = "";
});

window.addEventListener("pagehide", () => connection.close());
if (params.has("debug")) window.parley = { stats, connection, audio, start, stop }; // diagnostics and tests
view.setState("idle");
connection.connect();
