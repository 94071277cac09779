"""Why a voice note could not become text, each with the fix an operator can apply.

SpeechError              a note could not be transcribed; `reason` is a stable key
 ├─ SpeechUnavailable    this installation cannot transcribe at all (retrying later helps
 │                       only after the fix): no ffmpeg, no model package, no runtime
 └─ UnreadableAudio      this particular file is not audio ffmpeg can decode (corrupt,
                         truncated, or not audio at all)

`reason` keys: ffmpeg_missing, model_missing, runtime_missing, unreadable, too_long.
`fix` is for operators and `jamie doctor`, never shown to a clinician as is.
"""

from __future__ import annotations


class SpeechError(Exception):
    reason = "unreadable"

    def __init__(self, detail: str, *, fix: str = "") -> None:
        self.detail = detail
        self.fix = fix
        super().__init__(f"{detail} ({fix})" if fix else detail)


class SpeechUnavailable(SpeechError):
    def __init__(self, reason: str, detail: str, *, fix: str) -> None:
        super().__init__(detail, fix=fix)
        self.reason = reason


class UnreadableAudio(SpeechError):
    def __init__(self, detail: str, *, reason: str = "unreadable") -> None:
        super().__init__(detail)
        self.reason = reason
