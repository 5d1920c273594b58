"""A GGUF chat model on ik_llama.cpp's prebuilt library, driven directly through ctypes.

The library ships compiled in the ik-llama-cpp-python wheel (generic AVX2 build: no
source build at install, no -march=native code that crashes on AMX Xeons); its Python
wrapper is not streaming, so Parley drives the C API itself: the model's own chat
template, one KV cache reused across turns by common prefix (a follow-up only evaluates
its new tokens), sampling in numpy, and a stop check before every token.
Blocking: call from one worker thread at a time (services/local/engines.py).
"""

from __future__ import annotations

import codecs
import ctypes
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.base import ChatMessage

_LOG_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_SILENT = _LOG_CALLBACK(lambda level, text, data: None)  # kept alive for the library's lifetime
# This build's batched matrix kernels go wrong from 32 tokens a batch on CPUs without
# AVX-512 VNNI "fancy SIMD" (measured: different logits from mainline llama.cpp); 16 is
# right everywhere and as fast (tests/local/test_engines.py compares with mainline).
PROMPT_BATCH = 16
_init_lock = threading.Lock()
_api: Any = None


class _Message(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("content", ctypes.c_char_p)]


def _load_api() -> Any:
    """ik_llama.cpp's ctypes module, with the few functions its wrapper leaves out; once per process."""
    global _api
    with _init_lock:
        if _api is None:
            from ik_llama_cpp import _ctypes_api as api

            lib = api._lib
            ptr, i32, text, flag = ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_bool
            messages = ctypes.POINTER(_Message)
            for name, args, result in (
                ("llama_log_set", [_LOG_CALLBACK, ptr], None),
                ("llama_kv_cache_seq_rm", [ptr, i32, i32, i32], flag),
                ("llama_model_chat_template", [ptr, text], text),
                ("llama_chat_apply_template", [text, messages, ctypes.c_size_t, flag, text, i32], i32),
                ("llama_token_to_piece", [ptr, i32, text, i32, i32, flag], i32),
            ):
                function = getattr(lib, name)
                function.argtypes, function.restype = args, result
            lib.llama_log_set(_SILENT, None)
            api.llama_backend_init()
            _api = api
    return _api


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.3
    top_k: int = 40
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    repeat_last_n: int = 64
    seed: int | None = None


def _free(context: Any, model: Any) -> None:
    context.close()
    model.close()


class IkLlama:
    def __init__(self, path: str, context_tokens: int, threads: int, chat_template: str | None = None) -> None:
        api = _load_api()
        from ik_llama_cpp._internals import IkContext, IkModel

        self._api = api
        self._model = IkModel(path)
        self._context = IkContext(self._model, n_ctx=context_tokens, n_threads=threads, flash_attn=False)
        # freed at exit while the library's module globals still exist (their own __del__ runs too late)
        weakref.finalize(self, _free, self._context, self._model)
        self.context_tokens = context_tokens
        self.n_vocab = self._model.n_vocab
        # the model's own template; a base model has none, and then a llama.cpp template name must be given
        own = api._lib.llama_model_chat_template(self._model.model, None)
        self._template = chat_template.encode() if chat_template else own
        self._cached: list[int] = []  # the tokens the KV cache holds, in order

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        """`messages` in the model's chat template, ending where the assistant's turn begins."""
        chat = (_Message * len(messages))(*[_Message(m["role"].encode(), m["content"].encode()) for m in messages])
        size = 2 * sum(len(m["content"]) + 32 for m in messages) + 256
        buffer = ctypes.create_string_buffer(size)
        written = self._api._lib.llama_chat_apply_template(self._template, chat, len(messages), True, buffer, size)
        if written > size:
            buffer = ctypes.create_string_buffer(written)
            self._api._lib.llama_chat_apply_template(self._template, chat, len(messages), True, buffer, written)
        if written < 0:
            raise RuntimeError("the model's chat template is not one llama.cpp knows")
        tokens: list[int] = self._model.tokenize(buffer.raw[:written].decode("utf-8"), add_bos=True, special=True)
        return tokens

    def generate(
        self, messages: Sequence[ChatMessage], max_tokens: int, sampling: Sampling, stopped: Callable[[], bool]
    ) -> Iterator[str]:
        """The reply's text, piece by piece; `stopped()` is checked before every token."""
        tokens = self.prompt_tokens(messages)
        if len(tokens) + max_tokens >= self.context_tokens:
            raise ValueError(f"the conversation ({len(tokens)} tokens) does not fit the context window")
        self._evaluate_prompt(tokens)
        rng = np.random.default_rng(sampling.seed)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for _ in range(max_tokens):
            if stopped():
                return
            token = self._sample(sampling, rng)
            if self._api.llama_token_is_eog(self._model.model, token):
                break
            if text := decoder.decode(self._piece(token)):
                yield text
            self._decode([token], len(self._cached))
        if rest := decoder.decode(b"", final=True):
            yield rest

    def _evaluate_prompt(self, tokens: list[int]) -> None:
        """Evaluate what the KV cache does not hold yet: only the new turns of a follow-up."""
        keep = 0
        for cached, wanted in zip(self._cached, tokens[:-1], strict=False):  # the last token is always evaluated
            if cached != wanted:
                break
            keep += 1
        self._api._lib.llama_kv_cache_seq_rm(self._context.ctx, -1, keep, -1)
        del self._cached[keep:]
        for start in range(keep, len(tokens), PROMPT_BATCH):
            self._decode(tokens[start : start + PROMPT_BATCH], start)

    def _decode(self, tokens: list[int], position: int) -> None:
        from ik_llama_cpp._internals import make_batch_range

        batch = make_batch_range(tokens, pos_start=position, logits_last=True)
        try:
            if self._context.decode(batch) != 0:
                self._cached.clear()
                self._context.kv_cache_clear()
                raise RuntimeError("llama_decode failed")
        finally:
            self._api.llama_batch_free(batch)
        self._cached.extend(tokens)

    def _sample(self, sampling: Sampling, rng: np.random.Generator) -> int:
        pointer = self._api.llama_get_logits_ith(self._context.ctx, -1)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).astype(np.float64)
        recent = np.unique(np.asarray(self._cached[-sampling.repeat_last_n :], dtype=np.int64))
        if sampling.repeat_penalty != 1.0 and len(recent):
            seen = logits[recent]
            logits[recent] = np.where(seen > 0, seen / sampling.repeat_penalty, seen * sampling.repeat_penalty)
        if sampling.temperature <= 0:
            return int(np.argmax(logits))
        top = np.argpartition(logits, -sampling.top_k)[-sampling.top_k :]
        top = top[np.argsort(logits[top])[::-1]]
        weights = np.exp((logits[top] - logits[top[0]]) / sampling.temperature)
        weights /= weights.sum()
        keep = int(np.searchsorted(np.cumsum(weights), sampling.top_p) + 1)
        return int(rng.choice(top[:keep], p=weights[:keep] / weights[:keep].sum()))

    def _piece(self, token: int) -> bytes:
        buffer = ctypes.create_string_buffer(64)
        written = self._api._lib.llama_token_to_piece(self._model.model, token, buffer, 64, 0, False)
        if written > 64:
            buffer = ctypes.create_string_buffer(written)
            written = self._api._lib.llama_token_to_piece(self._model.model, token, buffer, written, 0, False)
        return buffer.raw[: max(0, written)]
