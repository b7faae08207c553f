"""English and short forms of what policy documents name, and the Vietnamese the documents use.

The data is ``search/data/glossary.json``, not code: agencies (with their short
Vietnamese forms and English names), role words (*chủ trì*: leads, in charge
of, …), English names of provinces, and English topic words with their
Vietnamese renderings. :func:`glossary` loads it once;
:meth:`Glossary.with_agencies` extends it with the agencies ingest found in an
index's documents (their headings and inline subjects) and the abbreviations
those documents define, so a plan's own agencies are recognised even when the
file does not list them.

Why English words map to Vietnamese at all: the multilingual embedder ranks
Vietnamese passages for an English question well enough, but its similarity
scores for English questions sit in the same band as those of off-topic
questions, so they cannot tell "found" from "not found" by themselves, and
BM25 over Vietnamese text cannot read English. Mapping the question's words
onto the documents' words lets the lexical side search and the answerer check
that a candidate is about what was asked. Matching folds diacritics.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingest.text import fold

GLOSSARY_JSON = Path(__file__).parent / "data" / "glossary.json"
ROLES = ("focal", "lead", "cooperate", "advise")


def folded_phrase(text: str) -> str:
    """Folded words joined by single spaces: how names and phrases are compared."""
    return " ".join(re.findall(r"[^\W_]+", fold(text.replace("&", " "))))


@dataclass(frozen=True)
class Agency:
    """An agency as the documents name it, with the other ways people type it."""

    name: str  # as written in the documents ("Sở Tài chính")
    aliases: tuple[str, ...] = ()  # Vietnamese short forms ("Sở TC", "Sở KH&ĐT")
    english: tuple[str, ...] = ()  # "Department of Finance", "DOF"

    def forms(self) -> list[str]:
        # "Sở Y tế" is also "ngành y tế" (the sector it runs) in officials' questions.
        sector = [f"ngành {self.name[3:]}"] if self.name.startswith("Sở ") else []
        return [self.name, *self.aliases, *sector, *self.english]


@dataclass(frozen=True)
class Glossary:
    agencies: tuple[Agency, ...]
    roles: Mapping[str, Mapping[str, tuple[str, ...]]]  # role -> {"vi": ..., "en": ...}
    province_en: Mapping[str, tuple[str, ...]]
    terms: Mapping[str, tuple[str, ...]]  # English word or phrase -> Vietnamese renderings
    places: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # countries -> English
    # Vietnamese phrases documents use for the same thing ("thỏa thuận", "biên bản ghi nhớ")
    synonyms: tuple[tuple[str, ...], ...] = ()
    # English nouns of things documents number ("semester" -> "học kỳ", "congress" -> "đại
    # hội"): "second semester" is written "học kỳ II", "14th Congress" "Đại hội XIV".
    ordered: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _phrases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def vietnamese_terms(self, word: str) -> list[str] | None:
        """Folded Vietnamese renderings of an English word, or None when it has none listed."""
        found = self.terms.get(word.lower().replace("-", " "))
        return None if found is None else [folded_phrase(v) for v in found]

    def english_term(self, phrase: str) -> list[str] | None:
        """Like :meth:`vietnamese_terms`, for an inflected word or phrase too: each word may
        stand for its dictionary form ("drafting" -> draft, "carrying out" -> carry out,
        "supplied" -> supply, "reports" -> report)."""
        words = phrase.lower().replace("-", " ").split()
        found = self.vietnamese_terms(" ".join(words))
        for i, word in enumerate(words):
            if found is not None:
                break
            for stem in english_stems(word):
                found = self.vietnamese_terms(" ".join([*words[:i], stem, *words[i + 1 :]]))
                if found is not None:
                    break
        return found

    def ordered_noun(self, word: str) -> list[str] | None:
        """Folded Vietnamese nouns for an English noun of a numbered thing ("semesters")."""
        for form in (word.lower(), *english_stems(word.lower())):
            if form in self.ordered:
                return [folded_phrase(v) for v in self.ordered[form]]
        return None

    def english_of(self, vietnamese: str) -> str | None:
        """An English word for a folded Vietnamese phrase (the first listed), if any."""
        if not self._phrases:
            reverse: dict[str, list[str]] = {}
            for en, vis in self.terms.items():
                for vi in vis:
                    reverse.setdefault(folded_phrase(vi), []).append(en)
            self._phrases.update({k: tuple(v) for k, v in reverse.items()})
        found = self._phrases.get(vietnamese)
        return found[0] if found else None

    def with_agencies(
        self, names: Iterable[str], abbreviations: Mapping[str, str] | None = None
    ) -> Glossary:
        """This glossary plus the agencies ``names`` (as documents write them) and the
        abbreviations documents define for them ({"STC": "Sở Tài chính"}).

        A name the file lists keeps its forms; a new "Sở …" name gets English
        forms made from the term list when every word of it has one ("Sở Du
        lịch" -> "Department of Tourism", "tourism department").
        """
        known = {folded_phrase(a.name): a for a in self.agencies}
        extra: dict[str, list[str]] = {}
        for abbr, name in (abbreviations or {}).items():
            extra.setdefault(folded_phrase(name), []).append(abbr)
        out: list[Agency] = []
        seen: set[str] = set()
        for name in [*(a.name for a in self.agencies), *names]:
            key = folded_phrase(name)
            if key in seen or not key:
                continue
            seen.add(key)
            base = known.get(key) or Agency(name, (), tuple(self._english_names(name)))
            if key in extra:
                base = Agency(base.name, (*base.aliases, *extra[key]), base.english)
            out.append(base)
        return Glossary(
            tuple(out),
            self.roles,
            self.province_en,
            self.terms,
            self.places,
            self.synonyms,
            self.ordered,
        )

    def synonyms_of(self, folded: str) -> list[str] | None:
        """Folded phrases that mean the same as the folded phrase ``folded``, itself first."""
        for group in self.synonyms:
            phrases = [folded_phrase(p) for p in group]
            if folded in phrases:
                return [folded, *(p for p in phrases if p != folded)]
        return None

    def _english_names(self, name: str) -> list[str]:
        words = folded_phrase(name).split()
        head = next((h for h in _HEADS if words[: len(h.split())] == h.split()), None)
        if head is None or len(words) <= len(head.split()):
            return []
        rest = words[len(head.split()) :]
        # "Trung tâm Chuyển đổi số Thành phố": the city's own centre, "Digital
        # Transformation Center" in English, which names no city.
        if rest[-2:] == ["thanh", "pho"] and len(rest) > 2:
            rest = rest[:-2]
        elif rest[-1:] == ["tinh"] and len(rest) > 1:
            rest = rest[:-1]
        # Each part in every English rendering the term list gives ("chuyển đổi số":
        # "digitalisation", "digital transformation"), a few combinations at most.
        topics = [""]
        while rest:
            if rest[0] == "va":
                topics = [f"{t} and" for t in topics]
                rest = rest[1:]
                continue
            for n in range(min(4, len(rest)), 0, -1):
                renderings = self._english_all(" ".join(rest[:n]))
                if renderings:
                    topics = [f"{t} {e}" for t in topics for e in renderings][:6]
                    rest = rest[n:]
                    break
            else:
                return []
        out: list[str] = []
        for topic in (t.strip() for t in topics):
            for english in _HEADS[head]:
                out += [f"{english} of {topic}", f"{topic} {english}"]
        return out

    def _english_all(self, vietnamese: str) -> tuple[str, ...]:
        self.english_of(vietnamese)  # builds the reverse table
        return self._phrases.get(vietnamese, ())


# Heads of the names of bodies that ingest finds, and their English: "Sở Du lịch" ->
# "Department of Tourism", "Trung tâm Chuyển đổi số" -> "Digital Transformation Center".
_HEADS = {
    "so": ("Department",),
    "trung tam": ("Center", "Centre"),
    "vien": ("Institute",),
    "chi cuc": ("Sub-Department",),
}


def english_stems(word: str) -> list[str]:
    """Dictionary forms an inflected English word may come from, most likely first:
    "reports" -> report, "activities" -> activity, "drafting" -> draft, "guiding" -> guide,
    "planned" -> plan, "supplied" -> supply. The caller keeps the one its list knows."""
    out: list[str] = []
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
        if word.endswith("ies"):
            out.append(word[:-3] + "y")
        elif word.endswith("es"):
            out.append(word[:-2])
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if len(stem) < 3 or not word.endswith(suffix):
            continue
        out += [stem, stem + "e"]
        if stem[-1] == stem[-2] and stem[-1] not in "ls":  # "planned", not "installed"
            out.append(stem[:-1])
        if suffix == "ed" and stem.endswith("i"):
            out.append(stem[:-1] + "y")
    return out


def _load(path: Path) -> Glossary:
    data = json.loads(path.read_text(encoding="utf-8"))
    agencies = tuple(
        Agency(a["vi"], tuple(a.get("aliases", ())), tuple(a.get("en", ())))
        for a in data["agencies"]
    )
    roles = {
        role: {lang: tuple(words) for lang, words in forms.items()}
        for role, forms in data["roles"].items()
    }
    provinces = {k: tuple(v) for k, v in data.get("province_en", {}).items()}
    # "mid-term" is read as the words "mid term", as questions are tokenised.
    terms = {k.lower().replace("-", " "): tuple(v) for k, v in data["terms"].items()}
    places = {k: tuple(v) for k, v in data.get("places", {}).items()}
    synonyms = tuple(tuple(group) for group in data.get("synonyms", ()))
    ordered = {k.lower(): tuple(v) for k, v in data.get("ordered", {}).items()}
    return Glossary(agencies, roles, provinces, terms, places, synonyms, ordered)


@functools.cache
def glossary() -> Glossary:
    """The glossary shipped with the package (read once)."""
    return _load(GLOSSARY_JSON)


def vietnamese_terms(word: str) -> list[str] | None:
    """Folded Vietnamese renderings of an English word, or None when it has none listed."""
    return glossary().vietnamese_terms(word)
