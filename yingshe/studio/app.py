"""The Gradio page: one tab per registered mapping, live play, a latent explorer, the gallery.

Nothing here knows any particular mapping: tabs and controls come from the registry and each
mapping's Recipe (:mod:`yingshe.studio.controls`); the work itself is :class:`Studio`'s.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import gradio as gr

from yingshe.core.errors import BadInput
from yingshe.studio.controls import Control, controls_for, to_values
from yingshe.studio.service import Studio, Update

CSS = """
.ys-status { min-height: 2.2em; }
footer { display: none !important; }
"""


def _component(c: Control, elem_id: str):
    kw = dict(label=c.label, elem_id=elem_id)
    if c.widget == "slider":
        return gr.Slider(minimum=c.minimum, maximum=c.maximum, value=c.value, step=c.step, info=c.info, **kw)
    if c.widget in ("number", "seed"):
        return gr.Number(value=c.value, minimum=c.minimum, maximum=c.maximum, precision=c.precision,
                         info=c.info, **kw)
    if c.widget == "dropdown":
        return gr.Dropdown(choices=list(c.choices), value=c.value, info=c.info, **kw)
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


class _Tab:
    """The components of one mapping's tab."""

    def __init__(self, studio: Studio, mapping):
        self.mapping = mapping
        self.controls = controls_for(mapping.recipe)
        self.components: list = []
        self.inputs: dict[str, gr.File] = {}
        name = mapping.name
        gr.Markdown(f"**{name}** — {mapping.summary}" + (" · *live: renders as you move a control*"
                                                         if mapping.realtime else ""))
        with gr.Row():
            with gr.Column(scale=1):
                for spec in mapping.inputs:
                    if not spec.from_recipe:
                        self.inputs[spec.name] = input_component(spec, f"{name}-input-{spec.name}")
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
                self.live = gr.Checkbox(value=True, label="live preview (256 px)", elem_id=f"{name}-live",
                                        visible=mapping.realtime)
                outs = set(mapping.outputs)
                self.image = gr.Image(label="result", type="pil", format="png", interactive=False,
                                      elem_id=f"{name}-output", height=420,
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
                self.recipe = gr.Code(label="recipe", language="json", interactive=False,
                                      elem_id=f"{name}-recipe", lines=6, max_lines=18)

    @property
    def outputs(self) -> list:
        return [self.image, self.video, self.audio, self.text, self.status, self.recipe, self.saved]

    def values(self, data: dict) -> list:
        return [data[c] for c in self.components]

    def files(self, data: dict) -> dict:
        return {k: data.get(comp) for k, comp in self.inputs.items()}


def build(studio: Studio, *, concurrency: int = 1, title: str = "yingshe studio") -> gr.Blocks:
    """The studio page (not launched)."""
    mappings = studio.mappings()
    tabs: dict[str, _Tab] = {}
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        gr.Markdown("# 映射 yingshe studio\nEverything is a mapping. Every artwork keeps its recipe; "
                    "drop a yingshe PNG below to get its settings back.")
        with gr.Row():
            load_file = gr.File(label="load settings from an artwork (drop any yingshe file)", file_count="single",
                                elem_id="load-settings", height=90, scale=3)
            recreate_file = gr.File(label="recreate an artwork (someone else's too: upload its inputs first)",
                                    file_count="single", elem_id="recreate-upload", height=90, scale=3)
            load_status = gr.Markdown("", elem_id="load-status", elem_classes=["ys-status"])
        with gr.Tabs(elem_id="tabs", overflow_behavior="wrap") as tabset:  # every tab visible
            for m in mappings:
                with gr.Tab(m.name, id=f"tab-{m.name}", elem_id=f"tab-{m.name}"):
                    tabs[m.name] = _Tab(studio, m)
            latent_tab = None
            try:
                from yingshe.studio import latent as latent_ui

                if latent_ui.available():
                    with gr.Tab("latent explorer", id="tab-latent", elem_id="tab-latent"):
                        latent_tab = latent_ui.build_tab(studio)
            except Exception as e:  # the explorer is optional; the rest of the studio must work
                print(f"yingshe studio: latent explorer unavailable ({type(e).__name__}: {e})")
                latent_tab = None
            with gr.Tab("gallery", id="tab-gallery", elem_id="tab-gallery") as gallery_tab:
                with gr.Row():
                    g_mapping = gr.Dropdown(choices=["all"] + [m.name for m in mappings], value="all",
                                            label="mapping", elem_id="gallery-mapping", scale=1)
                    g_text = gr.Textbox(label="search (path, recipe, inputs)", elem_id="gallery-search", scale=2)
                    g_refresh = gr.Button("refresh", elem_id="gallery-refresh", scale=0)
                g_kind = gr.Radio(choices=["all", "image", "video", "audio", "midi", "text", "vector"], value="all",
                                  label="kind", elem_id="gallery-kind")
                g_rows = gr.State([])
                g_selected = gr.State(None)
                with gr.Row():
                    with gr.Column(scale=2):
                        g_gallery = gr.Gallery(label="your artworks (this studio's output folder)", columns=5,
                                               height=420, allow_preview=False, elem_id="gallery-grid",
                                               interactive=False)
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
                        g_status = gr.Markdown("", elem_id="gallery-status", elem_classes=["ys-status"])
                        g_image = gr.Image(label="recreated", type="pil", format="png", interactive=False,
                                           elem_id="gallery-recreated", height=200)

        # ------------------------------------------------------------ jobs, stop, live
        for name, t in tabs.items():
            all_inputs = set(t.components) | set(t.inputs.values())

            def run_job(data, request: gr.Request, progress=gr.Progress(), t=t, name=name):
                key = _key(request, name)
                for up in studio.run(name, t.values(data), t.files(data), key=key):
                    yield _job_outputs(up, progress, studio)

            t.run.click(run_job, inputs=all_inputs, outputs=t.outputs,
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
            if t.mapping.realtime:
                def live(data, t=t, name=name):
                    if not data[t.live]:
                        return gr.update(), gr.update()
                    try:
                        mapping, recipe = studio.live_recipe(name, t.values(data))
                        img = mapping.run(recipe, {}, None).image
                    except BadInput as e:
                        return gr.update(), f"⚠️ {e}"
                    return img, f"live preview {img.width}x{img.height} · press Run to save at full size"

                live_inputs = set(t.components) | {t.live}
                kw = dict(fn=live, inputs=live_inputs, outputs=[t.image, t.status], trigger_mode="always_last",
                          show_progress="hidden", concurrency_limit=2, concurrency_id="live")
                for comp, c in zip(t.components, t.controls):
                    if c.widget == "slider":
                        comp.release(**kw)
                    elif c.widget in ("dropdown", "checkbox"):
                        comp.input(**kw)
                    else:  # number and text boxes: when Enter is pressed
                        comp.submit(**kw)
                dice.then(**kw)
                t.live.input(**kw)

        # ------------------------------------------------------------ load settings
        ctl_outputs = [tabset, load_status]
        for t in tabs.values():
            ctl_outputs += t.components

        def settings_outputs(path) -> list:
            try:
                mapping, recipe, record = studio.settings_from_image(path)
            except BadInput as e:
                return [gr.update(), f"⚠️ {e}"] + [gr.update()] * (len(ctl_outputs) - 2)
            out = [gr.update(selected=f"tab-{mapping.name}"),
                   f"✅ loaded the {mapping.name} settings of {Path(path).name} (seed {recipe.get('seed')})"]
            for name, t in tabs.items():
                if name == mapping.name:
                    out += to_values(recipe, t.mapping.recipe)
                else:
                    out += [gr.update()] * len(t.components)
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
        def refresh(mapping, text, kind):
            rows = studio.gallery(None if mapping in (None, "", "all") else mapping, text or "",
                                  kind=None if kind in (None, "", "all") else kind)
            items = [(studio.thumbnail(r), f"#{r.id} {r.mapping} · {r.kind} · seed {r.seed}") for r in rows]
            return items, [r.id for r in rows], f"{len(rows)} artwork(s)" if rows else "no artworks yet"

        g_outs = [g_gallery, g_rows, g_info]
        g_in = [g_mapping, g_text, g_kind]
        g_refresh.click(refresh, inputs=g_in, outputs=g_outs, concurrency_limit=None)
        g_mapping.input(refresh, inputs=g_in, outputs=g_outs, concurrency_limit=None)
        g_kind.input(refresh, inputs=g_in, outputs=g_outs, concurrency_limit=None)
        g_text.submit(refresh, inputs=g_in, outputs=g_outs, concurrency_limit=None)
        gallery_tab.select(refresh, inputs=g_in, outputs=g_outs, concurrency_limit=None)

        def select(rows, evt: gr.SelectData):
            hide = gr.update(visible=False, value=None)
            try:
                row_id = rows[evt.index]
                row, record = studio.gallery_record(row_id)
            except (BadInput, IndexError, TypeError) as e:
                return None, f"⚠️ {e}", "", None, hide, hide, hide
            parts = [f"**#{row.id}**", row.mapping, row.kind, f"{row.width}x{row.height}" if row.width else "",
                     f"{row.duration:.1f} s" if row.duration else "", row.created[:19], f"`{Path(row.path).name}`"]
            info = " · ".join(p for p in parts if p)
            play = studio.playable(row)
            video = gr.update(visible=True, value=play["video"]) if "video" in play else hide
            audio = gr.update(visible=True, value=play["audio"]) if "audio" in play else hide
            text = gr.update(visible=True, value=play["text"]) if "text" in play else hide
            return row_id, info, _record_json(record), row.path, video, audio, text

        g_gallery.select(select, inputs=[g_rows], outputs=[g_selected, g_info, g_recipe, g_download, g_video,
                                                           g_audio, g_textview], concurrency_limit=None)

        def open_selected(row_id):
            if row_id is None:
                return [gr.update(), "select an artwork first"] + [gr.update()] * (len(ctl_outputs) - 2)
            try:
                row, _ = studio.gallery_record(row_id)
            except BadInput as e:
                return [gr.update(), f"⚠️ {e}"] + [gr.update()] * (len(ctl_outputs) - 2)
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
    _, url, share_url = demo.launch(
        server_name=host, server_port=port, share=share, auth=auth, allowed_paths=[str(studio.output)],
        max_file_size=int(max_upload_mb * 2**20), ssr_mode=False, prevent_thread_lock=True, quiet=quiet,
        show_error=True, footer_links=[], css=CSS, mcp_server=False, enable_monitoring=False)
    if block:
        try:
            demo.block_thread()
        finally:
            demo.close()
    return demo, share_url or url
