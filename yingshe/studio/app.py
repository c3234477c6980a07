"""The Gradio page: a home page of examples, the mappings grouped by what they make, "send to"
chains, X/Y grids, live play, the latent explorer and a gallery that scales.

Nothing here knows any particular mapping: sections, tabs, controls, inputs, outputs, examples
and send-to targets come from the registry (section, rank, examples, input and output kinds) and
each mapping's Recipe (:mod:`yingshe.studio.controls`); the work itself is :class:`Studio`'s.
"""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path

import gradio as gr
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from yingshe.core.errors import BadInput
from yingshe.core.registry import SECTIONS
from yingshe.studio.controls import Control, controls_for, to_values
from yingshe.studio.pad import CSS as PAD_CSS
from yingshe.studio.pad import HEAD as PAD_HEAD
from yingshe.studio.pad import SketchPad
from yingshe.studio.service import Studio, Update

CSS = """
.ys-status { min-height: 2.2em; }
/* live results fill their frame: the first, coarse preview comes small and is scaled up here */
.ys-live-out img { object-fit: contain !important; }
footer { display: none !important; }
.ys-home .grid-wrap { min-height: 0 !important; }
/* Gradio narrows a gallery's columns to its number of items: examples keep one size everywhere */
.ys-home .grid-container { grid-template-columns: repeat(6, minmax(0, 1fr)) !important; }
"""


def _component(c: Control, elem_id: str):
    kw = dict(label=c.label, elem_id=elem_id)
    if c.widget == "slider":
        return gr.Slider(minimum=c.minimum, maximum=c.maximum, value=c.value, step=c.step, info=c.info, **kw)
    if c.widget in ("number", "seed"):
        return gr.Number(value=c.value, minimum=c.minimum, maximum=c.maximum, precision=c.precision,
                         info=c.info, **kw)
    if c.widget == "dropdown":
        return gr.Dropdown(choices=list(c.choices), value=c.value, info=c.info, allow_custom_value=c.custom, **kw)
    if c.widget == "checkbox":
        return gr.Checkbox(value=c.value, info=c.info, **kw)
    return gr.Textbox(value=c.value, info=c.info, lines=1, **kw)


def _key(request: gr.Request | None, mapping: str) -> str:
    session = getattr(request, "session_hash", None) or "local"
    return f"{session}:{mapping}"


def _record_json(record: dict) -> str:
    """The record as JSON, mapping and recipe first (what a person looks for)."""
    first = {k: record[k] for k in ("mapping", "recipe") if k in record}
    rest = {k: record[k] for k in sorted(record) if k not in first}
    return json.dumps({**first, **rest}, indent=2, ensure_ascii=False)


def input_component(spec, elem_id: str):
    """The upload (or text box) for one InputSpec, by its kind."""
    kinds = spec.kind.split("|")
    label = f"{spec.name}{'' if spec.required else ' (optional)'} — {spec.help}"
    if kinds == ["text"]:
        return gr.Textbox(label=label, lines=5, elem_id=elem_id, placeholder="type or paste the text")
    if kinds == ["audio"] and not spec.multiple:
        return gr.Audio(label=label, type="filepath", sources=["upload"], elem_id=elem_id)
    if kinds == ["video"] and not spec.multiple:
        return gr.Video(label=label, sources=["upload"], elem_id=elem_id)
    types = {"image": "image", "video": "video", "audio": "audio", "midi": ".mid"}
    return gr.File(label=label, file_count="multiple" if spec.multiple else "single", elem_id=elem_id, height=110,
                   file_types=[types[k] for k in kinds if k in types] + ([".midi"] if "midi" in kinds else []))


class _Tab:
    """The components of one mapping's tab."""

    def __init__(self, studio: Studio, mapping, targets: list[tuple[str, str]]):
        self.mapping = mapping
        self.controls = controls_for(mapping.recipe)
        self.components: list = []
        self.inputs: dict[str, object] = {}
        self.pickers: dict[str, object] = {}
        self.pads: dict[str, SketchPad] = {}
        name = mapping.name
        gr.Markdown(f"**{name}** — {mapping.summary}" + (" · *live: renders as you move a control*"
                                                         if mapping.realtime else ""))
        with gr.Row():
            with gr.Column(scale=1):
                for spec in mapping.inputs:
                    if spec.from_recipe:
                        continue
                    elem_id = f"{name}-input-{spec.name}"
                    if spec.sketch and spec.kind == "image" and not spec.multiple:  # a pad to draw on
                        label = f"{spec.name}{'' if spec.required else ' (optional)'} — {spec.help}"
                        self.pads[spec.name] = pad = SketchPad(elem_id, label, mask=spec.mask)
                        self.inputs[spec.name] = pad.value
                    else:
                        self.inputs[spec.name] = input_component(spec, elem_id)
                    samples = studio.samples_for(spec.kind)
                    if samples:
                        self.pickers[spec.name] = gr.Dropdown(
                            choices=samples, value=None, label=f"…or a built-in {spec.kind.split('|')[0]}",
                            elem_id=f"{name}-pick-{spec.name}", container=True)
                basic = [c for c in self.controls if not c.advanced]
                advanced = [c for c in self.controls if c.advanced]
                made: dict[str, object] = {}
                for c in basic:
                    if c.widget == "seed":
                        with gr.Row(equal_height=True):
                            made[c.name] = _component(c, f"{name}-{c.name}")
                            self.dice = gr.Button("🎲 dice", elem_id=f"{name}-dice", scale=0, min_width=90)
                    else:
                        made[c.name] = _component(c, f"{name}-{c.name}")
                if advanced:
                    with gr.Accordion("advanced", open=False):
                        for c in advanced:
                            made[c.name] = _component(c, f"{name}-{c.name}")
                self.components = [made[c.name] for c in self.controls]
            with gr.Column(scale=1):
                with gr.Row():
                    self.run = gr.Button("Run", variant="primary", elem_id=f"{name}-run")
                    self.stop = gr.Button("Stop", variant="stop", elem_id=f"{name}-stop")
                self.live = gr.Checkbox(value=True, label=f"live preview (coarse first, then up to {studio.live_size} px)",
                                        elem_id=f"{name}-live", visible=mapping.realtime)
                outs = set(mapping.outputs)
                self.image = gr.Image(label="result", type="pil", format="png", interactive=False,
                                      elem_id=f"{name}-output", height=420,
                                      elem_classes=["ys-live-out"] if mapping.realtime else None,
                                      visible=bool(outs & {"image", "vector"}) or mapping.realtime)
                self.video = gr.Video(label="video (with its sound)", interactive=False, elem_id=f"{name}-video",
                                      height=420, visible="video" in outs)
                self.audio = gr.Audio(label="sound", type="filepath", interactive=False, elem_id=f"{name}-audio",
                                      visible=bool(outs & {"audio", "midi"}))
                self.text = gr.Textbox(label="text", lines=10, interactive=False, elem_id=f"{name}-text",
                                       visible="text" in outs)
                self.status = gr.Markdown("", elem_id=f"{name}-status", elem_classes=["ys-status"])
                self.saved = gr.File(label="saved artwork (its recipe inside or beside it)", interactive=False,
                                     elem_id=f"{name}-saved", height=60)
                with gr.Row(equal_height=True):
                    self.send_to = gr.Dropdown(choices=targets, value=targets[0][1] if targets else None,
                                               label="send the result to", elem_id=f"{name}-send-to", scale=3,
                                               visible=bool(targets))
                    self.send = gr.Button("send →", elem_id=f"{name}-send", scale=1, visible=bool(targets))
                self.recipe = gr.Code(label="recipe", language="json", interactive=False,
                                      elem_id=f"{name}-recipe", lines=6, max_lines=18)
                sweepable = [c.name for c in self.controls if c.widget in ("slider", "number", "seed", "dropdown",
                                                                                "checkbox", "text")]
                self.grid_open = "image" in outs or "vector" in outs
                with gr.Accordion("X/Y grid: sweep two parameters", open=False, visible=self.grid_open):
                    with gr.Row():
                        self.gx = gr.Dropdown(choices=sweepable, value="seed", label="X (columns)",
                                              elem_id=f"{name}-grid-x")
                        self.gxv = gr.Textbox(value="1,2,3", label="X values", elem_id=f"{name}-grid-xv")
                    with gr.Row():
                        self.gy = gr.Dropdown(choices=["(none)"] + sweepable, value="(none)", label="Y (rows)",
                                              elem_id=f"{name}-grid-y")
                        self.gyv = gr.Textbox(value="", label="Y values", elem_id=f"{name}-grid-yv")
                    self.grid_run = gr.Button("Run grid", elem_id=f"{name}-grid-run")
                self.cam = self.cam_out = None
                if mapping.webcam:  # frames stream in, each painted with the controls and inputs above
                    with gr.Accordion("webcam: paint your camera live (where the browser allows it)", open=False):
                        with gr.Row():
                            self.cam = gr.Image(sources=["webcam"], streaming=True, type="pil", label="camera",
                                                elem_id=f"{name}-webcam", height=260)
                            self.cam_out = gr.Image(label="painted live (nothing is saved)", type="pil",
                                                    format="jpeg", interactive=False,
                                                    elem_id=f"{name}-webcam-out", height=260)

    @property
    def outputs(self) -> list:
        return [self.image, self.video, self.audio, self.text, self.status, self.recipe, self.saved]

    def values(self, data: dict) -> list:
        return [data[c] for c in self.components]

    def files(self, data: dict) -> dict:
        return {k: data.get(comp) for k, comp in self.inputs.items()}


#: where the studio's own routes are, as the page sees it (Gradio's root: right behind a proxy's path too)
_BASE_JS = '((window.gradio_config && window.gradio_config.root) ? window.gradio_config.root.replace(/\\/$/, "") + "/" : "")'


def hush_live_js(name: str) -> str:
    """Run before a job starts: live previews of ``name`` still on their way are dropped (their
    answers would otherwise replace the job's result in the page). Passes the inputs through."""
    return """
(...args) => {
  const all = (window.__ysLive = window.__ysLive || {});
  const me = (all[%(name)s] = all[%(name)s] || {seq: 0, urls: []});
  me.seq += 1;
  me.failed = me.seq;  /* and no full-size preview is asked for after this */
  return args.length === 1 ? args[0] : args;
}
""" % {"name": json.dumps(name)}


def live_js(name: str, inputs: list[str], n_controls: int, *, coarse: bool) -> str:
    """The page's side of a live preview: POST the controls' and inputs' values to
    ``yingshe/live/NAME`` and show the JPEG that comes back. Arguments, as the event passes them:
    the live checkbox, then the controls in recipe order and the inputs in ``inputs`` order; the
    outputs (picture, status) get Gradio's "no change" update when there is nothing to show. A newer move
    makes an older answer stale: it is dropped, never shown over the newer one."""
    return """
async (live, ...rest) => {
  const all = (window.__ysLive = window.__ysLive || {});
  const me = (all[%(name)s] = all[%(name)s] || {seq: 0, urls: []});
  const keep = [{__type__: "update"}, {__type__: "update"}];  /* outputs left as they are */
  if (!live) return keep;
  if (%(coarse)s) {
    me.seq += 1;
    const files = {};
    %(inputs)s.forEach((k, i) => { files[k] = rest[%(n)d + i] ?? null; });
    me.body = JSON.stringify({values: rest.slice(0, %(n)d), files: files});
  } else if (me.failed === me.seq || me.done === me.seq) {
    return keep;  /* the coarse one failed (its message stays), or was already the final picture */
  }
  const seq = me.seq;
  let r;
  try {
    r = await fetch(%(base)s + "yingshe/live/" + encodeURIComponent(%(name)s) + "?coarse=%(c)d",
                    {method: "POST", body: me.body, headers: {"Content-Type": "application/json"}});
  } catch (e) {
    return [keep[0], "⚠️ the studio did not answer: " + e];
  }
  if (seq !== me.seq) return keep;
  if (!r.ok) { me.failed = seq; return [keep[0], "⚠️ " + (await r.text())]; }
  const final = !%(coarse)s || r.headers.get("X-Yingshe-Final") === "1";
  if (final) me.done = seq;
  const blob = await r.blob();
  if (seq !== me.seq) return keep;
  const url = URL.createObjectURL(blob);
  me.urls.push(url);
  while (me.urls.length > 3) URL.revokeObjectURL(me.urls.shift());
  const size = r.headers.get("X-Yingshe-Size") || "";
  return [{url: url, path: "live-preview.jpg", orig_name: "live-preview.jpg", mime_type: "image/jpeg",
           meta: {_type: "gradio.FileData"}},
          "live preview " + size + " · " + (final ? "press Run to save at full size" : "refining…")];
}
""" % {"name": json.dumps(name), "inputs": json.dumps(inputs), "n": n_controls, "coarse": "true" if coarse else "false",
       "c": int(coarse), "base": _BASE_JS}


def gallery_js(*, first: bool = False, step: int = 0) -> str:
    """The page's side of the gallery grid: GET ``yingshe/gallery`` with the filters → the grid's
    items, the rows' ids, the count, the page line and the page number (the event's outputs).
    Also given the rows and lines shown now: when the answer is the same, nothing is redrawn."""
    return """
async (mapping, kind, since, text, page, rows, info, pageinfo) => {
  const q = new URLSearchParams({mapping: mapping ?? "all", kind: kind ?? "all", since: since ?? "any time",
                                 text: text ?? "", page: %(first)s ? 0 : (page ?? 0), step: %(step)d});
  const me = (window.__ysGallery = window.__ysGallery || {});
  let p = (async () => {
    const r = await fetch(%(base)s + "yingshe/gallery?" + q.toString());
    if (!r.ok) return [[], [], "⚠️ " + (await r.text()), "", 0];
    const got = await r.json();
    if (JSON.stringify([got.rows, got.info, got.pageinfo]) === JSON.stringify([rows, info, pageinfo]))
      return [{__type__: "update"}, {__type__: "update"}, {__type__: "update"}, {__type__: "update"}, got.page];  /* unchanged: nothing redrawn */
    return [got.items, got.rows, got.info, got.pageinfo, got.page];
  })();
  me.latest = p;
  let out = await p;
  while (me.latest !== p) { p = me.latest; out = await p; }  /* a newer page was asked for: show that one */
  return out;
}
""" % {"first": "true" if first else "false", "step": step, "base": _BASE_JS}


def add_routes(app, studio: Studio) -> None:
    """The studio's own HTTP routes beside Gradio's (same server, same login), which the page
    fetches itself where a queued Gradio event would cost more than the work:
    ``POST yingshe/live/NAME?coarse=0|1`` with ``{"values": [...], "files": {...}}`` → a JPEG
    live preview (400 with a one-line reason for bad values); ``GET yingshe/gallery?mapping=…&kind=…
    &since=…&text=…&page=…&step=…`` → one page of the gallery grid (:meth:`Studio.gallery_listing`)."""
    busy = threading.BoundedSemaphore(2)  # as many live renders at once as the old "live" queue allowed

    def logged_in(request: Request) -> bool:
        # Gradio's own check (routes.login_check), which it keeps inside create_app: the same cookie
        if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
            return True
        if getattr(app, "auth_dependency", None) is not None:
            return False  # a custom auth dependency: no fast path, the page shows the error
        cookie_id = getattr(app, "cookie_id", None)
        token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{cookie_id}")
        return bool(token) and getattr(app, "tokens", {}).get(token) is not None

    def live(name: str, request: Request, body: dict, coarse: int = 0):
        if not logged_in(request):
            return Response("log in first", status_code=401, media_type="text/plain")
        values, files = body.get("values"), body.get("files") or {}
        if not isinstance(values, list) or not isinstance(files, dict):
            return Response("values must be a list and files an object", status_code=400, media_type="text/plain")
        try:
            with busy:
                data, (w, h) = studio.live_jpeg(name, values, files, coarse=bool(coarse))
                final = not coarse or not studio.coarse_helps(name, values)
        except (BadInput, ValueError, TypeError, KeyError) as e:
            return Response(str(e).splitlines()[0] if str(e) else "bad request", status_code=400,
                            media_type="text/plain")
        # X-Yingshe-Final: 1 when this is already the live picture (the page asks no second time)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store",
                                                                 "X-Yingshe-Size": f"{w}x{h}",
                                                                 "X-Yingshe-Final": "1" if final else "0"})

    app.add_api_route("/yingshe/live/{name}", live, methods=["POST"])

    def gallery(request: Request, mapping: str = "all", kind: str = "all", since: str = "any time", text: str = "",
                page: int = 0, step: int = 0):
        if not logged_in(request):
            return Response("log in first", status_code=401, media_type="text/plain")
        try:
            listing = studio.gallery_listing(mapping, kind, since, text, page=page, step=step)
        except BadInput as e:
            return Response(str(e).splitlines()[0], status_code=400, media_type="text/plain")
        return JSONResponse(listing, headers={"Cache-Control": "no-store"})

    app.add_api_route("/yingshe/gallery", gallery, methods=["GET"])


def send_targets(mapping, mappings) -> list[tuple[str, str]]:
    """(label, "target:input") for every input of another mapping that takes what ``mapping`` makes."""
    makes = set(mapping.outputs)
    takes = {"image": {"image", "vector", "video"}, "video": {"video"}, "audio": {"audio", "video", "midi"},
             "midi": {"midi"}, "text": {"text"}}
    out = []
    for m in mappings:
        if m.name == mapping.name or m.name == "grid":
            continue
        for s in m.inputs:
            if s.from_recipe:
                continue
            if any(makes & takes.get(k, set()) for k in s.kind.split("|")):
                out.append((f"{m.name} · {s.name}", f"{m.name}:{s.name}"))
    return out


def build(studio: Studio, *, concurrency: int = 1, title: str = "yingshe studio") -> gr.Blocks:
    """The studio page (not launched)."""
    mappings = [m for m in studio.mappings() if m.name != "grid"]
    by_section: dict[str, list] = {k: [] for k in SECTIONS}
    for m in mappings:
        by_section.setdefault(m.where, []).append(m)
    for k in by_section:
        by_section[k].sort(key=lambda m: (m.rank, m.name))
    tabs: dict[str, _Tab] = {}
    subtabs: dict[str, object] = {}
    section_of = {m.name: m.where for m in mappings}
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        gr.Markdown("# 映射 yingshe studio\nEverything is a mapping: pictures, sounds, poems and videos into one "
                    "another. Every artwork keeps its recipe.")
        with gr.Tabs(elem_id="tabs") as tabset:
            # ------------------------------------------------------------ home
            with gr.Tab("home", id="tab-home", elem_id="tab-home"):
                gr.Markdown("Start from an example: click one to open its mapping with the example's settings and "
                            "built-in inputs, then press **Run**.", elem_id="home-intro")
                home_galleries = {}
                for key, label in SECTIONS.items():
                    items = studio.example_cards(key)
                    if not items:
                        continue
                    gr.Markdown(f"### {label}")
                    home_galleries[key] = gr.Gallery(
                        value=[(c.thumbnail, c.caption) for c in items], columns=6, height="auto",
                        allow_preview=False, elem_id=f"home-{key}", elem_classes=["ys-home"], show_label=False,
                        interactive=False, object_fit="cover")
                with gr.Row():
                    load_file = gr.File(label="load settings from an artwork (drop any yingshe file)",
                                        file_count="single", elem_id="load-settings", height=90, scale=3)
                    recreate_file = gr.File(label="recreate an artwork (someone else's too: upload its inputs first)",
                                            file_count="single", elem_id="recreate-upload", height=90, scale=3)
                load_status = gr.Markdown("", elem_id="load-status", elem_classes=["ys-status"])
            # ------------------------------------------------------------ mappings by what they make
            latent_tab = None
            for key, label in SECTIONS.items():
                if not by_section.get(key):
                    continue
                with gr.Tab(label, id=f"section-{key}", elem_id=f"section-{key}"):
                    with gr.Tabs(elem_id=f"tabs-{key}") as sub:
                        subtabs[key] = sub
                        for m in by_section[key]:
                            with gr.Tab(m.name, id=f"tab-{m.name}", elem_id=f"tab-{m.name}"):
                                tabs[m.name] = _Tab(studio, m, send_targets(m, mappings))
                        if key == "nothing":
                            try:
                                from yingshe.studio import latent as latent_ui

                                if latent_ui.available():
                                    with gr.Tab("latent explorer", id="tab-latent", elem_id="tab-latent"):
                                        latent_tab = latent_ui.build_tab(studio)
                            except Exception as e:  # the explorer is optional; the rest must work
                                print(f"yingshe studio: latent explorer unavailable ({type(e).__name__}: {e})")
                                latent_tab = None
            # ------------------------------------------------------------ gallery
            with gr.Tab("gallery", id="tab-gallery", elem_id="tab-gallery") as gallery_tab:
                with gr.Row():
                    g_mapping = gr.Dropdown(choices=["all"] + sorted(m.name for m in mappings), value="all",
                                            label="mapping", elem_id="gallery-mapping", scale=1)
                    g_kind = gr.Dropdown(choices=["all", "image", "video", "audio", "midi", "text", "vector"],
                                         value="all", label="kind", elem_id="gallery-kind", scale=1)
                    g_since = gr.Dropdown(choices=["any time", "today", "this week", "this month"], value="any time",
                                          label="made", elem_id="gallery-since", scale=1)
                    g_text = gr.Textbox(label="search (path, recipe, inputs)", elem_id="gallery-search", scale=2)
                    g_refresh = gr.Button("refresh", elem_id="gallery-refresh", scale=0)
                # the page's own fetch fills these (see gallery_js), so they live in the page, not the session
                g_rows = gr.JSON([], visible=False, elem_id="gallery-rows")
                g_page = gr.Number(0, visible=False, precision=0, elem_id="gallery-pagenum")
                g_selected = gr.State(None)
                g_pinned = gr.State(None)
                with gr.Row():
                    with gr.Column(scale=2):
                        g_gallery = gr.Gallery(label="your artworks (this studio's output folder)", columns=6,
                                               height=520, allow_preview=False, elem_id="gallery-grid",
                                               interactive=False, object_fit="cover")
                        with gr.Row():
                            g_prev = gr.Button("← newer", elem_id="gallery-prev", scale=0)
                            g_pageinfo = gr.Markdown("", elem_id="gallery-page")
                            g_next = gr.Button("older →", elem_id="gallery-next", scale=0)
                    with gr.Column(scale=1):
                        g_info = gr.Markdown("select an artwork", elem_id="gallery-info")
                        g_video = gr.Video(label="play", interactive=False, elem_id="gallery-video", visible=False,
                                           height=260)
                        g_audio = gr.Audio(label="listen", type="filepath", interactive=False,
                                           elem_id="gallery-audio", visible=False)
                        g_textview = gr.Textbox(label="text", lines=8, interactive=False, elem_id="gallery-text",
                                                visible=False)
                        g_recipe = gr.Code(label="recipe", language="json", interactive=False,
                                           elem_id="gallery-recipe", lines=10, max_lines=24)
                        g_download = gr.File(label="download", interactive=False, elem_id="gallery-download",
                                             height=60)
                        with gr.Row():
                            g_open = gr.Button("load settings", elem_id="gallery-load")
                            g_recreate = gr.Button("recreate", elem_id="gallery-recreate")
                            g_pin = gr.Button("compare with…", elem_id="gallery-pin")
                        g_status = gr.Markdown("", elem_id="gallery-status", elem_classes=["ys-status"])
                        g_image = gr.Image(label="recreated", type="pil", format="png", interactive=False,
                                           elem_id="gallery-recreated", height=200)
                with gr.Row(visible=False) as g_compare_row:
                    g_cmp_a = gr.Image(label="A (pinned)", type="filepath", interactive=False, elem_id="compare-a",
                                       height=300)
                    g_cmp_b = gr.Image(label="B (selected)", type="filepath", interactive=False,
                                       elem_id="compare-b", height=300)
                    g_cmp_diff = gr.Markdown("", elem_id="compare-diff")

        # ------------------------------------------------------------ navigation
        def goto(name: str) -> list:
            """Updates for the outer tabs and every section's inner tabs that show mapping ``name``."""
            key = section_of[name]
            return [gr.update(selected=f"section-{key}")] + [
                gr.update(selected=f"tab-{name}") if k == key else gr.update() for k in subtabs]

        nav = [tabset] + list(subtabs.values())

        # ------------------------------------------------------------ jobs, stop, live, grid, send
        all_controls = []
        for name, t in tabs.items():
            all_controls += t.components
        all_inputs_of = {}
        for name, t in tabs.items():
            all_inputs = set(t.components) | set(t.inputs.values())
            all_inputs_of[name] = all_inputs

            def run_job(data, request: gr.Request, progress=gr.Progress(), t=t, name=name):
                key = _key(request, name)
                for up in studio.run(name, t.values(data), t.files(data), key=key):
                    yield _job_outputs(up, progress, studio)

            # js: a live preview still on its way must not land over what Run makes (drop it first)
            t.run.click(run_job, inputs=all_inputs, outputs=t.outputs, js=hush_live_js(name),
                        concurrency_limit=concurrency, concurrency_id="jobs", show_progress="full",
                        show_progress_on=[t.status], api_name=f"run_{name.replace('-', '_')}")

            def stop_job(request: gr.Request, name=name):
                # The job's own status line says "stopped early" when it has saved the best so far;
                # writing to it here could race with that final update, so this only shows a toast.
                gr.Info("stopping after this step…" if studio.stop(_key(request, name)) else "nothing is running")

            t.stop.click(stop_job, inputs=None, outputs=None, concurrency_limit=None,
                         show_progress="hidden", api_name=f"stop_{name.replace('-', '_')}")
            seed = next(comp for comp, c in zip(t.components, t.controls) if c.name == "seed")
            dice = t.dice.click(lambda: random.randint(0, 2**31 - 1), inputs=None, outputs=[seed],
                                show_progress="hidden", concurrency_limit=None)

            for iname, picker in t.pickers.items():
                def pick(spec, t=t, iname=iname):
                    if not spec:
                        return gr.update()
                    try:
                        return studio.sample_value(spec, t.mapping, iname)
                    except BadInput as e:
                        gr.Warning(str(e))
                        return gr.update()

                picker.input(pick, inputs=[picker], outputs=[t.inputs[iname]], concurrency_limit=None)

            if t.cam is not None:
                def cam_frame(data, t=t, name=name):
                    try:
                        return studio.webcam_frame(name, t.values(data), t.files(data), data[t.cam])
                    except BadInput as e:
                        gr.Warning(str(e))
                        return gr.update()

                # always_last: a slow machine drops frames instead of falling behind the camera
                t.cam.stream(cam_frame, inputs=all_inputs | {t.cam}, outputs=[t.cam_out], stream_every=0.2,
                             time_limit=900, concurrency_limit=1, concurrency_id="webcam",
                             show_progress="hidden", trigger_mode="always_last")

            if t.grid_open:
                def run_grid(data, request: gr.Request, progress=gr.Progress(), t=t, name=name):
                    sweep_x = f"{data[t.gx]}={data[t.gxv]}"
                    sweep_y = "" if data[t.gy] in (None, "", "(none)") else f"{data[t.gy]}={data[t.gyv]}"
                    for up in studio.run_grid(name, t.values(data), t.files(data), sweep_x, sweep_y,
                                              key=_key(request, name)):
                        yield _job_outputs(up, progress, studio)

                t.grid_run.click(run_grid, inputs=all_inputs | {t.gx, t.gxv, t.gy, t.gyv}, outputs=t.outputs,
                                 js=hush_live_js(name),
                                 concurrency_limit=concurrency, concurrency_id="jobs", show_progress_on=[t.status])

            pad_changes = [pad.wire() for pad in t.pads.values()]
            if t.mapping.realtime:
                # The page fetches live previews itself from /yingshe/live (see add_routes): no
                # Gradio event reaches the server, so a preview costs the render and one small
                # request (~20 ms) instead of a queued event (~80-150 ms). The coarse picture comes
                # first; .then() asks for the full one unless a newer move has started.
                names = list(t.inputs)
                live_inputs = [t.live] + t.components + [t.inputs[n] for n in names]
                coarse = dict(fn=None, inputs=live_inputs, outputs=[t.image, t.status], show_progress="hidden",
                              js=live_js(name, names, len(t.components), coarse=True))
                final = dict(coarse, js=live_js(name, names, len(t.components), coarse=False))
                for comp, c in zip(t.components, t.controls):
                    if c.widget == "slider":
                        comp.release(**coarse).then(**final)
                    elif c.widget in ("dropdown", "checkbox"):
                        comp.input(**coarse).then(**final)
                    else:  # number and text boxes: when Enter is pressed
                        comp.submit(**coarse).then(**final)
                dice.then(**coarse).then(**final)
                for changed in pad_changes:
                    changed.then(**coarse).then(**final)
                t.live.input(**coarse).then(**final)
                for spec in t.mapping.inputs:
                    if spec.name in t.pads:  # a stroke, or a picture put on the pad: its value changes
                        continue
                    if spec.name in t.inputs:  # an uploaded palette picture
                        t.inputs[spec.name].input(**coarse).then(**final)
                        if spec.name in t.pickers:
                            t.pickers[spec.name].input(**coarse).then(**final)

        # send to: the saved artwork becomes the other mapping's input (its record nests)
        for name, t in tabs.items():
            if not t.send_to.visible:
                continue
            dests = [tabs[v.split(":")[0]].inputs[v.split(":")[1]] for _, v in send_targets(t.mapping, mappings)
                     if v.split(":")[0] in tabs]
            dests = list(dict.fromkeys(dests))
            index = {}
            for _, v in send_targets(t.mapping, mappings):
                tn, inp = v.split(":")
                if tn in tabs:
                    index[v] = dests.index(tabs[tn].inputs[inp])

            def send(saved, target, t=t, index=index, dests=dests):
                keep = [gr.update()] * len(dests)
                if not saved or not target:
                    gr.Warning("run it first: there is nothing to send yet")
                    return [gr.update()] * len(nav) + keep
                tname, iname = target.split(":")
                try:
                    value = studio.send_value(saved, tabs[tname].mapping, iname)
                except BadInput as e:
                    gr.Warning(str(e))
                    return [gr.update()] * len(nav) + keep
                keep[index[target]] = value
                return goto(tname) + keep

            t.send.click(send, inputs=[t.saved, t.send_to], outputs=nav + dests, concurrency_limit=None)

        # ------------------------------------------------------------ home examples
        for key, gal in home_galleries.items():
            cards = studio.example_cards(key)
            outs_for = {}
            for c in cards:
                t = tabs.get(c.mapping)
                if t is not None:
                    outs_for[c.mapping] = t
            ex_outputs = nav + [load_status]
            for t in outs_for.values():
                ex_outputs += t.components + list(t.inputs.values())

            def open_example(evt: gr.SelectData, cards=cards, outs_for=outs_for):
                card = cards[evt.index]
                out = goto(card.mapping) + [f"✅ opened the example “{card.title}” in {card.mapping}: press Run"]
                for name, t in outs_for.items():
                    if name == card.mapping:
                        values = studio.example_values(card)
                        out += to_values(values["recipe"], t.mapping.recipe)
                        out += [values["inputs"].get(i, None) for i in t.inputs]
                    else:
                        out += [gr.update()] * (len(t.components) + len(t.inputs))
                return out

            gal.select(open_example, inputs=None, outputs=ex_outputs, concurrency_limit=None)

        # ------------------------------------------------------------ load settings, recreate an upload
        ctl_outputs = nav + [load_status]
        text_inputs = []  # a prompt read from an AUTOMATIC1111 picture goes back into its box
        for t in tabs.values():
            ctl_outputs += t.components
            text_inputs += [c for n, c in t.inputs.items() if isinstance(c, gr.Textbox)]
        ctl_outputs += text_inputs

        def settings_outputs(path) -> list:
            try:
                mapping, recipe, record = studio.settings_from_image(path)
            except BadInput as e:
                return [gr.update()] * len(nav) + [f"⚠️ {e}"] + [gr.update()] * (len(ctl_outputs) - len(nav) - 1)
            if mapping.name not in tabs:
                return [gr.update()] * len(nav) + [f"⚠️ {mapping.name} has no tab here"] + \
                    [gr.update()] * (len(ctl_outputs) - len(nav) - 1)
            out = goto(mapping.name) + [
                f"✅ loaded the {mapping.name} settings of {Path(path).name} (seed {recipe.get('seed')})"]
            for name, t in tabs.items():
                if name == mapping.name:
                    out += to_values(recipe, t.mapping.recipe)
                else:
                    out += [gr.update()] * len(t.components)
            texts = record.get("texts") or {}
            for comp in text_inputs:
                owner = next(t for t in tabs.values() if comp in t.inputs.values())
                iname = next(n for n, c in owner.inputs.items() if c is comp)
                out.append(texts[iname] if owner.mapping.name == mapping.name and iname in texts else gr.update())
            return out

        def load_settings(file):
            if not file:
                return [gr.update()] * len(ctl_outputs)
            return settings_outputs(file)

        load_file.upload(load_settings, inputs=[load_file], outputs=ctl_outputs, concurrency_limit=None).then(
            lambda: None, inputs=None, outputs=[load_file], show_progress="hidden")  # ready for the next drop

        def recreate_upload(file, request: gr.Request, progress=gr.Progress()):
            if not file:
                return
            for up in studio.recreate_upload(file, key=_key(request, "upload")):
                yield up.status() if up.kind != "done" else f"✅ made again: {up.path.name if up.path else ''}"

        recreate_file.upload(recreate_upload, inputs=[recreate_file], outputs=[load_status],
                             concurrency_limit=concurrency, concurrency_id="jobs").then(
            lambda: None, inputs=None, outputs=[recreate_file], show_progress="hidden")

        # ------------------------------------------------------------ gallery
        # The grid is filled by the page itself from yingshe/gallery (one request, thumbnails inline),
        # not by a queued event and 48 picture requests; the first page is fetched when the page
        # loads, so the tab shows it as soon as it opens, and again when the tab is chosen.
        g_outs = [g_gallery, g_rows, g_info, g_pageinfo, g_page]
        g_in = [g_mapping, g_kind, g_since, g_text, g_page, g_rows, g_info, g_pageinfo]
        for ev in (g_refresh.click, g_mapping.input, g_kind.input, g_since.input, g_text.submit, gallery_tab.select):
            ev(None, inputs=g_in, outputs=g_outs, js=gallery_js(first=True), show_progress="hidden")
        demo.load(None, inputs=g_in, outputs=g_outs, js=gallery_js(first=True), show_progress="hidden")
        g_prev.click(None, inputs=g_in, outputs=g_outs, js=gallery_js(step=-1), show_progress="hidden")
        g_next.click(None, inputs=g_in, outputs=g_outs, js=gallery_js(step=+1), show_progress="hidden")

        def select(rows, pinned, evt: gr.SelectData):
            hide = gr.update(visible=False, value=None)
            try:
                row_id = rows[evt.index]
                row, record = studio.gallery_record(row_id)
            except (BadInput, IndexError, TypeError) as e:
                return None, f"⚠️ {e}", "", None, hide, hide, hide, gr.update(visible=False), None, None, ""
            parts = [f"**#{row.id}**", row.mapping, row.kind, f"{row.width}x{row.height}" if row.width else "",
                     f"{row.duration:.1f} s" if row.duration else "", row.created[:19], f"`{Path(row.path).name}`"]
            info = " · ".join(p for p in parts if p)
            play = studio.playable(row)
            video = gr.update(visible=True, value=play["video"]) if "video" in play else hide
            audio = gr.update(visible=True, value=play["audio"]) if "audio" in play else hide
            text = gr.update(visible=True, value=play["text"]) if "text" in play else hide
            cmp = (gr.update(visible=False), None, None, "")
            if pinned is not None and pinned != row_id:
                a, b, diff = studio.compare(pinned, row_id)
                cmp = (gr.update(visible=True), a, b, diff)
            return (row_id, info, _record_json(record), row.path, video, audio, text) + cmp

        g_gallery.select(select, inputs=[g_rows, g_pinned],
                         outputs=[g_selected, g_info, g_recipe, g_download, g_video, g_audio, g_textview,
                                  g_compare_row, g_cmp_a, g_cmp_b, g_cmp_diff], concurrency_limit=None)

        def pin(row_id):
            if row_id is None:
                return None, "select an artwork first"
            return row_id, f"📌 #{row_id} pinned: select another artwork to compare them"

        g_pin.click(pin, inputs=[g_selected], outputs=[g_pinned, g_status], concurrency_limit=None)

        def open_selected(row_id):
            if row_id is None:
                return [gr.update()] * len(nav) + ["select an artwork first"] + \
                    [gr.update()] * (len(ctl_outputs) - len(nav) - 1)
            try:
                row, _ = studio.gallery_record(row_id)
            except BadInput as e:
                return [gr.update()] * len(nav) + [f"⚠️ {e}"] + [gr.update()] * (len(ctl_outputs) - len(nav) - 1)
            return settings_outputs(row.path)

        g_open.click(open_selected, inputs=[g_selected], outputs=ctl_outputs, concurrency_limit=None)

        def recreate(row_id, request: gr.Request, progress=gr.Progress()):
            if row_id is None:
                yield gr.update(), "select an artwork first"
                return
            for up in studio.recreate(row_id, key=_key(request, "gallery")):
                out = _job_outputs(up, progress, studio)
                yield out[0], out[4]

        g_recreate.click(recreate, inputs=[g_selected], outputs=[g_image, g_status],
                         concurrency_limit=concurrency, concurrency_id="jobs", show_progress_on=[g_status])
        if latent_tab is not None:
            latent_tab.wire()

        def home_now():
            # the thumbnails rendered since the page was built (only cached files: nothing renders here)
            return [[(c.thumbnail, c.caption) for c in studio.example_cards(k)] for k in home_galleries]

        demo.load(home_now, inputs=None, outputs=list(home_galleries.values()), concurrency_limit=None,
                  show_progress="hidden")
    return demo


def _job_outputs(up: Update, progress, studio: Studio) -> tuple:
    """One job update → (image, video, audio, text, status, recipe, saved file) for a tab's outputs."""
    keep = gr.update()
    if up.kind == "progress":
        if up.total:
            try:
                progress((up.done, up.total), desc="working", unit="steps")
            except Exception:  # progress display is best-effort
                pass
        img = up.preview if up.preview is not None else keep
        return img, keep, keep, keep, up.status(), keep, keep
    if up.kind == "error":
        return keep, keep, keep, keep, up.status(), keep, keep
    art = up.artwork
    shown = studio.shown(art, up.path)
    return (shown.get("image", keep), shown.get("video", keep), shown.get("audio", keep), shown.get("text", keep),
            up.status(), _record_json(art.record()), str(up.path))


def _patient_startup_check() -> None:
    """Gradio asks its own page once with a 3 s timeout after starting, and on a busy machine
    the first answer can take longer: then it refuses to start without a public share link. Ask
    again, patiently, before giving that answer."""
    from gradio import networking

    original = networking.url_ok
    if getattr(original, "_yingshe_patient", False):
        return

    def url_ok(url: str) -> bool:
        import time

        import httpx

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.head(url, timeout=20, verify=False).status_code < 500:
                    return True
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.5)
        return original(url)

    url_ok._yingshe_patient = True
    networking.url_ok = url_ok


def launch(output: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           auth: tuple[str, str] | None = None, concurrency: int = 1, max_upload_mb: float = 25,
           max_upload_pixels: int | None = None, threads: int | None = None, block: bool = True,
           quiet: bool = False):
    """Build and serve the studio. Returns ``(demo, url)``; blocks unless ``block=False``."""
    from yingshe.studio.service import MAX_UPLOAD_PIXELS

    out = Path(output).expanduser().resolve()
    # Uploads and Gradio's cache live under the output folder too: it is the only folder served.
    os.environ["GRADIO_TEMP_DIR"] = str(out / ".studio-cache")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    studio = Studio(out, max_upload_bytes=int(max_upload_mb * 2**20),
                    max_upload_pixels=max_upload_pixels or MAX_UPLOAD_PIXELS, threads=threads)
    demo = build(studio, concurrency=concurrency)
    demo.queue(default_concurrency_limit=concurrency)
    _patient_startup_check()
    app, url, share_url = demo.launch(
        server_name=host, server_port=port, share=share, auth=auth, allowed_paths=[str(studio.output)],
        max_file_size=int(max_upload_mb * 2**20), ssr_mode=False, prevent_thread_lock=True, quiet=quiet,
        show_error=True, footer_links=[], css=CSS + PAD_CSS, head=PAD_HEAD, mcp_server=False, enable_monitoring=False)
    add_routes(app, studio)
    worker = studio.prepare_examples()  # missing thumbnails: rendered by a niced process, never while a page loads
    if block:
        try:
            demo.block_thread()
        finally:
            demo.close()
            if worker is not None and worker.poll() is None:
                worker.terminate()
    return demo, share_url or url
