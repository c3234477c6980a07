"""The studio's work, without any user interface: uploads, jobs, live renders, the gallery.

:class:`Studio` is what the Gradio page calls; it is plain Python so it can be tested (and
benchmarked) without a browser. Everything it writes and everything it hands out lives under
its output folder.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import inspect
import io
import json
import os
import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from PIL import Image

from yingshe.core import registry, sources
from yingshe.core.artwork import Artwork, unique_path
from yingshe.core.errors import BadInput
from yingshe.core.fingerprint import sha256_bytes
from yingshe.core.images import IMAGE_EXTS, decode_image
from yingshe.core.records import read_record
from yingshe.core.progress import CallbackProgress
from yingshe.studio.controls import to_recipe

#: Uploads bigger than this are refused (bytes); ``--max-upload-mb`` changes it.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
#: Uploads with more pixels than this are refused (checked from the header, before decoding).
MAX_UPLOAD_PIXELS = 40_000_000
#: Longest side of live (slider) renders; a coarse one comes first, so the page answers at once.
LIVE_SIZE = 512
LIVE_COARSE = 128
#: longest side of a webcam frame as a streaming mapping paints it
WEBCAM_SIZE = 320
#: Gallery thumbnails (longest side) and page length.
THUMB_SIZE = 192
PAGE_SIZE = 48


@dataclass
class Update:
    """One message from a running job."""

    kind: str  # "progress" | "done" | "error"
    done: int = 0
    total: int = 0
    metrics: dict = field(default_factory=dict)
    preview: Image.Image | None = None
    step: int | None = None
    artwork: Artwork | None = None
    path: Path | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def status(self) -> str:
        if self.kind == "error":
            return f"⚠️ {self.message}"
        if self.kind == "done":
            art = self.artwork
            note = " (stopped early: best so far)" if art is not None and art.interrupted else ""
            secs = f" in {art.seconds:.1f} s" if art is not None else ""
            return f"✅ saved {self.path.name if self.path else ''}{secs}{note}"
        m = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.metrics.items())
        return f"⏳ step {self.done}/{self.total}" + (f" · {m}" if m else "")


def _coarse_helps(recipe) -> bool:
    """A coarse preview differs from the live one only above ``LIVE_COARSE`` px: at 128 px or
    less, or translate at a small model's own size (``size`` 0), it would be the same picture,
    rendered twice."""
    size = getattr(recipe, "size", None)
    return isinstance(size, int) and size > LIVE_COARSE


class Studio:
    def __init__(self, output_dir: str | os.PathLike, *, max_upload_bytes: int = MAX_UPLOAD_BYTES,
                 max_upload_pixels: int = MAX_UPLOAD_PIXELS, live_size: int = LIVE_SIZE,
                 threads: int | None = None, save_every: int = 10):
        self.output = Path(output_dir).expanduser().resolve()
        self.output.mkdir(parents=True, exist_ok=True)
        self.inputs_dir = self.output / "inputs"
        self.max_upload_bytes = max_upload_bytes
        self.max_upload_pixels = max_upload_pixels
        self.live_size = live_size
        self.webcam_size = WEBCAM_SIZE
        self._webcam_inputs: dict = {}
        self._preview_counter = 0  # live previews rotate through 64 JPEG files
        self.threads = threads
        self.save_every = save_every
        self._jobs: dict[str, CallbackProgress] = {}
        self._lock = threading.Lock()
        self.page_size = PAGE_SIZE
        self.examples_dir = self.output / ".examples"
        #: sha256 of a file the studio made from a built-in source → that source (so the record
        #: says photo:astronaut, not a copy in the uploads folder)
        self._sample_files: dict[str, str] = {}

    # ------------------------------------------------------------------ mappings
    def mappings(self) -> list[registry.Mapping]:
        return registry.all_mappings()

    # ------------------------------------------------------------------ uploads
    def _check_size(self, p: Path, what: str) -> None:
        try:
            size = p.stat().st_size
        except OSError:
            raise BadInput(f"{what} {p.name!r} could not be read (upload failed?)") from None
        if size > self.max_upload_bytes:
            raise BadInput(f"{what} {p.name!r} is {_human(size)}: more than the studio's "
                           f"{_human(self.max_upload_bytes)} upload limit")

    def check_upload(self, path: str | os.PathLike, what: str = "image") -> Image.Image:
        """Decode an uploaded image or raise :class:`BadInput` saying why it is refused."""
        p = Path(path)
        name = p.name
        self._check_size(p, what)
        data = p.read_bytes()
        try:  # the header alone says how many pixels the image would decode to
            with Image.open(io.BytesIO(data)) as probe:
                w, h = probe.size
        except Exception:
            w = h = 0  # decode_image below gives the precise reason
        if w * h > self.max_upload_pixels:
            raise BadInput(f"{what} {name!r} is {w}x{h}: more than the studio's "
                           f"{self.max_upload_pixels:,}-pixel upload limit")
        return decode_image(data, name=name, what=what)

    def pad_value(self, item) -> Image.Image | str:
        """A sketch pad's value as the page sends it: the drawing as a ``data:image/png;base64,``
        URL (→ the picture, within the upload limits, checked before anything is decoded), or the
        path of a picture it was loaded from (a built-in, an upload, a sent artwork) — only under
        the output folder: the value comes from the page, so it is untrusted."""
        if not isinstance(item, str):
            raise BadInput("drawing: not a picture")
        if item.startswith("data:"):
            head, sep, body = item.partition(",")
            if not sep or head.lower() not in ("data:image/png;base64", "data:image/jpeg;base64",
                                               "data:image/webp;base64"):
                raise BadInput("drawing: a data URL of a PNG, JPEG or WebP picture is expected")
            if len(body) > self.max_upload_bytes * 4 // 3 + 4:
                raise BadInput(f"drawing: more than the studio's {_human(self.max_upload_bytes)} upload limit")
            import base64
            import binascii

            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise BadInput("drawing: the data URL is not valid base64") from None
            try:  # the header alone says how many pixels it would decode to
                with Image.open(io.BytesIO(data)) as probe:
                    w, h = probe.size
            except Exception:
                w = h = 0  # decode_image gives the precise reason
            if w * h > self.max_upload_pixels:
                raise BadInput(f"drawing: {w}x{h} is more than the studio's {self.max_upload_pixels:,}-pixel limit")
            return decode_image(data, name="<drawing>", what="drawing")
        if not self.under_output(item) or not Path(item).is_file():
            raise BadInput("drawing: not a file of this studio")
        return item

    def keep_upload(self, path: str | os.PathLike, what: str = "image", kind: str = "image") -> sources.Source:
        """Check an upload and keep a copy under ``output/inputs/`` (named by its sha256), so the
        artwork's record points at a file that ``recreate`` can load again."""
        p = Path(path)
        self._check_size(p, what)
        if kind.split("|")[0] == "image" and p.suffix.lower() in IMAGE_EXTS + ("",):
            self.check_upload(path, what)
        digest = sha256_bytes(p.read_bytes())
        if digest in self._sample_files:  # a built-in sample chosen from a list: record it as such
            return sources.load(self._sample_files[digest], what=what, kind=kind)
        own = self._own_artwork(digest)
        if own is not None:  # an artwork of this studio (sent from another tab): its record nests
            return sources.load(own, what=what, kind=kind)
        ext = p.suffix.lower() if p.suffix and len(p.suffix) <= 6 else ".bin"
        kept = self.inputs_dir / f"{digest[:24]}{ext}"
        if not kept.exists():
            self.inputs_dir.mkdir(parents=True, exist_ok=True)
            tmp = kept.with_name(kept.name + ".part")
            shutil.copyfile(p, tmp)
            os.replace(tmp, kept)
        return sources.load(kept, what=what, kind=kind)

    def keep_drawing(self, img: Image.Image) -> sources.Source:
        """A sketch canvas's drawing, kept as a PNG under ``output/inputs/`` (named by its sha256)."""
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        data = buf.getvalue()
        kept = self.inputs_dir / f"{sha256_bytes(data)[:24]}.png"
        if not kept.exists():
            self.inputs_dir.mkdir(parents=True, exist_ok=True)
            tmp = kept.with_name(kept.name + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, kept)
        return sources.load(kept, what="drawing")

    def load_inputs(self, mapping: registry.Mapping, files: dict[str, Any], size_hint: int | None = None, *,
                    keep: bool = True, given: dict | None = None) -> dict:
        """Uploads (and texts) per InputSpec → ``{name: [Source, ...]}``; missing required ones refused.
        ``keep=False`` (live previews): drawings stay in memory, nothing is written. ``given``: inputs
        already loaded (a webcam frame), taken as they are."""
        out: dict[str, list] = dict(given or {})
        for spec in mapping.inputs:
            if spec.from_recipe or spec.name in out:
                continue
            got = files.get(spec.name)
            if got is None or got == "":
                items = []
            elif isinstance(got, (list, tuple)):
                items = [g for g in got if g]
            else:
                items = [got]
            kind = spec.kind.split("|")[0]
            if spec.sketch:  # a sketch pad (a data URL or a path) or an editor's layers: flattened on white
                items = [d for d in (drawn_image(self.pad_value(i) if isinstance(i, str) else i) for i in items)
                         if d is not None]
            if not items and spec.required:
                raise BadInput(f"{mapping.name} needs {'a' if kind != 'audio' else 'an'} {spec.name} "
                               f"{kind.replace('audio', 'audio file')}: {spec.help}")
            if len(items) > 1 and not spec.multiple:
                raise BadInput(f"{spec.name}: give one, not {len(items)}")
            if spec.kind == "text":
                out[spec.name] = [_text_source(t, self) for t in items]
            elif spec.sketch:
                out[spec.name] = [self.keep_drawing(d) if keep else sources.from_image(d, "<sketch>") for d in items]
            else:
                out[spec.name] = [self.keep_upload(_path_of(i), what=f"{spec.name} {kind}", kind=spec.kind)
                                  for i in items]
        return out

    # ------------------------------------------------------------------ built-in samples and examples
    def samples_for(self, kind: str) -> list[tuple[str, str]]:
        """(label, source) of the built-in inputs of ``kind`` offered beside an upload."""
        from yingshe import samples

        kinds = kind.split("|")
        out: list[tuple[str, str]] = []
        if "image" in kinds:
            out += [(f"photo: {n}", f"photo:{n}") for n in samples.PHOTOS]
            out += [(f"drawing: {n}", f"sketch:{n}") for n in samples.SKETCHES]
            try:
                from yingshe.style import builtin

                out += [(f"painting: {s.title} ({s.artist})", f"builtin:{s.name}")
                        for s in builtin.list_builtin_styles()]
            except Exception:  # the built-in paintings ship with the fast-style mapping
                pass
        if "audio" in kinds:
            out += [(f"sound: {n}", f"sound:{n}") for n in samples.SOUNDS]
        if "text" in kinds:
            out += [(f"poem: {n}", f"poem:{n}") for n in samples.POEMS]
        return out

    def sample_texts(self) -> dict[str, str]:
        from yingshe import samples

        return {text.strip(): f"poem:{name}" for name, text in samples.POEMS.items()}

    def sample_value(self, spec: str, mapping, input_name: str):
        """What an input component shows for a built-in source: a file (made once under the
        output folder), or the text itself."""
        kind = {s.name: s.kind for s in mapping.inputs}[input_name]
        src = sources.load(spec, kind=kind)
        if src.kind == "text":
            return src.value
        self.examples_dir.mkdir(parents=True, exist_ok=True)
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in spec)
        if src.kind == "image":
            path = self.examples_dir / f"{safe}.png"
            if not path.exists():
                src.value.save(path)
        elif src.kind == "audio":
            from yingshe.core.audio import wav_bytes

            path = self.examples_dir / f"{safe}.wav"
            if not path.exists():
                path.write_bytes(wav_bytes(src.value))
        else:
            raise BadInput(f"{spec}: no built-in sample of that kind for the studio")
        self._sample_files[sha256_bytes(path.read_bytes())] = spec
        multiple = {s.name: s.multiple for s in mapping.inputs}[input_name]
        return [str(path)] if multiple else str(path)

    def example_cards(self, section: str) -> list:
        from yingshe.studio import examples

        maps = sorted((m for m in self.mappings() if m.where == section and m.examples),
                      key=lambda m: (m.rank, m.name))
        return [dataclasses.replace(c, thumbnail=self._served(c.thumbnail)) for c in examples.cards(maps)]

    def _served(self, path: str) -> str:
        """A copy under the output folder of a file the package or the yingshe home holds (the
        home page's thumbnails): the studio serves nothing else, wherever it is started from."""
        src = Path(path)
        if self.under_output(src):
            return str(src)
        folder = self.examples_dir / "thumbs"
        dst = folder / src.name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(dst.name + ".part")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        return str(dst)

    def example_values(self, card) -> dict:
        """The recipe and the input component values of a home-page example."""
        m = registry.get(card.mapping)
        ex = m.examples[card.index]
        inputs = {}
        for name, srcs in ex.inputs.items():
            items = srcs if isinstance(srcs, tuple) else (srcs,)
            spec = {s.name: s for s in m.inputs}[name]
            if len(items) == 1 and items[0].startswith("yingshe:") and spec.kind != "text":
                # made on the fly: make it now, keep it as a file the person can see and send on
                src = sources.load(items[0], kind=spec.kind)
                path = self.examples_dir / (hashlib_name(items[0]) + ".png")
                self.examples_dir.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    src.image.save(path)
                self._sample_files[sha256_bytes(path.read_bytes())] = items[0]
                inputs[name] = [str(path)] if spec.multiple else str(path)
                continue
            values = [self.sample_value(s, m, name) for s in items]
            if spec.multiple:
                inputs[name] = [v for vs in values for v in (vs if isinstance(vs, list) else [vs])]
            else:
                inputs[name] = values[0]
        return {"recipe": m.recipe.from_dict(ex.recipe).to_dict(), "inputs": inputs}

    def prepare_examples(self, *, background: bool = True):
        from yingshe.studio import examples

        return examples.prepare([m for m in self.mappings() if m.examples], background=background)

    def send_value(self, saved: Any, mapping, input_name: str):
        """A saved artwork as the value of another mapping's input (a text artwork as @FILE)."""
        path = Path(_path_of(saved))
        if not self.under_output(path):
            raise BadInput("only this studio's own artworks can be sent on")
        spec = {s.name: s for s in mapping.inputs}[input_name]
        if spec.kind == "text":
            if path.suffix.lower() not in (".txt", ".md"):
                raise BadInput(f"{mapping.name}'s {input_name} takes text; this artwork is {path.suffix}")
            return "@" + str(path)
        return [str(path)] if spec.multiple else str(path)

    def _own_artwork(self, digest: str) -> str | None:
        """The path of an artwork this studio saved with this sha256 (its sidecar beside it)."""
        from yingshe.core.gallery import Gallery

        with Gallery.open() as g:
            found = g.find(digest)
        if found is None:
            return None
        path = found[0].path
        return path if self.under_output(path) and Path(path).is_file() else None

    def run_grid(self, mapping_name: str, values, files: dict | None, sweep_x: str, sweep_y: str = "", *,
                 key: str = "default") -> Iterator[Update]:
        """An X/Y grid of a mapping from the tab's settings and inputs: one labelled picture."""
        try:
            mapping = registry.get(mapping_name)
            grid = registry.get("grid")
            base = to_recipe(mapping.recipe, values).to_dict()
            seed = base.pop("seed")
            recipe = grid.recipe.from_dict({"target": mapping_name, "base": json.dumps(base, sort_keys=True),
                                            "x": sweep_x, "y": sweep_y, "seed": seed})
            inputs = self.load_inputs(mapping, files or {}, getattr(recipe, "size", None))
        except BadInput as e:
            yield Update("error", message=str(e))
            return
        options = self._options(grid, True)
        yield from self._run_thread(key, lambda progress: grid.run(recipe, inputs, progress, **options))

    # ------------------------------------------------------------------ jobs
    def _new_path(self, mapping: str, seed: int, ext: str = ".png") -> Path:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return unique_path(self.output / f"{mapping}-{stamp}-s{seed}{ext}")

    def _options(self, mapping: registry.Mapping, progress_preview: bool) -> dict:
        options: dict = {"threads": self.threads}
        params = inspect.signature(mapping.run).parameters
        if progress_preview and ("save_every" in params):
            options["save_every"] = self.save_every
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            options = {k: v for k, v in options.items() if k in params}
        return options

    def run(self, mapping_name: str, values, files: dict | None = None, *, key: str = "default") -> Iterator[Update]:
        """Run a mapping from control values + uploads; yield progress, then the saved artwork."""
        try:
            mapping = registry.get(mapping_name)
            recipe = to_recipe(mapping.recipe, values)
            inputs = self.load_inputs(mapping, files or {}, getattr(recipe, "size", None))
        except BadInput as e:
            yield Update("error", message=str(e))
            return
        options = self._options(mapping, True)
        yield from self._run_thread(key, lambda progress: mapping.run(recipe, inputs, progress, **options))

    def recreate(self, row_id: int, *, key: str = "default") -> Iterator[Update]:
        """Make a gallery artwork again from its record (inputs checked by sha256)."""
        from yingshe.core.recreate import recreate

        try:
            _, record = self.gallery_record(row_id)
        except BadInput as e:
            yield Update("error", message=str(e))
            return
        yield from self._run_thread(key, lambda progress: recreate(record, progress=progress))

    def recreate_upload(self, path: str | os.PathLike, *, key: str = "default") -> Iterator[Update]:
        """Make an uploaded artwork again. Its record is someone else's: it never reads a file of
        this server except the studio's own output folder (its uploads, found by sha256)."""
        from yingshe.core.recreate import Supplied, recreate

        try:
            record = self.record_of_upload(path)
            supplied = Supplied(search=[self.inputs_dir] if self.inputs_dir.is_dir() else [])
            missing = self.missing_inputs(record)
        except BadInput as e:
            yield Update("error", message=str(e))
            return
        if missing:
            yield Update("error", message="upload " + "; ".join(missing) + " first (as an input of this mapping), "
                                          "then recreate")
            return
        yield from self._run_thread(key, lambda progress: recreate(
            record, progress=progress, trusted=False, artwork_path=self.output / "x", supplied=supplied))

    def missing_inputs(self, record: dict) -> list[str]:
        """The recorded file inputs this studio has no copy of (by sha256), named for the person."""
        have = {p.name[:24] for p in self.inputs_dir.glob("*")} if self.inputs_dir.is_dir() else set()
        out = []
        for name, items in (record.get("inputs") or {}).items():
            for item in items:
                src = item["source"]
                if sources.is_spec(src) or src.startswith(("yingshe:", "<")) or "text" in item:
                    continue
                if item["sha256"][:24] not in have:
                    out.append(f"the {name} input {Path(src.lstrip('@')).name!r} (sha256 {item['sha256'][:12]}…)")
        return out

    def _run_thread(self, key: str, work) -> Iterator[Update]:
        events: queue.Queue = queue.Queue()
        progress = CallbackProgress(
            on_update=lambda done, total, metrics: events.put(Update("progress", done, total, dict(metrics))),
            on_preview=lambda image, step: events.put(Update("progress", preview=image.copy(), step=step)))
        with self._lock:
            old = self._jobs.get(key)
            if old is not None:
                old.stop()  # one job per browser session: a new Run replaces the old one
            self._jobs[key] = progress
        result: dict = {}

        def target():
            try:
                result["artwork"] = work(progress)
            except BadInput as e:
                result["error"] = str(e)
            except Exception as e:  # keep the studio alive; say what went wrong
                result["error"] = f"{type(e).__name__}: {e}"
            finally:
                events.put(None)

        thread = threading.Thread(target=target, name=f"yingshe-job-{key}", daemon=True)
        thread.start()
        last = Update("progress")
        try:
            while True:
                ev = events.get()
                if ev is None:
                    break
                if ev.preview is None:
                    last = ev
                else:  # previews carry the latest counts too
                    ev.done, ev.total, ev.metrics = progress.done, progress.total, dict(progress.metrics)
                yield ev
            thread.join()
        finally:
            if thread.is_alive():  # the page went away mid-job: stop the work cleanly
                progress.stop()
            with self._lock:
                if self._jobs.get(key) is progress:
                    del self._jobs[key]
        if "error" in result:
            yield Update("error", message=result["error"])
            return
        art: Artwork = result["artwork"]
        ext = art.default_ext()  # .png, .mp4 (with its sound), .wav, .mid, .txt by what it made
        try:
            path = art.save(self._new_path(art.mapping, art.recipe.seed, ext))
            if not art.interrupted:
                art.cleanup()
        except Exception as e:
            yield Update("error", message=f"could not save the artwork: {e}")
            return
        if {"image", "vector", "video"} & set(art.kinds()):
            try:  # its gallery thumbnail now, while the picture is in memory: the gallery never waits
                from yingshe.core.fingerprint import sha256_file

                self._save_thumb(art.output("image"), sha256_file(path))
            except Exception:
                pass
        yield Update("done", last.done or progress.done, last.total or progress.total, artwork=art, path=path)

    def stop(self, key: str = "default") -> bool:
        """Ask the job of session ``key`` to stop after its current step (it keeps the best so far)."""
        with self._lock:
            progress = self._jobs.get(key)
        if progress is None:
            return False
        progress.stop()
        return True

    def busy(self, key: str = "default") -> bool:
        with self._lock:
            return key in self._jobs

    # ------------------------------------------------------------------ live play
    def live_recipe(self, mapping_name: str, values):
        mapping = registry.get(mapping_name)
        recipe = to_recipe(mapping.recipe, values)
        size = getattr(recipe, "size", None)
        if isinstance(size, int) and size > self.live_size:
            recipe = recipe.replace(size=self.live_size)
        return mapping, recipe

    def preview_file(self, img: Image.Image) -> str:
        """A live preview as a JPEG file in the temporary folder (what the page shows while a
        control moves; nothing is kept: each file replaces the one before it, per thread)."""
        folder = Path(tempfile.gettempdir()) / "yingshe-previews"
        folder.mkdir(exist_ok=True)
        n = self._preview_counter = (self._preview_counter + 1) % 64
        path = folder / f"{os.getpid()}-{n}.jpg"
        img.convert("RGB").save(path, "JPEG", quality=92)
        return str(path)

    def live_render(self, mapping_name: str, values) -> Image.Image:
        """A quick render at ``live_size`` for a realtime mapping (nothing saved)."""
        return self.live_picture(mapping_name, values)

    def live_renders(self, mapping_name: str, values, files: dict | None = None, *, coarse: bool = True):
        """Yield (picture, final): a coarse render first (answers at once), then ``live_size``.
        ``files``: the tab's inputs (a sketch canvas's drawing is translated as it is drawn)."""
        if coarse and self.coarse_helps(mapping_name, values):
            yield self.live_picture(mapping_name, values, files, coarse=True), False
        yield self.live_picture(mapping_name, values, files, coarse=False), True

    def coarse_helps(self, mapping_name: str, values) -> bool:
        """Whether a coarse preview differs from the live one (see :func:`_coarse_helps`)."""
        return _coarse_helps(self.live_recipe(mapping_name, values)[1])

    def live_picture(self, mapping_name: str, values, files: dict | None = None, *, coarse: bool = False,
                     upscale: bool = True) -> Image.Image:
        """One live render (nothing saved): at ``live_size``, or with ``coarse`` at ``LIVE_COARSE``,
        scaled up to the size the full one will have unless ``upscale`` is false (the page scales
        it itself: 16 times fewer pixels to encode, send and decode)."""
        if not registry.get(mapping_name).realtime:
            raise BadInput(f"{mapping_name} is not fast enough for live play; press Run")
        mapping, recipe = self.live_recipe(mapping_name, values)
        inputs = self.load_inputs(mapping, files, keep=False) if files else {}
        options = self._options(mapping, False)  # the studio's --threads
        if coarse and _coarse_helps(recipe):
            size = recipe.size
            with registry.preview():  # the mapping may cut corners that do not change the picture's layout
                small = mapping.run(recipe.replace(size=LIVE_COARSE), inputs, None, **options).image
            if not upscale:
                return small
            return small.resize((small.width * size // LIVE_COARSE, small.height * size // LIVE_COARSE),
                                Image.BILINEAR)
        return mapping.run(recipe, inputs, None, **options).image

    def live_jpeg(self, mapping_name: str, values, files: dict | None = None, *, coarse: bool = False) -> tuple[bytes, tuple[int, int]]:
        """A live render as JPEG bytes and its size (the coarse one as rendered, small), for the page's own fetch (the fast path that skips Gradio's
        queue): JPEG encodes in ~1 ms where PNG takes ~45 ms at 512 px. Only files under the output
        folder (Gradio's uploads and the built-in samples live there) are read."""
        local = {}
        for name, got in (files or {}).items():
            items = []
            for item in (got if isinstance(got, (list, tuple)) else [got]):
                if isinstance(item, str) and item.startswith("data:"):  # a sketch pad's drawing
                    items.append(self.pad_value(item))
                    continue
                path = _page_path(item)
                if path and not self.under_output(path):
                    raise BadInput(f"{name}: not a file of this studio")
                if path:
                    items.append(path)
            local[name] = items if isinstance(got, (list, tuple)) else (items[0] if items else None)
        img = self.live_picture(mapping_name, values, local, coarse=coarse, upscale=False)
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "JPEG", quality=90)
        return buf.getvalue(), img.size

    def webcam_frame(self, mapping_name: str, values, files: dict | None, frame) -> Image.Image | None:
        """One webcam frame painted by a mapping that declares ``webcam`` (nothing saved). The frame
        is scaled so its longest side is at most ``webcam_size``; the other inputs (the style
        paintings) are loaded once and kept while they stay the same."""
        mapping = registry.get(mapping_name)
        if not mapping.webcam:
            raise BadInput(f"{mapping_name} does not take a webcam")
        if frame is None:
            return None
        frame = frame.convert("RGB")
        if max(frame.size) > self.webcam_size:
            frame.thumbnail((self.webcam_size, self.webcam_size), Image.BILINEAR)
        recipe = to_recipe(mapping.recipe, values)
        if isinstance(getattr(recipe, "size", None), int):
            recipe = recipe.replace(size=max(frame.size))
        others = {k: v for k, v in (files or {}).items() if k != mapping.webcam}
        key = (mapping_name, json.dumps(others, sort_keys=True, default=str))
        cached = self._webcam_inputs.get(key)
        if cached is None:
            cached = self.load_inputs(mapping, others, keep=False, given={mapping.webcam: []})
            self._webcam_inputs = {key: cached}  # one webcam at a time: keep only the newest
        inputs = {**cached, mapping.webcam: [sources.from_image(frame, "<webcam>")]}
        return mapping.run(recipe, inputs, None, **self._options(mapping, False)).image

    # ------------------------------------------------------------------ gallery
    def under_output(self, path: str | os.PathLike) -> bool:
        try:
            Path(path).resolve().relative_to(self.output)
            return True
        except (ValueError, OSError):
            return False

    def gallery(self, mapping: str | None = None, text: str = "", limit: int = 60, *, kind: str | None = None) -> list:
        """Rows of saved artworks whose files live under this studio's output folder."""
        from yingshe.core.gallery import Gallery

        with Gallery.open() as g:
            if text and text.strip():
                rows = g.search(text.strip(), mapping=mapping or None, kind=kind or None, limit=limit * 4)
            else:
                rows = g.list(mapping=mapping or None, kind=kind or None, limit=limit * 4)
        rows = [r for r in rows if self.under_output(r.path) and Path(r.path).is_file()]
        return rows[:limit]

    def gallery_page(self, mapping: str | None = None, kind: str | None = None, since: str = "any time",
                     text: str = "", *, page: int = 0) -> tuple[list, int]:
        """One page of this studio's artworks, newest first, and how many there are in all."""
        from yingshe.core.gallery import Gallery

        after = _since(since)
        with Gallery.open() as g:
            return g.page(mapping=mapping or None, kind=kind or None, text=text.strip() or None, after=after,
                          under=str(self.output), limit=self.page_size, offset=page * self.page_size)

    def gallery_listing(self, mapping: str | None = None, kind: str | None = None, since: str = "any time",
                        text: str = "", *, page: int = 0, step: int = 0) -> dict:
        """One page of the gallery as the page's grid takes it, in one answer: each thumbnail inline
        as a data: URL (48 small JPEGs, ~5 KB each, so no request per picture), the rows' ids, the
        count and the page number. ``step`` turns the page (clamped to the pages there are)."""
        import base64

        mapping = None if mapping in (None, "", "all") else mapping
        kind = None if kind in (None, "", "all") else kind
        page = max(0, int(page or 0) + int(step))
        rows, total = self.gallery_page(mapping, kind, since or "any time", text or "", page=page)
        pages = max(1, -(-total // self.page_size))
        if page > pages - 1:  # past the end (the gallery shrank, or "older" on the last page): the last one
            page = pages - 1
            rows, total = self.gallery_page(mapping, kind, since or "any time", text or "", page=page)
        items = []
        for r in rows:
            thumb = Path(self.thumbnail(r))
            caption = f"#{r.id} {r.mapping} · {r.kind}"
            if thumb.suffix.lower() in (".jpg", ".png"):
                mime = "image/jpeg" if thumb.suffix.lower() == ".jpg" else "image/png"
                url = f"data:{mime};base64," + base64.b64encode(thumb.read_bytes()).decode("ascii")
                # no server path: the page sends the item back with a selection, and Gradio refuses
                # any path outside its upload folder there
                items.append({"image": {"url": url, "path": "", "orig_name": thumb.name, "mime_type": mime,
                                        "meta": {"_type": "gradio.FileData"}}, "caption": caption})
            else:  # a video plays its own first frame, served by Gradio's file route (under the output folder)
                items.append({"video": {"url": f"gradio_api/file={thumb}", "path": "", "orig_name": thumb.name,
                                        "mime_type": "video/mp4", "meta": {"_type": "gradio.FileData"}},
                              "caption": caption})
        return {"items": items, "rows": [r.id for r in rows], "page": page,
                "info": f"{total} artwork(s)" if total else "no artworks yet",
                "pageinfo": f"page {page + 1} of {pages}"}

    def compare(self, a_id: int, b_id: int) -> tuple[str | None, str | None, str]:
        """Two artworks side by side: their pictures and a table of how their records differ."""
        ra, reca = self.gallery_record(a_id)
        rb, recb = self.gallery_record(b_id)
        rows = []
        if reca["mapping"] != recb["mapping"]:
            rows.append(("mapping", reca["mapping"], recb["mapping"]))
        ka, kb = reca.get("recipe", {}), recb.get("recipe", {})
        for key in sorted(set(ka) | set(kb)):
            if ka.get(key) != kb.get(key):
                rows.append((key, ka.get(key, "—"), kb.get(key, "—")))
        ia = {n: [i["sha256"][:12] for i in v] for n, v in (reca.get("inputs") or {}).items()}
        ib = {n: [i["sha256"][:12] for i in v] for n, v in (recb.get("inputs") or {}).items()}
        for n in sorted(set(ia) | set(ib)):
            if ia.get(n) != ib.get(n):
                rows.append((f"input {n}", ", ".join(ia.get(n, [])) or "—", ", ".join(ib.get(n, [])) or "—"))
        table = "| | A (#%d) | B (#%d) |\n|---|---|---|\n" % (a_id, b_id) + "\n".join(
            f"| {k} | `{_short(a)}` | `{_short(b)}` |" for k, a, b in rows) if rows else "the two recipes are the same"
        return self.picture_of(ra), self.picture_of(rb), table

    def _save_thumb(self, pic: Image.Image, sha: str) -> Path:
        small = self.output / ".thumbs" / f"{sha[:24]}.jpg"
        pic = pic.convert("RGB")
        pic.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.BILINEAR)
        small.parent.mkdir(parents=True, exist_ok=True)
        tmp = small.with_name(small.name + ".part")
        pic.save(tmp, format="JPEG", quality=85)
        os.replace(tmp, small)
        return small

    def picture_of(self, row) -> str | None:
        if row.kind in ("image", "vector", "video") and Path(row.path).suffix.lower() in IMAGE_EXTS:
            return row.path
        return self.thumbnail(row)

    # ------------------------------------------------------------------ showing artworks of every kind
    def shown(self, art: Artwork, path: Path | None) -> dict:
        """What the page shows of a finished artwork, by kind: a picture, a video file, a sound
        file (a score is played through FluidSynth into a preview), the text."""
        kinds = art.kinds()
        out: dict[str, Any] = {}
        if "image" in kinds or "vector" in kinds or ("video" in kinds and path is not None and path.suffix == ".gif"):
            out["image"] = str(path) if path is not None and path.suffix == ".gif" else art.output("image")
        if "video" in kinds and path is not None and path.suffix == ".mp4":
            out["video"] = str(path)
        if path is not None and path.suffix in (".wav", ".flac"):
            out["audio"] = str(path)
        elif "audio" in kinds:
            try:
                out["audio"] = str(self._preview(art, path, ".wav"))
            except BadInput:
                pass  # no FluidSynth here: the score is still saved and downloadable
        if "text" in kinds:
            out["text"] = art.text
        return out

    def _preview(self, art: Artwork, path: Path | None, ext: str) -> Path:
        """A playable copy of one output, beside the output folder's artworks but not in the gallery."""
        folder = self.output / ".previews"
        folder.mkdir(parents=True, exist_ok=True)
        name = (path.stem if path is not None else f"{art.mapping}-{art.recipe.seed}") + ext
        return art.save(folder / name, gallery=False)

    def playable(self, row) -> dict:
        """A gallery row's file for the players: video, sound (scores rendered once), text."""
        p = Path(row.path)
        out: dict[str, Any] = {}
        if not self.under_output(p) or not p.is_file():
            return out
        ext = p.suffix.lower()
        if ext == ".mp4":
            out["video"] = str(p)
        elif ext in (".wav", ".flac"):
            out["audio"] = str(p)
        elif ext in (".mid", ".midi"):
            wav = self.output / ".previews" / f"{p.stem}-{row.id}.wav"
            if not wav.exists():
                try:
                    from yingshe.core.audio import wav_bytes
                    from yingshe.core.images import atomic_write
                    from yingshe.core.midi import load_midi, render

                    audio, _ = render(load_midi(p))
                    data = wav_bytes(audio)
                    atomic_write(wav, lambda f: f.write(data))
                except BadInput:
                    return out
            out["audio"] = str(wav)
        elif ext in (".txt", ".md"):
            out["text"] = p.read_text(encoding="utf-8", errors="replace")[:20000]
        return out

    def thumbnail(self, row) -> str:
        """A small picture for the gallery grid, made once and kept in ``.thumbs``: the artwork
        downscaled (an MP4's middle frame), or a card for sound, scores and text."""
        p = Path(row.path)
        thumbs = self.output / ".thumbs"
        small = thumbs / f"{row.sha256[:24]}.jpg"
        if small.exists():
            return str(small)
        if row.kind in ("image", "vector", "video") and p.suffix.lower() in IMAGE_EXTS and p.is_file():
            try:
                with Image.open(p) as im:
                    im.draft("RGB", (THUMB_SIZE, THUMB_SIZE))  # JPEG: decode at a fraction of the size
                    return str(self._save_thumb(im.convert("RGB"), row.sha256))
            except (OSError, ValueError):
                pass  # a damaged file gets a card below
        if row.kind == "video" and p.suffix.lower() == ".mp4":
            return str(p)  # the grid plays a video's own thumbnail
        card = thumbs / f"{row.sha256[:24]}.png"
        if not card.exists():
            from PIL import ImageDraw

            thumbs.mkdir(parents=True, exist_ok=True)
            colours = {"audio": (40, 70, 120), "midi": (90, 50, 120), "text": (120, 90, 40), "vector": (40, 110, 80)}
            img = Image.new("RGB", (256, 256), colours.get(row.kind, (60, 60, 60)))
            d = ImageDraw.Draw(img)
            icon = {"audio": "sound", "midi": "score", "text": "text", "vector": "drawing"}.get(row.kind, row.kind)
            d.text((20, 20), icon, fill=(255, 255, 255), font_size=34)
            d.text((20, 200), row.mapping, fill=(230, 230, 230), font_size=22)
            if row.kind == "text" and p.is_file():
                lines = p.read_text(encoding="utf-8", errors="replace").splitlines()[:5]
                for i, line in enumerate(lines):
                    d.text((20, 80 + 22 * i), line[:18], fill=(250, 245, 230), font_size=18)
            elif row.duration:
                d.text((20, 160), f"{row.duration:.1f} s", fill=(230, 230, 230), font_size=22)
            img.save(card)
        return str(card)

    def gallery_record(self, row_id: int) -> tuple[Any, dict]:
        from yingshe.core.gallery import Gallery

        with Gallery.open() as g:
            row, record = g.get(int(row_id))
        if not self.under_output(row.path):
            raise BadInput(f"artwork #{row_id} is not in this studio's output folder")
        return row, record

    def _a1111_settings(self, path: str | os.PathLike):
        """(mapping, recipe, {"texts": {"prompt": ...}}) from an AUTOMATIC1111 picture, or None."""
        p = Path(path)
        if p.suffix.lower() not in (".png",) or not p.is_file() or p.stat().st_size > self.max_upload_bytes:
            return None
        try:
            self.check_upload(p, what="picture")
            from yingshe.diffusion.prompts import settings_from_image
        except (BadInput, ImportError):
            return None
        try:
            found = settings_from_image(p)
        except BadInput:
            return None
        if found.get("mapping") != "diffuse" or not found.get("infotext"):
            return None
        mapping = registry.get("diffuse")
        recipe = mapping.recipe.from_dict(found["recipe"], strict=False)
        return mapping, recipe.to_dict(), _a1111_record(found.get("prompt"))

    def record_of_upload(self, path: str | os.PathLike) -> dict:
        """The validated record of an uploaded artwork (any format yingshe writes)."""
        p = Path(path)
        if p.stat().st_size > self.max_upload_bytes:
            raise BadInput(f"{p.name!r} is larger than the studio's upload limit")
        if p.suffix.lower() in IMAGE_EXTS and p.suffix.lower() != ".gif":
            self.check_upload(p, what="artwork")  # a real, decodable image within the limits
        return read_record(p)

    def settings_from_image(self, path: str | os.PathLike) -> tuple[registry.Mapping, dict, dict]:
        """A yingshe artwork file → (mapping, recipe dict, full record); a picture made by
        AUTOMATIC1111 (its ``parameters`` chunk) → the ``diffuse`` settings it describes, the
        prompt in ``record["texts"]``. Refuses anything else."""
        try:
            record = self.record_of_upload(path)
        except BadInput as first:
            other = self._a1111_settings(path)
            if other is None:
                raise first
            return other
        mapping = registry.get(record["mapping"])
        recipe = mapping.recipe.from_dict(record["recipe"], strict=False)
        return mapping, recipe.to_dict(), record


def hashlib_name(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _text_source(text: Any, studio: "Studio | None" = None) -> sources.Source:
    if not isinstance(text, str):
        raise BadInput("a text input must be text")
    if studio is not None and text.startswith("@") and "\n" not in text and studio.under_output(text[1:]) \
            and Path(text[1:]).is_file():
        return sources.load(text, kind="text")  # a text artwork of this studio, sent here: its record nests
    if studio is not None and text.strip() in studio.sample_texts():
        return sources.load(studio.sample_texts()[text.strip()], kind="text")
    return sources.from_text(text)


def _a1111_record(prompt: str | None) -> dict:
    return {"texts": {"prompt": prompt}} if prompt else {}


def _short(v: Any) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
    return s if len(s) <= 40 else s[:37] + "…"


def _since(since: str) -> str | None:
    """An ISO time for a 'made' filter (UTC, as the gallery stores it)."""
    days = {"today": 1, "this week": 7, "this month": 31}.get(since)
    if days is None:
        return None
    return (_dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=days)).isoformat(timespec="seconds")


def _human(n: int) -> str:
    for unit, k in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= k:
            return f"{n / k:.3g} {unit}"
    return f"{n} bytes"


def drawn_image(value) -> Image.Image | None:
    """A sketch canvas's value (Gradio's ImageEditor: background, layers, composite; or a picture
    or a path set into it) → the picture flattened on white (RGB); None when there is nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, dict) and not {"background", "layers", "composite"} & set(value):
        value = _path_of(value)
    if isinstance(value, (str, os.PathLike)):
        value = decode_image(Path(value).read_bytes(), name=Path(value).name, what="drawing")
    if isinstance(value, dict):
        img = value.get("composite")
        if img is None:
            parts = [p for p in [value.get("background"), *(value.get("layers") or [])] if p is not None]
            if not parts:
                return None
            img = Image.new("RGBA", parts[0].size, (255, 255, 255, 0))
            for part in parts:
                img.alpha_composite(part.convert("RGBA").resize(img.size))
        value = img
    if not isinstance(value, Image.Image):
        import numpy as np

        value = Image.fromarray(np.asarray(value))
    flat = Image.new("RGBA", value.size, (255, 255, 255, 255))
    flat.alpha_composite(value.convert("RGBA"))
    return flat.convert("RGB")


def _page_path(item) -> str | None:
    """A file input's value as the page holds it (a path, a FileData dict, or a sketch canvas's
    background/layers/composite of FileData) → the server path to read, or None when empty."""
    if item in (None, ""):
        return None
    if isinstance(item, dict) and {"background", "layers", "composite"} & set(item):
        item = item.get("composite") or item.get("background")
        if not item:
            return None
    return _path_of(item)


def _path_of(item) -> str:
    """Gradio hands files over as paths (str) or objects with ``.name``/``.path``."""
    if isinstance(item, (str, os.PathLike)):
        return str(item)
    for attr in ("path", "name"):
        v = getattr(item, attr, None)
        if isinstance(v, str):
            return v
    if isinstance(item, dict) and "path" in item:
        return item["path"]
    raise BadInput("could not read the uploaded file")


def free_port(host: str = "127.0.0.1") -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


__all__ = ["Studio", "Update", "free_port"]
