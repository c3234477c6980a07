"""Regular Chinese verse (近体诗): forms, rhyme, tones, and decoding that guarantees them.

Forms: 五言/七言 (5 or 7 characters a line) × 绝句/律诗 (4 or 8 lines). A line ends with "，"
(odd lines) or "。" (even lines). The even lines rhyme, and so does the first line when it is
"入韵" (the default for 七言); rhyme characters are level-tone (平) and are not repeated.

Rhyme and tone follow 中华新韵, the modern standard: the rhyme group of a character is the
group of its pinyin final (pypinyin), and its tone is 平 when the modern tone is 1 or 2, 仄 for
3 and 4 (Middle Chinese entering tones are not kept apart; pypinyin does not know them).

The optional 平仄 pattern is the standard one of regular verse: the four five-character lines
    A 仄仄平平仄   B 平平仄仄平   C 平平平仄仄   D 仄仄仄平平
in the orders ABCD (仄起), DBCD (仄起, first line rhymes), CDAB (平起), BDAB (平起, first line
rhymes), the 律诗 repeating the non-rhyming order for lines 5-8; a seven-character line puts two
characters of the opposite tone before the five (平平 before 仄仄…). As the saying
"一三五不论，二四六分明" goes, only the even positions and the last character are enforced.

:class:`ChineseConstraint` is a ``logits_processor`` for :meth:`GPT.generate`: at every step it
forbids each token that would break the form, so any model — even an untrained one — writes an
exact form. It never leaves a row with nothing to choose (groups too small to finish the poem
are never started).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from yingshe.core.errors import BadInput

FORMS = {"wuyan-jueju": (5, 4), "qiyan-jueju": (7, 4), "wuyan-lushi": (5, 8), "qiyan-lushi": (7, 8)}
FORM_NAMES = {"wuyan-jueju": "五言绝句", "qiyan-jueju": "七言绝句", "wuyan-lushi": "五言律诗", "qiyan-lushi": "七言律诗"}
COMMA, STOP = "，", "。"
TITLE_MAX = 8

# 中华新韵 (2005): 14 rhyme groups by pinyin final (pypinyin's strict finals; v = ü)
RHYME_GROUPS = {
    "麻": ("a", "ia", "ua"),
    "波": ("o", "uo", "e", "io"),
    "皆": ("ie", "ve"),
    "开": ("ai", "uai"),
    "微": ("ei", "uei"),
    "豪": ("ao", "iao"),
    "尤": ("ou", "iou"),
    "寒": ("an", "ian", "uan", "van"),
    "文": ("en", "in", "uen", "vn"),
    "唐": ("ang", "iang", "uang"),
    "庚": ("eng", "ing", "ueng", "ong", "iong"),
    "齐": ("i", "er", "v"),
    "支": (),  # the apical -i of zhi chi shi ri zi ci si
    "姑": ("u",),
}
_FINAL_GROUP = {f: g for g, fs in RHYME_GROUPS.items() for f in fs}
_APICAL = {"zh", "ch", "sh", "r", "z", "c", "s"}

PATTERNS5 = {"A": "仄仄平平仄", "B": "平平仄仄平", "C": "平平平仄仄", "D": "仄仄仄平平"}
ORDERS = {("ze", False): "ABCD", ("ze", True): "DBCD", ("ping", False): "CDAB", ("ping", True): "BDAB"}

_HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


def is_han(ch: str) -> bool:
    return len(ch) == 1 and bool(_HAN_RE.fullmatch(ch))


def _syllable_info(initial: str, final: str, tone3: str) -> tuple[str | None, str | None]:
    """(rhyme group, "平" | "仄") of one pinyin syllable; None where unknown."""
    m = re.search(r"(\d)$", tone3)
    if not m:
        return None, None
    t = int(m.group(1))
    tone = "平" if t in (1, 2) else "仄" if t in (3, 4) else None
    if final == "i" and initial in _APICAL:
        return "支", tone
    return _FINAL_GROUP.get(final), tone


@functools.lru_cache(maxsize=None)
def reading(ch: str) -> tuple[str | None, str | None]:
    """(rhyme group, 平/仄) of a character in its most common reading."""
    if not is_han(ch):
        return None, None
    from pypinyin import Style, lazy_pinyin

    tone3 = lazy_pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0]
    final = lazy_pinyin(ch, style=Style.FINALS, strict=True)[0]
    initial = lazy_pinyin(ch, style=Style.INITIALS, strict=True)[0]
    return _syllable_info(initial, final, tone3)


def readings(chars: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """``reading`` of many characters at once (one pypinyin call per style, each character read
    alone: a list element is never joined into a phrase)."""
    from pypinyin import Style, lazy_pinyin

    chars = [c for c in dict.fromkeys(chars) if is_han(c)]
    tone3 = lazy_pinyin(chars, style=Style.TONE3, neutral_tone_with_five=True)
    finals = lazy_pinyin(chars, style=Style.FINALS, strict=True)
    initials = lazy_pinyin(chars, style=Style.INITIALS, strict=True)
    if not (len(tone3) == len(finals) == len(initials) == len(chars)):
        return {c: reading(c) for c in chars}
    return {c: _syllable_info(i, f, t) for c, i, f, t in zip(chars, initials, finals, tone3)}


def line_readings(line: str) -> list[tuple[str | None, str | None]]:
    """(rhyme group, 平/仄) of each character of a line, read in context (pypinyin's phrase
    dictionary picks 长安 cháng'ān, not zhǎng): a stricter check than the one-character table."""
    from pypinyin import Style, lazy_pinyin

    tone3 = lazy_pinyin(line, style=Style.TONE3, neutral_tone_with_five=True)
    finals = lazy_pinyin(line, style=Style.FINALS, strict=True)
    initials = lazy_pinyin(line, style=Style.INITIALS, strict=True)
    if not (len(tone3) == len(finals) == len(initials) == len(line)):
        return [reading(c) for c in line]
    return [_syllable_info(i, f, t) for i, f, t in zip(initials, finals, tone3)]


# --------------------------------------------------------------------------- the plan of a poem

@dataclass
class Plan:
    """Everything the decoder must respect, fixed before the first token."""

    form: str
    chars: int  # characters per line
    lines: int
    rhyme_lines: tuple[int, ...]  # 0-based lines whose last character rhymes
    forced: dict[tuple[int, int], str] = field(default_factory=dict)  # (line, col) -> character
    tones: dict[tuple[int, int], str] = field(default_factory=dict)  # (line, col) -> 平/仄 (平仄 pattern)
    group: str | None = None  # rhyme group fixed in advance (a given first line that rhymes)
    variant: str = ""  # e.g. "仄起入韵"

    @property
    def body_len(self) -> int:
        return self.lines * (self.chars + 1)


def tone_pattern(chars: int, lines: int, start: str, first_rhymes: bool) -> list[str]:
    """The 平仄 pattern of every line (strings of 平/仄)."""
    order = ORDERS[(start, first_rhymes)]
    if lines == 8:
        order += ORDERS[(start, False)]
    out = []
    for k in order:
        p = PATTERNS5[k]
        if chars == 7:
            p = ("平平" if p.startswith("仄") else "仄仄") + p
        out.append(p)
    return out


def make_plan(form: str, *, start: str = "", acrostic: str = "", pingze: bool = False,
              first_rhymes: bool | None = None, choose=None) -> Plan:
    """The plan of one poem. ``choose(options) -> option`` breaks ties (a seeded choice)."""
    if form not in FORMS:
        raise BadInput(f"unknown Chinese form {form!r} (known: {', '.join(FORMS)})")
    n, lines = FORMS[form]
    choose = choose or (lambda opts: opts[0])
    forced: dict[tuple[int, int], str] = {}
    if start:
        bad = [c for c in start if not is_han(c)]
        if bad:
            raise BadInput(f"--start must be Chinese characters only (got {''.join(bad)!r})")
        if len(start) > n:
            raise BadInput(f"--start {start!r} has {len(start)} characters; a {FORM_NAMES[form]} line has {n}")
        forced.update({(0, j): c for j, c in enumerate(start)})
    if acrostic:
        bad = [c for c in acrostic if not is_han(c)]
        if bad:
            raise BadInput(f"--acrostic must be Chinese characters only (got {''.join(bad)!r})")
        if len(acrostic) > lines:
            raise BadInput(f"--acrostic {acrostic!r} has {len(acrostic)} characters; a {FORM_NAMES[form]} "
                           f"has {lines} lines")
        for i, c in enumerate(acrostic):
            if (i, 0) in forced and forced[(i, 0)] != c:
                raise BadInput(f"--start begins with {forced[(i, 0)]!r} but --acrostic with {c!r}")
            forced[(i, 0)] = c
    if first_rhymes is None:
        first_rhymes = n == 7  # 七言 usually rhymes in its first line, 五言 usually not
    group = None
    if (0, n - 1) in forced:  # a whole first line is given: it rhymes only if it can
        g, t = reading(forced[(0, n - 1)])
        if first_rhymes and (t != "平" or g is None):
            first_rhymes = False
        if first_rhymes:
            group = g
    tones: dict[tuple[int, int], str] = {}
    variant = "首句入韵" if first_rhymes else "首句不入韵"
    if pingze:
        # the pattern (平起 or 仄起) that the given characters break least; ties by the seed
        scored = []
        for st in ("ping", "ze"):
            pat = tone_pattern(n, lines, st, first_rhymes)
            miss = sum(1 for (i, j), c in forced.items() if _enforced(j, n) and reading(c)[1] != pat[i][j])
            scored.append((miss, st, pat))
        best = min(s[0] for s in scored)
        st = choose([s[1] for s in scored if s[0] == best])
        pat = next(s[2] for s in scored if s[1] == st)
        tones = {(i, j): pat[i][j] for i in range(lines) for j in range(n) if _enforced(j, n)}
        variant = ("平起" if pat[0][1] == "平" else "仄起") + variant
    rhyme_lines = tuple(i for i in range(lines) if i % 2 == 1 or (i == 0 and first_rhymes))
    return Plan(form, n, lines, rhyme_lines, forced, tones, group, variant)


def _enforced(col: int, n: int) -> bool:
    """一三五不论，二四六分明: even positions (1-based) and the last character are fixed."""
    return col % 2 == 1 or col == n - 1


# --------------------------------------------------------------------------- the vocabulary's tables

class ChineseVocab:
    """Boolean masks over a tokenizer's vocabulary: Han characters, 平, 仄, each rhyme group."""

    def __init__(self, tokenizer):
        import torch

        self.tok = tokenizer
        V = len(tokenizer)
        self.han = torch.zeros(V, dtype=torch.bool)
        self.ping = torch.zeros(V, dtype=torch.bool)
        self.ze = torch.zeros(V, dtype=torch.bool)
        self.group_of: dict[int, str] = {}
        self.groups = {g: torch.zeros(V, dtype=torch.bool) for g in RHYME_GROUPS}
        table = readings([t for t in tokenizer.tokens if is_han(t)])
        for i, t in enumerate(tokenizer.tokens):
            if not is_han(t):
                continue
            self.han[i] = True
            g, tone = table[t]
            if tone == "平":
                self.ping[i] = True
                if g is not None:
                    self.groups[g][i] = True
                    self.group_of[i] = g
            elif tone == "仄":
                self.ze[i] = True
        for p in (COMMA, STOP):
            if p not in tokenizer:
                raise BadInput(f"this model's vocabulary lacks {p!r}: it was not trained on Chinese verse")
        self.comma, self.stop = tokenizer.index[COMMA], tokenizer.index[STOP]

    def check_chars(self, text: str, what: str) -> None:
        missing = [c for c in text if c not in self.tok]
        if missing:
            raise BadInput(f"{what}: the model does not know {''.join(missing)!r} (not in its vocabulary)")


# --------------------------------------------------------------------------- constrained decoding

class ChineseConstraint:
    """``logits_processor(seq, logits)`` that makes every row a poem of ``plan``.

    A row reads ``<bos><tag>`` + title + ``<sep>`` + body + ``<eos>``; with ``title_free`` the
    title is written by the model (2 to TITLE_MAX characters), else it is part of the prompt.
    """

    def __init__(self, vocab: ChineseVocab, plan: Plan, prompt_len: int, *, title_free: bool,
                 repeat_penalty: float = 0.0):
        import torch

        self.v, self.plan = vocab, plan
        self.prompt_len = prompt_len
        self.title_free = title_free
        self.repeat_penalty = float(repeat_penalty)
        tok = vocab.tok
        self.sep, self.eos, self.pad = tok.sep, tok.eos, tok.pad
        need = len(plan.rhyme_lines) + 2
        if plan.group is not None:
            self.start_groups = torch.zeros_like(vocab.han)
            if int(vocab.groups[plan.group].sum()) < need - 1:
                raise BadInput(f"the model knows too few level-tone characters rhyming with the given first line "
                               f"(group {plan.group})")
        else:
            ok = [g for g, m in vocab.groups.items() if int(m.sum()) >= need]
            if not ok:
                raise BadInput("this model's vocabulary is too small to rhyme (no rhyme group has "
                               f"{need} level-tone characters)")
            self.start_groups = torch.stack([vocab.groups[g] for g in ok]).any(dim=0)
        for (i, j), c in plan.forced.items():
            vocab.check_chars(c, "--start/--acrostic")
        self.forced_ids = {k: tok.index[c] for k, c in plan.forced.items()}
        # titles of the corpus count poems ("杂诗二首"); a single poem's title does not
        self.title_banned = torch.zeros_like(vocab.han)
        for c in "首":
            if c in tok.index:
                self.title_banned[tok.index[c]] = True
        self.numerals = {tok.index[c] for c in "一二三四五六七八九十百" if c in tok.index}

    def body_start(self, row: list[int]) -> int | None:
        """Index where the body begins in ``row``, or None while the title is being written."""
        if not self.title_free:
            return self.prompt_len
        try:
            return row.index(self.sep, self.prompt_len) + 1
        except ValueError:
            return None

    def __call__(self, seq, logits):
        import torch

        allowed = torch.zeros_like(logits, dtype=torch.bool)
        rows = seq.tolist()
        for b, row in enumerate(rows):
            allowed[b] = self._allowed(row, logits.device)
            if self.repeat_penalty:
                start = self.body_start(row)
                if start is not None and len(row) > start:
                    used = torch.tensor(sorted(set(row[start:])), dtype=torch.long, device=logits.device)
                    logits[b, used] -= self.repeat_penalty
        return logits.masked_fill(~allowed, float("-inf"))

    def _allowed(self, row: list[int], device):
        import torch

        v, plan = self.v, self.plan
        one = lambda i: torch.nn.functional.one_hot(torch.tensor(i), len(v.han)).bool().to(device)  # noqa: E731
        start = self.body_start(row)
        if start is None:  # writing the title
            n_title = len(row) - self.prompt_len
            if n_title >= TITLE_MAX:
                return one(self.sep)
            mask = (v.han & ~self.title_banned).to(device)
            if n_title >= 2 and row[-1] not in self.numerals:  # not "…二首"-like: no counting of poems
                mask[self.sep] = True
            return mask
        p = len(row) - start
        if p >= plan.body_len:  # done: <eos>, then padding
            return one(self.eos if p == plan.body_len else self.pad)
        line, col = divmod(p, plan.chars + 1)
        if col == plan.chars:
            return one(v.comma if line % 2 == 0 else v.stop)
        if (line, col) in self.forced_ids:
            return one(self.forced_ids[(line, col)])
        mask = v.han.clone()
        tone = plan.tones.get((line, col))
        if tone == "平":
            mask &= v.ping
        elif tone == "仄":
            mask &= v.ze
        if col == plan.chars - 1 and line in plan.rhyme_lines:
            body = row[start:]
            rhymes = [body[i * (plan.chars + 1) + plan.chars - 1] for i in plan.rhyme_lines if i < line]
            group = plan.group or (v.group_of.get(rhymes[0]) if rhymes else None)
            mask &= v.groups[group] if group else self.start_groups
            for r in rhymes:
                mask[r] = False  # a rhyme character is not used twice
        if not mask.any():  # cannot happen with a vocabulary that passed the checks; be safe
            mask = v.han.clone()
        return mask.to(device)


# --------------------------------------------------------------------------- checking a poem

def parse_body(text: str) -> list[str]:
    """The lines of a poem's body (title line and blank lines ignored)."""
    lines = []
    for raw in text.splitlines():
        s = raw.strip()
        if not s or s.startswith("《"):
            continue
        lines.extend(x for x in re.split(r"[，。？！；]", s) if x)
    return lines


def check_poem(text: str, form: str, *, pingze: bool = False, context: bool = True) -> dict:
    """Does ``text`` have the exact form, and do its rhyme lines rhyme?

    With ``context`` (the default) characters are read in context (pypinyin's phrases), which
    is stricter than the one-character readings the decoder uses; ``context=False`` checks
    exactly what the decoder promises. Returns {"form": bool, "rhyme": bool, "pingze": bool |
    None, "rhyme_group": str | None}. Give it Simplified text."""
    n, lines = FORMS[form]
    body_lines = parse_body(text)
    form_ok = (len(body_lines) == lines and all(len(x) == n and all(is_han(c) for c in x) for x in body_lines)
               and _punctuation_ok(text, lines))
    if not form_ok:
        return {"form": False, "rhyme": False, "pingze": False if pingze else None, "rhyme_group": None}
    read = [line_readings(x) if context else [reading(c) for c in x] for x in body_lines]
    last = [r[-1] for r in read]
    first_rhymes = last[0][1] == "平" and last[0][0] is not None and last[0][0] == last[1][0]
    rl = [i for i in range(lines) if i % 2 == 1 or (i == 0 and first_rhymes)]
    groups = {last[i][0] for i in rl}
    ends = [body_lines[i][-1] for i in rl]
    rhyme_ok = len(groups) == 1 and None not in groups and all(last[i][1] == "平" for i in rl) and \
        len(set(ends)) == len(ends)
    pz = None
    if pingze:
        pz = any(all(read[i][j][1] == pat[i][j] for i in range(lines) for j in range(n) if _enforced(j, n))
                 for st in ("ping", "ze") for pat in [tone_pattern(n, lines, st, first_rhymes)])
    return {"form": True, "rhyme": rhyme_ok, "pingze": pz, "rhyme_group": next(iter(groups)) if rhyme_ok else None}


def _punctuation_ok(text: str, lines: int) -> bool:
    body = "".join(s.strip() for s in text.splitlines() if s.strip() and not s.strip().startswith("《"))
    marks = [c for c in body if c in "，。？！；"]
    return marks == [COMMA if i % 2 == 0 else STOP for i in range(lines)]


# --------------------------------------------------------------------------- writing a poem

@dataclass
class ChinesePoem:
    title: str
    lines: list[str]  # without punctuation
    plan: Plan
    score: float  # mean log-probability per character under the model
    candidates: int

    def text(self, *, with_title: bool = True) -> str:
        couplets = [f"{self.lines[i]}{COMMA}{self.lines[i + 1]}{STOP}" for i in range(0, len(self.lines), 2)]
        head = [f"《{self.title}》", ""] if with_title and self.title else []
        return "\n".join(head + couplets) + "\n"


def vocab_for(lm) -> ChineseVocab:
    """The tables of a loaded model's vocabulary (built once per model)."""
    v = getattr(lm, "_zh_vocab", None)
    if v is None:
        v = lm._zh_vocab = ChineseVocab(lm.tokenizer)
    return v


def write_chinese(lm, form: str, *, title: str = "", start: str = "", acrostic: str = "", pingze: bool = False,
                  temperature: float = 0.8, top_k: int = 0, top_p: float = 0.0, candidates: int = 8,
                  repeat_penalty: float = 0.0, generator=None) -> ChinesePoem:
    """Write one poem of ``form``: ``candidates`` poems are drawn in one batch under the
    constraint and the most likely one (by the model's own mean log-probability) is kept."""
    import random

    import torch

    vocab = vocab_for(lm)
    tok = lm.tokenizer
    rng = random.Random(int(torch.randint(0, 2**31, (1,), generator=generator)))
    plan = make_plan(form, start=start, acrostic=acrostic, pingze=pingze, choose=rng.choice)
    if title:
        bad = [c for c in title if not is_han(c)]
        if bad:
            raise BadInput(f"--title must be Chinese characters only for a Chinese poem (got {''.join(bad)!r})")
        if len(title) > 10:
            raise BadInput(f"--title {title!r} is longer than 10 characters")
        vocab.check_chars(title, "--title")
    tag = f"<{form}>"
    prompt = [tok.bos] + ([tok.index[tag]] if tag in tok.index else [])
    prompt += [tok.index[c] for c in title] + ([tok.sep] if title else [])
    title_free = not title
    proc = ChineseConstraint(vocab, plan, len(prompt), title_free=title_free, repeat_penalty=repeat_penalty)
    n = max(1, int(candidates))
    max_new = (TITLE_MAX + 1 if title_free else 0) + plan.body_len + 1
    if len(prompt) + max_new > lm.model.config.block_size:
        raise BadInput(f"this model's context ({lm.model.config.block_size} tokens) is too short for a {FORM_NAMES[form]}")
    idx = torch.tensor([prompt] * n, dtype=torch.long, device=lm.device)

    def done(seq):
        return bool((seq[:, len(prompt):] == tok.eos).any(dim=1).all())

    lp: list = []
    out = lm.model.generate(idx, max_new, temperature=temperature, top_k=top_k or None, top_p=top_p or None,
                            generator=generator, logits_processor=proc, stop=done, logprobs=lp)
    rows = out.tolist()
    starts = [proc.body_start(r) for r in rows]
    lp = torch.stack(lp, dim=1)  # (n, steps): the model's own log-probability of each drawn token
    P = len(prompt)
    scores = [float(lp[b, s - P:s - P + plan.body_len].mean()) for b, s in enumerate(starts)]
    best = max(range(n), key=lambda b: (scores[b], -b))
    row, s = rows[best], starts[best]
    body = tok.decode(row[s:s + plan.body_len])
    got_title = title or tok.decode(row[len(prompt):s - 1])
    lines = [x for x in re.split(f"[{COMMA}{STOP}]", body) if x]
    if len(lines) != plan.lines or any(len(x) != plan.chars for x in lines):  # the constraint's promise
        raise RuntimeError(f"constrained decoding broke the form: {body!r}")
    return ChinesePoem(got_title, lines, plan, scores[best], n)
