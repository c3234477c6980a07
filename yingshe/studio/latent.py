"""The latent explorer: sliders along the main directions of a trained GAN/VAE's latent space.

Active when :mod:`yingshe.generative.latent` can be imported and ships at least one model;
otherwise the studio simply has no explorer tab. :class:`Explorer` is plain Python (tested and
benchmarked without a browser); :func:`build_tab` makes its Gradio tab.
"""

from __future__ import annotations

import threading

from PIL import Image

#: how many direction sliders the tab shows, and how far each goes (in standard deviations)
N_DIRECTIONS = 6
SPAN = 4.0
VIEW_SIZE = 256


def _api():
    try:
        from yingshe.generative import latent
    except ImportError:
        return None
    return latent


def available() -> bool:
    api = _api()
    if api is None:
        return False
    try:
        return bool(api.available())
    except Exception:
        return False


class Explorer:
    """Loads models once, caches their directions, renders a point of latent space."""

    def __init__(self, k: int = N_DIRECTIONS, view_size: int = VIEW_SIZE):
        self.k, self.view_size = k, view_size
        self._models: dict = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        api = _api()
        return list(api.available()) if api else []

    def model(self, name: str):
        with self._lock:
            if name not in self._models:
                m = _api().load(name, device="cpu")
                self._models[name] = (m, m.directions(self.k))
            return self._models[name]

    def classes(self, name: str) -> list[str]:
        return list(self.model(name)[0].classes)

    def render(self, name: str, seed: int, coords, cls: str | None = None) -> Image.Image:
        import torch

        from yingshe.core.images import from_array01

        m, dirs = self.model(name)
        z = m.sample_z(1, int(seed))[0]
        c = torch.tensor([float(v) for v in coords][: dirs.shape[0]], dtype=torch.float32)
        z = z + (c[:, None] * dirs[: len(c)]).sum(0)
        with torch.inference_mode():
            x = m.decode(z[None], cls=cls if (cls and m.classes) else None)[0]
        img = from_array01(x.clamp(0, 1).permute(1, 2, 0).cpu().numpy())
        if max(img.size) < self.view_size:
            s = self.view_size / max(img.size)
            img = img.resize((round(img.width * s), round(img.height * s)), Image.NEAREST)
        return img


class _Tab:
    def __init__(self, studio, explorer: Explorer):
        import gradio as gr

        self.explorer = explorer
        self.studio = studio
        names = explorer.names()
        gr.Markdown("**latent explorer** — move along the main directions of a trained GAN/VAE's latent "
                    "space (GANSpace principal directions); the picture follows each slider as you release it.")
        with gr.Row():
            with gr.Column(scale=1):
                self.model = gr.Dropdown(choices=names, value=names[0] if names else None, label="model",
                                         elem_id="latent-model")
                with gr.Row(equal_height=True):
                    self.seed = gr.Number(value=0, precision=0, minimum=0, label="seed", elem_id="latent-seed")
                    self.dice = gr.Button("🎲 dice", elem_id="latent-dice", scale=0, min_width=90)
                first_classes = explorer.classes(names[0]) if names else []
                self.cls = gr.Dropdown(choices=first_classes, value=first_classes[0] if first_classes else None,
                                       label="class (conditional models)", visible=bool(first_classes),
                                       elem_id="latent-class")
                self.sliders = [gr.Slider(-SPAN, SPAN, value=0.0, step=0.05, label=f"direction {i + 1}",
                                          elem_id=f"latent-d{i + 1}") for i in range(explorer.k)]
                self.reset = gr.Button("back to the centre", elem_id="latent-reset")
            with gr.Column(scale=1):
                self.image = gr.Image(label="decoded", type="pil", format="png", interactive=False,
                                      elem_id="latent-output", height=300)
                self.status = gr.Markdown("", elem_id="latent-status")

    def wire(self):
        import random

        import gradio as gr

        ins = [self.model, self.seed, self.cls] + self.sliders

        def render(name, seed, cls, *coords):
            if not name:
                return gr.update(), "no model"
            try:
                img = self.explorer.render(name, int(seed or 0), coords, cls)
            except Exception as e:  # a broken model file must not take the studio down
                return gr.update(), f"⚠️ {type(e).__name__}: {e}"
            out = self.studio.preview_file(img) if self.studio is not None else img  # JPEG: fast to send
            return out, f"{name} · seed {int(seed or 0)} · " + ", ".join(f"{c:+.2f}" for c in coords)

        kw = dict(fn=render, inputs=ins, outputs=[self.image, self.status], trigger_mode="always_last",
                  show_progress="hidden", concurrency_limit=2, concurrency_id="live")
        for s in self.sliders:
            s.release(**kw)
        self.seed.submit(**kw)
        self.cls.input(**kw)

        def pick_model(name):
            classes = self.explorer.classes(name) if name else []
            return gr.update(choices=classes, value=classes[0] if classes else None, visible=bool(classes))

        self.model.input(pick_model, inputs=[self.model], outputs=[self.cls], concurrency_limit=None).then(**kw)
        self.dice.click(lambda: random.randint(0, 2**31 - 1), outputs=[self.seed], concurrency_limit=None).then(**kw)
        self.reset.click(lambda: [0.0] * len(self.sliders), outputs=self.sliders, concurrency_limit=None).then(**kw)


def build_tab(studio) -> _Tab:
    return _Tab(studio, Explorer())
