"""A character tokenizer that travels inside the model file.

One token per character (a Chinese character, an English letter, a space, a newline), plus a
few special tokens written ``<name>`` (``<bos>``, ``<eos>``, ``<sep>``, ``<unk>``, and tags such
as ``<wuyan-jueju>`` or ``<sonnet>`` that say which form a document has). The vocabulary is
stored in the model's safetensors metadata (``to_meta``/``from_meta``), so a model can never be
sampled with another model's vocabulary.
"""

from __future__ import annotations

import collections
import hashlib
import json
from typing import Iterable

from yingshe.core.errors import WeightsError

PAD, BOS, EOS, UNK, SEP = "<pad>", "<bos>", "<eos>", "<unk>", "<sep>"
BASE_SPECIALS = (PAD, BOS, EOS, UNK, SEP)


class CharTokenizer:
    """Characters ↔ ids. ``tokens[i]`` is the string of id ``i``; specials are ``<...>``."""

    kind = "char"

    def __init__(self, tokens: Iterable[str]):
        self.tokens = list(tokens)
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("tokenizer tokens must be unique")
        for s in BASE_SPECIALS:
            if s not in self.tokens:
                raise ValueError(f"tokenizer lacks the special token {s}")
        for t in self.tokens:
            if len(t) != 1 and not (t.startswith("<") and t.endswith(">")):
                raise ValueError(f"token {t!r} is neither one character nor a <special>")
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.specials = [t for t in self.tokens if len(t) > 1]
        self.pad, self.bos, self.eos, self.unk, self.sep = (self.index[s] for s in BASE_SPECIALS)

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, texts: Iterable[str], *, specials: Iterable[str] = (), min_count: int = 1,
              max_size: int | None = None) -> "CharTokenizer":
        """Vocabulary from training texts: characters seen at least ``min_count`` times (most
        frequent first, ties by code point), after the special tokens."""
        counts: collections.Counter = collections.Counter()
        extra = [s for s in specials if s not in BASE_SPECIALS]
        for t in texts:
            counts.update(strip_specials(t, set(BASE_SPECIALS) | set(extra)))
        chars = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        if max_size is not None:
            chars = chars[: max(0, max_size - len(BASE_SPECIALS) - len(extra))]
        return cls(list(BASE_SPECIALS) + extra + chars)

    # ------------------------------------------------------------------ use
    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, ch: str) -> bool:
        return ch in self.index

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; ``<special>`` names known to the tokenizer become their token,
        characters it does not know become ``<unk>``."""
        out = []
        i, n = 0, len(text)
        while i < n:
            if text[i] == "<":
                j = text.find(">", i + 1)
                if j > 0 and text[i:j + 1] in self.index:
                    out.append(self.index[text[i:j + 1]])
                    i = j + 1
                    continue
            out.append(self.index.get(text[i], self.unk))
            i += 1
        return out

    def decode(self, ids: Iterable[int], *, skip_specials: bool = False) -> str:
        toks = (self.tokens[int(i)] for i in ids)
        if skip_specials:
            toks = (t for t in toks if len(t) == 1)
        return "".join(toks)

    def unknown(self, text: str) -> list[str]:
        """The characters of ``text`` that this vocabulary lacks (in order, once each)."""
        seen = []
        for ch in text:
            if ch not in self.index and ch not in seen:
                seen.append(ch)
        return seen

    # ------------------------------------------------------------------ storage
    def to_meta(self) -> dict:
        return {"kind": self.kind, "tokens": self.tokens, "sha256": self.fingerprint()}

    @classmethod
    def from_meta(cls, meta: dict) -> "CharTokenizer":
        if not isinstance(meta, dict) or meta.get("kind") != cls.kind or not isinstance(meta.get("tokens"), list):
            raise WeightsError("the model file has no character tokenizer inside (not a yingshe poem model?)")
        tok = cls(meta["tokens"])
        if meta.get("sha256") and meta["sha256"] != tok.fingerprint():
            raise WeightsError("the tokenizer stored in the model file is damaged (fingerprint mismatch)")
        return tok

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.tokens, ensure_ascii=False).encode()).hexdigest()


def strip_specials(text: str, specials: set[str]) -> str:
    """``text`` without the ``<special>`` tokens in it (for counting characters)."""
    if "<" not in text:
        return text
    for s in specials:
        text = text.replace(s, "")
    return text
