"""The pinyin sort key of a customer name, written on every path that writes a name.

PostgreSQL sorts text by code point unless an ICU collation is available, and the
embedded server has no ICU; a stored key sorts Chinese names the way a clerk
reads them on every PostgreSQL. Latin letters and digits keep their place
(lower-cased), so `ABC地产` sorts under "a".
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style
from pypinyin.constants import RE_HANS
from pypinyin.converter import DefaultConverter
from pypinyin.seg.mmseg import seg as phrase_seg

KEY_MAX_LENGTH = 400

# lazy_pinyin(name) splits the name into runs of Chinese and of other characters,
# cuts each Chinese run into dictionary phrases, and converts each piece on its own
# (no context across pieces). The same steps are taken here, remembering the
# pieces: company names repeat the same runs and words (北京, 房产经纪, 有限公司),
# and a 100,000-row import spent ~9 s of CPU in lazy_pinyin against ~1 s now.
_CONVERTER = DefaultConverter()
# pypinyin's RE_HANS is `^(?:[<characters with pinyin>])+$`; its character class, as a
# splitter: re.split with one group gives [other, hans, other, hans, ..., other] in one C
# call (grouping the name character by character cost 1.7 million calls a 100,000-row import).
_HANS_CLASS = RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$")
_HANS_RUNS = re.compile(f"({_HANS_CLASS}+)")


def _syllables(piece: str) -> tuple[str, ...]:
    converted = _CONVERTER.convert(piece, Style.NORMAL, False, "default", strict=True)
    return tuple(s.strip().lower() for (s, *_rest) in converted if s.strip())


@lru_cache(maxsize=16_384)
def _hans_syllables(run: str) -> tuple[str, ...]:
    return tuple(s for word in phrase_seg.cut(run) for s in _word_syllables(word))


@lru_cache(maxsize=16_384)
def _word_syllables(word: str) -> tuple[str, ...]:
    return _syllables(word)


def _other_syllables(run: str) -> tuple[str, ...]:
    """What the converter makes of a run without Chinese characters (errors="default": the
    run itself), trimmed and lower-cased as `_syllables` does, without its call chain."""
    text = run.strip()
    return (text.lower(),) if text else ()


def name_sort_key(name: str) -> str:
    """`北京链家` → `bei jing lian jia`; non-Chinese runs stay as they are, lower-cased.

    The same result as `lazy_pinyin(name.strip(), style=Style.NORMAL)`, joined.
    """
    syllables: list[str] = []
    runs = _HANS_RUNS.split(name.strip())
    for index, run in enumerate(runs):
        if index % 2:
            syllables.extend(_hans_syllables(run))
        elif run:
            # Runs of other characters (ids, Latin names) rarely repeat: not remembered.
            syllables.extend(_other_syllables(run))
    return " ".join(syllables)[:KEY_MAX_LENGTH]
