"""Settings of turn taking while the bot speaks: pause at once, cut on a real interruption,
resume after a cough (README: Turn taking). BARGE_IN_MIN_MS (the bar) is a server setting."""

from __future__ import annotations

from pydantic import Field

from config import EnvSettings
from engine.turns.policy import BACKCHANNELS, STOP_WORDS, TurnTakingOptions


class TurnTakingSettings(EnvSettings):
    """What the user's speech does to a reply that is playing."""

    barge_in_pause: bool = Field(
        True, description="Pause the reply's audio at the first confirmed speech frame (tts_pause); false: play "
        "on until the speech cuts it."
    )  # fmt: skip
    barge_in_resume_silence_ms: int = Field(
        300, ge=20, le=5000, description="A paused reply resumes once the speech that paused it has been quiet "
        "this long without becoming an interruption."
    )  # fmt: skip
    barge_in_pause_max_ms: int = Field(3000, ge=100, le=30000, description="No pause lasts longer than this.")
    barge_in_min_words: int = Field(
        1, ge=0, le=10, description="Once the speech's words are known, this many that are not backchannel are "
        "needed to cut the reply (0: the BARGE_IN_MIN_MS bar alone decides)."
    )  # fmt: skip
    barge_in_wait_for_words: bool = Field(
        True, description="Speech that reaches BARGE_IN_MIN_MS before any of its words are known keeps the reply "
        "paused until they are (a backchannel then resumes it); false: the bar cuts at once."
    )  # fmt: skip
    barge_in_backchannels: str = Field(
        ",".join(BACKCHANNELS), description="Words and phrases (comma separated) that never cut the reply."
    )
    barge_in_stop_words: str = Field(
        ",".join(STOP_WORDS), description="Words and phrases (comma separated) that cut the reply at once."
    )

    def options(self) -> TurnTakingOptions:
        return TurnTakingOptions(
            pause=self.barge_in_pause, resume_silence_ms=self.barge_in_resume_silence_ms,
            pause_max_ms=self.barge_in_pause_max_ms,
            min_words=self.barge_in_min_words, wait_for_words=self.barge_in_wait_for_words,
            backchannels=phrases(self.barge_in_backchannels), stop_words=phrases(self.barge_in_stop_words),
        )  # fmt: skip


def phrases(text: str) -> tuple[str, ...]:
    return tuple(" ".join(part.lower().split()) for part in text.split(",") if part.strip())
