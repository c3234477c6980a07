"""VGG19 layer names (no torch import, so option parsing and --help stay fast)."""

# Output channels of each conv, block by block; every block ends with a 2x2 pooling layer.
CONV_CHANNELS = [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]]

LAYER_NAMES: list[str] = []
for _b, _convs in enumerate(CONV_CHANNELS, start=1):
    for _i in range(1, len(_convs) + 1):
        LAYER_NAMES += [f"conv{_b}_{_i}", f"relu{_b}_{_i}"]
    LAYER_NAMES.append(f"pool{_b}")
LAYER_INDEX = {name: i for i, name in enumerate(LAYER_NAMES)}
CONV_NAMES = [n for n in LAYER_NAMES if n.startswith("conv")]
