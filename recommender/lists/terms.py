"""The words of a set of papers, for naming themes and for saying what a pick shares with its seed.

Words and two-word phrases, English and academic stop words left out, matched by their Snowball stem
(so "model" and "models" are one term) and shown in their most frequent written form.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import numpy as np

# Words every abstract uses whatever its topic: they would name every theme.
ACADEMIC_STOP_WORDS = frozenset("""
    paper papers work works propose proposed proposes present presents presented show shows showed shown
    demonstrate demonstrates demonstrated introduce introduces introduced study studies studied novel new
    use uses used using based provide provides provided approach approaches method methods result results
    achieve achieves achieved achieving existing recent recently significant significantly state art
    improve improves improved improving performance problem problems task tasks setting settings
    framework frameworks technique techniques able allows allow enable enables terms way ways key wide
    widely large small high low better best good simple general important various different given
    specific including furthermore moreover additionally however particular particularly respectively
    does make makes made find finds found known code available github com https http www et al
    approximately nearly order number times time possible like many often first second previous prior
    typically thereby thus hence yet still well strong effective efficient efficiently evaluate evaluation
    experiments experimental empirical empirically analysis theoretical theoretically leads lead
    provably potentially suggest suggests suggesting cause causes require requires requiring obtain obtains
    minimal need needs needed demonstrating showing help helps aim aims goal goals question questions
    include includes included consider considers considered
    """.split())


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | ACADEMIC_STOP_WORDS


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


_TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:-[^\W_]+)*")  # a letter first: "dp", "gpt4", "fine-tuning"; no bare numbers
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"]+|\s[-–—]+\s")  # a phrase never spans punctuation


def phrases(text: str) -> list[str]:
    """Words and adjacent word pairs of a text, lower-case, no stop word in either; a pair never
    bridges a stop word or punctuation ("learning with clients" gives no "learning clients")."""
    stop = _stop_words()
    out: list[str] = []
    for clause in _CLAUSE.split(text.lower()):
        words = _TOKEN.findall(clause)
        keep = [len(w) > 1 and not any(part in stop for part in w.split("-")) for w in words]
        out.extend(w for w, k in zip(words, keep) if k)
        out.extend(f"{a} {b}" for a, b, ka, kb in zip(words, words[1:], keep, keep[1:])
                   if ka and kb and "-" not in a + b)
    return out


class Vocabulary:
    """Term counts of some texts: `counts[i, t]` for text i and term t; `shown(t)` is how t is written."""

    def __init__(self, texts: list[str]):
        from sklearn.feature_extraction.text import CountVectorizer

        stem = _stemmer().stemWord
        written: dict[str, Counter] = {}

        def analyse(text: str) -> list[str]:
            keys = []
            for phrase in phrases(text):
                key = " ".join(stem(w) for w in re.split(r"[ -]", phrase))  # "fine-tuning" = "fine tuning"
                written.setdefault(key, Counter())[phrase] += 1
                keys.append(key)
            return keys

        vectorizer = CountVectorizer(analyzer=analyse)
        try:
            self.counts = vectorizer.fit_transform(texts).tocsr()
            self.terms = vectorizer.get_feature_names_out()
        except ValueError:  # nothing but stop words (or no text at all): a vocabulary without terms
            from scipy.sparse import csr_matrix

            self.counts, self.terms = csr_matrix((len(texts), 0), dtype=np.int64), np.array([], dtype=object)
        self._written = written
        present = np.asarray((self.counts > 0).sum(axis=0)).ravel()
        self.idf = np.log((1 + len(texts)) / (1 + present)) + 1.0  # scikit-learn's smoothed idf

    def shown(self, term_index: int) -> str:
        return self._written[self.terms[term_index]].most_common(1)[0][0]

    def term_set(self, text_index: int) -> set[int]:
        return set(self.counts[text_index].indices.tolist())

    def is_phrase(self, term_index: int) -> bool:
        return " " in self.terms[term_index]

    def words_of(self, term_index: int) -> set[str]:
        return set(self.terms[term_index].split())


PHRASE_OVER_WORD = 0.5  # a phrase replaces a chosen word it contains if it scores at least this share of it


def pick_terms(vocab: Vocabulary, ranked: list[int], n: int, scores: np.ndarray | None = None) -> list[int]:
    """The first n terms of a ranking that say something new: a word already inside a chosen phrase adds
    nothing; a phrase that contains a chosen word takes its place when it scores nearly as well
    ("federated learning" says more than "federated"), and is dropped otherwise."""
    chosen: list[int] = []
    for t in ranked:
        words = vocab.words_of(t)
        overlapping = [i for i, c in enumerate(chosen) if words <= vocab.words_of(c) or vocab.words_of(c) <= words]
        if not overlapping:
            if len(chosen) == n:
                break
            chosen.append(t)
            continue
        i = overlapping[0]
        replaces = (len(overlapping) == 1 and scores is not None and vocab.words_of(chosen[i]) < words
                    and scores[t] >= PHRASE_OVER_WORD * scores[chosen[i]])
        if replaces:
            chosen[i] = t
    return chosen
