"""How the shipped models' training set was made (run once; not imported by yingshe):

    python -m yingshe.generative.zoo.make_data DATA 3000

3000 flowfield renders at 64 px through the mapping registry, one sub-folder per palette (the
sub-folder names are the conditional GAN's classes). Training recipes: *.recipe.json here."""
import random
import sys
from pathlib import Path


def main(out: Path, n: int) -> None:
    from yingshe.algorithmic.palettes import PALETTES
    from yingshe.core import registry

    m = registry.get("flowfield")
    rng = random.Random(0)
    pals = sorted(PALETTES)
    for i in range(n):
        pal = pals[i % len(pals)]
        r = {"size": 64, "seed": i, "palette": pal, "particles": rng.choice([300, 600, 1200]),
             "steps": rng.choice([40, 80, 120]), "scale": rng.uniform(0.1, 0.6),
             "turbulence": rng.uniform(0.5, 4.0), "curl": rng.random() < 0.5}
        img = m.run(m.recipe.from_dict(r), {}, None).image
        (out / pal).mkdir(parents=True, exist_ok=True)
        img.save(out / pal / f"{i:05d}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
