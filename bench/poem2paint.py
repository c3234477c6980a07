"""poem2paint (issue 13): eight classical poems and an English one painted at 768 px, seconds per
painting printed, and a contact sheet written to bench/results/poem2paint-sheet.jpg.

    nice -n 10 python bench/poem2paint.py                  # 768 px, the sheet, timings
    nice -n 10 python bench/poem2paint.py --size 512 --out /tmp/p2p   # also keep each painting

There is no peer to time against in one run: LingDong-'s shan-shui-inf, whose look the painter
follows, draws SVG in a browser. The figures are this machine's seconds per painting, the MiniLM
path (English words outside the lexicon) measured apart because its first use loads
sentence-transformers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from yingshe.core import registry, sources  # noqa: E402

POEMS = {
    "静夜思 (李白)": "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。",
    "江雪 (柳宗元)": "千山鸟飞绝，万径人踪灭。\n孤舟蓑笠翁，独钓寒江雪。",
    "春晓 (孟浩然)": "春眠不觉晓，处处闻啼鸟。\n夜来风雨声，花落知多少。",
    "枫桥夜泊 (张继)": "月落乌啼霜满天，江枫渔火对愁眠。\n姑苏城外寒山寺，夜半钟声到客船。",
    "登鹳雀楼 (王之涣)": "白日依山尽，黄河入海流。\n欲穷千里目，更上一层楼。",
    "山居秋暝 (王维)": "空山新雨后，天气晚来秋。\n明月松间照，清泉石上流。\n竹喧归浣女，莲动下渔舟。\n随意春芳歇，王孙自可留。",
    "鹿柴 (王维)": "空山不见人，但闻人语响。\n返景入深林，复照青苔上。",
    "送孟浩然之广陵 (李白)": "故人西辞黄鹤楼，烟花三月下扬州。\n孤帆远影碧空尽，唯见长江天际流。",
    "English": "The moon rises over the quiet river,\nwild geese cross the autumn sky;\n"
               "a lone boat drifts beneath the pines,\nand mist lies on the distant hills.",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=768)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="folder to keep each painting in (PNG)")
    ap.add_argument("--sheet", default=str(Path(__file__).resolve().parent / "results" / "poem2paint-sheet.jpg"))
    ap.add_argument("--thumb", type=int, default=400, help="width of each picture on the sheet")
    args = ap.parse_args()
    from PIL import Image, ImageDraw

    m = registry.get("poem2paint")
    arts, times = [], []
    print(f"poem2paint at {args.size} px (landscape 4:3), seed {args.seed}, text on; "
          f"cpu threads {os.cpu_count()}")
    for name, poem in POEMS.items():
        rec = m.recipe.from_dict({"size": args.size, "seed": args.seed, "similarity": False})
        t = time.perf_counter()
        art = m.run(rec, {"poem": [sources.from_text(poem)]})
        dt = time.perf_counter() - t
        times.append(dt)
        arts.append((name, art))
        imgs = art.summary["imagery"]["images"]
        print(f"  {dt:6.2f} s  {name:16s} {' '.join(sorted(imgs))}")
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            art.save(Path(args.out) / f"{name.split()[0]}.png", gallery=False)
    chinese = times[:-1]
    print(f"mean {sum(times) / len(times):.2f} s per painting (Chinese {sum(chinese) / len(chinese):.2f} s, "
          f"min {min(times):.2f}, max {max(times):.2f})")
    # the MiniLM path: an English poem with words outside the lexicon
    rec = m.recipe.from_dict({"size": args.size, "seed": args.seed, "similarity": True})
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for label in ("first (loads MiniLM)", "second"):
        t = time.perf_counter()
        art = m.run(rec, {"poem": [sources.from_text("Lunar light on the lagoon, an eagle over the ravine")]})
        print(f"  {time.perf_counter() - t:6.2f} s  English + MiniLM, {label}: {art.summary['imagery'].get('similarity')}")
    # the sheet
    w = args.thumb
    h = round(w * arts[0][1].image.height / arts[0][1].image.width)
    cols = 3
    rows = (len(arts) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * w, rows * (h + 22)), (250, 248, 242))
    d = ImageDraw.Draw(sheet)
    from yingshe.crossmodal.inscription import find_cjk_font
    from PIL import ImageFont

    font = ImageFont.truetype(find_cjk_font(), 14) if find_cjk_font() else ImageFont.load_default()
    for i, (name, art) in enumerate(arts):
        x, y = (i % cols) * w, (i // cols) * (h + 22)
        sheet.paste(art.image.resize((w, h), Image.LANCZOS), (x, y))
        d.text((x + 6, y + h + 3), name, font=font, fill=(60, 50, 40))
    Path(args.sheet).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.sheet, quality=82, optimize=True)
    print(f"wrote {args.sheet} ({Path(args.sheet).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
