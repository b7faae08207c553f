"""Evaluation harnesses, beside the runtime: retrieval, answers, headers, assignments.

The question sets they read that predate this package stay in ``search/data``
(the runtime's glossary and calibration sit beside them there); hand labels
written since live in ``evalsets/``.
"""

from pathlib import Path

import search

SEARCH_DATA = Path(search.__file__).resolve().parent / "data"
