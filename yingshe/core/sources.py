"""Inputs of every kind: where a mapping's pictures, sounds, scores, videos and texts come from.

A source is a file, or a spec that another mapping renders on the fly:

- ``yingshe:MAPPING?key=value&...`` runs any mapping (a fractal as a style image, a generated
  poem as a painting's text, a melody as a video's song); keys naming the mapping's inputs take
  sources themselves (URL-encoded). The made artwork's record nests into the new one's inputs.
- ``art:GENERATOR?key=value`` (algorithmic generators; kept for older artworks), and the schemes
  that mapping packages register with :func:`register_scheme` (e.g. ``builtin:`` styles).
- text inputs are the text itself, or ``@FILE`` to read a file.

Every loaded source carries the record that goes into the artwork: ``{"source", "sha256"}``,
the ``kind`` when it is not a picture, the text itself for texts, and — when the input is itself
an artwork that yingshe made (a PNG, FLAC, MIDI... with a record) — that artwork's ``record``,
so a chain of mappings is one provenance tree and ``yingshe recreate --deep`` can replay it.

While :func:`access_policy` is in force (recreating someone else's artwork), files are read only
where the policy allows: see :class:`AccessPolicy`.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl

from yingshe.core.errors import BadInput
from yingshe.core.fingerprint import sha256_bytes, sha256_file


@dataclass
class Source:
    value: Any  # PIL image | Audio | Video | Midi | str, by kind
    #: what the record keeps: {"source": path or spec, "sha256": ..., ["kind"], ["text"], ["record"]}
    record: dict
    kind: str = "image"

    @property
    def image(self):
        """The picture (the first frame of a video)."""
        if self.kind == "video":
            return self.value.frames[0]
        if self.kind != "image":
            raise BadInput(f"{self.record.get('source')!r} is {self.kind}, not a picture")
        return self.value

    @property
    def text(self) -> str:
        if self.kind != "text":
            raise BadInput(f"{self.record.get('source')!r} is {self.kind}, not text")
        return self.value


# --------------------------------------------------------------------------- schemes

@dataclass(frozen=True)
class _Scheme:
    render: Callable[[str, int | None], Any]
    kind: str


_SCHEMES: dict[str, _Scheme] = {}
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+-]*):(?!//)(?![\\/])")


def register_scheme(scheme: str, render: Callable[[str, int | None], Any], kind: str = "image") -> None:
    """``render(rest_of_spec, size_hint)`` returns the value (an RGB picture for ``image``) of
    ``scheme:rest``."""
    _SCHEMES[scheme] = _Scheme(render, kind)


_TEXT_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+-]*):([A-Za-z0-9_.-]+)$")


def _schemes_loaded(scheme: str) -> bool:
    """Import the mapping modules (they register schemes) and say whether ``scheme`` is known."""
    from yingshe.core import registry

    registry.all_mappings()
    return scheme in _SCHEMES


def is_spec(text: str) -> bool:
    m = _SCHEME_RE.match(text)
    return bool(m) and len(m.group(1)) > 1  # "C:\\x" is a Windows path, not a scheme


# --------------------------------------------------------------------------- access policy

@dataclass
class AccessPolicy:
    """Which files a foreign record may make us read.

    ``roots``: folders whose files may be read (the artwork's own folder, the current folder);
    ``redirects``: recorded source path → the file to read instead (``--input``, ``--search``);
    the new record keeps the recorded path, so the same inputs give the same bytes.
    """

    roots: list[Path] = field(default_factory=list)
    redirects: dict[str, Path] = field(default_factory=dict)

    def resolve(self, text: str, what: str) -> Path:
        if text in self.redirects:
            return self.redirects[text]
        p = Path(text)
        try:
            real = p.resolve()
        except (OSError, RuntimeError):
            real = p.absolute()
        if not any(_under(real, r) for r in self.roots):
            raise BadInput(f"{what} {text!r} is outside this artwork's folder and the current folder: "
                           "not read. Supply it with --input NAME=FILE or --search DIR")
        return real


def _under(p: Path, root: Path) -> bool:
    try:
        p.relative_to(root)
        return True
    except ValueError:
        return False


_POLICY: contextvars.ContextVar[AccessPolicy | None] = contextvars.ContextVar("yingshe_access_policy", default=None)


@contextlib.contextmanager
def access_policy(policy: AccessPolicy | None):
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


def redirected(text: str) -> bool:
    """True when the current access policy reads ``text`` from another file (--input/--search)."""
    policy = _POLICY.get()
    return policy is not None and text in policy.redirects


def readable_path(text: str, what: str) -> tuple[Path, str]:
    """(the file to read, the path to record) for a file named in a recipe or input, under the
    current access policy."""
    policy = _POLICY.get()
    if policy is None:
        return Path(text), str(Path(text).resolve())
    return policy.resolve(text, what), text


# --------------------------------------------------------------------------- loading

def load(spec: str | Path, *, what: str = "image", size_hint: int | None = None, kind: str = "image",
         max_seconds: float | None = None) -> Source:
    """Load one input of ``kind`` ("image", "audio", "video", "midi", "text", or alternatives
    such as "image|video") from a file or a spec."""
    kinds = tuple(kind.split("|"))
    text = str(spec)
    if kinds == ("text",):
        m = _TEXT_SCHEME_RE.match(text)  # poem:jingyesi — a registered text scheme and a bare name only
        if m and (m.group(1) in _SCHEMES or _schemes_loaded(m.group(1))) and _SCHEMES[m.group(1)].kind == "text":
            return _from_scheme(text, kinds, what, size_hint)
        return _load_text(text, what)
    if text.startswith("yingshe:"):
        return _from_mapping(text[len("yingshe:"):], kinds, what, size_hint)
    if is_spec(text) and not Path(text).exists():
        return _from_scheme(text, kinds, what, size_hint)
    path, recorded = readable_path(text, what)
    k = _file_kind(path, kinds)
    value = _read_file(path, k, what, max_seconds)
    record = {"source": recorded, "sha256": sha256_file(path)}
    if k != "image":
        record["kind"] = k
    nested = _nested_record(path)
    if nested is not None:
        record["record"] = nested
    return Source(value, record, k)


def _file_kind(path: Path, kinds: tuple[str, ...]) -> str:
    if len(kinds) == 1:
        return kinds[0]
    from yingshe.core.audio import AUDIO_EXTS
    from yingshe.core.midi import MIDI_EXTS
    from yingshe.core.video import VIDEO_EXTS

    ext = path.suffix.lower()
    for k, exts in (("video", VIDEO_EXTS), ("audio", AUDIO_EXTS), ("midi", MIDI_EXTS)):
        if k in kinds and ext in exts:
            return k
    return kinds[0]


def _read_file(path: Path, kind: str, what: str, max_seconds: float | None):
    if kind == "image":
        from yingshe.core.images import open_image

        return open_image(path, what=what)
    if kind == "audio":
        from yingshe.core.audio import load_audio

        return load_audio(path, what=what, max_seconds=max_seconds)
    if kind == "video":
        from yingshe.core.video import load_video

        return load_video(path, what=what, max_seconds=max_seconds)
    if kind == "midi":
        from yingshe.core.midi import load_midi

        return load_midi(path, what=what, max_seconds=max_seconds)
    if kind == "text":
        from yingshe.core.text import load_text_file

        return load_text_file(path, what=what)
    raise ValueError(f"unknown input kind {kind!r}")


def _nested_record(path: Path) -> dict | None:
    """The record inside an input file that yingshe made (None for anything else)."""
    from yingshe.core import records

    try:
        raw = records.read_raw(path)
        if raw is None:
            return None
        return records.validate(records.parse_json(raw))
    except BadInput:
        return None  # an input with a damaged or foreign record is still a fine input


def _load_text(text: str, what: str, *, literal: bool = False) -> Source:
    from yingshe.core.text import clean_text, load_text_file

    if literal:
        value = clean_text(text, what=what)
        source, nested = "<text>", None
    elif text.startswith("@"):
        path, recorded = readable_path(text[1:], what)
        value = load_text_file(path, what=what)
        source = "@" + recorded
        nested = _nested_record(path)
    elif text.startswith("yingshe:"):
        return _from_mapping(text[len("yingshe:"):], ("text",), what, None)
    else:
        value = clean_text(text, what=what)
        source, nested = "<text>", None
    record = {"source": source, "sha256": fingerprint(value, "text"), "kind": "text", "text": value}
    if nested is not None:
        record["record"] = nested
    return Source(value, record, "text")


def from_text(text: str) -> Source:
    """A text given directly (Python API, studio text boxes)."""
    return _load_text(text, "text", literal=True)


def _from_scheme(text: str, kinds: tuple[str, ...], what: str, size_hint: int | None) -> Source:
    scheme, rest = text.split(":", 1)
    if scheme not in _SCHEMES:
        from yingshe.core import registry

        registry.all_mappings()  # mapping modules register their schemes on import
    if scheme not in _SCHEMES:
        raise BadInput(f"{what} {text!r}: unknown source scheme {scheme!r} (known: yingshe, "
                       f"{', '.join(sorted(_SCHEMES)) or 'none'})")
    s = _SCHEMES[scheme]
    if s.kind not in kinds:
        raise BadInput(f"{what} {text!r}: {scheme}: gives {s.kind}, and this input takes {'/'.join(kinds)}")
    if s.kind == "image" and size_hint and "size=" not in rest and scheme == "art":
        # Record the size in the spec itself, so recreate renders exactly the same image.
        rest += ("&" if "?" in rest else "?") + f"size={int(size_hint)}"
        text = f"{scheme}:{rest}"
    value = s.render(rest, size_hint)
    if s.kind == "image":
        value = value.convert("RGB")
    record = {"source": text, "sha256": fingerprint(value, s.kind)}
    if s.kind != "image":
        record["kind"] = s.kind
    if s.kind == "text":
        record["text"] = value
    return Source(value, record, s.kind)


def _from_mapping(rest: str, kinds: tuple[str, ...], what: str, size_hint: int | None) -> Source:
    """``yingshe:MAPPING?key=value``: run MAPPING and take its output of the kind wanted."""
    from yingshe.core import registry

    name, _, query = rest.partition("?")
    spec_text = "yingshe:" + rest
    mapping = registry.get(name.strip())
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise BadInput(f"{what} {spec_text!r}: expected yingshe:MAPPING?key=value&key=value") from None
    made = [k for k in kinds if k in mapping.outputs or (k == "image" and "video" in mapping.outputs)]
    if not made:
        raise BadInput(f"{what} {spec_text!r}: {mapping.name} makes {', '.join(mapping.outputs)}, and this input "
                       f"takes {'/'.join(kinds)}")
    kind = made[0]
    specs = {s.name: s for s in mapping.inputs}
    inputs: dict[str, list] = {}
    for key in [k for k in params if k in specs and not specs[k].from_recipe]:
        value = params.pop(key)
        spec = specs[key]
        inputs[key] = [load(v, what=f"{key} of {spec_text}", kind=spec.kind)
                       for v in (value.split("|") if spec.multiple else [value])]
    recipe_fields = {p.name for p in mapping.recipe.params()}
    if kind == "image" and size_hint and "size" in recipe_fields and "size" not in params:
        params["size"] = str(size_hint)
        spec_text += ("&" if "?" in spec_text else "?") + f"size={int(size_hint)}"
    missing = [s.name for s in mapping.inputs if s.required and not s.from_recipe and s.name not in inputs]
    if missing:
        raise BadInput(f"{what} {spec_text!r}: {mapping.name} needs its {', '.join(missing)} input "
                       f"({'&'.join(m + '=FILE' for m in missing)})")
    recipe = mapping.recipe.from_dict(params)
    art = mapping.run(recipe, inputs, None)
    if art.interrupted:
        raise BadInput(f"{what} {spec_text!r} was stopped before it finished")
    value = art.output(kind)
    if kind == "image":
        value = value.convert("RGB")
    record = {"source": spec_text, "sha256": fingerprint(value, kind), "record": art.record(timings=False)}
    if kind != "image":
        record["kind"] = kind
    if kind == "text":
        record["text"] = value
    return Source(value, record, kind)


def fingerprint(value: Any, kind: str) -> str:
    """sha256 of an in-memory input: the same content gives the same fingerprint."""
    if kind == "image":
        return sha256_bytes(value.tobytes())
    if kind == "text":
        return sha256_bytes(value.encode("utf-8"))
    if kind in ("audio", "midi"):
        return value.fingerprint()
    if kind == "video":
        import hashlib

        h = hashlib.sha256(f"video:{value.fps}:".encode())
        for f in value.frames:
            h.update(f.convert("RGB").tobytes())
        if value.audio is not None:
            h.update(value.audio.fingerprint().encode())
        return h.hexdigest()
    raise ValueError(kind)


def from_image(img, name: str = "<image>") -> Source:
    """A source for an in-memory image (Python API, studio uploads)."""
    from yingshe.core.images import to_rgb

    img = to_rgb(img)
    return Source(img, {"source": name, "sha256": sha256_bytes(img.tobytes())})


def expand_folders(items: list[str], kind: str) -> list[str]:
    """Files and folders → files (folders searched recursively for files of ``kind``)."""
    from yingshe.core.audio import AUDIO_EXTS
    from yingshe.core.midi import MIDI_EXTS
    from yingshe.core.video import VIDEO_EXTS

    from yingshe.core.images import IMAGE_EXTS

    exts = {"image": IMAGE_EXTS, "audio": AUDIO_EXTS,
            "video": VIDEO_EXTS, "midi": MIDI_EXTS, "text": (".txt", ".md")}
    wanted = tuple(e for k in kind.split("|") for e in exts.get(k, ()))
    out = []
    for item in items:
        if not str(item).strip():
            raise BadInput("an input is an empty name; give a file, a folder or a source")
        p = Path(item)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in wanted
                           and not f.name.startswith("."))
            if not found:
                raise BadInput(f"folder {item!r} holds no {kind.replace('|', ' or ')} files")
            out += found
        else:
            out.append(item)
    return out


__all__ = ["Source", "AccessPolicy", "access_policy", "load", "register_scheme", "is_spec", "fingerprint",
           "from_image", "from_text", "expand_folders", "readable_path"]
