"""Recreate an artwork from its record: same mapping, recipe, inputs (checked by sha256),
device and thread count, hence the same bytes on the same machine and version.

A record from someone else's file is untrusted: its input paths are shown, not followed. Unless
the record is one of our own (the file is in this gallery), inputs are read only from the
artwork's own folder and the current folder, or from what the person names: ``inputs`` (by input
name, ``--input content=photo.jpg``) and ``search`` folders (files found by their sha256). A
missing or changed input is a one-line error naming the input, its recorded path and the option
that supplies it. ``deep`` replays a chain: an input that is itself a yingshe artwork is first
made again from its own record (recursively), and must come out byte-identical.
"""

from __future__ import annotations

import inspect
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from yingshe.core import registry, sources
from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress

#: files larger than this are not fingerprinted by --search
SEARCH_MAX_BYTES = 4 << 30
SEARCH_MAX_FILES = 100_000


@dataclass
class Supplied:
    """What the person gave for a foreign record's inputs."""

    inputs: dict[str, list[Path]] = field(default_factory=dict)  # input name -> files, in order
    search: list[Path] = field(default_factory=list)  # folders to find inputs in by sha256
    _index: dict[str, Path] | None = None

    def find(self, sha: str) -> Path | None:
        if not self.search:
            return None
        if self._index is None:
            self._index = _index(self.search)
        return self._index.get(sha)


def _index(folders: list[Path]) -> dict[str, Path]:
    from yingshe.core.fingerprint import sha256_file

    out: dict[str, Path] = {}
    seen = 0
    for folder in folders:
        if not folder.is_dir():
            raise BadInput(f"--search {str(folder)!r} is not a folder")
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                p = Path(root) / name
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or st.st_size == 0 or st.st_size > SEARCH_MAX_BYTES:
                    continue  # only regular files: never a FIFO or a device
                seen += 1
                if seen > SEARCH_MAX_FILES:
                    raise BadInput(f"--search: more than {SEARCH_MAX_FILES:,} files; name a smaller folder")
                try:
                    out.setdefault(sha256_file(p), p.resolve())
                except OSError:
                    continue
    return out


def recreate(record: dict, *, progress: Progress | None = None, device: str | None = None,
             threads: int | None = None, allow_changed_inputs: bool = False, trusted: bool = True,
             artwork_path: str | os.PathLike | None = None, supplied: Supplied | None = None,
             deep: bool = False) -> Artwork:
    """Run ``record`` (already read and validated) again.

    ``trusted``: the record is our own (from the gallery, or a file the gallery knows), so its
    paths may be read; otherwise only ``artwork_path``'s folder, the current folder and what
    ``supplied`` names are read.
    """
    from yingshe.core.records import validate

    validate(record)
    supplied = supplied or Supplied()
    mapping = registry.get(record["mapping"])
    recipe = mapping.recipe.from_dict(record["recipe"])
    roots = [Path("/")] if trusted else [Path.cwd().resolve()] + (
        [Path(artwork_path).resolve().parent] if artwork_path else [])
    policy = sources.AccessPolicy(roots=roots)
    with tempfile.TemporaryDirectory(prefix="yingshe-recreate-") as tmp:
        _plan(record, mapping, supplied, policy, deep=deep, tmp=Path(tmp), progress=progress, device=device,
              threads=threads, allow_changed_inputs=allow_changed_inputs, trusted=trusted)
        specs = {s.name: s for s in mapping.input_specs(record["recipe"])}
        inputs: dict[str, list] = {}
        with sources.access_policy(policy):
            for name, items in (record.get("inputs") or {}).items():
                if name in specs and specs[name].from_recipe:
                    continue  # the mapping reads it itself, through its recipe (checked below)
                inputs[name] = [_load_item(name, item, allow_changed_inputs) for item in items]
            options = {"device": device or _recorded_device(record), "threads": threads or record.get("threads")}
            params = inspect.signature(mapping.run).parameters
            if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                options = {k: v for k, v in options.items() if k in params}
            art = mapping.run(recipe, inputs, progress or Progress(), **options)
    recorded = record.get("summary") if isinstance(record.get("summary"), dict) else {}
    for key in mapping.recorded_facts:  # how the recipe was found: facts of the record, not of this run
        if key in recorded and key not in art.summary:
            art.summary[key] = recorded[key]
    if not allow_changed_inputs:
        _check_same(record, art)
    return art


def _load_item(name: str, item: dict, allow_changed: bool) -> sources.Source:
    kind = item.get("kind", "image")
    source = item["source"]
    if kind == "text" and "text" in item and not source.startswith("yingshe:"):
        text = item["text"]  # texts travel inside the record: no file to read
        rec = {"source": source, "sha256": sources.fingerprint(text, "text"), "kind": "text", "text": text}
        if "record" in item:
            rec["record"] = item["record"]
        src = sources.Source(text, rec, "text")
    else:
        spec = "@" + source[1:] if kind == "text" and source.startswith("@") else source
        src = sources.load(spec, what=f"{name} input", kind=kind)
    if src.record["sha256"] != item["sha256"] and not allow_changed:
        raise BadInput(f"{name} input {source!r} has changed since the artwork was made (sha256 "
                       f"{src.record['sha256'][:12]}… instead of {item['sha256'][:12]}…); supply the original with "
                       f"--input {name}=FILE or --search DIR, or pass --allow-changed-inputs")
    return src


def _plan(record: dict, mapping, supplied: Supplied, policy: sources.AccessPolicy, **deep_args) -> None:
    """Decide where each recorded file comes from (redirects), before anything runs, so a missing
    input fails at once with a message that names it."""
    given = {k: list(v) for k, v in supplied.inputs.items()}
    unknown = sorted(set(given) - set(record.get("inputs") or {}))
    if unknown:
        names = ", ".join(sorted(record.get("inputs") or {})) or "none"
        raise BadInput(f"--input {unknown[0]}=...: this artwork has no {unknown[0]!r} input (its inputs: {names})")
    for name, items in (record.get("inputs") or {}).items():
        for i, item in enumerate(items):
            source = item["source"]
            kind = item.get("kind", "image")
            if sources.is_spec(source) or source.startswith("yingshe:") or source.startswith("<"):
                continue  # made on the fly, or held in the record itself
            if kind == "text" and "text" in item:
                continue
            path_text = source[1:] if kind == "text" and source.startswith("@") else source
            if given.get(name):
                policy.redirects[path_text] = _regular(given[name].pop(0), f"--input {name}")
                continue
            found = supplied.find(item["sha256"])
            if found is not None:
                policy.redirects[path_text] = found
                continue
            if deep_args["deep"] and "record" in item:
                policy.redirects[path_text] = _remake(name, item, supplied, policy, **deep_args)
                continue
            try:
                where = policy.resolve(path_text, f"{name} input")
            except BadInput:
                raise BadInput(f"{name} input {path_text!r} (sha256 {item['sha256'][:12]}…) is outside this artwork's "
                               f"folder and the current folder, so it is not read; supply it with --input {name}=FILE "
                               "or --search DIR") from None
            if not where.is_file():
                hint = " or --deep (it is a yingshe artwork: make it again)" if "record" in item else ""
                raise BadInput(f"{name} input {path_text!r} (sha256 {item['sha256'][:12]}…) is not here; supply it "
                               f"with --input {name}=FILE or --search DIR{hint}")
    leftover = {k: v for k, v in given.items() if v}
    if leftover:
        k = next(iter(leftover))
        raise BadInput(f"--input {k}: given {len(supplied.inputs[k])} file(s), and the artwork has "
                       f"{len(record['inputs'][k])} {k} input(s)")
    for name, w in (record.get("weights") or {}).items():
        src = w.get("source", "")
        if not src or not os.path.isabs(src):
            continue  # a shipped model's name
        found = supplied.find(w["sha256"]) if w.get("sha256") else None
        if found is not None:
            policy.redirects[src] = found


def _regular(p: Path, what: str) -> Path:
    from yingshe.core.files import check_file

    return check_file(p, what).resolve()


def _remake(name: str, item: dict, supplied: Supplied, policy: sources.AccessPolicy, *, tmp: Path, progress,
            device, threads, allow_changed_inputs: bool, trusted: bool, deep: bool) -> Path:
    """--deep: make an input that is itself an artwork again from its record, check the bytes."""
    from yingshe.core.fingerprint import sha256_file

    nested = item["record"]
    art = recreate(nested, progress=progress, device=device, threads=threads,
                   allow_changed_inputs=allow_changed_inputs, trusted=trusted, supplied=supplied, deep=True)
    ext = Path(item["source"]).suffix.lower() or art.default_ext()
    out = tmp / f"{len(list(tmp.iterdir()))}-{name}{ext}"
    enc = art.encode(out)
    out.write_bytes(enc.data)
    if enc.sidecar is not None:
        out.with_name(out.name + ".json").write_bytes(enc.sidecar)
    if sha256_file(out) != item["sha256"] and not allow_changed_inputs:
        raise BadInput(f"--deep: {name} input {item['source']!r} came out different when made again from its own "
                       f"record ({nested['mapping']}; another machine or version?); supply the original with "
                       f"--input {name}=FILE, or pass --allow-changed-inputs")
    return out


def _check_same(record: dict, art: Artwork) -> None:
    """Inputs the mapping read itself (a palette image) and weights must be the recorded ones."""
    for name, items in (record.get("inputs") or {}).items():
        now = art.inputs.get(name) or []
        for i, item in enumerate(items):
            sha = now[i].get("sha256") if i < len(now) else None
            if sha != item["sha256"]:
                used = now[i].get("source") if i < len(now) else None
                what = (f"{name} input {item['source']!r} has changed since the artwork was made" if used in
                        (None, item["source"]) else f"{name} input {used!r} is not the one the artwork was made "
                        f"with ({item['source']!r})")
                raise BadInput(f"{what} (sha256 differs); supply the original with --input/--search, or pass "
                               "--allow-changed-inputs")
    # Weights are resolved inside the mapping, so compare their fingerprints afterwards: a
    # retrained model must not pass for the one the artwork was made with.
    for name, rec in (record.get("weights") or {}).items():
        now = (art.weights.get(name) or {}).get("sha256")
        if rec.get("sha256") and now != rec["sha256"]:
            # name what this run loaded (the record's own path is only a label: it is never read)
            used = (art.weights.get(name) or {}).get("source") or "?"
            raise BadInput(f"{name} weights {used!r} differ from those the artwork was made with (recorded as "
                           f"{rec.get('source', '')!r}; sha256 differs); pass --allow-changed-inputs to use them anyway")


def _recorded_device(record: dict) -> str:
    dev = str(record.get("device") or "auto")
    return dev.split(":")[0] if dev.split(":")[0] in ("cpu", "cuda", "mps") else "auto"
