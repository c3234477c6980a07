"""Image-to-image translation: pix2pix (Isola et al. 2017) on any folder of pictures.

- :mod:`yingshe.translate.pairs`: how an input A is made from a picture B (Canny edges, XDoG
  sketches, grey, blur) or read from A|B files;
- :mod:`yingshe.translate.data`: a folder → paired uint8 tensors, a held-out split, jittered batches;
- :mod:`yingshe.translate.trainer`: ``yingshe train pix2pix`` on the shared trainer;
- :mod:`yingshe.translate.model`: loading a generator (shipped, run folder, file) and translating;
- :mod:`yingshe.translate.mapping`: the ``translate`` mapping (CLI, studio sketch canvas, recreate).

The networks (U-Net, 70×70 PatchGAN) are in :mod:`yingshe.nets.pix2pix`.
"""
