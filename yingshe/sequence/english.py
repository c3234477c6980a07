"""English quatrains and sonnets from a character-level Transformer, rhymed by CMUdict.

Two words rhyme when their pronunciations (the CMU Pronouncing Dictionary, through the
``pronouncing`` package) share the part from the last stressed vowel on, and they are not the
same word. A Shakespearean sonnet is 14 lines rhymed ABAB CDCD EFEF GG; a quatrain is 4 lines
(ABAB, AABB or ABCB).

The poem is written a line at a time. For each line the model drafts several candidates at once
(a batch); a candidate is kept when its last word rhymes as the scheme demands (with the line it
answers, or — for a line that opens a rhyme — with at least two words the model knows, so the
answer can be found). The most likely kept candidate wins. If none is kept, the best draft's
last word is replaced by the rhyme word the model finds most likely there (every rhyme word of
the model's vocabulary is scored in one batched pass over the cached context). Either way the
line count and the rhyme scheme hold for any model, trained or not.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

from yingshe.core.errors import BadInput

SCHEMES = {"sonnet": "ABABCDCDEFEFGG", "ABAB": "ABAB", "AABB": "AABB", "ABCB": "ABCB"}
MIN_LINE, MAX_LINE = 24, 60  # characters of a drafted line
SYLLABLES = (8, 12)  # a pentameter line has 10 syllables; drafts outside this range lose
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


def _pronouncing():
    try:
        import pronouncing
    except ImportError:
        raise BadInput("English poems need the pronouncing package: pip install 'yingshe[poem]'") from None
    return pronouncing


@functools.lru_cache(maxsize=200_000)
def rhyme_parts(word: str) -> frozenset[str]:
    """The rhyming parts (last stressed vowel onward) of every pronunciation of ``word``."""
    p = _pronouncing()
    return frozenset(p.rhyming_part(ph) for ph in p.phones_for_word(word.lower()))


def rhymes(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a != b and bool(rhyme_parts(a) & rhyme_parts(b))


def last_word(line: str) -> str:
    words = _WORD.findall(line)
    return words[-1].lower() if words else ""


@functools.lru_cache(maxsize=200_000)
def _word_syllables(word: str) -> int:
    p = _pronouncing()
    phones = p.phones_for_word(word.lower())
    if phones:
        return p.syllable_count(phones[0])
    return max(1, len(re.findall(r"[aeiouy]+", word.lower().rstrip("e"))))  # rough, for unknown words


def syllables(line: str) -> int:
    return sum(_word_syllables(w) for w in _WORD.findall(line))


def rhyme_vocabulary(texts, *, min_count: int = 2, limit: int = 8000) -> list[str]:
    """Words (lower case) that end lines or appear often enough in the corpus, that CMUdict knows:
    the words the model may be asked to end a line with. Most frequent first."""
    counts: Counter = Counter()
    for t in texts:
        counts.update(w.lower() for w in _WORD.findall(t))
    words = [w for w, n in counts.most_common() if n >= min_count and rhyme_parts(w)]
    return words[:limit]


class RhymeIndex:
    """The model's rhyme words, grouped by rhyming part."""

    def __init__(self, words: list[str]):
        self.words = list(words)
        self.rank = {w: i for i, w in enumerate(self.words)}
        self.by_part: dict[str, list[str]] = {}
        for w in self.words:
            for part in rhyme_parts(w):
                self.by_part.setdefault(part, []).append(w)

    def partners(self, word: str) -> list[str]:
        """Words of the vocabulary that rhyme with ``word`` (most frequent first)."""
        out: dict[str, None] = {}
        for part in rhyme_parts(word):
            for w in self.by_part.get(part, ()):
                if w != word.lower():
                    out[w] = None
        return sorted(out, key=lambda w: self.rank[w])

    def openers(self, min_partners: int = 2) -> list[str]:
        """Words that can open a rhyme: at least ``min_partners`` partners in the vocabulary."""
        return [w for w in self.words if len(self.partners(w)) >= min_partners]


#: words a line should not end on (articles, prepositions, conjunctions, possessives)
WEAK_ENDS = frozenset("""a an the of to and or nor but in on at by for from as into than that with
my thy your his her its our their whose which who if so is was be are o i""".split()) | frozenset(
    "abcdefghijklmnopqrstuvwxyz")


def line_need(scheme: str, i: int, ends: list[str], index: RhymeIndex):
    """A predicate on a line's last word for line ``i`` of ``scheme`` given earlier end words."""
    letter = scheme[i]
    earlier = [ends[j] for j in range(i) if scheme[j] == letter]
    used = set(ends)
    if earlier:
        partner = earlier[0]
        return lambda w: w not in used and w not in WEAK_ENDS and rhymes(w, partner)
    if letter in scheme[i + 1:]:
        need = scheme.count(letter) - 1
        return lambda w: w not in used and w not in WEAK_ENDS and bool(rhyme_parts(w)) and len(
            [p for p in index.partners(w) if p not in used and p not in WEAK_ENDS]) >= need + 1
    return lambda w: w not in WEAK_ENDS


def check_english(text: str, scheme: str) -> dict:
    """Line count and rhyme scheme of a poem (title and blank lines ignored)."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    if lines and len(lines) == len(scheme) + 1:  # a title line
        lines = lines[1:]
    if len(lines) != len(scheme):
        return {"form": False, "rhyme": False, "meter": 0.0}
    ends = [last_word(x) for x in lines]
    ok = True
    for letter in set(scheme):
        idx = [i for i, c in enumerate(scheme) if c == letter]
        if len(idx) > 1:
            first = ends[idx[0]]
            ok &= all(rhymes(ends[j], first) for j in idx[1:])
            ok &= len({ends[j] for j in idx}) == len(idx)
    meter = sum(SYLLABLES[0] <= syllables(x) <= SYLLABLES[1] for x in lines) / len(lines)
    return {"form": True, "rhyme": bool(ok), "meter": meter}


# --------------------------------------------------------------------------- writing a poem

class Lexicon:
    """The words a line may use (the model's vocabulary of CMUdict words): every prefix of them,
    so a character model can be kept to real words one letter at a time."""

    def __init__(self, words):
        # one-letter "words" of the dictionary (t, s, e...) are letters, except a, I and O
        self.words = {w.lower() for w in words if len(w) > 1 or w.lower() in ("a", "i", "o")}
        self.prefixes = {w[:i] for w in self.words for i in range(len(w) + 1)}
        self._masks: dict[str, object] = {}

    def letters_after(self, tok, partial: str):
        """Mask of the tokens (letters of either case, apostrophe) that keep ``partial`` a prefix."""
        import torch

        m = self._masks.get(partial)
        if m is None:
            m = torch.tensor([len(t) == 1 and (t.isalpha() or t == "'") and (partial + t.lower()) in self.prefixes
                              for t in tok.tokens])
            if len(self._masks) < 200_000:
                self._masks[partial] = m
        return m


class LineConstraint:
    """``logits_processor`` for drafting one line per row: printable characters only, a newline
    allowed after MIN_LINE characters and forced at MAX_LINE, the line's first characters forced
    (an acrostic letter, the --start text), then padding once the line has ended. With a
    ``lexicon`` every word is one of its words: a letter is allowed only when it continues some
    word, a space or mark only when the word so far is complete."""

    def __init__(self, tok, prompt_len: int, prefix: str = "", lexicon: Lexicon | None = None):
        import torch

        self.tok, self.prompt_len = tok, prompt_len
        self.prefix = [tok.index[c] for c in prefix]
        self.lexicon = lexicon
        self.text = torch.tensor([len(t) == 1 and t != "\n" and t.isprintable() for t in tok.tokens])
        self.first = torch.tensor([len(t) == 1 and (t.isupper() or t == '"') for t in tok.tokens])
        if not self.first.any():
            self.first = self.text.clone()
        self.letter = torch.tensor([len(t) == 1 and (t.isalpha() or t == "'") for t in tok.tokens])
        self.nl = tok.index["\n"]
        self.pad = tok.pad

    def __call__(self, seq, logits):
        import torch

        allowed = torch.zeros(logits.shape, dtype=torch.bool)
        for b, row in enumerate(seq.tolist()):
            line = row[self.prompt_len:]
            p = len(line)
            if self.nl in line:
                allowed[b, self.pad] = True
            elif p < len(self.prefix):
                allowed[b, self.prefix[p]] = True
            elif p >= MAX_LINE:
                allowed[b, self.nl] = True
            else:
                mask = (self.first if p == 0 else self.text).clone()
                can_end = p >= max(MIN_LINE, len(self.prefix))
                if self.lexicon is not None:
                    partial = _partial_word(self.tok.decode(line))
                    if partial and partial in self.lexicon.prefixes:
                        letters = self.lexicon.letters_after(self.tok, partial)
                        if partial in self.lexicon.words:  # a whole word: go on, or end it
                            mask &= ~self.letter | letters
                        else:  # inside a word: only letters that continue it
                            mask &= letters
                            can_end = False
                    elif not partial and p > 0:  # between words: a new word must be able to start
                        mask &= ~self.letter | self.lexicon.letters_after(self.tok, "")
                if not mask.any():
                    mask = self.text.clone()
                allowed[b] = mask
                if can_end:
                    allowed[b, self.nl] = True
        return logits.masked_fill(~allowed.to(logits.device), float("-inf"))


def _partial_word(text: str) -> str:
    """The word being written at the end of ``text`` (lower case; empty after a space or mark)."""
    m = re.search(r"[A-Za-z']+$", text)
    return m.group(0).lower().lstrip("'") if m else ""


def draft_lines(lm, context: str, n: int, *, prefix: str = "", temperature: float = 0.8, top_k: int = 0,
                top_p: float = 0.0, generator=None, lexicon: Lexicon | None = None) -> list[tuple[str, float, bool]]:
    """``n`` drafts of the next line after ``context``: (line, mean log-probability, whole) where
    ``whole`` is False when the line was cut at MAX_LINE characters."""
    import torch

    tok, model = lm.tokenizer, lm.model
    ids = tok.encode(context)
    room = model.config.block_size - MAX_LINE - 2
    ids = ids[-room:]
    proc = LineConstraint(tok, len(ids), prefix, lexicon)
    idx = torch.tensor([ids] * n, dtype=torch.long, device=lm.device)

    def done(seq):
        return bool((seq[:, len(ids):] == proc.nl).any(dim=1).all())

    lp: list = []
    out = model.generate(idx, MAX_LINE + 1, temperature=temperature, top_k=top_k or None, top_p=top_p or None,
                         generator=generator, logits_processor=proc, stop=done, logprobs=lp)
    rows = out.tolist()
    ends = [len(ids) + r[len(ids):].index(proc.nl) + 1 for r in rows]
    lp = torch.stack(lp, dim=1)  # (n, steps): the model's log-probability of each drawn character
    scores = [float(lp[b, :e - len(ids)].mean()) for b, e in enumerate(ends)]
    drafts = []
    for r, e, s in zip(rows, ends, scores):
        line = tok.decode(r[len(ids):e - 1]).strip()
        drafts.append((line, s, e - 1 - len(ids) < MAX_LINE))
    return drafts


def _split_last_word(line: str) -> tuple[str, str, str]:
    """(before, last word, trailing punctuation)."""
    m = re.search(r"([A-Za-z]+(?:'[A-Za-z]+)*)([^A-Za-z]*)$", line)
    if not m:
        return line, "", ""
    return line[:m.start(1)].rstrip(), m.group(1), m.group(2)


def choose_rhyme_word(lm, context: str, before: str, words: list[str], *, temperature: float, generator) -> str:
    """The word to end ``before`` with: the model scores every candidate word in place (one
    batched pass) and one is drawn from the ten most likely (at ``temperature``)."""
    import torch

    from yingshe.sequence.sampling import score_suffixes

    tok = lm.tokenizer
    known = [w for w in words if all(c in tok.index for c in w)]
    if not known:
        return words[0]
    prefix = tok.encode(context + before)
    suffixes = [tok.encode(" " + w) for w in known]
    scores = torch.tensor(score_suffixes(lm.model, prefix, suffixes))
    top = torch.topk(scores, min(10, len(known)))
    if temperature and temperature > 0:
        pick = int(torch.multinomial(torch.softmax(top.values / temperature, dim=0), 1, generator=generator))
    else:
        pick = 0
    return known[int(top.indices[pick])]


def write_english(lm, form: str, *, scheme: str = "", title: str = "", start: str = "", acrostic: str = "",
                  temperature: float = 0.8, top_k: int = 0, top_p: float = 0.0, candidates: int = 8,
                  real_words: bool = True, generator=None) -> dict:
    """A sonnet or a quatrain. Returns {"title", "lines", "scheme", "repaired"}."""
    scheme = SCHEMES["sonnet"] if form == "sonnet" else SCHEMES[scheme or "ABAB"]
    words = lm.meta.get("rhyme_words")
    if not words:
        raise BadInput("this model has no rhyme vocabulary (train it with `yingshe train poem` on English verse)")
    index = getattr(lm, "_rhyme_index", None)
    if index is None:
        index = lm._rhyme_index = RhymeIndex(words)
    lexicon = None
    if real_words:
        lexicon = getattr(lm, "_lexicon", None)
        if lexicon is None:
            lexicon = lm._lexicon = Lexicon(words)
    tok = lm.tokenizer
    for what, text in (("--start", start), ("--acrostic", acrostic), ("--title", title)):
        missing = [c for c in text if c not in tok.index]
        if missing:
            raise BadInput(f"{what}: the model does not know {''.join(dict.fromkeys(missing))!r}")
    if len(start) > MAX_LINE - 8:
        raise BadInput(f"--start is {len(start)} characters; a line here has at most {MAX_LINE}")
    if len(acrostic) > len(scheme):
        raise BadInput(f"--acrostic has {len(acrostic)} letters; a {form} has {len(scheme)} lines")
    if acrostic and start and start[0].upper() != acrostic[0].upper():
        raise BadInput(f"--start begins with {start[0]!r} but --acrostic with {acrostic[0]!r}")
    tag = "<sonnet>" if "<sonnet>" in tok.index else ""
    context = f"<bos>{tag}<sep>"
    lines: list[str] = []
    ends: list[str] = []
    repaired = 0
    for i in range(len(scheme)):
        prefix = start if i == 0 and start else ""
        if i < len(acrostic):
            letter = acrostic[i].upper() if acrostic[i].upper() in tok.index else acrostic[i]
            prefix = prefix or letter
        need = line_need(scheme, i, ends, index)
        drafts = draft_lines(lm, context, max(1, candidates), prefix=prefix, temperature=temperature, top_k=top_k,
                             top_p=top_p, generator=generator, lexicon=lexicon)
        ranked = sorted(drafts, key=lambda d: (-(SYLLABLES[0] <= syllables(d[0]) <= SYLLABLES[1]), -d[1]))
        good = [d for d in ranked if d[2] and last_word(d[0]) and need(last_word(d[0]))]
        if good:
            line = good[0][0]
        else:  # keep the best draft, and let the model choose its last word among those that rhyme
            repaired += 1
            base = next((d for d in ranked if d[2]), ranked[0])[0]
            before, old, punct = _split_last_word(base)
            if not before or len(before) < len(prefix):
                before, punct = base.rstrip(",.;:!?"), ","
            pool = [w for w in index.words if need(w)][:400]
            if not pool:  # nothing in the vocabulary fits: use any word CMUdict says rhymes
                partner = next((ends[j] for j in range(i) if scheme[j] == scheme[i]), "")
                pool = [w for w in _pronouncing().rhymes(partner) if w.isalpha() and need(w)][:400] or ["day"]
            word = choose_rhyme_word(lm, context + "\n".join(lines) + ("\n" if lines else ""), before, pool,
                                     temperature=temperature, generator=generator)
            line = f"{before} {word}{punct if punct.strip() else ','}".strip()
        lines.append(line)
        ends.append(last_word(line))
        context += line + "\n"
    lines[-1] = re.sub(r"[,;:\-]*$", "", lines[-1]) + ("" if lines[-1][-1:] in ".!?" else ".")
    return {"title": title, "lines": lines, "scheme": scheme, "repaired": repaired}


def format_english(title: str, lines: list[str], form: str) -> str:
    out = [title, ""] if title else []
    if form == "sonnet":
        out += lines[:12] + ["  " + x for x in lines[12:]]
    else:
        out += lines
    return "\n".join(out) + "\n"
