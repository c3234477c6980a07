"""The studio's drawing pad for sketch inputs (pix2pix's sketch, diffusion's mask).

Why not Gradio's ImageEditor: it draws with WebGL and, after each stroke, exports its layers as
three PNG uploads before it fires any event — ~0.6 s in a browser without a GPU, twice the whole
budget for a stroke → translation round trip. This pad is a plain 2D ``<canvas>``: at pointer-up
the page has the drawing at once (``toDataURL``, ~2 ms at 256 px), sends it straight to the live
route (``yingshe/live/NAME``, see app.add_routes) and sets it as the input's value, so Run saves
exactly what was drawn.

Pieces, per sketch input: the pad (gr.HTML: canvas and tools), an "open a picture" upload button,
the input's value (a text box the page hides: the drawing as a ``data:image/png;base64,`` URL, or
the path of a picture put on the pad by a built-in choice, an upload, "send to" or an example —
the studio reads only paths under its output folder, see Studio.pad_value), and a hidden button
the pad clicks after each stroke to hand its drawing to Gradio. The pad's JavaScript (``HEAD``) is
loaded once per page and listens on the document, so pads in tabs that mount later work too.
"""

from __future__ import annotations

import html
import json

import gradio as gr

#: the pad's side in canvas pixels (a picture put on it keeps its aspect, longest side this)
PAD_SIDE = 256

CSS = """
.ys-hidden { display: none !important; }
.ys-pad { display: flex; flex-direction: column; gap: 6px; }
.ys-pad-label { font-size: var(--block-label-text-size); color: var(--block-label-text-color); }
.ys-pad canvas { width: 100%; max-width: 384px; aspect-ratio: auto; background: #fff; touch-action: none;
                 border: 1px solid var(--border-color-primary); border-radius: 4px; cursor: crosshair;
                 image-rendering: auto; align-self: center; }
.ys-pad-tools { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; justify-content: center; }
.ys-pad-tools button { padding: 2px 10px; border: 1px solid var(--border-color-primary); border-radius: 4px;
                       background: var(--button-secondary-background-fill); }
.ys-pad-tools button.ys-on { border-color: var(--color-accent); font-weight: 600; }
"""

HEAD = """
<script>
(() => {
  if (window.__ysPadsReady) return;
  window.__ysPadsReady = true;
  const SIDE = %(side)d;
  const pads = (window.__ysPads = window.__ysPads || {});  /* input id → {value, undo, tool} */
  const st = (id) => (pads[id] = pads[id] || {value: "", undo: [], tool: "pen"});
  const inks = (c) => { const p = padOf(c); return [p.dataset.ysInk || "#000000", p.dataset.ysPaper || "#ffffff"]; };
  const padOf = (el) => el.closest("[data-ys-pad]");
  const canvasOf = (id) => document.querySelector('[data-ys-pad="' + id + '"] canvas');
  const base = () => (window.gradio_config && window.gradio_config.root)
      ? window.gradio_config.root.replace(/\\/$/, "") + "/" : "";
  let stroke = null;  /* the stroke being drawn: {id, c, ctx, x, y} */
  const at = (c, e) => {
    const r = c.getBoundingClientRect();  /* the canvas is scaled by CSS: page → canvas pixels */
    return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height];
  };
  const remember = (s, c) => {
    s.undo.push(c.getContext("2d").getImageData(0, 0, c.width, c.height));
    if (s.undo.length > 30) s.undo.shift();
  };
  /* the drawing becomes the input's value: the hidden button's event copies it into Gradio */
  const commit = (id) => {
    const c = canvasOf(id);
    if (!c) return;
    st(id).value = c.toDataURL("image/png");
    const b = document.getElementById(id + "-drawn");
    if (b) b.click();
  };
  const show = (c, value) => {  /* a picture (data URL or a served path) on the pad, or a blank one */
    const ctx = c.getContext("2d");
    if (!value) { c.width = SIDE; c.height = SIDE; ctx.fillStyle = inks(c)[1]; ctx.fillRect(0, 0, c.width, c.height); return; }
    const img = new Image();
    img.onload = () => {
      const k = SIDE / Math.max(img.width, img.height);
      c.width = Math.max(1, Math.round(img.width * k));
      c.height = Math.max(1, Math.round(img.height * k));
      ctx.drawImage(img, 0, 0, c.width, c.height);
    };
    img.src = value.startsWith("data:") ? value : base() + "gradio_api/file=" + value;
  };
  document.addEventListener("pointerdown", (e) => {
    const c = e.target.closest && e.target.closest("[data-ys-pad] canvas");
    if (!c || e.button > 0) return;
    const id = padOf(c).dataset.ysPad, s = st(id), ctx = c.getContext("2d");
    remember(s, c);
    c.setPointerCapture(e.pointerId);
    const [x, y] = at(c, e);
    ctx.lineCap = ctx.lineJoin = "round";
    const size = +(padOf(c).querySelector("[data-ys-size]") || {value: 3}).value || 3;
    ctx.lineWidth = s.tool === "eraser" ? size * 4 : size;
    ctx.strokeStyle = ctx.fillStyle = inks(c)[s.tool === "eraser" ? 1 : 0];
    ctx.beginPath(); ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fill();  /* a click is a dot */
    stroke = {id, c, ctx, x, y};
    e.preventDefault();
  });
  document.addEventListener("pointermove", (e) => {
    if (!stroke) return;
    const [x, y] = at(stroke.c, e);
    const ctx = stroke.ctx;
    ctx.beginPath(); ctx.moveTo(stroke.x, stroke.y); ctx.lineTo(x, y); ctx.stroke();
    stroke.x = x; stroke.y = y;
  });
  const end = () => { if (!stroke) return; const id = stroke.id; stroke = null; commit(id); };
  document.addEventListener("pointerup", end);
  document.addEventListener("pointercancel", end);
  document.addEventListener("click", (e) => {
    const t = e.target.closest && e.target.closest("[data-ys-tool]");
    if (!t) return;
    const pad = padOf(t), id = pad.dataset.ysPad, s = st(id), c = canvasOf(id), tool = t.dataset.ysTool;
    if (tool === "pen" || tool === "eraser") {
      s.tool = tool;
      pad.querySelectorAll("[data-ys-tool=pen], [data-ys-tool=eraser]").forEach((b) => b.classList.toggle("ys-on", b === t));
      return;
    }
    if (tool === "undo") {
      const img = s.undo.pop();
      if (!img) return;
      c.width = img.width; c.height = img.height;
      c.getContext("2d").putImageData(img, 0, 0);
    } else if (tool === "clear") {
      remember(s, c);
      show(c, "");
    }
    commit(id);
  });
  /* a value set from outside (a built-in picture, an upload, "send to", an example) is shown */
  window.ysPadShow = (id, value) => {
    const s = st(id);
    if ((value || "") === s.value) return;  /* the pad's own drawing coming back */
    s.value = value || "";
    const c = canvasOf(id);
    if (c) { remember(s, c); show(c, s.value); }
  };
  /* a pad as it mounts (a tab opened): blank paper, or the value set while it was away */
  new MutationObserver(() => {
    document.querySelectorAll("[data-ys-pad]").forEach((p) => {
      const c = p.querySelector("canvas");
      if (!c || c.__ys) return;
      c.__ys = true;
      const s = pads[p.dataset.ysPad];
      show(c, s ? s.value : "");
    });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
""" % {"side": PAD_SIDE}


def pad_html(elem_id: str, label: str, *, mask: bool = False) -> str:
    """The pad: black ink on white paper, or for a mask white (where to act) on black."""
    sizes = "".join(f'<option{" selected" if n == (12 if mask else 3) else ""}>{n}</option>'
                    for n in (1, 2, 3, 5, 8, 12, 20, 40))
    ink, paper = ("#ffffff", "#000000") if mask else ("#000000", "#ffffff")
    return (f'<div class="ys-pad" data-ys-pad="{html.escape(elem_id)}" data-ys-ink="{ink}" data-ys-paper="{paper}">'
            f'<div class="ys-pad-label">{html.escape(label)}</div>'
            f'<canvas width="{PAD_SIDE}" height="{PAD_SIDE}" role="img" aria-label="{html.escape(label)}"></canvas>'
            '<div class="ys-pad-tools">'
            '<button type="button" data-ys-tool="pen" class="ys-on">✏️ pen</button>'
            '<button type="button" data-ys-tool="eraser">eraser</button>'
            f'<label>size <select data-ys-size>{sizes}</select></label>'
            '<button type="button" data-ys-tool="undo">↶ undo</button>'
            '<button type="button" data-ys-tool="clear">clear</button>'
            '</div></div>')


class SketchPad:
    """The components of one sketch input: ``value`` is the input (what Run and the live route
    read); ``upload`` puts a picture on the pad; ``drawn`` is clicked by the pad after each stroke."""

    def __init__(self, elem_id: str, label: str, *, mask: bool = False):
        self.elem_id = elem_id
        gr.HTML(pad_html(elem_id, label, mask=mask), elem_id=f"{elem_id}-pad", padding=False)
        self.upload = gr.UploadButton("🖼 open a picture to draw over", file_types=["image"], type="filepath",
                                      size="sm", elem_id=f"{elem_id}-upload")
        self.value = gr.Textbox(value="", elem_id=elem_id, elem_classes=["ys-hidden"], show_label=False,
                                container=False, max_lines=1)
        self.drawn = gr.Button("drawn", elem_id=f"{elem_id}-drawn", elem_classes=["ys-hidden"])

    def wire(self) -> object:
        """The pad's own events; returns the event of a new value (a stroke, or one set from
        outside), for the live preview to follow with ``.then``."""
        self.upload.upload(lambda f: f or gr.update(), inputs=[self.upload], outputs=[self.value],
                           concurrency_limit=None, show_progress="hidden")
        self.drawn.click(None, inputs=None, outputs=[self.value], show_progress="hidden",
                         js="() => ((window.__ysPads || {})[%s] || {}).value || ''" % json.dumps(self.elem_id))
        return self.value.change(None, inputs=[self.value], outputs=None, show_progress="hidden",
                                 js="(v) => { if (window.ysPadShow) window.ysPadShow(%s, v); }" % json.dumps(self.elem_id))
