"""The poem mapping: tokenizer, corpora, constrained decoding (forms always exact, rhymes always
right, even from an untrained model), the mapping end to end, and training a tiny model."""

import gzip
import json

import pytest
import torch

from yingshe.core.errors import BadInput, WeightsError
from yingshe.nets.transformer import GPT, GPTConfig
from yingshe.sequence.chinese import FORMS, check_poem, make_plan, reading, write_chinese
from yingshe.sequence.corpus import ZH_TAGS, load_corpus
from yingshe.sequence.english import SCHEMES, check_english, rhymes, write_english
from yingshe.sequence.lm import LanguageModel, load_lm, save_lm
from yingshe.sequence.tokenizer import CharTokenizer

HAN = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 2500))  # 2,500 characters, most with readings
RHYME_WORDS = ("day way say stay play night light bright sight delight sea free me see thee love above dove "
               "heart art part eyes skies lies rise time rhyme climb sleep deep keep weep grace face place "
               "old cold gold told song long strong wrong fire desire higher").split()


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small models on a busy machine: one thread (several only wait on each other)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_lm(tokens, **meta):
    torch.manual_seed(0)
    tok = CharTokenizer(tokens)
    model = GPT(GPTConfig(vocab_size=len(tok), block_size=128, n_layer=1, n_head=2, n_embd=16)).eval()
    return LanguageModel(model, tok, {"kind": "poem"} | meta)


@pytest.fixture(scope="module")
def zh_lm():
    return tiny_lm(["<pad>", "<bos>", "<eos>", "<unk>", "<sep>", *ZH_TAGS, "，", "。", *HAN], language="zh")


@pytest.fixture(scope="module")
def en_lm():
    chars = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.;:!?'-\n"))
    return tiny_lm(["<pad>", "<bos>", "<eos>", "<unk>", "<sep>", "<sonnet>", "<verse>", *chars], language="en",
                   rhyme_words=RHYME_WORDS)


# --------------------------------------------------------------------------- tokenizer

def test_tokenizer_round_trip_and_storage():
    tok = CharTokenizer.build(["<bos><qiyan-jueju>春眠<sep>春眠不觉晓。<eos>", "处处闻啼鸟"],
                              specials=["<qiyan-jueju>"])
    text = "<bos><qiyan-jueju>春眠<sep>处处闻啼鸟。<eos>"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert ids[:2] == [tok.bos, tok.index["<qiyan-jueju>"]] and len(ids) == 2 + 2 + 1 + 6 + 1
    assert tok.encode("龙<x>") == [tok.unk] * 4  # unknown characters, and "<x>" is no special
    assert tok.unknown("春龙虎春") == ["龙", "虎"]
    back = CharTokenizer.from_meta(json.loads(json.dumps(tok.to_meta())))
    assert back.tokens == tok.tokens
    damaged = tok.to_meta() | {"tokens": tok.tokens[:-1] + ["X"]}
    with pytest.raises(WeightsError):
        CharTokenizer.from_meta(damaged)


def test_the_tokenizer_travels_inside_the_model_file(tmp_path, zh_lm):
    path = save_lm(tmp_path / "m.safetensors", zh_lm.model, zh_lm.tokenizer, {"kind": "poem", "language": "zh"},
                   dtype=torch.float16)
    lm = load_lm(str(path), expect_kind="poem")
    assert lm.tokenizer.tokens == zh_lm.tokenizer.tokens
    assert lm.record["sha256"] and lm.record["tokenizer_sha256"] == zh_lm.tokenizer.fingerprint()
    x = torch.randint(0, len(lm.tokenizer), (1, 10))
    torch.testing.assert_close(lm.model(x)[0], zh_lm.model(x)[0], atol=2e-2, rtol=0)  # fp16 storage
    with pytest.raises(WeightsError):
        load_lm(str(path), expect_kind="melody")
    (tmp_path / "bad.safetensors").write_bytes(b"not a model")
    with pytest.raises(WeightsError):
        load_lm(str(tmp_path / "bad.safetensors"))


# --------------------------------------------------------------------------- prosody

def test_readings_and_rhyme_checks():
    assert reading("东") == ("庚", "平") and reading("月") == ("皆", "仄") and reading("诗") == ("支", "平")
    assert reading("x") == (None, None)
    good = "《登鹳雀楼》\n\n白日依山尽，黄河入海流。\n欲穷千里目，更上一层楼。\n"
    assert check_poem(good, "wuyan-jueju") == {"form": True, "rhyme": True, "pingze": None, "rhyme_group": "尤"}
    assert check_poem(good, "wuyan-jueju", pingze=True)["pingze"] is True  # 仄起首句不入韵, by the book
    assert check_poem(good.replace("层楼", "层山"), "wuyan-jueju")["rhyme"] is False
    assert check_poem(good.replace("入海流", "入海流水"), "wuyan-jueju")["form"] is False
    assert check_poem(good.replace("流。", "流，"), "wuyan-jueju")["form"] is False
    assert check_poem(good, "qiyan-jueju")["form"] is False
    assert rhymes("day", "away") and rhymes("night", "delight") and not rhymes("day", "night")
    assert not rhymes("day", "day")
    sonnet18 = """The sun goes down upon the quiet bay,
And all the birds have flown into the night;
The fishing boats come home at end of day,
And on the hill the lamps are burning bright."""
    assert check_english(sonnet18, "ABAB")["rhyme"] is True
    assert check_english(sonnet18, "AABB")["rhyme"] is False
    assert check_english(sonnet18, SCHEMES["sonnet"])["form"] is False


def test_plans_refuse_what_cannot_be_written():
    with pytest.raises(BadInput, match="acrostic"):
        make_plan("wuyan-jueju", acrostic="春夏秋冬雪")
    with pytest.raises(BadInput, match="start"):
        make_plan("wuyan-jueju", start="白日依山尽了")
    with pytest.raises(BadInput, match="start"):
        make_plan("wuyan-jueju", start="spring")
    with pytest.raises(BadInput, match="acrostic"):
        make_plan("wuyan-jueju", start="白日", acrostic="春夏")
    plan = make_plan("qiyan-lushi", start="春风又绿江南岸", pingze=True)  # 岸 is 仄: the first line cannot rhyme
    assert plan.rhyme_lines == (1, 3, 5, 7) and "首句不入韵" in plan.variant


# --------------------------------------------------------------------------- constrained decoding

@pytest.mark.parametrize("form", list(FORMS))
def test_an_untrained_model_always_writes_the_exact_form(zh_lm, form):
    n, lines = FORMS[form]
    for seed in range(6):
        g = torch.Generator().manual_seed(seed)
        kw = [{}, {"pingze": True}, {"acrostic": HAN[100:100 + lines]}, {"start": HAN[200:203], "pingze": True},
              {"title": HAN[300:304]}, {"acrostic": HAN[7:9], "pingze": True}][seed]
        poem = write_chinese(zh_lm, form, temperature=1.5, candidates=3, generator=g, **kw)
        text = poem.text()
        res = check_poem(text, form, pingze=bool(kw.get("pingze")), context=False)
        assert res["form"] and res["rhyme"], text
        if kw.get("pingze"):
            assert res["pingze"], text
        if "acrostic" in kw:
            assert "".join(x[0] for x in poem.lines).startswith(kw["acrostic"])
        if "start" in kw:
            assert poem.lines[0].startswith(kw["start"])
        if "title" in kw:
            assert poem.title == kw["title"]
        else:
            assert 2 <= len(poem.title) <= 8
        assert len({x[-1] for i, x in enumerate(poem.lines) if i in poem.plan.rhyme_lines}) == len(poem.plan.rhyme_lines)


def test_same_seed_same_poem(zh_lm):
    a = write_chinese(zh_lm, "qiyan-jueju", generator=torch.Generator().manual_seed(3), candidates=2)
    b = write_chinese(zh_lm, "qiyan-jueju", generator=torch.Generator().manual_seed(3), candidates=2)
    c = write_chinese(zh_lm, "qiyan-jueju", generator=torch.Generator().manual_seed(4), candidates=2)
    assert a.text() == b.text() != c.text()


@pytest.mark.parametrize("form,scheme", [("quatrain", "ABAB"), ("quatrain", "AABB"), ("quatrain", "ABCB"),
                                         ("sonnet", "")])
def test_english_rhymes_hold_for_an_untrained_model(en_lm, form, scheme):
    out = write_english(en_lm, form, scheme=scheme, acrostic="Rose"[: 4], temperature=1.0, candidates=2,
                        generator=torch.Generator().manual_seed(1))
    text = "\n".join(out["lines"])
    res = check_english(text, out["scheme"])
    assert res["form"] and res["rhyme"], text
    assert [x[0] for x in out["lines"][:4]] == list("ROSE")


# --------------------------------------------------------------------------- the mapping

@pytest.fixture
def zh_model_file(tmp_path, zh_lm):
    return save_lm(tmp_path / "zh.safetensors", zh_lm.model, zh_lm.tokenizer, {"kind": "poem", "language": "zh"})


def test_poem_mapping_end_to_end(tmp_path, zh_model_file):
    from PIL import Image

    from yingshe.core import registry

    from yingshe.sequence.typeset import find_cjk_font

    m = registry.get("poem")
    recipe = m.recipe.from_dict({"form": "wuyan-jueju", "model": str(zh_model_file), "acrostic": HAN[10:14],
                                 "render": True, "seed": 5, "candidates": 2})
    try:
        find_cjk_font()
    except BadInput:  # a machine without any Chinese font: the picture is a clear error, the text still works
        with pytest.raises(BadInput, match="CJK"):
            m.run(recipe, {})
        recipe = recipe.replace(render=False)
        assert m.run(recipe, {}).text
        return
    art = m.run(recipe, {})
    assert art.text and art.image is not None and art.image.width > 200
    lines = [x for x in art.text.splitlines()[2:]]
    assert "".join(x[0] + x[6] for x in lines) == HAN[10:14]
    assert art.summary["form_ok"] and art.summary["rhyme_ok"] is not None and art.weights["model"]["sha256"]
    assert m.run(recipe, {}).text == art.text  # the same recipe, the same poem
    trad = m.run(recipe.replace(script="traditional", render=False), {})
    import opencc

    assert trad.text == opencc.OpenCC("s2t").convert(art.text) and trad.image is None
    out = art.save(tmp_path / "poem.txt")
    assert art.text.splitlines()[2] in out.read_text(encoding="utf-8")
    png = art.save(tmp_path / "poem.png")
    assert Image.open(png).size == art.image.size


def test_bad_options_are_one_line_errors(tmp_path, zh_model_file, en_lm):
    from yingshe.core import registry

    m = registry.get("poem")
    for bad in ({"form": "haiku"}, {"form": "sonnet", "start": "春风"}, {"form": "wuyan-jueju", "acrostic": "abc"},
                {"temperature": 5}, {"candidates": 0}, {"form": "quatrain", "acrostic": "a1"}):
        with pytest.raises(BadInput):
            m.recipe.from_dict(bad)
    with pytest.raises(BadInput, match="acrostic"):
        m.run(m.recipe.from_dict({"model": str(zh_model_file), "acrostic": "一丁七万丈三"}), {})
    with pytest.raises(BadInput, match="does not know"):
        m.run(m.recipe.from_dict({"model": str(zh_model_file), "start": "龘"}), {})
    with pytest.raises(WeightsError):
        m.run(m.recipe.from_dict({"model": str(tmp_path / "missing.safetensors")}), {})
    with pytest.raises(BadInput, match="English"):
        m.run(m.recipe.from_dict({"form": "sonnet", "model": str(zh_model_file)}), {})


# --------------------------------------------------------------------------- corpora and training

def test_bad_corpora_are_clear_errors(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_corpus(str(tmp_path / "nope.txt"))
    with pytest.raises(BadInput, match="folder"):
        load_corpus(str(tmp_path))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(BadInput, match="not valid JSON"):
        load_corpus(str(tmp_path / "bad.json"))
    (tmp_path / "obj.json").write_text('{"a": 1}')
    with pytest.raises(BadInput, match="JSON list"):
        load_corpus(str(tmp_path / "obj.json"))
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(BadInput, match="UTF-8"):
        load_corpus(str(tmp_path / "latin1.txt"))
    (tmp_path / "small.txt").write_text("Roses are red,\nviolets are blue.\n")
    with pytest.raises(BadInput, match="too small"):
        load_corpus(str(tmp_path / "small.txt"))
    (tmp_path / "prose.json").write_text(json.dumps([{"paragraphs": ["这不是诗而是散文的一句话。"]}] * 50))
    with pytest.raises(BadInput, match="5 or all of 7"):
        load_corpus(str(tmp_path / "prose.json"))


def _chinese_corpus(path, n=120):
    g = torch.Generator().manual_seed(0)
    poems = []
    for i in range(n):
        ids = torch.randint(0, 600, (20,), generator=g).tolist()
        lines = ["".join(HAN[j] for j in ids[k:k + 5]) for k in range(0, 20, 5)]
        poems.append({"title": HAN[i % 50] + HAN[i % 7 + 60], "paragraphs": [f"{lines[0]}，{lines[1]}。",
                                                                             f"{lines[2]}，{lines[3]}。"]})
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(poems, f, ensure_ascii=False)
    return path


def test_train_a_tiny_model_resume_and_write_with_it(tmp_path):
    from yingshe.core.trainer import run_train_command, train_parser
    from yingshe.sequence.train_poem import POEM_COMMAND

    data = _chinese_corpus(tmp_path / "poems.json.gz")
    corpus = load_corpus(str(data))
    assert corpus.language == "zh" and {d.tag for d in corpus.docs} == {"<wuyan-jueju>"}
    run = tmp_path / "run"
    args = ["--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--batch", "4", "--block-size", "64",
            "--max-steps", "6", "--eval-every", "3", "--eval-tokens", "256", "--val-fraction", "0.1",
            "--threads", "1", "-q"]
    parser = train_parser(POEM_COMMAND)
    assert run_train_command(POEM_COMMAND, parser.parse_args([str(data), "-o", str(run), *args])) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["train"]["kind"] == "poem" and cfg["language"] == "zh"
    lm = load_lm(str(run), expect_kind="poem")
    assert lm.meta["step"] in (3, 6) and lm.meta["best"]["val_loss"] > 0
    poem = write_chinese(lm, "wuyan-jueju", generator=torch.Generator().manual_seed(0), candidates=2)
    assert check_poem(poem.text(), "wuyan-jueju", context=False)["rhyme"]
    more = [str(data), "-o", str(run), "--resume", "--max-steps", "8", "-q"]
    assert run_train_command(POEM_COMMAND, parser.parse_args(more)) == 0
    with pytest.raises(BadInput, match="cannot change"):
        run_train_command(POEM_COMMAND, parser.parse_args(more + ["--n-embd", "64"]))
    with pytest.raises(BadInput):
        run_train_command(POEM_COMMAND, parser.parse_args([str(tmp_path / "none.txt"), "-o", str(tmp_path / "r2"),
                                                           *args]))
    assert not (tmp_path / "r2").exists()


def test_fine_tune_with_init_keeps_the_vocabulary_and_starts_from_the_weights(tmp_path):
    from yingshe.core.trainer import run_train_command, train_parser
    from yingshe.sequence.train_poem import POEM_COMMAND, evaluate_loss, prepare

    data = _chinese_corpus(tmp_path / "poems.json.gz")
    parser = train_parser(POEM_COMMAND)
    base = ["--n-head", "2", "--batch", "4", "--eval-tokens", "256", "--val-fraction", "0.1", "--threads", "1", "-q"]
    shape = ["--n-layer", "1", "--n-embd", "32", "--block-size", "64"]
    assert run_train_command(POEM_COMMAND, parser.parse_args(
        [str(data), "-o", str(tmp_path / "a"), *base, *shape, "--min-count", "1", "--max-steps", "20", "--eval-every", "20"])) == 0
    a = load_lm(str(tmp_path / "a"))
    # another corpus (a part of a's) read with a's vocabulary
    small = _chinese_corpus(tmp_path / "small.json.gz", n=100)
    ft = tmp_path / "ft"
    assert run_train_command(POEM_COMMAND, parser.parse_args(
        [str(small), "-o", str(ft), *base, "--init", str(tmp_path / "a"), "--max-steps", "1", "--eval-every", "1",
         "--lr", "1e-9", "--min-lr", "1e-9", "--warmup", "0", "--dropout", "0"])) == 0
    b = load_lm(str(ft))
    assert b.tokenizer.tokens == a.tokenizer.tokens  # the init's vocabulary, not one built from the new corpus
    assert b.meta["init"]["sha256"] == a.record["sha256"] and b.meta["init"]["step"] == 20
    assert json.loads((ft / "config.json").read_text())["train"]["n_embd"] == 32  # the init's shape, not the default
    # one step at lr 1e-9 leaves the weights where --init put them: a's weights and validation loss
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys() and all(torch.allclose(sa[k], sb[k], atol=1e-6) for k in sa)
    cfg = POEM_COMMAND.config(data=str(small), out=str(ft), val_fraction=0.1, init=str(tmp_path / "a"))
    val = prepare(cfg, a)[3]
    la, lb = (evaluate_loss(m.model, val, 64, 4, "cpu") for m in (a, b))
    assert abs(la - lb) < 1e-5
    # a longer --block-size extends a's context: its 64 positions kept, the new ones repeat its second half
    # (on a's own corpus, with no --val-fraction: a's split, so a's validation poems stay unseen)
    long = tmp_path / "long"
    assert run_train_command(POEM_COMMAND, parser.parse_args(
        [str(data), "-o", str(long), *[a for a in base if a not in ("--val-fraction", "0.1")], "--init",
         str(tmp_path / "a"), "--block-size", "96", "--max-steps", "1", "--eval-every", "1", "--lr", "1e-9",
         "--min-lr", "1e-9", "--warmup", "0", "--dropout", "0"])) == 0
    c = load_lm(str(long))
    wpe_a, wpe_c = sa["transformer.wpe.weight"], c.model.state_dict()["transformer.wpe.weight"]
    assert c.model.config.block_size == 96 and wpe_c.shape == (96, 32) and c.meta["init"]["block_size"] == 64
    assert torch.allclose(wpe_c[:64], wpe_a, atol=1e-6) and torch.allclose(wpe_c[64:], wpe_a[32:], atol=1e-6)
    assert abs(evaluate_loss(c.model, val, 64, 4, "cpu") - la) < 1e-5  # the first 64 positions: a's model
    assert len(c.model.generate(torch.zeros(1, 1, dtype=torch.long), 95)[0]) == 96  # the whole new context is usable
    assert json.loads((long / "config.json").read_text())["train"]["block_size"] == 96
    assert json.loads((long / "config.json").read_text())["train"]["val_fraction"] == 0.1
    assert json.loads((ft / "config.json").read_text())["train"]["val_fraction"] == 0.1  # given
    with pytest.raises(BadInput, match="shorter than the context"):
        run_train_command(POEM_COMMAND, parser.parse_args([str(small), "-o", str(tmp_path / "x"), *base,
                                                           "--init", str(tmp_path / "a"), "--block-size", "32"]))
    # wrong --init: one-line errors, nothing made
    for init, msg in ((str(tmp_path / "nope.safetensors"), "--init"), ("english-verse", "writes English")):
        with pytest.raises(BadInput, match=msg):
            run_train_command(POEM_COMMAND, parser.parse_args([str(small), "-o", str(tmp_path / "x"), *base,
                                                               "--init", init, "--max-steps", "1"]))
    assert not (tmp_path / "x").exists()


def test_the_shipped_models_load_by_name_and_write():
    zh = load_lm("tang-poem", expect_kind="poem")
    assert zh.meta["language"] == "zh" and "<qiyan-jueju>" in zh.tokenizer.index and zh.record["source"] == "tang-poem"
    poem = write_chinese(zh, "qiyan-jueju", acrostic="春夏秋冬", candidates=2, generator=torch.Generator().manual_seed(0))
    assert check_poem(poem.text(), "qiyan-jueju", context=False)["rhyme"] and poem.lines[3][0] == "冬"
    en = load_lm("english-verse", expect_kind="poem")
    assert en.meta["language"] == "en" and len(en.meta["rhyme_words"]) > 1000
    out = write_english(en, "quatrain", scheme="AABB", candidates=2, generator=torch.Generator().manual_seed(0))
    assert check_english("\n".join(out["lines"]), "AABB")["rhyme"]


# --------------------------------------------------------------------------- the n-gram peer of the benchmarks

def _kneser_ney_by_definition(seqs, order, vocab, pad, context_ids):
    """P(w | context) of interpolated modified Kneser–Ney written out with dicts (bench/kneser_ney.py's formula)."""
    import collections

    import numpy as np
    from kneser_ney import _discounts

    grams = {k: set() for k in range(1, order + 1)}
    top = collections.Counter()
    for s in seqs:
        s = ([pad] * (order - 1) if pad is not None else []) + list(s)
        for p in range(order if pad is not None else 1, len(s)):  # the first real token is never predicted
            for k in range(1, order + 1):
                if p - k + 1 >= 0:
                    grams[k].add(tuple(s[p - k + 1:p + 1]))
            if p - order + 1 >= 0:
                top[tuple(s[p - order + 1:p + 1])] += 1
    count = {order: dict(top)}
    for k in range(1, order):
        count[k] = dict(collections.Counter(g[1:] for g in grams[k + 1]))
    D = {k: _discounts(np.array(list(c.values()))) for k, c in count.items()}
    ctx = [pad] * (order - 1) + list(context_ids) if pad is not None else list(context_ids)
    out = []
    for w in range(vocab):
        c1 = count[1].get((w,), 0)
        total = sum(count[1].values())
        gamma = sum(D[1][min(c, 3)] for c in count[1].values())
        p = (max(c1 - D[1][min(c1, 3)], 0) + gamma / vocab) / total
        for k in range(2, order + 1):
            if len(ctx) < k - 1:
                break
            h = tuple(ctx[len(ctx) - k + 1:])
            seen = [c for g, c in count[k].items() if g[:-1] == h]
            if seen:
                c = count[k].get(h + (w,), 0)
                p = (max(c - D[k][min(c, 3)], 0) + sum(D[k][min(x, 3)] for x in seen) * p) / sum(seen)
        out.append(p)
    return np.array(out)


@pytest.mark.parametrize("pad", [None, 0])
def test_the_benchmarks_kneser_ney_follows_its_formula(pad):
    """bench/kneser_ney.py (the peer of bench/poem.py and bench/melody.py) against the formula
    written out, on one random stream (poem's use) and padded sequences (melody's)."""
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from kneser_ney import KneserNey

    rng = np.random.default_rng(0)
    V = 7
    p = rng.dirichlet(np.full(V, 0.5))
    seqs = [rng.choice(V, 1500, p=p)] if pad is None else [rng.choice(V, int(n), p=p) for n in rng.integers(2, 40, 60)]
    kn = KneserNey(4, V, pad=pad).fit(seqs)
    val = rng.choice(V, 30, p=p)
    lp = kn.log_probs(val)
    for i in (1, 2, 3, 10, 29):
        want = _kneser_ney_by_definition(seqs, 4, V, pad, val[:i])
        assert abs(kn.check_normalised(list(val[:i])) - 1) < 1e-9 and abs(want.sum() - 1) < 1e-9
        assert lp[i - 1] == pytest.approx(np.log(want[val[i]]), abs=1e-9)
    assert kn.nll([val])[1] == 29


def test_the_benchmarks_copied_span_search_matches_brute_force():
    """bench/poem.py's longest copied span (rolling hashes grown one character at a time) against a
    plain substring search, on random verse over a tiny alphabet, where long shared spans are common."""
    import random
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from poem import _norm_en, memorisation

    rng = random.Random(0)
    line = lambda: " ".join("".join(rng.choice("ab") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 5)))  # noqa: E731
    docs = [SimpleNamespace(body="\n".join(line() for _ in range(4))) for _ in range(6)]
    poems = [{"lines": [line() for _ in range(rng.randint(1, 3))]} for _ in range(12)] + [{"lines": ["ab"]}]
    corpus = "\n".join(_norm_en(x) for d in docs for x in d.body.splitlines())

    def brute(text: str) -> int:
        return max((L for L in range(4, len(text) + 1) for i in range(len(text) - L + 1) if text[i:i + L] in corpus),
                   default=0)

    want = [brute("\n".join(_norm_en(x) for x in p["lines"])) for p in poems]
    got = memorisation(poems, docs, "en")
    assert got["longest_span"] == max(want) and got["median_longest_span"] == float(np.median(want))
    assert got["longest_span_text"] in corpus and len(got["longest_span_text"]) == max(want)
    assert 0 in want and max(want) > 8  # short and long spans both occur
