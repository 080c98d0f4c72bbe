"""The voice read-out's settings (语音播报设置), kept between runs in the console's QSettings.

One typed record with its defaults (``VoiceSettings``), read and written under ``voice/`` in
the same file as the windows' settings (``console.ui.window_settings``). The voices offered
are espeak-ng's own: its Mandarin voices (``espeak-ng --voices=cmn``) and its variants
(``--voices=variant``, a different timbre: ``cmn+f3``).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from console.domain.readout import DEFAULT_KINDS
from console.domain.shoutouts import ShoutoutKind
from console.ui.window_settings import window_settings

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
GROUP = "voice"
VOICE = "cmn"
RATE = 165  # words a minute: espeak's 175 is a little quick for Mandarin in an earpiece
RATE_MIN, RATE_MAX = 80, 300  # slower is drawn out; faster than 300 is hard to follow
MANDARIN = "cmn"
# Names for the Mandarin voices espeak-ng ships (others keep espeak's own name).
VOICE_NAMES = {"cmn": "普通话", "cmn-latn-pinyin": "普通话（拉丁字母按拼音读）"}
GENDERS = {"F": "女声", "M": "男声"}
# `espeak-ng --voices` rows: priority, language, age/gender, name, file, other languages.
# What a saved voice or variant may look like (an argument of -v, never an option).
VOICE_NAME = re.compile(r"[a-z][a-z0-9-]*")
VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")
VOICE_ROW = re.compile(r"^\s*\d+\s+(\S+)\s+\S*/([MF-])\s+(\S+)\s+(\S+)")


@dataclass(frozen=True)
class VoiceSettings:
    """``device_id``: the output's ``QAudioDevice.id()`` ("" = the system default);
    ``device_name``: its description, to find it again if its id changed and to say which one
    is gone. ``voice``: an espeak-ng Mandarin voice; ``variant``: an espeak-ng variant ("" = the
    voice's own). ``rate``: words a minute. ``kinds``: the shout-out kinds read aloud."""

    device_id: str = ""
    device_name: str = ""
    voice: str = VOICE
    variant: str = ""
    rate: int = RATE
    kinds: frozenset[ShoutoutKind] = field(default=DEFAULT_KINDS)

    @property
    def espeak_voice(self) -> str:
        return f"{self.voice}+{self.variant}" if self.variant else self.voice


def clamp_rate(rate: int) -> int:
    return max(RATE_MIN, min(RATE_MAX, rate))


def parse_kinds(text: str) -> frozenset[ShoutoutKind]:
    known = {k.value: k for k in ShoutoutKind}
    return frozenset(known[name] for name in text.split(",") if name in known)


def load_voice_settings() -> VoiceSettings:
    """What the host chose last time; the defaults for anything not saved or not valid."""
    settings = window_settings()
    settings.beginGroup(GROUP)
    try:
        rate = int(str(settings.value("rate", RATE)))
    except ValueError:
        rate = RATE
    kinds = settings.value("kinds")
    voice = str(settings.value("voice", VOICE) or VOICE)
    variant = str(settings.value("variant", "") or "")
    loaded = VoiceSettings(
        device_id=str(settings.value("device_id", "") or ""),
        device_name=str(settings.value("device_name", "") or ""),
        voice=voice if VOICE_NAME.fullmatch(voice) else VOICE,
        variant=variant if VARIANT_NAME.fullmatch(variant) else "",
        rate=clamp_rate(rate),
        # Saved as one comma-separated string: "" (read nothing) differs from never saved.
        kinds=DEFAULT_KINDS if kinds is None else parse_kinds(str(kinds)),
    )
    settings.endGroup()
    return loaded


def save_voice_settings(chosen: VoiceSettings) -> None:
    settings = window_settings()
    settings.beginGroup(GROUP)
    settings.setValue("device_id", chosen.device_id)
    settings.setValue("device_name", chosen.device_name)
    settings.setValue("voice", chosen.voice)
    settings.setValue("variant", chosen.variant)
    settings.setValue("rate", chosen.rate)
    settings.setValue("kinds", ",".join(sorted(k.value for k in chosen.kinds)))
    settings.endGroup()
    settings.sync()


def load_muted() -> bool:
    """M as the host left it: a console muted at close starts muted."""
    value = window_settings().value(f"{GROUP}/muted", False)
    return value in (True, "true", "1", 1)


def save_muted(muted: bool) -> None:
    """Kept apart from ``VoiceSettings``: the settings dialog's choice does not touch M."""
    settings = window_settings()
    settings.setValue(f"{GROUP}/muted", muted)
    settings.sync()


def _espeak_rows(selector: str) -> list[tuple[str, str, str, str]]:
    """(language, gender, name, file) of ``espeak-ng --voices=SELECTOR``; [] without it."""
    espeak = shutil.which(ESPEAK)
    if espeak is None:
        return []
    try:
        out = subprocess.run(
            [espeak, f"--voices={selector}"],
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("voice: %s --voices failed: %s", ESPEAK, error)
        return []
    rows = []
    for line in out.splitlines()[1:]:
        if match := VOICE_ROW.match(line):
            rows.append((match[1], match[2], match[3], match[4]))
    return rows


def mandarin_voices() -> list[tuple[str, str]]:
    """(espeak voice, name to show) of the installed Mandarin voices, ``cmn`` first."""
    found = {language: name for language, _g, name, _f in _espeak_rows(MANDARIN)}
    found.setdefault(VOICE, VOICE_NAMES[VOICE])
    return [
        (code, VOICE_NAMES.get(code, name.replace("_", " ")))
        for code, name in sorted(found.items(), key=lambda item: (item[0] != VOICE, item[0]))
    ]


def voice_variants() -> list[tuple[str, str]]:
    """(variant, name to show) of espeak-ng's variants: ``f3`` → "f3（女声）"."""
    variants = []
    for _language, gender, name, file in _espeak_rows("variant"):
        code = file.rsplit("/", 1)[-1]
        label = name.replace("_", " ")
        variants.append((code, f"{label}（{GENDERS[gender]}）" if gender in GENDERS else label))
    return sorted(variants, key=lambda item: item[0].lower())
