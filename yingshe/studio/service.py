"""The studio's work, without any user interface: uploads, jobs, live renders, the gallery.

:class:`Studio` is what the Gradio page calls; it is plain Python so it can be tested (and
benchmarked) without a browser. Everything it writes and everything it hands out lives under
its output folder.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import io
import os
import queue
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from PIL import Image

from yingshe.core import registry, sources
from yingshe.core.artwork import Artwork, unique_path
from yingshe.core.errors import BadInput
from yingshe.core.fingerprint import sha256_bytes
from yingshe.core.images import decode_image
from yingshe.core.records import read_record
from yingshe.core.progress import CallbackProgress
from yingshe.studio.controls import to_recipe

#: Uploads bigger than this are refused (bytes); ``--max-upload-mb`` changes it.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
#: Uploads with more pixels than this are refused (checked from the header, before decoding).
MAX_UPLOAD_PIXELS = 40_000_000
#: Longest side of live (slider) renders.
LIVE_SIZE = 256
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


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
        self.threads = threads
        self.save_every = save_every
        self._jobs: dict[str, CallbackProgress] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ mappings
    def mappings(self) -> list[registry.Mapping]:
        return registry.all_mappings()

    # ------------------------------------------------------------------ uploads
    def check_upload(self, path: str | os.PathLike, what: str = "image") -> Image.Image:
        """Decode an uploaded image or raise :class:`BadInput` saying why it is refused."""
        p = Path(path)
        name = p.name
        try:
            size = p.stat().st_size
        except OSError:
            raise BadInput(f"{what} {name!r} could not be read (upload failed?)") from None
        if size > self.max_upload_bytes:
            raise BadInput(f"{what} {name!r} is {_human(size)}: more than the studio's "
                           f"{_human(self.max_upload_bytes)} upload limit")
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

    def keep_upload(self, path: str | os.PathLike, what: str = "image", kind: str = "image") -> sources.Source:
        """Check an upload and keep a copy under ``output/inputs/`` (named by its sha256), so the
        artwork's record points at a file that ``recreate`` can load again."""
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError:
            raise BadInput(f"{what} {p.name!r} could not be read (upload failed?)") from None
        if size > self.max_upload_bytes:
            raise BadInput(f"{what} {p.name!r} is {_human(size)}: more than the studio's "
                           f"{_human(self.max_upload_bytes)} upload limit")
        if kind.split("|")[0] == "image" and p.suffix.lower() in IMAGE_EXTS + ("",):
            self.check_upload(path, what)
        digest = sha256_bytes(p.read_bytes())
        ext = p.suffix.lower() if p.suffix and len(p.suffix) <= 6 else ".bin"
        kept = self.inputs_dir / f"{digest[:24]}{ext}"
        if not kept.exists():
            self.inputs_dir.mkdir(parents=True, exist_ok=True)
            tmp = kept.with_name(kept.name + ".part")
            shutil.copyfile(p, tmp)
            os.replace(tmp, kept)
        return sources.load(kept, what=what, kind=kind)

    def load_inputs(self, mapping: registry.Mapping, files: dict[str, Any], size_hint: int | None = None) -> dict:
        """Uploads (and texts) per InputSpec → ``{name: [Source, ...]}``; missing required ones refused."""
        out: dict[str, list] = {}
        for spec in mapping.inputs:
            if spec.from_recipe:
                continue
            got = files.get(spec.name)
            if got is None or got == "":
                items = []
            elif isinstance(got, (list, tuple)):
                items = [g for g in got if g]
            else:
                items = [got]
            kind = spec.kind.split("|")[0]
            if not items and spec.required:
                raise BadInput(f"{mapping.name} needs {'a' if kind != 'audio' else 'an'} {spec.name} "
                               f"{kind.replace('audio', 'audio file')}: {spec.help}")
            if len(items) > 1 and not spec.multiple:
                raise BadInput(f"{spec.name}: give one, not {len(items)}")
            if spec.kind == "text":
                out[spec.name] = [_text_source(t) for t in items]
            else:
                out[spec.name] = [self.keep_upload(_path_of(i), what=f"{spec.name} {kind}", kind=spec.kind)
                                  for i in items]
        return out

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
        from yingshe.core.gallery import Gallery
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
        except Exception as e:
            yield Update("error", message=f"could not save the artwork: {e}")
            return
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

    def live_render(self, mapping_name: str, values) -> Image.Image:
        """A quick render at ``live_size`` for a realtime mapping (nothing saved)."""
        mapping, recipe = self.live_recipe(mapping_name, values)
        if not mapping.realtime:
            raise BadInput(f"{mapping_name} is not fast enough for live play; press Run")
        return mapping.run(recipe, {}, None).image

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
        """A picture for the gallery grid: the artwork itself, or a card for sound, scores and text."""
        p = Path(row.path)
        if row.kind in ("image", "vector", "video") and p.suffix.lower() not in (".svg", ".tif", ".tiff"):
            return str(p)
        thumbs = self.output / ".thumbs"
        card = thumbs / f"{row.id}-{row.sha256[:12]}.png"
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

    def record_of_upload(self, path: str | os.PathLike) -> dict:
        """The validated record of an uploaded artwork (any format yingshe writes)."""
        p = Path(path)
        if p.stat().st_size > self.max_upload_bytes:
            raise BadInput(f"{p.name!r} is larger than the studio's upload limit")
        if p.suffix.lower() in IMAGE_EXTS and p.suffix.lower() != ".gif":
            self.check_upload(p, what="artwork")  # a real, decodable image within the limits
        return read_record(p)

    def settings_from_image(self, path: str | os.PathLike) -> tuple[registry.Mapping, dict, dict]:
        """A yingshe artwork file → (mapping, recipe dict, full record). Refuses anything else."""
        record = self.record_of_upload(path)
        mapping = registry.get(record["mapping"])
        recipe = mapping.recipe.from_dict(record["recipe"], strict=False)
        return mapping, recipe.to_dict(), record


def _text_source(text: Any) -> sources.Source:
    if not isinstance(text, str):
        raise BadInput("a text input must be text")
    return sources.from_text(text)


def _human(n: int) -> str:
    for unit, k in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= k:
            return f"{n / k:.3g} {unit}"
    return f"{n} bytes"


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
