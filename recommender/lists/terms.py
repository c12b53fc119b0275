"""The words of a set of papers, for naming themes and for saying what a pick shares with its seed.

Terms are noun phrases of one to three words, found without a tagger: a run of words between
punctuation and stop words (English and academic) is a phrase candidate, and so is each part of it of
up to MAX_PHRASE_WORDS words whose last word can head a noun phrase, that is, does not look like an
adverb, an adjective or a participle ("differentially private stochastic optimization" gives
"stochastic optimization" and "private stochastic optimization", never "differentially private").
Terms are matched by their Snowball stems (so "model" and "models" are one term) and shown in their
most frequent written form.
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


_TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:-[^\W_]+)*|\S+")  # a letter first: "dp", "gpt4", "fine-tuning"; else a breaker
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"]+|\s[-–—]+\s")  # a phrase never spans punctuation
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:-[^\W_]+)*$")
MAX_PHRASE_WORDS = 3

# Endings of words that describe rather than name (adverbs, adjectives, participles): such a word does
# not end a noun phrase. The exceptions are nouns with those endings that papers use.
_MODIFIER_ENDINGS = ("ly", "ous", "ful", "less", "ive", "al", "ed", "able", "ible", "est")
_NOUNS_WITH_MODIFIER_ENDINGS = frozenset("""
    signal signals retrieval interval intervals trial trials journal material materials tutorial removal survival
    potential potentials proposal terminal arrival approval portal animal animals hospital capital manual
    principal individual individuals chemical chemicals goal goals deal real rival festival protocol
    objective objectives incentive incentives alternative alternatives derivative derivatives initiative
    narrative narratives directive perspective perspectives archive archives motive motives drive drives
    representative representatives relative relatives native natives
    variable variables table tables cable cables
    seed seeds speed feed need needs bed test tests interest interests request requests forest forests
    contest harvest embed
""".split())
# Frequent adjectives of abstracts that the endings miss.
_ADJECTIVES = frozenset("""
    private public robust deep large small new high low fast slow accurate optimal linear nonlinear sparse
    dense random secure safe fair unknown certain same similar related common free whole full single
    multiple several few main clear hard simple complex true false open short long wide narrow recent
    early late prior current future past modern standard classic classical generic specific real-world
    non-convex convex strongly-convex near-optimal state-of-the-art end-to-end scalable adversarial
    differentiable stochastic dynamic semantic synthetic automatic symbolic probabilistic deterministic
""".split())


@lru_cache(maxsize=200_000)
def can_end_phrase(word: str) -> bool:
    """Whether a word can be the last (head) word of a noun phrase."""
    last = word.split("-")[-1]
    if word in _NOUNS_WITH_MODIFIER_ENDINGS or last in _NOUNS_WITH_MODIFIER_ENDINGS:
        return True
    return word not in _ADJECTIVES and last not in _ADJECTIVES and not last.endswith(_MODIFIER_ENDINGS)


@lru_cache(maxsize=200_000)
def _content_word(word: str) -> bool:
    """A word that can be part of a term: letters first, not a stop word (nor a hyphenated part of one)."""
    stop = _stop_words()
    return bool(_WORD.match(word)) and len(word) > 1 and not any(part in stop for part in word.split("-"))


def phrases(text: str) -> list[str]:
    """The noun-phrase terms of a text, lower-case: each word and each run of up to MAX_PHRASE_WORDS
    words with no stop word, number or punctuation inside, whose last word can end a noun phrase
    ("learning with clients" gives no "learning clients")."""
    out: list[str] = []
    for clause in _CLAUSE.split(text.lower()):
        words = _TOKEN.findall(clause)
        keep = [_content_word(w) for w in words]
        for end, word in enumerate(words):
            if not keep[end] or not can_end_phrase(word):
                continue
            start = end
            while start > 0 and keep[start - 1] and end - start + 1 < MAX_PHRASE_WORDS:
                start -= 1
            out.extend(" ".join(words[first:end + 1]) for first in range(end, start - 1, -1))
    return out


@lru_cache(maxsize=200_000)
def stem_key(phrase: str) -> str:
    """A term's key: its words' stems ("fine-tuning" = "fine tuning")."""
    stem = _stemmer().stemWord
    return " ".join(stem(w) for w in re.split(r"[ -]", phrase))


class Vocabulary:
    """Term counts of some texts: `counts[i, t]` for text i and term t; `shown(t)` is how t is written."""

    def __init__(self, texts: list[str]):
        from sklearn.feature_extraction.text import CountVectorizer

        written: dict[str, Counter] = {}

        def analyse(text: str) -> list[str]:
            keys = []
            for phrase in phrases(text):
                key = stem_key(phrase)
                forms = written.get(key)
                if forms is None:
                    forms = written[key] = Counter()
                forms[phrase] += 1
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
        self._index = {term: i for i, term in enumerate(self.terms.tolist())}
        present = np.asarray((self.counts > 0).sum(axis=0)).ravel()
        self.idf = np.log((1 + len(texts)) / (1 + present)) + 1.0  # scikit-learn's smoothed idf

    def terms_in(self, text: str) -> set[int]:
        """The vocabulary's terms found in another text (a title, say)."""
        return {self._index[key] for key in map(stem_key, phrases(text)) if key in self._index}

    def stems(self, term_index: int) -> list[str]:
        return self.terms[term_index].split()

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
    nothing; a phrase that contains chosen words takes the place of them all when it scores nearly as
    well as the best of them ("federated learning" says more than "federated"; "polar codes" more than
    "polar" and "codes"), and is dropped otherwise."""
    chosen: list[int] = []
    for t in ranked:
        words = vocab.words_of(t)
        overlapping = [i for i, c in enumerate(chosen) if words <= vocab.words_of(c) or vocab.words_of(c) <= words]
        if not overlapping:
            if len(chosen) == n:
                break
            chosen.append(t)
            continue
        inside = all(vocab.words_of(chosen[i]) < words for i in overlapping)
        if inside and scores is not None and scores[t] >= PHRASE_OVER_WORD * max(scores[chosen[i]] for i in overlapping):
            chosen[overlapping[0]] = t
            chosen = [c for i, c in enumerate(chosen) if i not in overlapping[1:]]
    return chosen
