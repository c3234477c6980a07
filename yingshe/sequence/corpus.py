"""Poem corpora for training: the Tang poems, public-domain English verse, or a user's file.

Every corpus becomes a list of :class:`Doc` (a form tag, a title, a body). A document is read by
the model as one string::

    <bos><wuyan-jueju>登鹳雀楼<sep>白日依山尽，黄河入海流。欲穷千里目，更上一层楼。<eos>
    <bos><sonnet><sep>From fairest creatures we desire increase,\\n...<eos>

- ``tang``: the 57,607 poems of the 全唐诗 (shared/data/corpora/chinese-poetry), converted to
  Simplified characters with OpenCC; kept when every line has 5 or every line has 7 characters
  (绝句, 律诗, and the longer 古体/排律 in the same line lengths), with punctuation normalised
  to "，" after odd lines and "。" after even lines. Tags: ``<wuyan-jueju>``, ``<qiyan-jueju>``,
  ``<wuyan-lushi>``, ``<qiyan-lushi>`` for the four regular forms, ``<wuyan>``/``<qiyan>`` else.
- ``english``: Shakespeare's sonnets (``<sonnet>``), Blake's Songs of Innocence and of
  Experience (``<lyric>``, rhymed stanzas), Milton's Paradise Lost and the verse speeches of
  tiny-shakespeare (``<verse>``, blank verse in 16-line passages). Whitman is left out: his long
  free-verse lines teach nothing about quatrains and sonnets.
- a ``.txt`` file (poems separated by blank lines) or a ``.json``/``.json.gz`` file (a list of
  ``{"title", "paragraphs" | "content" | "text" | "lines"}`` objects, or of strings). Chinese
  or English is decided by the characters in it.

The product never reads these folders: only ``yingshe train poem`` and the benchmarks do.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from yingshe.core.errors import BadInput

ZH_FORMS = {(5, 4): "wuyan-jueju", (7, 4): "qiyan-jueju", (5, 8): "wuyan-lushi", (7, 8): "qiyan-lushi"}
ZH_TAGS = tuple(f"<{t}>" for t in ZH_FORMS.values()) + ("<wuyan>", "<qiyan>")
EN_TAGS = ("<sonnet>", "<lyric>", "<verse>")
MIN_CHARS = 2000  # a corpus smaller than this cannot teach a language model anything

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN_RE = re.compile(f"[{_HAN}]")
_ZH_PUNCT = "，。？！；：、,.?!;:"
_ZH_SPLIT = re.compile(f"[{re.escape(_ZH_PUNCT)}]")
_ZH_NOTE = re.compile(r"[（(\[【〔{][^）)\]】〕}]*[）)\]】〕}]")


@dataclass(frozen=True)
class Doc:
    tag: str  # "<wuyan-jueju>", "<sonnet>", ...
    title: str
    body: str  # Chinese: "……，……。……" ; English: lines joined by "\n"
    key: str  # stable identity, for the train/val split

    def text(self) -> str:
        return f"<bos>{self.tag}{self.title}<sep>{self.body}<eos>"


@dataclass
class Corpus:
    name: str
    language: str  # "zh" | "en"
    docs: list[Doc]

    @property
    def tags(self) -> tuple[str, ...]:
        return ZH_TAGS if self.language == "zh" else EN_TAGS

    def chars(self) -> int:
        return sum(len(d.body) for d in self.docs)

    def split(self, val_fraction: float) -> tuple[list[Doc], list[Doc]]:
        """(train, val): a document goes to val when the hash of its key says so (stable across
        runs, machines and corpus order)."""
        cut = int(round(val_fraction * 10_000))
        train, val = [], []
        for d in self.docs:
            h = int(hashlib.sha256(d.key.encode()).hexdigest()[:8], 16) % 10_000
            (val if h < cut else train).append(d)
        if not val and self.docs and cut > 0:
            val.append(train.pop())
        return train, val


# --------------------------------------------------------------------------- paths

def shared_corpora() -> Path:
    """shared/data/corpora of a checkout (training and benchmarks only; $YINGSHE_CORPORA wins)."""
    env = os.environ.get("YINGSHE_CORPORA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        for cand in (parent / "shared" / "data" / "corpora", parent.parent / "shared" / "data" / "corpora"):
            if cand.is_dir():
                return cand
    return Path("/work/shared/data/corpora")


def load_corpus(spec: str) -> Corpus:
    """``tang``, ``english``, or a path to a .txt / .json / .json.gz file of poems."""
    if spec == "tang":
        path = shared_corpora() / "chinese-poetry" / "tang_poems.json.gz"
        if not path.is_file():
            raise BadInput(f"the Tang corpus is not here ({path}); set YINGSHE_CORPORA to shared/data/corpora")
        return Corpus("tang", "zh", tang_docs(_read_json(path)))
    if spec == "english":
        folder = shared_corpora() / "english-poetry"
        if not folder.is_dir():
            raise BadInput(f"the English verse corpus is not here ({folder}); set YINGSHE_CORPORA")
        return Corpus("english", "en", english_docs(folder))
    path = Path(spec).expanduser()
    if not path.exists():
        raise BadInput(f"corpus {spec!r}: no such file (give tang, english, or a .txt/.json file of poems)")
    if path.is_dir():
        raise BadInput(f"corpus {spec!r} is a folder; give one .txt or .json file of poems")
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        items = _read_json(path)
        poems = _json_poems(items, spec)
    else:
        poems = _text_poems(_read_text(path), spec)
    corpus = _from_poems(path.stem, poems)
    if corpus.chars() < MIN_CHARS:
        raise BadInput(f"corpus {spec!r} is too small: {corpus.chars()} characters of usable verse "
                       f"(need at least {MIN_CHARS})")
    return corpus


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"corpus {str(path)!r} is not UTF-8 text") from None
    except (OSError, EOFError) as e:
        raise BadInput(f"cannot read corpus {str(path)!r}: {e}") from None


def _read_json(path: Path):
    text = _read_text(path)
    try:
        return json.loads(text)
    except ValueError as e:
        raise BadInput(f"corpus {str(path)!r} is not valid JSON: {e}") from None


def _json_poems(items, spec: str) -> list[tuple[str, list[str]]]:
    if not isinstance(items, list):
        raise BadInput(f"corpus {spec!r}: expected a JSON list of poems (objects with paragraphs, or strings)")
    poems = []
    for it in items:
        if isinstance(it, str):
            poems.append(("", it.splitlines()))
        elif isinstance(it, dict):
            body = next((it[k] for k in ("paragraphs", "content", "text", "lines") if k in it), None)
            if isinstance(body, str):
                body = body.splitlines()
            if isinstance(body, list) and all(isinstance(x, str) for x in body):
                title = it.get("title") or it.get("rhythmic") or ""
                poems.append((title if isinstance(title, str) else "", body))
    if not poems:
        raise BadInput(f"corpus {spec!r}: no poems found (each item needs 'paragraphs', 'content', "
                       "'text' or 'lines', or is a string)")
    return poems


def _text_poems(text: str, spec: str) -> list[tuple[str, list[str]]]:
    blocks = [b for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    if not blocks:
        raise BadInput(f"corpus {spec!r} is empty")
    return [("", b.splitlines()) for b in blocks]


def _from_poems(name: str, poems: list[tuple[str, list[str]]]) -> Corpus:
    sample = "".join("".join(lines) for _, lines in poems[:2000])
    han = len(_HAN_RE.findall(sample))
    latin = sum(c.isascii() and c.isalpha() for c in sample)
    if han > latin:
        items = [{"title": t, "paragraphs": lines, "id": f"{name}:{i}"} for i, (t, lines) in enumerate(poems)]
        docs = tang_docs(items)
        if not docs:
            raise BadInput(f"corpus {name!r}: no Chinese poem with all lines of 5 or all of 7 characters")
        return Corpus(name, "zh", docs)
    docs = []
    for i, (title, lines) in enumerate(poems):
        lines = [clean_english_line(x) for x in lines]
        lines = [x for x in lines if x]
        if lines:
            tag = "<sonnet>" if len(lines) == 14 else "<verse>"
            docs.append(Doc(tag, clean_english_line(title), "\n".join(lines), f"{name}:{i}"))
    if not docs:
        raise BadInput(f"corpus {name!r}: no lines of English verse")
    return Corpus(name, "en", docs)


# --------------------------------------------------------------------------- Chinese

_t2s = None


def to_simplified(text: str) -> str:
    global _t2s
    if _t2s is None:
        try:
            import opencc
        except ImportError:
            raise BadInput("Chinese corpora need OpenCC: pip install 'yingshe[poem]'") from None
        _t2s = opencc.OpenCC("t2s")
    return _t2s.convert(text)


def zh_lines(body: str) -> list[str]:
    """The lines of a Chinese poem: the pieces between punctuation marks."""
    return [x for x in _ZH_SPLIT.split(body) if x]


def zh_body(lines: list[str]) -> str:
    """Lines joined with "，" after odd lines and "。" after even lines (and at the end)."""
    out = []
    for i, line in enumerate(lines):
        out.append(line + ("，" if i % 2 == 0 and i + 1 < len(lines) else "。"))
    return "".join(out)


def tang_docs(items) -> list[Doc]:
    """Documents from chinese-poetry style items ``{title, paragraphs, id}`` (any script)."""
    raw = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("paragraphs"), list):
            continue
        body = "".join(p for p in it["paragraphs"] if isinstance(p, str))
        title = it.get("title") if isinstance(it.get("title"), str) else ""
        raw.append((title, body, str(it.get("id") or i)))
    if not raw:
        return []
    # convert everything in one OpenCC call (much faster than one per poem)
    joined = to_simplified("\n".join(f"{t}\t{b}" for t, b, _ in raw).replace("\r", ""))
    converted = joined.split("\n")
    if len(converted) != len(raw):  # a newline inside a field: fall back to one call per poem
        converted = [to_simplified(f"{t}\t{b}".replace("\n", "")) for t, b, _ in raw]
    docs = []
    for (_, _, key), line in zip(raw, converted):
        title, _, body = line.partition("\t")
        body = _ZH_NOTE.sub("", re.sub(r"\s+", "", body))
        lines = zh_lines(body)
        if len(lines) < 2 or any(not _HAN_RE.fullmatch(c) for c in "".join(lines)):
            continue  # empty, or with missing (□) / unusual characters
        lengths = {len(x) for x in lines}
        if len(lengths) != 1 or lengths.pop() not in (5, 7):
            continue
        n = len(lines[0])
        form = ZH_FORMS.get((n, len(lines)))
        tag = f"<{form}>" if form else ("<wuyan>" if n == 5 else "<qiyan>")
        docs.append(Doc(tag, clean_title(title), zh_body(lines), key))
    return docs


def clean_title(title: str, limit: int = 10) -> str:
    """A short title of Chinese characters only: the part before the first space or mark."""
    m = re.match(f"[{_HAN}]+", title.strip())
    return m.group(0)[:limit] if m else ""


# --------------------------------------------------------------------------- English

_EN_KEEP = re.compile(r"[^A-Za-z0-9 ,.;:!?'\"()\-]")


def clean_english_line(line: str) -> str:
    line = line.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    line = line.replace("--", " - ").replace("_", "")
    line = _EN_KEEP.sub("", line)
    return re.sub(r"\s+", " ", line).strip()


def english_docs(folder: Path) -> list[Doc]:
    docs: list[Doc] = []
    # Shakespeare's sonnets: one per blank-line-separated block of (about) 14 lines
    text = _read_text(folder / "shakespeare_sonnets.txt")
    for i, block in enumerate(re.split(r"\n\s*\n", text)):
        lines = [clean_english_line(x) for x in block.splitlines()]
        lines = [x for x in lines if x]
        if len(lines) >= 12:
            docs.append(Doc("<sonnet>", "", "\n".join(lines), f"sonnet:{i}"))
    # Blake: poems under ALL-CAPS titles, stanzas kept together
    text = _read_text(folder / "blake_songs_of_innocence_and_experience.txt")
    title, lines, n = "", [], 0
    for raw in text.splitlines() + ["END"]:
        s = raw.strip()
        if not s or s.startswith("["):
            continue
        if s.upper() == s and any(c.isalpha() for c in s):
            if len(lines) >= 4:
                docs.append(Doc("<lyric>", title.title(), "\n".join(lines), f"blake:{n}:{title}"))
                n += 1
            title, lines = clean_english_line(s), []
        else:
            c = clean_english_line(s)
            if c:
                lines.append(c)
    # Milton and the verse speeches of tiny-shakespeare: blank verse in 16-line passages
    for fname, tag, drop in (("milton_paradise_lost.txt", "milton", r"^(Book [IVXL]+|\[.*)\s*$"),
                             ("tinyshakespeare.txt", "tinyshakespeare", r"^[A-Z][A-Za-z ]*:\s*$")):
        text = _read_text(folder / fname)
        verse = []
        for raw in text.splitlines():
            s = raw.strip()
            if not s or re.match(drop, s):
                continue
            c = clean_english_line(s)
            if c:
                verse.append(c)
        for j in range(0, len(verse) - 7, 16):
            docs.append(Doc("<verse>", "", "\n".join(verse[j:j + 16]), f"{tag}:{j}"))
    return docs
