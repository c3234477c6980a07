"""GAN inversion: find z whose image matches a target (Zhu et al. 2016; Abdal et al. 2019).

Adam on z minimises λ_p·‖VGG19(G(z)) − VGG19(x)‖² (relu1_2, relu2_2, relu3_2; images upsampled
to at least 128 px) + λ_pix·‖G(z) − x‖², starting from the best of several random latents and
keeping z inside a soft ball (|z|² penalty), so the result stays a plausible sample.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress

LAYERS = ("relu1_2", "relu2_2", "relu3_2")


def project(model, img, *, steps: int = 300, lr: float = 0.05, perceptual: float = 1.0, pixel: float = 1.0,
            seed: int = 0, starts: int = 16, cls: int | None = None, progress: Progress | None = None):
    """(z (1, D), image (1, 3, H, W) in [0, 1], final loss)."""
    from yingshe.generative.sample import image_tensor, latents
    from yingshe.nets.vgg19 import load_vgg19

    if model.kind != "gan":
        raise BadInput("project needs a GAN; for a VAE use `yingshe encode`")
    progress = progress or Progress()
    net = model.net
    dev = next(net.parameters()).device
    vgg, pre, _ = load_vgg19("vgg19-caffe", last_layer="relu3_2", device=dev)
    side = max(128, model.size)
    y = torch.full((1,), cls if cls is not None else 0, dtype=torch.long, device=dev) if model.classes else None

    def gen(z):
        return (net(z, y.expand(z.shape[0])) if y is not None else net(z)).add(1).div(2)

    def feats(x01):
        x01 = F.interpolate(x01, size=(side, side), mode="bilinear", align_corners=False)
        return vgg(pre(x01), LAYERS)

    target = (image_tensor(img, model.size).to(dev) + 1) / 2
    with torch.no_grad():
        tf = feats(target)
        cand = latents(starts, model.z_dim, seed).to(dev)
        imgs = gen(cand)
        f = feats(imgs)
        score = sum(((f[k] - tf[k]) ** 2).flatten(1).mean(1) for k in LAYERS)
        z0 = cand[int(score.argmin())].unsqueeze(0).clone()
    z = z0.requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    progress.start(steps, "projecting")
    loss_v = float("nan")
    for i in range(steps):
        x = gen(z)
        f = feats(x)
        loss = perceptual * sum(((f[k] - tf[k]) ** 2).mean() for k in LAYERS) / len(LAYERS) / 1e4 \
            + pixel * ((x - target) ** 2).mean() + 1e-3 * F.relu(z.pow(2).mean() - 1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_v = float(loss.detach())
        progress.update(1, loss=loss_v)
        if progress.stopped():
            break
    progress.close()
    z = z.detach()
    with torch.no_grad():
        return z, gen(z), loss_v
