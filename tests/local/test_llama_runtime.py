"""The local LLM's runtime: the prebuilt ik_llama.cpp library computes what mainline llama.cpp
computes, holds no instruction an AMX Xeon or an older CPU would fault on, reuses its KV cache
across turns, and stops when told."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from services.base import ChatMessage
from services.local import ik_llama
from services.local.ik_llama import IkLlama, Sampling
from services.local.llama_runtime import bundled_model_path, load

LONG_CHAT: list[ChatMessage] = [
    {"role": "system", "content": "You are Parley, a friendly voice assistant. Answer in one short sentence."},
    {"role": "user", "content": "What is the capital of Spain?"},
    {"role": "assistant", "content": "The capital of Spain is Madrid."},
    {"role": "user", "content": "And which river runs through the capital of Portugal?"},
]
GREEDY = Sampling(temperature=0.0)


@pytest.fixture(scope="module")
def ik() -> IkLlama:
    return IkLlama(bundled_model_path(), context_tokens=512, threads=1)


def last_logits(model: IkLlama) -> np.ndarray:
    pointer = ik_llama._load_api().llama_get_logits_ith(model._context.ctx, -1)
    return np.ctypeslib.as_array(pointer, shape=(model.n_vocab,)).copy()


def test_the_prompt_is_evaluated_as_mainline_llama_cpp_does(ik: IkLlama) -> None:
    """A prompt of several batches (this build's batched kernels are wrong from 32 tokens a batch on
    CPUs without AVX-512 VNNI; PROMPT_BATCH keeps batches under that): the logits agree."""
    llama_cpp = pytest.importorskip("llama_cpp")
    tokens = ik.prompt_tokens(LONG_CHAT)
    assert len(tokens) > 48  # more than the 32 where the kernels go wrong
    ik._evaluate_prompt(tokens)
    ours = last_logits(ik)
    mainline = llama_cpp.Llama(model_path=bundled_model_path(), n_ctx=512, n_threads=1, verbose=False, logits_all=True)
    mainline.eval(tokens)
    theirs = np.asarray(mainline.scores[len(tokens) - 1])
    assert int(np.argmax(ours)) == int(np.argmax(theirs))
    top = np.argsort(theirs)[-20:]
    assert np.max(np.abs(ours[top] - theirs[top])) < 0.05 * np.ptp(theirs)


def test_a_follow_up_evaluates_only_its_new_tokens(ik: IkLlama, monkeypatch: pytest.MonkeyPatch) -> None:
    first = "".join(ik.generate(LONG_CHAT[:2], 12, GREEDY, lambda: False))
    evaluated: list[int] = []
    decode = ik._decode

    def counting(tokens: list[int], position: int) -> None:
        evaluated.extend(tokens)
        decode(tokens, position)

    monkeypatch.setattr(ik, "_decode", counting)
    follow_up: list[ChatMessage] = [*LONG_CHAT[:2], {"role": "assistant", "content": first}, LONG_CHAT[3]]
    next(ik.generate(follow_up, 1, GREEDY, lambda: False))
    whole = len(ik.prompt_tokens(follow_up))
    assert 0 < len(evaluated) < whole / 2, f"{len(evaluated)} of {whole} prompt tokens evaluated again"


def test_greedy_replies_repeat_and_a_stop_ends_before_the_next_token(ik: IkLlama) -> None:
    again = ["".join(ik.generate(LONG_CHAT, 16, GREEDY, lambda: False)) for _ in range(2)]
    assert again[0].strip() and again[0] == again[1]
    pieces: list[str] = []
    for piece in ik.generate(LONG_CHAT, 50, GREEDY, lambda: len(pieces) >= 3):
        pieces.append(piece)
    assert len(pieces) == 3


def test_a_conversation_longer_than_the_context_is_a_clear_error() -> None:
    small = load("ik_llama", bundled_model_path(), 256, 1)
    chat: list[ChatMessage] = [{"role": "user", "content": "Tell me about the sea. " * 80}]
    with pytest.raises(ValueError, match="does not fit the context window"):
        next(iter(small.generate(chat, 16, GREEDY, lambda: False)))


@pytest.mark.parametrize("library", ["libggml.so", "libllama.so"])
def test_the_shipped_library_has_no_avx512_or_amx_code(library: str) -> None:
    """The reason Parley once built llama.cpp itself: -march=native builds crashed on AMX Xeons."""
    import ik_llama_cpp

    path = Path(ik_llama_cpp.__file__).parent / "lib" / library
    listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(path)], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    code = listing.stdout
    assert "%xmm" in code, "not a disassembly of x86-64 code"
    for register_or_op in ("%zmm", "%tmm", "ldtilecfg", "tdpb", "{%k"):
        assert register_or_op not in code, f"{library} uses {register_or_op}"
