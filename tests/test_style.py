"""The style mapping through its Python API, at tiny sizes."""

import numpy as np
import pytest
import torch
from PIL import Image

from yingshe.core.errors import BadInput
from yingshe.core.progress import CallbackProgress
from yingshe.style import StyleRecipe, stylize
from yingshe.style import color

TINY = dict(size=48, iterations=12, threads=1)


def test_total_loss_falls(content_png, style_png):
    seen = []
    prog = CallbackProgress(on_update=lambda done, total, m: seen.append(m["loss"]))
    art = stylize(content_png, style_png, size=64, iterations=25, progress=prog, threads=1)
    assert len(seen) == 25
    assert seen[-1] < 0.5 * seen[0]
    assert art.summary["loss"] == min(seen)
    assert art.image.size == (64, 48)


@pytest.mark.parametrize("init", ["content", "noise", "style"])
def test_inits(content_png, style_png, init):
    art = stylize(content_png, style_png, init=init, **TINY)
    assert art.image.size == (48, 36)


def test_init_from_file_is_recorded(content_png, style_png, style2_png):
    art = stylize(content_png, style_png, init=str(style2_png), **TINY)
    assert art.inputs["init"][0]["sha256"]


def test_noise_init_depends_on_seed(content_png, style_png):
    a = stylize(content_png, style_png, init="noise", seed=1, size=32, iterations=3, threads=1)
    b = stylize(content_png, style_png, init="noise", seed=2, size=32, iterations=3, threads=1)
    c = stylize(content_png, style_png, init="noise", seed=1, size=32, iterations=3, threads=1)
    assert np.array_equal(np.asarray(a.image), np.asarray(c.image))
    assert not np.array_equal(np.asarray(a.image), np.asarray(b.image))


def test_default_stops_when_converged_and_shows_time_left(content_png, style_png):
    """The relative-improvement rule ends a level before --iterations once the loss flattens, and
    the bar's `left` field estimates the time to go."""
    seen = []
    prog = CallbackProgress(on_update=lambda done, total, m: seen.append(m))
    art = stylize(content_png, style_png, size=32, iterations=300, converge=0.3, progress=prog, threads=1)
    level = art.summary["levels"][-1]
    assert level["converged"] and level["iterations"] < 100  # seen: 40-50
    assert len(seen) == level["iterations"] + 1  # one update per iteration, one jump to the end
    assert any("left" in m for m in seen)


def test_a_slow_start_is_not_convergence():
    from yingshe.style.optimize import has_converged, iterations_left

    # the loss of a flat generated style picture: it barely moved in the first 11 iterations,
    # then fell 8x (seen); the rule waits for the fall, then stops once it flattens
    stalled = [9.066e9 - 4e3 * i for i in range(12)]
    assert not has_converged(stalled, 0.1) and iterations_left(stalled + stalled[-1:] * 10, 0.1) is None
    fell = stalled + [9e9 / 2 ** k for k in range(1, 4)] + [1.1e9] * 10
    assert has_converged(fell, 0.1)
    assert not has_converged(fell[:-3], 0.1)  # still falling within the last window


def test_saved_picture_scores_the_reported_loss(content_png, style_png):
    """Pixels stay inside [0, 1] while optimising, so the saved 8-bit picture has the loss the
    optimiser reported (unbounded, clamping at the end made it ~3x worse)."""
    from yingshe.nets.vgg19 import load_vgg19
    from yingshe.style.pipeline import _Objective, _style_at, _tensor

    art = stylize(content_png, style_png, size=48, iterations=20, converge=0.0, threads=1)
    net, pre, _ = load_vgg19("vgg19-caffe", last_layer="relu5_1")
    hw = (art.image.height, art.image.width)
    content = _tensor(Image.open(content_png).convert("RGB").resize(art.image.size, Image.LANCZOS), "cpu")
    style = _tensor(_style_at(Image.open(style_png).convert("RGB"), hw, 1.0), "cpu")
    obj = _Objective(net, pre, art.recipe, content, [style], [])
    with torch.no_grad():
        saved, _ = obj(pre(_tensor(art.image, "cpu")))
    assert float(saved) == pytest.approx(art.summary["loss"], rel=0.1)


def test_adam_and_avg_pooling(content_png, style_png):
    art = stylize(content_png, style_png, optimizer="adam", pooling="avg", **TINY)
    assert art.summary["levels"][0]["loss"] < art.summary["levels"][0]["first_loss"]


def test_multi_resolution_levels(content_png, style_png):
    art = stylize(content_png, style_png, sizes=(32, 64), iterations=5, threads=1)
    assert [lv["size"] for lv in art.summary["levels"]] == [32, 64]
    assert art.image.size == (64, 48)


def test_two_styles_blend_and_masks(content_png, style_png, style2_png, tmp_path):
    top = Image.new("L", (80, 60), 0)
    top.paste(255, (0, 0, 80, 30))
    bottom = Image.eval(top, lambda v: 255 - v)
    art = stylize(content_png, [style_png, style2_png], masks=[(0, top), (1, bottom)], **TINY)
    assert len(art.inputs["mask"]) == 2 and art.recipe.mask_styles == (0, 1)
    art = stylize(content_png, [style_png, style2_png], style_weights=(0.7, 0.3), **TINY)
    assert art.recipe.style_weights == (0.7, 0.3)
    with pytest.raises(BadInput, match="no style #3"):
        stylize(content_png, [style_png], masks=[(3, top)], **TINY)
    with pytest.raises(BadInput, match="--style-weights"):
        stylize(content_png, [style_png], style_weights=(0.5, 0.5), **TINY)


def test_preserve_colors_luminance_keeps_content_chroma(content_png, style_png):
    art = stylize(content_png, style_png, preserve_colors="luminance", **TINY)
    c = torch.from_numpy(np.asarray(Image.open(content_png).resize(art.image.size, Image.LANCZOS), np.float32) / 255)
    o = torch.from_numpy(np.asarray(art.image, np.float32) / 255)
    iq_c = color.rgb_to_yiq(c.permute(2, 0, 1)[None])[:, 1:]
    iq_o = color.rgb_to_yiq(o.permute(2, 0, 1)[None])[:, 1:]
    assert float((iq_c - iq_o).abs().mean()) < 0.03


def test_histogram_matching_matches_moments():
    g = torch.Generator().manual_seed(0)
    style = torch.rand(1, 3, 16, 16, generator=g) * 0.5
    content = (torch.rand(1, 3, 16, 16, generator=g) * 0.3 + 0.4)
    out = color.match_histogram(style, content)
    torch.testing.assert_close(out.reshape(3, -1).mean(1), content.reshape(3, -1).mean(1), atol=2e-3, rtol=0)
    torch.testing.assert_close(torch.cov(out.reshape(3, -1)), torch.cov(content.reshape(3, -1)), atol=2e-3, rtol=0)


def test_histogram_mode_runs(content_png, style_png):
    assert stylize(content_png, style_png, preserve_colors="histogram", **TINY).image


def test_stop_keeps_best_so_far(content_png, style_png):
    prog = CallbackProgress()
    prog.on_update = lambda done, total, m: prog.stop() if done >= 4 else None
    art = stylize(content_png, style_png, size=48, iterations=50, progress=prog, threads=1)
    assert art.interrupted and art.summary["iterations"] == 4 and art.image is not None


def test_style_scale_and_layers(content_png, style_png):
    art = stylize(content_png, style_png, style_scale=0.5, content_layers=("conv3_1",),
                  style_layers=("relu1_1", "pool2"), style_layer_weights=(1.0, 2.0), **TINY)
    assert art.recipe.style_layers == ("relu1_1", "pool2")


def test_generated_style_source(content_png):
    art = stylize(content_png, "art:flowfield?seed=3&particles=300&steps=20", **TINY)
    assert art.inputs["style"][0]["source"] == "art:flowfield?seed=3&particles=300&steps=20&size=48"


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_ctrl_c_stops_the_optimiser_even_when_its_exception_was_swallowed(optimizer):
    """Ctrl-C on the command line also sets a flag every progress sees, so a KeyboardInterrupt
    eaten inside a C extension (seen under load in CI) still ends the run with the best so far."""
    from yingshe.core import progress as P
    from yingshe.style.optimize import minimise

    calls = []

    def loss_fn(v):
        calls.append(1)
        if len(calls) == 3:
            P.CTRL_C.set()  # as the Ctrl-C handler does, the exception itself lost
        return ((v - 1) ** 2).sum(), {}

    try:
        r = minimise(torch.zeros(4), loss_fn, iterations=50, optimizer=optimizer, lr=0.1,
                     progress=P.Progress())
        assert CallbackProgress().stopped()
    finally:
        P.CTRL_C.clear()
    assert r.interrupted and len(r.losses) == 3 and not CallbackProgress().stopped()
