"""GAN training throughput at 64 px: yingshe's trainer vs a bare PyTorch loop (the DCGAN
example's loop: BCE, Adam(2e-4, 0.5), D on real then fake, G through D) on the same networks,
measured in the same run, trials interleaved so both see the same machine load.

    nice -n 10 python bench/gan_throughput.py [--steps 10] [--trials 3] [--batch 64] [--threads 2]

Prints images/s of each and the ratio trainer / bare (target ≥ 0.9): the median of the per-trial ratios. The trainer's time includes
everything it does per run: EMA generator update, per-step reseeding, progress, TensorBoard
scalars, and the sample grid + checkpoint written when the run ends.
"""

import argparse
import json
import tempfile
import time

import torch
import torch.nn as nn

from yingshe.generative.data import ImageDataset
from yingshe.generative.gan import Discriminator, GANConfig, Generator
from yingshe.generative.trainer import TrainConfig, Trainer


def bare_loop(data: torch.Tensor, steps: int, batch: int) -> float:
    torch.manual_seed(0)
    cfg = GANConfig(size=64, z_dim=100, g_width=64, d_width=64)
    netG, netD = Generator(cfg), Discriminator(cfg)
    crit = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(i):
        idx = torch.randint(0, data.shape[0], (batch,))
        real = data[idx].float().div(127.5).sub(1)
        netD.zero_grad()
        out = netD(real)
        errD_real = crit(out, torch.ones_like(out))
        errD_real.backward()
        fake = netG(torch.randn(batch, 100, 1, 1))
        out = netD(fake.detach())
        errD_fake = crit(out, torch.zeros_like(out))
        errD_fake.backward()
        optD.step()
        netG.zero_grad()
        out = netD(fake)
        errG = crit(out, torch.ones_like(out))
        errG.backward()
        optG.step()

    step(0)  # warm-up
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * batch / (time.perf_counter() - t)


def trainer_loop(data: torch.Tensor, steps: int, batch: int, threads: int) -> float:
    ds = ImageDataset(data, torch.zeros(data.shape[0], dtype=torch.long), [], [], "<memory>")
    with tempfile.TemporaryDirectory() as d:
        cfg = TrainConfig(kind="gan", data="<memory>", out=d, size=64, batch=batch, max_steps=1, ckpt_every=10**9,
                          threads=threads, sample_n=64, log_every=25)
        t = Trainer(cfg, dataset=ds)
        t.train()  # warm-up step
        t.total_steps = 1 + steps
        return t.train().images_per_second


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = torch.randint(0, 256, (2048, 3, 64, 64), dtype=torch.uint8)
    bare, ours = [], []
    for _ in range(a.trials):
        bare.append(bare_loop(data, a.steps, a.batch))
        ours.append(trainer_loop(data, a.steps, a.batch, a.threads))
        print(f"bare {bare[-1]:.1f} img/s   yingshe trainer {ours[-1]:.1f} img/s", flush=True)
    b, o = sorted(bare)[len(bare) // 2], sorted(ours)[len(ours) // 2]
    # Each trial runs both back to back, so a trial's ratio compares them under the same load;
    # the median of those paired ratios is the figure to quote on a shared machine.
    paired = sorted(y / x for x, y in zip(bare, ours))
    print(json.dumps({"bare_images_per_s": round(b, 2), "trainer_images_per_s": round(o, 2),
                      "ratio_of_medians": round(o / b, 3), "ratio": round(paired[len(paired) // 2], 3),
                      "paired_ratios": [round(r, 3) for r in paired], "steps": a.steps, "trials": a.trials, "batch": a.batch,
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
