#!/usr/bin/env bash
# Regenerates the speech WAVs under tests/data with espeak-ng and sox (apt: espeak-ng sox).
# 16 kHz mono PCM16, with 0.5 s of silence before and 0.8 s after each utterance.
set -euo pipefail
cd "$(dirname "$0")/../tests/data"
say() {
  espeak-ng -v en-us -s 165 -w /tmp/parley-say.wav "$2"
  sox /tmp/parley-say.wav -r 16000 -c 1 -b 16 "$1.wav" pad 0.5 0.8
}
say ocean "Hello there. Tell me about the ocean."
say mountains "What about the mountains?"
say rivers "Wait, tell me about rivers instead."
say short "Stop."
rm -f /tmp/parley-say.wav
