"""The pinyin sort key of a customer name, written on every path that writes a name.

PostgreSQL sorts text by code point unless an ICU collation is available, and the
embedded server has no ICU; a stored key sorts Chinese names the way a clerk
reads them on every PostgreSQL. Latin letters and digits keep their place
(lower-cased), so `ABC地产` sorts under "a".
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

KEY_MAX_LENGTH = 400


def name_sort_key(name: str) -> str:
    """`北京链家` → `bei jing lian jia`; non-Chinese runs stay as they are, lower-cased."""
    syllables = lazy_pinyin(name.strip(), style=Style.NORMAL, errors="default")
    return " ".join(s.strip().lower() for s in syllables if s.strip())[:KEY_MAX_LENGTH]
