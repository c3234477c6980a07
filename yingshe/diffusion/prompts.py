"""Prompt engineering, with the syntax people already use (AUTOMATIC1111's web UI):

- emphasis: ``(word)`` ×1.1, ``((word))`` ×1.21, ``[word]`` ÷1.1, ``(word:1.3)`` exactly 1.3;
  ``\\(`` for a literal bracket. :func:`parse_weights` turns a prompt into (text, weight) chunks;
  the weights scale the text encoder's token states (see :mod:`yingshe.diffusion.text`).
- styles: a named template (``watercolor``: "{prompt}, watercolor painting, ...") or your own
  template with ``{prompt}``, each with a negative prompt added to yours.
- the infotext: the ``parameters`` PNG text chunk that A1111, ComfyUI, civitai and friends read::

      a red heart
      Negative prompt: blurry
      Steps: 25, Sampler: Euler a, CFG scale: 5.0, Seed: 1, Size: 64x64, Model: yingshe-emoji-64

  :func:`infotext` writes it, :func:`parse_infotext` reads it back (ours or A1111's), and
  :func:`settings_from_image` reads both it and yingshe's own record from a picture ("load
  settings from image").
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from yingshe.core.errors import BadInput

ROUND, SQUARE = 1.1, 1 / 1.1
MAX_PROMPT_CHARS = 20_000

_TOKEN = re.compile(r"""
    \\[()\[\]\\:]        # an escaped bracket, backslash or colon
  | \(                   # open emphasis
  | \[                   # open de-emphasis
  | :\s*([+-]?[\d.]+)\s*\)   # an explicit weight closing a round bracket
  | \)
  | \]
  | [^\\()\[\]:]+        # plain text
  | [:\\]                # a lone colon or backslash is text
""", re.X)

#: name -> (template with {prompt}, negative prompt added)
STYLES: dict[str, tuple[str, str]] = {
    "none": ("{prompt}", ""),
    "emoji": ("an emoji of {prompt}", ""),
    "icon": ("{prompt} icon, flat, simple, white background", "photo, realistic"),
    "watercolor": ("{prompt}, watercolor painting, soft washes, paper texture", "photo, 3d render"),
    "ink": ("{prompt}, Chinese ink wash painting, expressive brush strokes, rice paper", "colour photo"),
    "oil": ("{prompt}, oil painting, impasto, visible brush strokes", "photo, flat"),
    "pixel-art": ("{prompt}, pixel art, 16-bit, crisp pixels", "blurry, smooth"),
    "sketch": ("pencil sketch of {prompt}, graphite, hatching", "colour"),
    "photo": ("a photo of {prompt}, natural light, 35mm", "painting, drawing, cartoon"),
    "cinematic": ("{prompt}, cinematic still, dramatic lighting, shallow depth of field", "cartoon"),
}


# --------------------------------------------------------------------------- emphasis

def parse_weights(prompt: str) -> list[tuple[str, float]]:
    """(text, weight) chunks of an A1111 prompt, neighbours of equal weight merged.

    >>> parse_weights("a (golden:1.3) [dim] cat")
    [('a ', 1.0), ('golden', 1.3), (' ', 1.0), ('dim', 0.9090909090909091), (' cat', 1.0)]
    """
    res: list[list] = []
    rounds: list[int] = []
    squares: list[int] = []

    def multiply(start: int, m: float) -> None:
        for p in range(start, len(res)):
            res[p][1] *= m

    for mt in _TOKEN.finditer(prompt):
        text, weight = mt.group(0), mt.group(1)
        if text.startswith("\\") and len(text) == 2:
            res.append([text[1], 1.0])
        elif text == "(":
            rounds.append(len(res))
        elif text == "[":
            squares.append(len(res))
        elif weight is not None and rounds:
            try:
                w = float(weight)
            except ValueError:
                raise BadInput(f"prompt: {weight!r} in {text!r} is not a number") from None
            if not math.isfinite(w) or abs(w) > 100:
                raise BadInput(f"prompt: emphasis weight {weight} is out of range (use -100 to 100)")
            multiply(rounds.pop(), w)
        elif text == ")" and rounds:
            multiply(rounds.pop(), ROUND)
        elif text == "]" and squares:
            multiply(squares.pop(), SQUARE)
        elif weight is not None:  # ":1.3)" without an open bracket: plain text
            res.append([text, 1.0])
        else:
            res.append([text, 1.0])
    for p in rounds:
        multiply(p, ROUND)
    for p in squares:
        multiply(p, SQUARE)
    out: list[list] = []
    for text, w in res:
        if out and out[-1][1] == w:
            out[-1][0] += text
        else:
            out.append([text, w])
    return [(t, w) for t, w in out if t] or [("", 1.0)]


def plain(prompt: str) -> str:
    """The prompt's words without emphasis syntax ("a (golden:1.3) cat" → "a golden cat")."""
    return re.sub(r"\s+", " ", "".join(t for t, _ in parse_weights(prompt))).strip()


def check_prompt(prompt: str, what: str = "prompt") -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadInput(f"the {what} is empty: say what to draw, e.g. \"a red heart\"")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadInput(f"the {what} is {len(prompt):,} characters long; at most {MAX_PROMPT_CHARS:,} "
                       "(and the text encoder reads far fewer word pieces)")
    if "\x00" in prompt:
        raise BadInput(f"the {what} holds a NUL character")
    return prompt.strip()


# --------------------------------------------------------------------------- styles

def check_style(style: str) -> None:
    if style not in STYLES and "{prompt}" not in style:
        raise BadInput(f"--style must be one of {', '.join(STYLES)} or a template with {{prompt}}; got {style!r}")


def apply_style(style: str, prompt: str, negative: str) -> tuple[str, str]:
    """(prompt, negative) with the style's template and negative words."""
    check_style(style)
    template, neg = STYLES.get(style, (style, ""))
    prompt = template.replace("{prompt}", prompt)
    if neg:
        negative = f"{negative}, {neg}" if negative.strip() else neg
    return prompt, negative


# --------------------------------------------------------------------------- infotext

def _quote(v) -> str:
    s = str(v)
    if any(c in s for c in ',:"\n'):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return s


def infotext(prompt: str, negative: str, params: dict) -> str:
    """The A1111 ``parameters`` text: prompt, ``Negative prompt:`` and one line of ``Key: value``."""
    lines = [prompt]
    if negative:
        lines.append(f"Negative prompt: {negative}")
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in params.items() if v is not None and v != ""))
    return "\n".join(lines)


_PARAM = re.compile(r'\s*([\w ()/+-]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] == '"':
        out, i = [], 1
        while i < len(v) - 1:
            if v[i] == "\\" and i + 1 < len(v) - 1:
                out.append({"n": "\n"}.get(v[i + 1], v[i + 1]))
                i += 2
            else:
                out.append(v[i])
                i += 1
        return "".join(out)
    return v


def parse_infotext(text: str) -> dict:
    """A1111's ``parameters`` text → {"Prompt", "Negative prompt", "Steps", "Sampler", ...}
    (numbers as numbers; ``Size`` also as ``Size-1``/``Size-2``, as A1111 does)."""
    if not isinstance(text, str):
        raise BadInput("infotext must be text")
    lines = text.strip().split("\n")
    last = lines[-1] if lines else ""
    params_line = ""
    if len(_PARAM.findall(last)) >= 3 or last.startswith("Steps:"):
        params_line = last
        lines = lines[:-1]
    prompt, negative, in_neg = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_neg = True
            line = line[len("Negative prompt:"):].lstrip()
        (negative if in_neg else prompt).append(line)
    out: dict = {"Prompt": "\n".join(prompt).strip(), "Negative prompt": "\n".join(negative).strip()}
    for key, value in _PARAM.findall(params_line):
        key, value = key.strip(), _unquote(value)
        out[key] = _number(value)
        if key == "Size":
            m = re.fullmatch(r"(\d+)x(\d+)", value)
            if m:
                out["Size-1"], out["Size-2"] = int(m.group(1)), int(m.group(2))
    return out


def _number(v: str):
    try:
        return int(v)
    except ValueError:
        pass
    try:
        f = float(v)
        return f if math.isfinite(f) else v
    except ValueError:
        return v


def recipe_from_infotext(info: dict) -> dict:
    """``diffuse`` recipe fields (and the prompt) from parsed infotext (ours or A1111's)."""
    from yingshe.diffusion.pipeline import A1111_SAMPLERS

    out: dict = {"prompt": info.get("Prompt", ""), "negative_prompt": info.get("Negative prompt", "")}
    for key, field in (("Steps", "steps"), ("CFG scale", "guidance"), ("Seed", "seed"),
                       ("Denoising strength", "strength"), ("Variation seed", "variation_seed"),
                       ("Variation seed strength", "variation_strength"), ("Model", "model")):
        if key in info:
            out[field] = info[key]
    if "Size-1" in info:
        out["width"], out["height"] = info["Size-1"], info["Size-2"]
    sampler = info.get("Sampler")
    if isinstance(sampler, str):
        name = sampler + (" Karras" if info.get("Schedule type") == "Karras" and "Karras" not in sampler else "")
        if name in A1111_SAMPLERS:
            out["scheduler"] = A1111_SAMPLERS[name]
    return out


def settings_from_image(path) -> dict:
    """What a picture says about how it was made ("load settings from image"):

    ``{"record": yingshe's record or None, "parameters": the raw A1111 text or None,
    "infotext": parsed parameters or {}, "recipe": the best recipe we can rebuild,
    "mapping": the mapping name or None, "prompt": the prompt or None}``. yingshe's own record
    wins where both exist; a picture from A1111 gives a ``diffuse`` recipe from its infotext."""
    from PIL import Image

    from yingshe.core import records

    p = Path(path)
    try:
        with Image.open(p) as im:
            text = dict(getattr(im, "text", {}) or {})
    except Exception as e:
        raise BadInput(f"{path}: cannot read this picture ({type(e).__name__})") from None
    params = text.get("parameters")
    info = parse_infotext(params) if params else {}
    rec = None
    try:
        rec = records.read_record(p)
    except Exception:
        rec = None
    out = {"record": rec, "parameters": params, "infotext": info, "mapping": None, "recipe": {}, "prompt": None}
    if rec:
        out["mapping"] = rec.get("mapping")
        out["recipe"] = dict(rec.get("recipe") or {})
        for src in (rec.get("inputs") or {}).get("prompt", []):
            out["prompt"] = src.get("text") or out["prompt"]
    elif info:
        r = recipe_from_infotext(info)
        out["mapping"] = "diffuse"
        out["prompt"] = r.pop("prompt")
        out["recipe"] = r
    return out
