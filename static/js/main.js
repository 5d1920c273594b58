// Wiring: microphone -> WebSocket, server events -> view and player, player -> playback acks.
import { AudioEngine } from "./audio.js";
import { Connection } from "./connection.js";
import { Outbox } from "./outbox.js";
import { decodeAudioOut, encodeAudioIn } from "./protocol.js";
import { PROTOCOL_VERSION } from "./protocol-constants.js";
import { View } from "./ui.js";

const params = new URLSearchParams(location.search);
const view = new View(document);
const toggle = document.querySelector("#toggle");
const newConversation = document.querySelector("#new");
const form = document.querySelector("#say");
const input = document.querySelector("#text");

// Counters for diagnostics and the end-to-end tests (window.parley.stats, with ?debug).
const stats = {
  framesSent: 0,
  samplesSent: 0,
  playbackAcks: 0,
  pauses: 0, // tts_pause messages received
  resumes: 0, // tts_resume messages received
  underruns: 0,
  stopReceivedAt: {}, // turnId -> performance.now() when tts_stop arrived
  flushes: {}, // turnId -> {droppedMs: unplayed audio the flush dropped, at}
  finished: {}, // turnId -> ms the player played of a turn it played to the end
  audioMs: {}, // turnId -> the turn's audio in all (tts_end)
  levels: [], // {audible, at: performance.now()} from the tap after the player
  sessions: [], // every `session` message
};

let micOn = false;
let serverState = "offline";
let lostConversation = false; // the server no longer had our session (it restarted, or it expired)
let outputRate = 24000;
let framesSinceStart = 0;
const REFUSALS = new Set(["service_unavailable", "not_listening", "bad_field"]); // of a typed turn
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
    if (report.type === "flushed") stats.flushes[report.turnId] = { droppedMs: report.droppedMs, at: performance.now() };
    if (report.type === "finished") stats.finished[report.turnId] = report.playedMs;
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
    newConversation.disabled = state !== "open";
    if (state === "open") {
      stats.sessions.push(detail);
      lostConversation = !detail.resumed && detail.askedFor !== null;
      audio.flushAll(); // a reply cut by the drop will not continue
      if (micOn) {
        connection.sendJson({ type: "configure", input_sample_rate: audio.sampleRate });
        connection.sendJson({ type: "start" });
      }
    } else if (state !== "connecting") {
      serverState = "offline"; // nothing the server said before the drop is still true
      view.setState("offline");
      view.dropUnfinishedSpeech();
      audio.flushAll();
      outbox.linkLost();
    }
  },
  onMessage: handle,
  onAudio(buffer) {
    const frame = decodeAudioOut(buffer);
    if (!stoppedTurns.has(frame.turnId)) audio.play(frame.turnId, frame.samples, outputRate);
  },
});
const outbox = new Outbox(view, (message) => connection.sendJson(message));

function handle(message) {
  switch (message.type) {
    case "session":
      outputRate = message.output_sample_rate;
      if (message.protocol_version.split(".")[0] !== PROTOCOL_VERSION.split(".")[0]) {
        view.setService("mismatch", `This page speaks protocol ${PROTOCOL_VERSION}, the server ${message.protocol_version}: reload the page.`);
      }
      break;
    case "history":
      stoppedTurns.clear();
      view.showHistory(message.items);
      if (lostConversation) view.notice("The server no longer had the previous conversation (it restarted, or the conversation expired): this is a new one.");
      outbox.historyShown(message.items);
      break;
    case "server_status":
      view.setService(message.state, message.reason);
      break;
    case "going_away":
      connection.reconnectAfterMs = message.reconnect_after_s * 1000;
      view.setLink("leaving");
      break;
    case "reset_acknowledged":
      stoppedTurns.clear();
      outbox.clear();
      view.clear();
      break;
    case "status":
      serverState = message.state;
      view.setState(micOn || message.state !== "listening" ? message.state : "idle");
      break;
    case "partial_transcript":
      view.userText(message.turn_id, message.content, false);
      break;
    case "final_transcript":
      if (message.source === "text") outbox.echoed(message.turn_id);
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
      stats.audioMs[message.turn_id] = message.audio_ms;
      audio.endTurn(message.turn_id);
      break;
    case "tts_stop":
      stats.stopReceivedAt[message.turn_id] = performance.now();
      stoppedTurns.add(message.turn_id);
      if (stoppedTurns.size > MAX_STOPPED_TURNS) stoppedTurns.delete(stoppedTurns.values().next().value);
      audio.flush(message.turn_id); // the player answers with `flushed`, sent as a playback ack
      view.markInterrupted(message.turn_id, message.played_ms);
      break;
    case "tts_pause": // the user may be cutting in: hold the player, keep what is queued
      stats.pauses++;
      audio.pause(message.turn_id);
      break;
    case "tts_resume": // it was a cough or an "mm-hmm": play on from where it held
      stats.resumes++;
      audio.resume(message.turn_id);
      break;
    case "metrics":
      view.showLatency(message.turn_id, message);
      break;
    case "error":
      if (REFUSALS.has(message.code) && message.turn_id == null && outbox.refusedOldest(message.message)) break;
      view.showError(message.code, message.message);
      break;
    default:
      break; // acknowledgements and llm_status need no rendering
  }
}

async function start() {
  toggle.disabled = true;
  connection.wake();
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
  input.value = "";
  connection.wake();
  await audio.init(); // a user gesture: playback may start
  if (serverState === "stopped") connection.sendJson({ type: "start" }); // typing needs no microphone
  outbox.submit(text, connection.open);
});

newConversation.addEventListener("click", () => {
  connection.sendJson({ type: "reset" }); // the page clears itself when the server has: reset_acknowledged
});

window.addEventListener("pagehide", () => connection.close());
if (params.has("debug")) window.parley = { stats, connection, audio, view, start, stop }; // diagnostics and tests
/** Where the server wants a token, say so instead of knocking at a closed door. */
async function checkAccess() {
  const headers = connection.token ? { authorization: `Bearer ${connection.token}` } : {};
  try {
    const access = await (await fetch("/v1/access", { headers, cache: "no-store" })).json();
    if (!access.auth_required || access.authorized) return true;
    view.setService("denied", connection.token
      ? "The access token in this page's address was not accepted (it may have expired): ask for a new link."
      : "This server needs an access token: open the link you were given (it ends in #token=…).");
  } catch {
    return true; // the server is not answering yet: the connection's own retries will tell
  }
  return false;
}

view.setState("offline");
if (await checkAccess()) connection.connect();
