"""What a Weavz key is: the pattern, the entropy floor and the placeholder rules.

Pure functions on bytes. The literal ``wvz_`` is searched first with ``bytes.find`` (memory speed);
everything else runs only around those hits.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from wvzscan.config import ENCODINGS, ArchiveLimits

PREFIX = b"wvz_"
MIN_BODY = 16
MAX_BODY = 128
BODY_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

# The run of body characters after the prefix; longer than MAX_BODY means "not a key" (a key is
# never followed by another body character), so one character more is read to tell.
_BODY_RE = re.compile(rb"[A-Za-z0-9_-]{1,%d}" % (MAX_BODY + 1))

# Weavz's own documentation examples: they cannot be live, so they are not reported by default.
DOC_EXAMPLES = frozenset(
    {
        "wvz_ab12cd34ef56gh78ij90kl12mn34op56",
        "wvz_550e8400-e29b-41d4-a716-446655440000",
    }
)

# Words that make up placeholder bodies (`wvz_your_api_key_here`, `wvz_replace-with-real-token`).
PLACEHOLDER_WORDS = frozenset(
    [
        "your",
        "my",
        "our",
        "the",
        "a",
        "an",
        "this",
        "that",
        "with",
        "for",
        "of",
        "to",
        "in",
        "here",
        "there",
        "it",
        "is",
        "be",
        "api",
        "key",
        "keys",
        "token",
        "tokens",
        "secret",
        "secrets",
        "value",
        "values",
        "string",
        "str",
        "example",
        "examples",
        "sample",
        "samples",
        "test",
        "tests",
        "testing",
        "demo",
        "dummy",
        "fake",
        "mock",
        "mocked",
        "stub",
        "fixture",
        "placeholder",
        "replace",
        "replaceme",
        "changeme",
        "change",
        "me",
        "redacted",
        "removed",
        "hidden",
        "masked",
        "censored",
        "insert",
        "put",
        "enter",
        "paste",
        "set",
        "add",
        "fill",
        "use",
        "goes",
        "real",
        "actual",
        "valid",
        "invalid",
        "new",
        "old",
        "existing",
        "prod",
        "production",
        "staging",
        "stage",
        "dev",
        "development",
        "local",
        "env",
        "environment",
        "default",
        "weavz",
        "wvz",
        "access",
        "auth",
        "bearer",
        "admin",
        "org",
        "workspace",
        "service",
        "backend",
        "server",
        "client",
        "app",
        "xxx",
        "xxxx",
        "xxxxx",
        "abc",
        "abcd",
        "abcdef",
        "foo",
        "bar",
        "baz",
        "qux",
        "none",
        "null",
        "nil",
        "empty",
        "todo",
        "fixme",
        "tbd",
        "generated",
        "generate",
        "create",
        "created",
        "id",
        "name",
        "do",
        "not",
        "commit",
        "live",
        "only",
        "some",
        "any",
        "please",
        "var",
        "variable",
        "from",
        "dashboard",
        "console",
        "copy",
        "copied",
    ]
)

_WORD_SPLIT = re.compile(r"[_-]+")


@dataclass(frozen=True)
class Match:
    """One key in a buffer: ``start``/``end`` are byte offsets of the whole key (prefix included)."""

    start: int
    end: int
    key: str


@dataclass(frozen=True)
class Rules:
    """Tunable parts of the detector (from the config file)."""

    min_entropy: float | None = None  # bits per character; None: a curve by body length
    include_examples: bool = False
    decode: frozenset[str] = frozenset(ENCODINGS)  # decoded views to look into (wvzscan.decode)
    archives: ArchiveLimits = ArchiveLimits()  # how far archives are opened (wvzscan.sources.archives)


DEFAULT_RULES = Rules()


def shannon_entropy(s: str) -> float:
    n = len(s)
    if n == 0:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def entropy_floor(length: int) -> float:
    """The entropy (bits per character) below which a body of this length is not random.

    Set under the lowest value seen in 20,000 random hex bodies of each length (hex is the poorest
    alphabet a real key may use): 2.14 at 16 characters, 2.88 at 32, 3.69 at 128. Words and
    patterns are caught by their own rules, so this floor only has to stop degenerate bodies.
    """
    return 1.9 + 0.5 * math.log2(length / MIN_BODY)


def _segments_into_words(s: str) -> bool:
    """True when ``s`` (lowercase letters only) is entirely a concatenation of placeholder words."""
    n = len(s)
    ok = [False] * (n + 1)
    ok[0] = True
    for i in range(1, n + 1):
        for j in range(max(0, i - 12), i):
            if ok[j] and s[j:i] in PLACEHOLDER_WORDS:
                ok[i] = True
                break
    return ok[n]


def _is_wordy(body: str) -> bool:
    """Bodies made of words joined by ``_``/``-``, with digit groups that are themselves filler."""
    tokens = [t for t in _WORD_SPLIT.split(body.lower()) if t]
    letters = 0
    digits = ""
    for tok in tokens:
        alpha = tok.rstrip("0123456789")
        if alpha:
            if not alpha.isalpha() or not _segments_into_words(alpha):
                return False
            letters += len(alpha)
        digits += tok[len(alpha) :]
    if letters == 0:
        return False
    # `test_key_1234567890` is filler; `deadbeef8311927465` (random hex that happens to start with
    # words) is not: digits count as filler only when short, patterned, or outweighed by the words.
    return len(digits) <= letters or len(digits) <= 4 or _is_patterned(digits)


def _longest_run(body: str) -> int:
    best = run = 1
    for a, b in zip(body, body[1:], strict=False):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return best


def _is_patterned(body: str) -> bool:
    """Sequential (``abcdefgh``, ``12345678``, ``ab12cd34ef56``) or repetitive bodies."""
    chars = body.replace("-", "").replace("_", "").lower()
    n = len(chars)
    if n < 8:
        return True
    # Ascending steps: 1 in 16 pairs of random hex, about half of `ab12cd34...`; at least 8, so that
    # 7 of 15 (1 random 16-character hex body in 70,000) is not enough.
    steps = sum(1 for a, b in zip(chars, chars[1:], strict=False) if ord(b) - ord(a) == 1)
    if steps >= 8 and steps / (n - 1) >= 0.4:
        return True
    # Descending (`zyxw...`), interleaved (`a1b2c3d4...`) and stuttering (`aaaabbbb...`) bodies:
    # each pair shape has odds of 1 in 16 or less in random hex, so most pairs is never chance.
    for stride, step in ((1, -1), (2, 1), (1, 0)):
        pairs = n - stride
        hits = sum(1 for a, b in zip(chars, chars[stride:], strict=False) if ord(b) - ord(a) == step)
        if hits >= 8 and hits / pairs >= 0.6:
            return True
    grams = [chars[i : i + 3] for i in range(n - 2)]
    return len(set(grams)) / len(grams) < 0.6


# --- names: identifiers made of words, whatever the words --------------------------------------------

# One word of an identifier: an acronym before a capitalised word (`HTTP` in `HTTPServer`), a word
# with an optional capital (`load`, `Org`), an all-caps run (`DEFAULT`, `URL`), or digits.
_NAME_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_VOWELS = frozenset("aeiouy")
_NAME_SEP = re.compile(r"[_-]+")


# How much likelier each letter pair is in identifier words than in random letters: log2(26 P(b|a))
# rounded to whole bits and stored as a letter ("j" = 0 bits, "a" = -9, "m" = +3), 26 rows of 26,
# counted once over the words of the Python standard library's identifiers and comments (a statistic
# of letter pairs, no word list). Random letters score about -2.6 bits a pair, words about +1.
_BIGRAMS = (
    "gijjegidjchlkkajbkllhhgghelhjilgfdkkelgfkicjjglcfckglfhglgekjbkkhflgejhljgedhbkhgjmghdlddjegkfcjjhjedfhb"
    "jgjjhjhdfbflikgijllkehgjhdkfhijkgcmbcjgimhckiikbechaifhgmfjjkbdjhkifaklijgecdgldefmecekaeggfldajgjibccfc"
    "hijjijjbfcfkjmkicjllchahaijegfmeefifhecemidfjeldeefdjfgimfifledkdjghfikghekbgckgfilmddkbdkefkhafjjjeeaie"
    "liehmfddjafijfllaejhiddahckfkllikejchhfilhdekliidbgbhijkgihdhbhjkljjaljkkhigeeleghlgegkagkefljdlhkigfaja"
    "edeedcdddadicgefeggdmcdcbakfiimgjdkahhijlgakjljhfbiaicifmehijbhhhfjifflljefcibkfihmhcllafhgfkhakjjjfgfjf"
    "ljihlihbjackjlgkalklfcaeabmfgdmfdekbbdhfifbefgeefddclggikfdkmbchfjkeckjfeehfbbkilikjdfkbdgieflbfhmeedjif"
    "ghihigffjceiikimcillehifhgjdfhmheglbdiigkgdeggdcffhj"
)


def _pair_score(word: str) -> tuple[int, int]:
    """Sum of the letter-pair scores of a lowercase ASCII word, and the number of pairs."""
    total = 0
    for a, b in zip(word, word[1:], strict=False):
        total += ord(_BIGRAMS[(ord(a) - 97) * 26 + ord(b) - 97]) - 106
    return total, len(word) - 1


def _pronounceable(word: str) -> bool:
    """A lowercase word of two letters or more that reads like one: a vowel (a sixth to three fifths of
    the letters of a longer word), no run of more than four consonants or vowels (`queue`)."""
    if len(word) < 2:
        return False
    if len(word) >= 5 and not 1 / 6 <= sum(ch in _VOWELS for ch in word) / len(word) <= 0.6:
        return False
    cons = vows = 0
    seen_vowel = False
    for ch in word:
        if ch in _VOWELS:
            seen_vowel = True
            vows += 1
            cons = 0
            if vows > 4:
                return False
        else:
            cons += 1
            vows = 0
            if cons > 4:
                return False
    return seen_vowel


def is_name(body: str) -> bool:
    """Whether a body is an identifier made of words (snake_case, SCREAMING_SNAKE_CASE, camelCase,
    PascalCase, kebab-case), judged by its shape, never by a word list.

    Split at ``_``/``-`` into parts and each part at its case humps into words. A name has at least two
    words, three letters long on average; every word is pronounceable (a vowel, no run of more than four
    consonants or vowels), except one acronym of two to four capitals in a mixed-case part (``HTTP`` in
    ``parseHTTPResponse``) or one single letter (``getXCoordinate``); at most two digits, ending a snake
    or SCREAMING part (``v2``, ``oauth2``); words of one or two letters are a third of them at most; and
    its letter pairs, in every word and on average, are ones that words use (``_BIGRAMS``: random
    letters score about -2.6 bits a pair, words about +1; a name needs +0.6, or +1 with an acronym or a
    single letter). A random body fails on its digits inside words, its one- and two-letter humps or its
    letter pairs: the cost in random keys is measured by ``benchmarks/random_keys_bench.py``
    (docs/detection.md).
    """
    if sum(ch.isdigit() for ch in body) > 2:
        return False
    words = letters = acronyms = singles = short = score = pairs = 0
    for part in _NAME_SEP.split(body):
        if not part:
            continue
        found = _NAME_WORD.findall(part)
        mixed = not part.isupper() and not part.islower()
        for i, w in enumerate(found):
            last = i + 1 == len(found)
            if w.isdigit():
                # a short group that ends a snake or SCREAMING part (`oauth2`, `API_V2`), never in camelCase
                if i == 0 or not last or mixed:
                    return False
                continue
            words += 1
            letters += len(w)
            short += len(w) <= 2
            if mixed and w.isupper() and len(w) > 1:
                acronyms += 1
                if len(w) > 4 or acronyms + singles > 1:
                    return False
                continue
            if len(w) == 1:
                singles += 1
                # `getXCoordinate`, `is_a_name`: inside a part before a word, or a part of its own
                if singles + acronyms > 1 or (len(found) > 1 and (last or not found[i + 1][1:2].islower())):
                    return False
                continue
            lw = w.lower()
            if not _pronounceable(lw):
                return False
            s, n = _pair_score(lw)
            if s < -n:  # one word of letter pairs words do not use (`Xldin`) is not a word
                return False
            score += s
            pairs += n
    if words < 2 or letters < 3 * words or pairs == 0 or short * 3 > words:
        return False
    # An acronym or a single letter is a hump random text makes too: then the words must read better.
    return score >= (1.0 if acronyms or singles else 0.6) * pairs


def placeholder_reason(key: str, rules: Rules = DEFAULT_RULES) -> str | None:
    """Why ``key`` is not a real key, or None when it looks like one."""
    if not rules.include_examples and any(key.startswith(ex) for ex in DOC_EXAMPLES):
        return "documentation example"  # or one with a suffix (`..._example`): never live either
    body = key[len(PREFIX) :]
    if _longest_run(body) >= 8:
        return "long run of one character"
    if len(set(body)) <= 4:
        return "too few distinct characters"
    if _is_wordy(body):
        return "placeholder words"
    if is_name(body):
        return "a name made of words"
    if key in DOC_EXAMPLES:
        return None
    if _is_patterned(body):
        return "sequential or repeating pattern"
    floor = rules.min_entropy if rules.min_entropy is not None else entropy_floor(len(body))
    if shannon_entropy(body) < floor:
        return "low entropy"
    return None


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _starts_token(data: bytes, pos: int) -> bool:
    """Nothing key-like glued before ``pos``; an escape right before ends the previous token:
    ``\\nwvz_...`` in a JSON string, ``%3Dwvz_...`` in a URL-encoded log line."""
    if pos == 0 or data[pos - 1] not in BODY_CHARS:
        return True
    if pos >= 2 and data[pos - 2] == 0x5C and data[pos - 1] in b"ntr0":
        return True
    return pos >= 3 and data[pos - 3] == 0x25 and data[pos - 2] in _HEX and data[pos - 1] in _HEX


def candidates(data: bytes) -> Iterator[Match]:
    """Every token shaped like a key, placeholders included (see ``find_keys``)."""
    find = data.find
    pos = find(PREFIX)
    while pos != -1:
        if _starts_token(data, pos):
            m = _BODY_RE.match(data, pos + 4)
            if m is not None:
                n = m.end() - m.start()
                if MIN_BODY <= n <= MAX_BODY:
                    yield Match(pos, m.end(), data[pos : m.end()].decode("ascii"))
                pos = find(PREFIX, m.end())
                continue
        pos = find(PREFIX, pos + 4)


@functools.lru_cache(maxsize=4096)
def _judged(key: str, rules: Rules) -> bool:
    # One key repeated many times in a file (a log) is judged once.
    return placeholder_reason(key, rules) is None


def find_keys(data: bytes, rules: Rules = DEFAULT_RULES) -> Iterator[Match]:
    """Every real-looking Weavz key in ``data``, in order of position."""
    for m in candidates(data):
        if _judged(m.key, rules):
            yield m
