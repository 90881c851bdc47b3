"""The pinyin sort key of a customer name, written on every path that writes a name.

PostgreSQL sorts text by code point unless an ICU collation is available, and the
embedded server has no ICU; a stored key sorts Chinese names the way a clerk
reads them on every PostgreSQL. Latin letters and digits keep their place
(lower-cased), so `ABC地产` sorts under "a".
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin

KEY_MAX_LENGTH = 400

_CONVERTER = DefaultConverter()
_PINYIN = Pinyin(_CONVERTER)


@lru_cache(maxsize=65_536)
def _word_syllables(word: str) -> tuple[str, ...]:
    # pypinyin converts each word of its segmentation on its own (no context
    # across words), so a word's syllables can be remembered: company names
    # repeat the same words (北京, 房产经纪, 有限公司), and converting them is
    # most of the cost (about 90 µs a name uncached, a 100,000-row import's
    # largest single step).
    syllables = _CONVERTER.convert(word, Style.NORMAL, False, "default", strict=True)
    return tuple(s.strip().lower() for (s, *_rest) in syllables if s.strip())


def name_sort_key(name: str) -> str:
    """`北京链家` → `bei jing lian jia`; non-Chinese runs stay as they are, lower-cased.

    The same result as `lazy_pinyin(name, style=Style.NORMAL)`, word by word.
    """
    words = _PINYIN.seg(name.strip())
    return " ".join([s for word in words for s in _word_syllables(word)])[:KEY_MAX_LENGTH]
