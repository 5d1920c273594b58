"""Parley's messages from client to server, as typed models (see messages.py for the whole protocol)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, field_validator


class ClientMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Start(ClientMessage):
    """Listen to the microphone again after `stop`. Answered with `status{state: listening}`."""

    type: Literal["start"]


class Stop(ClientMessage):
    """Cancel any reply, forget speech in progress, ignore audio until `start`. Answered with
    `tts_stop` (if a reply was cut), `stop_acknowledged` and `status{stopped}`."""

    type: Literal["stop"]


class Reset(ClientMessage):
    """Cancel any reply and speech in progress, clear the history, listen. Answered with
    `reset_acknowledged` and `status{listening}`."""

    type: Literal["reset"]


class Interrupt(ClientMessage):
    """Cut the current reply as a barge-in would. Answered with `tts_stop{reason: interrupt}`
    (if a reply was cut) and `interrupt_acknowledged`."""

    type: Literal["interrupt"]


class TextInput(ClientMessage):
    """A typed user turn: cuts any reply (`tts_stop{reason: text_input}`), echoed as
    `final_transcript{source: text}`. Refused with `not_listening` while stopped."""

    type: Literal["text_input"]
    text: StrictStr = Field(
        min_length=1, description="the user's words, 1 to MAX_TEXT_CHARS characters, not only spaces"
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is only spaces")
        return text


class Configure(ClientMessage):
    """Change this session's settings, at any time. Answered with `configured` and the effective values."""

    type: Literal["configure"]
    input_sample_rate: StrictInt | None = Field(None, description="microphone rate: 16000, 24000 or 48000")
    language: StrictStr | None = Field(None, min_length=1, max_length=35, description="e.g. en-US")
    system_prompt: StrictStr | None = Field(None, description="at most MAX_TEXT_CHARS characters")
    voice: StrictStr | None = Field(None, max_length=200, description="a voice of the TTS provider")
    output_frame_ms: StrictInt | None = Field(
        None, ge=10, le=100, description="ms of audio per binary frame the server sends, 10-100, from the next reply on"
    )


class Playback(ClientMessage):
    """What the client's player has played of a turn's audio: send it while playing (every
    100-250 ms) and right after flushing on `tts_stop`. The server paces audio against it and
    keeps in history only the words played."""

    type: Literal["playback"]
    turn_id: StrictInt = Field(ge=0, lt=1 << 32, description="the turn whose audio was played")
    played_ms: float = Field(ge=0, allow_inf_nan=False, description="ms of that turn's audio played so far")


CLIENT_MESSAGES: tuple[type[ClientMessage], ...] = (Start, Stop, Reset, Interrupt, TextInput, Configure, Playback)
AnyClientMessage = Start | Stop | Reset | Interrupt | TextInput | Configure | Playback
CLIENT_ADAPTER: TypeAdapter[AnyClientMessage] = TypeAdapter(Annotated[AnyClientMessage, Field(discriminator="type")])
