"""Noise → image and image → latent: DCGAN-family GANs and (β-)VAEs.

Layout (model, process and pipeline kept apart):

* ``gan.py``, ``vae.py``   — the networks, one readable file each
* ``losses.py``, ``augment.py`` — GAN/VAE objectives and DiffAugment
* ``data.py``     — any folder of images → a tensor dataset (labels from sub-folders)
* ``trainer.py``  — the one trainer shape: config → dataset → model → loop (DDP-ready)
* ``sample.py``   — load a run or a shipped model; sample, interpolate, encode
* ``project.py``  — GAN inversion (optimise z with VGG19 perceptual + pixel loss)
* ``evaluate.py`` — FID/KID on a named feature extractor ("FID-VGG19" offline)
* ``latent.py``   — the small API the studio's latent explorer uses
* ``mapping.py``  — registers the ``latent-sample`` mapping (recipes, gallery, recreate)
"""
