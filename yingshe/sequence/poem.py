"""Registers ``poem``: a prompt → a poem, written by a character Transformer we trained.

Chinese regular verse (五言/七言 绝句 and 律诗) from ``tang-poem``, trained on the 全唐诗;
English quatrains and Shakespearean sonnets from ``english-verse``, trained on Shakespeare,
Blake and Milton. The form is guaranteed by constrained decoding, not hoped for: characters per
line, punctuation, line count, rhyme (pypinyin finals and level tones; CMUdict), and optionally
the 平仄 pattern, an acrostic and a given start (see chinese.py and english.py).

Several candidates are drawn in one batch and the one the model finds most likely is kept
(``candidates``). The artwork is text; ``render`` also typesets it into a picture (vertical
columns right to left for Chinese), which is otherwise made when the poem is saved as .png.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput, Interrupted
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, Mapping, register

CHINESE_FORMS = ("wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi")
ENGLISH_FORMS = ("quatrain", "sonnet")
DEFAULT_MODEL = {"zh": "tang-poem", "en": "english-verse"}


def language_of(form: str) -> str:
    return "zh" if form in CHINESE_FORMS else "en"


@dataclass
class PoemRecipe(Recipe):
    mapping = "poem"
    form: str = param("wuyan-jueju", "wuyan/qiyan = 5/7 characters a line, jueju/lushi = 4/8 lines; "
                      "quatrain and sonnet are English", choices=CHINESE_FORMS + ENGLISH_FORMS)
    title: str = param("", "title (Chinese: the poem is written to it; empty: the model writes one)")
    start: str = param("", "how the first line begins (a keyword), or the whole first line")
    acrostic: str = param("", "first character of each line (藏头诗), e.g. 春夏秋冬; letters for English")
    pingze: bool = param(False, "Chinese: follow the 平仄 tone pattern of regular verse (positions 2, 4, 6 and "
                                "line ends)")
    rhyme_scheme: str = param("ABAB", "English quatrain's rhyme scheme (a sonnet is always ABAB CDCD EFEF GG)",
                              choices=("ABAB", "AABB", "ABCB"))
    script: str = param("simplified", "Chinese characters of the output", choices=("simplified", "traditional"))
    temperature: float = param(0.8, "sampling temperature (0: always the most likely character)", min=0.0, max=2.0)
    top_k: int = param(0, "sample among the k most likely characters only (0: off)", min=0, max=100_000)
    top_p: float = param(0.95, "nucleus sampling: the smallest set of characters holding this probability "
                               "(1: off)", min=0.01, max=1.0)
    candidates: int = param(8, "poems (English: lines) drafted at once; the most likely one is kept",
                            min=1, max=64)
    repeat_penalty: float = param(1.0, "Chinese: lower the odds of characters already used (logits minus this)",
                                  min=0.0, max=20.0, advanced=True)
    real_words: bool = param(True, "English: every word is one the model's dictionary knows (CMUdict words of its "
                                   "corpus), spelled right")
    render: bool = param(False, "also typeset the poem as a picture (vertical columns for Chinese): save it with "
                         "-o NAME.png")
    model: str = param("auto", "tang-poem, english-verse, a run folder or a model file (auto: by the form's "
                               "language)", advanced=True, suggest=("auto", "tang-poem", "english-verse"))

    def check(self) -> None:
        zh = language_of(self.form) == "zh"
        for name in ("title", "start", "acrostic"):
            value = getattr(self, name).strip()
            setattr(self, name, value)
            han = any("\u3400" <= c <= "\u9fff" for c in value)
            if value and zh and not han:
                raise BadInput(f"--{name} {value!r}: a {self.form} is Chinese; give Chinese characters")
            if value and not zh and han:
                raise BadInput(f"--{name} {value!r}: a {self.form} is English; give English text")
        if not zh and self.acrostic and not self.acrostic.isalpha():
            raise BadInput(f"--acrostic {self.acrostic!r}: letters only")


# --------------------------------------------------------------------------- models

_MODELS: dict = {}


def get_model(spec: str, language: str, device):
    """A loaded language model, cached per (file, fingerprint, device)."""
    from yingshe.sequence.lm import load_lm

    name = DEFAULT_MODEL[language] if spec in ("", "auto") else spec
    path = Path(name).expanduser()
    key = (name, str(device), path.stat().st_mtime_ns if path.exists() else None)
    lm = _MODELS.get(key)
    if lm is None:
        lm = load_lm(name, device=device, expect_kind="poem")
        if len(_MODELS) > 4:
            _MODELS.clear()
        _MODELS[key] = lm
    if lm.meta.get("language") != language:
        want = "Chinese" if language == "zh" else "English"
        raise BadInput(f"model {name!r} writes {'Chinese' if lm.meta.get('language') == 'zh' else 'English'} "
                       f"verse; this form needs a {want} model")
    return lm


def _convert(text: str, config: str) -> str:
    try:
        import opencc
    except ImportError:
        raise BadInput("Chinese poems need OpenCC: pip install 'yingshe[poem]'") from None
    return opencc.OpenCC(config).convert(text)


# --------------------------------------------------------------------------- run

def run(recipe: PoemRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, model=None, **_) -> Artwork:
    import torch

    from yingshe.core.device import resolve_device, set_threads

    t0 = time.perf_counter()
    progress = progress or Progress()
    language = language_of(recipe.form)
    lm = model or get_model(recipe.model, language, resolve_device(device))
    gen = torch.Generator().manual_seed(recipe.seed)  # on the CPU: the same draws on every device
    progress.start(1, f"writing a {recipe.form}")
    if progress.stopped():
        raise Interrupted("stopped before the poem was written")
    # a few rows of a small model at a time: one thread is fastest (more only wait on each other),
    # and the process's own setting is restored afterwards (the studio runs other mappings too)
    before = torch.get_num_threads()
    threads = set_threads(threads or 1)
    try:
        if language == "zh":
            text, title, lines, summary = _chinese(recipe, lm, gen)
        else:
            text, title, lines, summary = _english(recipe, lm, gen)
    finally:
        torch.set_num_threads(before)
    progress.update(1)
    progress.close()

    def typeset():
        from yingshe.sequence.typeset import typeset_chinese, typeset_english

        return typeset_chinese(title, lines) if language == "zh" else typeset_english(title, lines)

    art = Artwork(mapping=recipe.mapping, recipe=recipe, text=text,
                  weights={"model": dict(lm.record) or {"source": "in-memory model", "sha256": ""}},
                  device=str(lm.device), threads=threads, summary=summary, make={"image": typeset})
    if recipe.render:
        art.image = typeset()
    art.seconds = time.perf_counter() - t0
    return art


def _chinese(recipe: PoemRecipe, lm, gen):
    from yingshe.sequence.chinese import FORM_NAMES, check_poem, write_chinese

    to_s = lambda s: _convert(s, "t2s") if s else s  # noqa: E731 (Traditional input is welcome)
    poem = write_chinese(lm, recipe.form, title=to_s(recipe.title), start=to_s(recipe.start),
                         acrostic=to_s(recipe.acrostic), pingze=recipe.pingze, temperature=recipe.temperature,
                         top_k=recipe.top_k, top_p=recipe.top_p if recipe.top_p < 1 else 0.0,
                         candidates=recipe.candidates, repeat_penalty=recipe.repeat_penalty, generator=gen)
    check = check_poem(poem.text(), recipe.form, pingze=recipe.pingze)
    title, lines, text = poem.title, poem.lines, poem.text()
    if recipe.script == "traditional":
        text = _convert(text, "s2t")
        title, lines = _convert(title, "s2t"), [_convert(x, "s2t") for x in lines]
    summary = {"form": FORM_NAMES[recipe.form], "title": title, "variant": poem.plan.variant,
               "rhyme_group": check["rhyme_group"], "form_ok": check["form"], "rhyme_ok": check["rhyme"],
               "log_prob_per_char": round(poem.score, 4), "candidates": poem.candidates,
               "model_step": lm.meta.get("step")}
    if recipe.pingze:
        summary["pingze_ok"] = check["pingze"]
    return text, title, lines, summary


def _english(recipe: PoemRecipe, lm, gen):
    from yingshe.sequence.english import check_english, format_english, write_english

    out = write_english(lm, recipe.form, scheme=recipe.rhyme_scheme, title=recipe.title, start=recipe.start,
                        acrostic=recipe.acrostic, temperature=recipe.temperature, top_k=recipe.top_k,
                        top_p=recipe.top_p if recipe.top_p < 1 else 0.0, candidates=recipe.candidates,
                        real_words=recipe.real_words, generator=gen)
    text = format_english(out["title"], out["lines"], recipe.form)
    check = check_english(text, out["scheme"])
    summary = {"form": recipe.form, "scheme": out["scheme"], "form_ok": check["form"], "rhyme_ok": check["rhyme"],
               "lines_in_meter": round(check["meter"], 3), "rhymes_repaired": out["repaired"],
               "candidates": recipe.candidates, "model_step": lm.meta.get("step")}
    return text, out["title"], out["lines"], summary


MAPPING = register(Mapping(
    name="poem",
    summary="prompt → poem: Chinese regular verse (绝句, 律诗) or English quatrains and sonnets from a Transformer",
    family="self-attention",
    recipe=PoemRecipe,
    run=run,
    outputs=("text", "image"),
    rank=10,
    examples=(Example("藏头诗: a 七言绝句 whose lines begin 春夏秋冬",
                      {"form": "qiyan-jueju", "acrostic": "春夏秋冬", "render": True, "seed": 1}),
              Example("A Shakespearean sonnet, ABAB CDCD EFEF GG", {"form": "sonnet", "seed": 2})),
))
