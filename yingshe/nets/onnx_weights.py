"""Read the weights out of a quantised (QDQ) ONNX graph, as plain float tensors.

TFLite int8 models converted with tf2onnx keep every weight as an int8/int32 initializer behind
a ``DequantizeLinear`` node, and every activation between a ``QuantizeLinear`` /
``DequantizeLinear`` pair. :func:`read_qdq_onnx` undoes the first (weights become float32,
``(code - zero_point) * scale`` per output channel) and lists the second (the scale and zero
point of each quantised activation, by tensor name), so a PyTorch port can run in float or
reproduce the int8 arithmetic exactly.

Convolutions are keyed by their TensorFlow scope (``transformer/contract/conv1``), which is
what the weight tensors are named after; that keeps the port independent of node order.
Only the ``onnx`` package is needed (no onnxruntime); no code from the file is run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class QDQWeights:
    #: TF scope -> (weight (O, I/groups, kH, kW) float32, bias (O,) float32)
    convs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: TF scope -> ONNX Conv attributes (strides, pads, group, kernel_shape)
    conv_attrs: dict[str, dict] = field(default_factory=dict)
    #: quantised activation name (the QuantizeLinear output) -> (scale, zero point)
    activations: dict[str, tuple[float, int]] = field(default_factory=dict)
    #: float constants that are quantised initializers but not conv weights (e.g. epsilon)
    constants: dict[str, np.ndarray] = field(default_factory=dict)


_WEIGHT_SUFFIXES = ("/depthwise_weights_dequant", "/weights_dequant")


def _scope(weight_name: str) -> str | None:
    for suffix in _WEIGHT_SUFFIXES:
        if weight_name.endswith(suffix):
            return weight_name[: -len(suffix)]
    return None


def read_qdq_onnx(path: str | Path) -> QDQWeights:
    """Dequantised conv weights and activation quantisation of the QDQ ONNX file at ``path``."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}

    # 1. every DequantizeLinear of initializers -> float32 tensor
    dequant: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(i in init for i in node.input):
            continue
        x = init[node.input[0]].astype(np.float64)
        scale = init[node.input[1]].astype(np.float64)
        zp = init[node.input[2]].astype(np.float64) if len(node.input) > 2 else np.zeros_like(scale)
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if scale.ndim == 1 and scale.size > 1:  # per-channel along `axis`
            shape = [1] * x.ndim
            shape[axis] = -1
            scale, zp = scale.reshape(shape), zp.reshape(shape)
        dequant[node.output[0]] = ((x - zp) * scale).astype(np.float32)

    out = QDQWeights()
    # 2. convolutions by TF scope
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        scope = _scope(node.input[1])
        if scope is None or node.input[1] not in dequant:
            continue
        w = dequant[node.input[1]]
        b = dequant[node.input[2]] if len(node.input) > 2 and node.input[2] in dequant else np.zeros(w.shape[0], np.float32)
        out.convs[scope] = (w, b.reshape(-1))
        out.conv_attrs[scope] = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    # 3. activation quantisation (scale, zero point) by the quantised tensor's name
    for node in graph.node:
        if node.op_type == "QuantizeLinear" and node.input[1] in init:
            scale = init[node.input[1]]
            zp = init[node.input[2]] if len(node.input) > 2 else np.zeros((), np.int8)
            if scale.size == 1:
                out.activations[node.output[0]] = (float(scale.reshape(())), int(zp.reshape(())))
    used = {i for n in graph.node if n.op_type == "Conv" for i in n.input}
    out.constants = {k: v for k, v in dequant.items() if k not in used}
    return out
