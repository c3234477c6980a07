import pytest

from yingshe.core.errors import BadInput
from yingshe.style.recipe import StyleRecipe


def test_round_trip_and_text_parsing():
    r = StyleRecipe.from_dict({"size": "128", "style_weights": "0.7,0.3", "sizes": "64,128", "seed": 5})
    assert r.size == 128 and r.style_weights == (0.7, 0.3) and r.sizes == (64, 128)
    assert StyleRecipe.from_dict(r.to_dict()) == r


@pytest.mark.parametrize("data,needle", [
    ({"size": "big"}, "whole number"),
    ({"size": 0}, "at least"),
    ({"size": 100000}, "at most"),
    ({"optimizer": "sgd"}, "one of"),
    ({"content_weight": "nan"}, "finite"),
    ({"content_layers": "conv9_9"}, "unknown VGG19 layer"),
    ({"sizes": "512,256"}, "coarse to fine"),
    ({"colour": 1}, "unknown style parameter"),
    ({"style_layer_weights": "1,2"}, "style layers"),
    ({"seed": -1}, "at least"),
    ({"size": True}, "whole number"),
])
def test_bad_values_name_the_field(data, needle):
    with pytest.raises(BadInput) as e:
        StyleRecipe.from_dict(data)
    assert needle in str(e.value)


def test_levels():
    assert StyleRecipe(size=200).levels() == [200]
    assert StyleRecipe(size=256).levels() == [128, 256]
    assert StyleRecipe(size=512).levels() == [128, 256, 512]
    assert StyleRecipe(size=2048).levels() == [128, 256, 512, 1024, 2048]
    assert StyleRecipe(size=1024, iterations=300).level_iterations() == [150, 150, 150, 300]
    assert StyleRecipe(size=512, iterations=20).level_iterations() == [20, 20, 20]
    assert StyleRecipe(sizes=(64, 128)).levels() == [64, 128]


def test_params_describe_every_field():
    specs = {s.name: s for s in StyleRecipe.params()}
    assert specs["optimizer"].choices == ("lbfgs", "adam")
    assert specs["size"].min == 16 and specs["weights"].cli == "--vgg-weights"
    assert all(s.help for s in specs.values())
