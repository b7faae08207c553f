"""No server path in a public response: index messages name folders by their setting.

Messages from the index layer name the folders they are about (an operator
reading the server's log needs them). Sent to a client, they told anyone
where the server keeps its files; with ``current`` pointing outside the
index, ``/api/health`` showed that other place too. :func:`public_detail`
writes the index folder as ``POLICY_SEARCH_INDEX_DIR`` and any other
absolute path as ``[a server path]``; the full message goes to the log.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

SETTING = "POLICY_SEARCH_INDEX_DIR"
HIDDEN = "[a server path]"
# An absolute POSIX path: a slash that starts a word, then anything up to a space or quote.
_ABSOLUTE = re.compile(r"(?<![\w.~/-])/[^\s'\"`,;:()<>]*")


def public_detail(text: str, index_dir: Path) -> str:
    """``text`` with the index folder named by its setting and other absolute paths hidden."""
    names = {str(index_dir.absolute())}
    with contextlib.suppress(OSError):
        names.add(str(index_dir.resolve()))
    for name in sorted((n.rstrip(os.sep) for n in names), key=len, reverse=True):
        if name:
            text = re.sub(re.escape(name) + r"(?![^/\s'\"`,;:()<>])", SETTING, text)
    return _ABSOLUTE.sub(HIDDEN, text)


__all__ = ["public_detail"]
