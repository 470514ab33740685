"""A synthetic chat corpus for bench/search.py: words with a realistic frequency spread.

The vocabulary is 60 common English words (the most frequent ranks, as in real chat) followed by
``--words`` pronounceable made-up words (deterministic, built from syllables); each word of a
message is drawn from a Zipf distribution over the ranks (weight 1 / rank^s, s = 1.05), so a
few words are in a large share of the messages and most are rare. A message has 1-40 words
(mostly 4-14), its first word capitalised, sometimes ending in punctuation or an emoji.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

COMMON = (
    "the",
    "to",
    "and",
    "a",
    "i",
    "you",
    "it",
    "of",
    "in",
    "is",
    "that",
    "for",
    "me",
    "on",
    "my",
    "this",
    "have",
    "be",
    "with",
    "was",
    "not",
    "but",
    "just",
    "so",
    "we",
    "are",
    "can",
    "do",
    "what",
    "at",
    "if",
    "no",
    "yes",
    "like",
    "get",
    "all",
    "good",
    "know",
    "think",
    "one",
    "up",
    "out",
    "now",
    "how",
    "time",
    "new",
    "there",
    "then",
    "see",
    "going",
    "about",
    "want",
    "here",
    "they",
    "when",
    "your",
    "will",
)
ONSETS = (
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "z",
    "br",
    "cr",
    "dr",
    "fr",
    "gr",
    "pl",
    "st",
    "tr",
    "ch",
    "sh",
    "th",
)
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou")
CODAS = ("", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck")
ENDINGS = ("", "", "", "", "", ".", ".", "?", "!", " 🙂", " 🎉")
ZIPF_S = 1.05


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]  # by rank, most frequent first
    cum_weights: list[float]

    @classmethod
    def build(cls, made_up: int, seed: int = 7) -> Vocabulary:
        rng = random.Random(seed)
        seen = set(COMMON)
        words = list(COMMON)
        while len(words) < len(COMMON) + made_up:
            syllables = rng.choice((1, 2, 2, 2, 3, 3, 4))
            word = "".join(
                rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                for _ in range(syllables)
            )
            if len(word) >= 3 and word not in seen:
                seen.add(word)
                words.append(word)
        weights = [1.0 / (rank**ZIPF_S) for rank in range(1, len(words) + 1)]
        return cls(words, list(itertools.accumulate(weights)))

    def share(self, rank: int) -> float:
        """The probability that one drawn word is the word of this rank (1-based)."""
        previous = self.cum_weights[rank - 2] if rank > 1 else 0.0
        return (self.cum_weights[rank - 1] - previous) / self.cum_weights[-1]


def message_texts(vocabulary: Vocabulary, count: int, seed: int) -> Iterator[str]:
    """``count`` message texts, drawn in chunks (one ``random.choices`` call per chunk)."""
    rng = random.Random(seed)
    words = vocabulary.words
    chunk = 20_000
    done = 0
    while done < count:
        n = min(chunk, count - done)
        lengths = [min(40, 1 + int(rng.expovariate(1 / 8))) for _ in range(n)]
        drawn = rng.choices(range(len(words)), cum_weights=vocabulary.cum_weights, k=sum(lengths))
        at = 0
        for length in lengths:
            picked = [words[i] for i in drawn[at : at + length]]
            at += length
            picked[0] = picked[0].capitalize()
            yield " ".join(picked) + rng.choice(ENDINGS)
        done += n
