"""django-tables2 with its per-cell `inspect.signature` call cached (installed at start-up).

django-tables2 3.0 asks `inspect.signature` about a column's render method for every
cell it renders: on a 50-row page of 12 columns that is 600 signature computations,
a third of the receivables page's CPU (cProfile). A method's signature does not change,
so it is computed once per function (bound methods keyed by their function: the same
signature without `self`).
"""

from __future__ import annotations

import types
from typing import Any

_cache: dict[tuple[Any, bool], tuple[tuple[str, ...], str | None]] = {}


def install_signature_cache() -> None:
    from django_tables2 import utils

    if getattr(utils.signature, "opcms_cached", False):
        return
    uncached = utils.signature

    def signature(fn):
        bound = isinstance(fn, types.MethodType)
        key = (fn.__func__ if bound else fn, bound)
        try:
            return _cache[key]
        except KeyError:
            value = _cache[key] = uncached(fn)
            return value
        except TypeError:  # an unhashable callable: as django-tables2 does
            return uncached(fn)

    signature.opcms_cached = True
    utils.signature = signature
