"""The sentence that keeps an LLM in the session's language (small models drift without it)."""

from __future__ import annotations

LANGUAGES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "pl": "Polish",
    "cs": "Czech", "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "ar": "Arabic",
    "he": "Hebrew", "hi": "Hindi", "ja": "Japanese", "ko": "Korean", "zh": "Chinese", "vi": "Vietnamese",
    "id": "Indonesian", "th": "Thai",
}  # fmt: skip


def answer_in(language: str) -> str:
    """'Always answer in French.' for fr-FR; the tag itself for a language not listed."""
    name = LANGUAGES.get(language.split("-")[0].lower(), language)
    return f"Always answer in {name}, whatever the language of the question."


def system_prompt(prompt: str, language: str) -> str:
    return f"{prompt.rstrip()}\n{answer_in(language)}"
