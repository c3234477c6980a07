"""The decoder-only Transformer: the attention formula, the causal mask, deterministic sampling."""

import pytest
import torch

from yingshe.nets.transformer import (GPT, CausalSelfAttention, GPTConfig, naive_attention,
                                      sample_next)


def tiny(vocab=40, block=16, **kw):
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=vocab, block_size=block, n_layer=2, n_head=2, n_embd=32, **kw))


def test_attention_equals_naive_formula():
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=10, block_size=16, n_layer=1, n_head=4, n_embd=32, bias=True)
    attn = CausalSelfAttention(cfg).eval()
    x = torch.randn(3, 11, 32)
    B, T, C = x.shape
    q, k, v = attn.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, 4, C // 4).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
    y = naive_attention(q, k, v).transpose(1, 2).reshape(B, T, C)
    expected = attn.c_proj(y)
    torch.testing.assert_close(attn(x), expected, atol=1e-5, rtol=1e-5)
    # and the naive formula itself, for one head and one query, by hand
    qi, ki, vi = q[0, 0], k[0, 0], v[0, 0]  # (T, hs)
    t = 5
    w = torch.softmax((ki[: t + 1] @ qi[t]) / (C // 4) ** 0.5, dim=0)
    torch.testing.assert_close(naive_attention(q, k, v)[0, 0, t], w @ vi[: t + 1], atol=1e-6, rtol=1e-5)


def test_future_tokens_change_nothing():
    m = tiny().eval()
    a = torch.randint(0, 40, (2, 12))
    b = a.clone()
    b[:, 7:] = torch.randint(0, 40, (2, 5))
    la, _ = m(a)
    lb, _ = m(b)
    torch.testing.assert_close(la[:, :7], lb[:, :7])
    assert not torch.allclose(la[:, 7:], lb[:, 7:])


def test_loss_ignores_minus_one_and_weights_are_tied():
    m = tiny()
    assert m.lm_head.weight is m.transformer.wte.weight
    x = torch.randint(0, 40, (2, 8))
    y = x.clone()
    y[:, :4] = -1
    logits, loss = m(x, y)
    ref = torch.nn.functional.cross_entropy(logits[:, 4:].reshape(-1, 40), x[:, 4:].reshape(-1))
    torch.testing.assert_close(loss, ref)


def test_configure_optimizers_decays_matrices_only():
    m = tiny(bias=True)
    opt = m.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decay["params"]) and all(p.dim() < 2 for p in no_decay["params"])
    n = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert n == sum(p.numel() for p in m.parameters())  # each parameter once (tied weight too)


def test_generate_is_deterministic_per_seed_and_respects_processor():
    m = tiny()
    start = torch.zeros(1, 1, dtype=torch.long)
    run = lambda s: m.generate(start, 20, temperature=1.0, top_k=10,
                               generator=torch.Generator().manual_seed(s))
    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))

    def only_even(seq, logits):
        logits[:, 1::2] = float("-inf")
        return logits

    out = m.generate(start, 40, top_p=0.9, generator=torch.Generator().manual_seed(0),
                     logits_processor=only_even)
    assert out.shape == (1, 41) and (out[0, 1:] % 2 == 0).all()
    # beyond block_size the context is cropped, not an error
    assert m.generate(start, 20, generator=torch.Generator().manual_seed(0)).shape == (1, 21)


def test_sample_next_filters():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    g = torch.Generator().manual_seed(0)
    assert sample_next(logits, temperature=0).item() == 3
    assert {sample_next(logits, top_k=2, generator=g).item() for _ in range(50)} <= {2, 3}
    # top_p keeps the smallest set reaching p: here p(3)=0.64, p(2)=0.24
    assert {sample_next(logits, top_p=0.5, generator=g).item() for _ in range(50)} == {3}
    with pytest.raises(ValueError):
        sample_next(torch.full((1, 4), float("-inf")))


def test_kv_cache_gives_the_same_logits_as_the_full_forward():
    from yingshe.nets.transformer import KVCache

    m = tiny().eval()
    x = torch.randint(0, 40, (2, 12))
    full, _ = m(x)
    cache = KVCache(m.config.n_layer)
    parts = [m(x[:, :5], cache=cache)[0]]  # prefill: last position only
    parts.append(m(x[:, 5:8], cache=cache)[0])  # a chunk after a prefix (explicit mask)
    for t in range(8, 12):
        parts.append(m(x[:, t:t + 1], cache=cache)[0])
    torch.testing.assert_close(parts[0][:, -1], full[:, 4], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(parts[1][:, -1], full[:, 7], atol=1e-5, rtol=1e-5)
    for i, t in enumerate(range(8, 12)):
        torch.testing.assert_close(parts[2 + i][:, -1], full[:, t], atol=1e-5, rtol=1e-5)
    # generate with the cache (fits the window) equals the sliding-window path step by step
    start = x[:, :3]
    g = lambda: torch.Generator().manual_seed(7)
    cached = m.generate(start, 10, generator=g())
    manual = start
    gen = g()
    for _ in range(10):
        logits = m(manual)[0][:, -1]
        manual = torch.cat((manual, sample_next(logits, generator=gen)), dim=1)
    assert torch.equal(cached, manual)


def test_candidates_of_one_prompt_share_its_reading_and_report_logprobs():
    m = tiny().eval()
    prompt = torch.randint(0, 40, (1, 5)).repeat(4, 1)  # four candidates of one prompt
    lp: list = []

    def no_odd(seq, logits):
        logits[:, 1::2] -= 100.0  # in place: the processor owns its copy of the logits
        return logits

    out = m.generate(prompt, 8, generator=torch.Generator().manual_seed(0), logits_processor=no_odd, logprobs=lp)
    assert out.shape == (4, 13) and len(lp) == 8 and not torch.equal(out[0], out[1])
    full = torch.log_softmax(m(out[:, :-1])[0], dim=-1)  # (4, 12, V): the model's own log-probabilities
    expect = full[:, 4:].gather(-1, out[:, 5:, None])[..., 0]  # of the 8 drawn tokens
    torch.testing.assert_close(torch.stack(lp, dim=1), expect, atol=1e-4, rtol=1e-4)
