"""Make the turn-taking corpus (tests/data/turn_corpus/): sounds a listener makes while the bot
speaks that are not interruptions (backchannels, laughter, coughs, claps, noise bursts, knocks)
and real interruptions, as 16 kHz mono WAVs with a manifest. Needs espeak-ng and sox (apt).

The files are committed; this script says how they were made (python scripts/make_turn_corpus.py).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "turn_corpus"
VOICES = ("en-us", "en-gb+f3")
BACKCHANNELS = ("mm-hmm", "uh-huh", "yeah", "okay", "right", "I see", "sure", "yes", "oh", "wow", "hmm", "ha ha")
SOX_SOUNDS = {  # name -> sox synth arguments (after "sox -n -r 16000 -b 16 -c 1 FILE synth")
    "cough": ["0.25", "brownnoise", "fade", "q", "0.01", "0.25", "0.15", "gain", "-6"],
    "cough-double": ["0.18", "brownnoise", "fade", "q", "0.01", "0.18", "0.1", "pad", "0", "0.12", "repeat", "1",
                     "gain", "-6"],
    "clap": ["0.04", "whitenoise", "fade", "q", "0.001", "0.04", "0.035", "gain", "-3"],
    "claps": ["0.04", "whitenoise", "fade", "q", "0.001", "0.04", "0.035", "pad", "0", "0.2", "repeat", "2",
              "gain", "-3"],
    "noise-burst-short": ["0.15", "pinknoise", "fade", "q", "0.01", "0.15", "0.05", "gain", "-8"],
    "noise-burst-long": ["0.3", "pinknoise", "fade", "q", "0.02", "0.3", "0.1", "gain", "-8"],
    "knock": ["0.06", "sine", "120", "fade", "q", "0.001", "0.06", "0.05", "pad", "0", "0.15", "repeat", "1"],
    "keys": ["0.015", "whitenoise", "fade", "q", "0.001", "0.015", "0.012", "pad", "0", "0.09", "repeat", "4",
             "gain", "-10"],
    "door": ["0.12", "brownnoise", "lowpass", "300", "fade", "q", "0.005", "0.12", "0.08", "gain", "0"],
    "breath": ["0.35", "pinknoise", "highpass", "800", "fade", "q", "0.1", "0.35", "0.15", "gain", "-18"],
}  # fmt: skip
INTERRUPTIONS = (
    "wait, stop", "hold on a second", "no, that is wrong", "stop please", "sorry, can I ask something else",
    "actually, tell me about the weather", "what time is it in Tokyo", "can you repeat that",
    "I do not understand", "let us talk about something different", "excuse me", "how much does it cost",
    "tell me a joke instead", "go back to the first point", "what do you mean by that", "never mind",
    "that is not what I asked", "please speak more slowly", "who are you", "where is the nearest station",
)  # fmt: skip


def speak(text: str, voice: str, path: Path, speed: int = 165) -> None:
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", raw.name, text], check=True)
        subprocess.run(["sox", raw.name, "-r", "16000", "-b", "16", "-c", "1", str(path), "silence", "1", "0.01",
                        "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"], check=True)  # fmt: skip


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for index, text in enumerate(BACKCHANNELS):
        name = f"backchannel-{text.replace(' ', '-').lower()}.wav"
        speak(text, VOICES[index % 2], OUT / name)
        manifest.append({"file": name, "interruption": False, "what": f'"{text}" (espeak-ng)'})
    for name, synth in SOX_SOUNDS.items():
        subprocess.run(["sox", "-n", "-r", "16000", "-b", "16", "-c", "1", str(OUT / f"{name}.wav"), "synth", *synth],
                       check=True)  # fmt: skip
        manifest.append({"file": f"{name}.wav", "interruption": False, "what": f"{name} (sox)"})
    for index, text in enumerate(INTERRUPTIONS):
        name = f"interruption-{index:02d}.wav"
        speak(text, VOICES[index % 2], OUT / name)
        manifest.append({"file": name, "interruption": True, "what": f'"{text}" (espeak-ng)'})
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
