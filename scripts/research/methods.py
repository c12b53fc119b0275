"""Every retrieval method of the comparison, over one dev set: rankings (quality) and per-query costs.

Quality is computed in batch from full-corpus score matrices; latency is measured separately, per
query, for each building block (BM25 scoring, query encoding, dense scan, fusion, max-sim, ...), on
one thread, as mean CPU ms per query (see core.median_ms), and a method's latency is the sum of the
blocks it uses. "added ms" is that sum minus plain dense retrieval (query encoding + flat scan).
"""
from __future__ import annotations

import time

import numpy as np

from recommender.search import fusion as F
from recommender.search import seed as S
from scripts.research.core import Data, evaluate, exclude_seed, median_ms, one_thread, sentences, topn
from scripts.research.lexical import BM25, arxiv_sanity_tfidf
from scripts.research.prf import TermStats, rm3_weights, rocchio

EVAL_DEPTH = 100
FACET_PROTOTYPES = S.FACET_PROTOTYPES  # used by the "prototype" facet classifier


class Study:
    """All score matrices and runs for one set; `add` evaluates a method and records it."""

    def __init__(self, d: Data, depth: int = 1000, time_sample: int = 50):
        self.d = d
        self.depth = depth
        self.results: dict[str, dict] = {}
        self.blocks: dict[str, float] = {}  # building block -> median CPU ms per query
        self.blocks_wall: dict[str, float] = {}  # the same, wall-clock (inflated by other jobs on shared cores)
        self.sample = list(range(min(time_sample, len(d.qtexts))))
        self.docs = [p.text for p in d.bset.corpus]

    # --- bookkeeping ---------------------------------------------------------------------------
    def block(self, name: str, fn) -> float:
        if name not in self.blocks:
            self.blocks[name], self.blocks_wall[name] = median_ms(fn, self.sample)
        return self.blocks[name]

    def add(self, name: str, rankings: list[np.ndarray], blocks: list[str], note: str = "") -> dict:
        r = evaluate(rankings, self.d)
        ms = sum(self.blocks.get(b, 0.0) for b in blocks)
        base = self.blocks.get("encode_query", 0.0) + self.blocks.get("dense_scan", 0.0)
        r.update(ms=ms, added_ms=ms - base, blocks=blocks, note=note)
        self.results[name] = r
        print(f"  {self.d.name:8s} {name:70s} nDCG@10 {r['ndcg@10']:.3f}  R@100 {r['recall@100']:.3f}  "
              f"MRR@10 {r['mrr@10']:.3f}  {ms:8.1f} ms", flush=True)
        return r

    def runs(self, scores: np.ndarray, depth: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        s = exclude_seed(scores, self.d)
        return [topn(row, depth or self.depth) for row in s]

    @staticmethod
    def ranked(runs) -> list[np.ndarray]:
        return [r[:EVAL_DEPTH] for r, _ in runs]

    # --- base retrievers -----------------------------------------------------------------------
    def base(self):
        d = self.d
        self.bm_ref = BM25(self.docs, stemmer=None)
        self.bm = BM25(self.docs)
        self.S_bm_ref = self.bm_ref.scores(d.qtexts)
        self.S_bm = self.bm.scores(d.qtexts)
        self.S_dense = d.query_vecs @ d.doc_vecs.T
        self.S_tfidf = arxiv_sanity_tfidf(self.docs, d.qtexts)
        self.block("bm25_ref", lambda i: topn(self.bm_ref.scores([d.qtexts[i]])[0], self.depth))
        self.block("bm25", lambda i: topn(self.bm.scores([d.qtexts[i]])[0], self.depth))
        self.block("dense_scan", lambda i: topn(d.query_vecs[i] @ d.doc_vecs.T, self.depth))
        if d.is_seed:
            self.blocks["encode_query"] = self.blocks_wall["encode_query"] = 0.0  # the seed's vector is in the index
        else:
            from scripts.research.cache import encoder
            enc = encoder()
            self.block("encode_query", lambda i: enc.encode([d.qtexts[i]]))
        self.R_bm_ref, self.R_bm = self.runs(self.S_bm_ref), self.runs(self.S_bm)
        self.R_dense = self.runs(self.S_dense)
        a, b = self.R_bm[0], self.R_dense[0]
        self.block("fuse_rrf", lambda i: F.rrf([a, b]))
        self.block("fuse_score", lambda i: F.score_fusion([a, b], [0.5, 0.5]))
        self.add("BM25 (bm25s, en stopwords, no stemmer) [ref]", self.ranked(self.R_bm_ref), ["bm25_ref"])
        self.add("arxiv-sanity tf-idf [ref]", self.ranked(self.runs(self.S_tfidf)), [])
        self.add("MiniLM flat [ref]", self.ranked(self.R_dense), ["encode_query", "dense_scan"])
        for depth in (100, 1000):
            rr = [F.rrf([x[0], x[1]]) for x in zip(self.runs(self.S_bm_ref, depth), self.runs(self.S_dense, depth))]
            self.add(f"RRF k=60 (BM25 no-stem, dense) N={depth} [ref]", self.ranked(rr),
                     ["bm25_ref", "encode_query", "dense_scan", "fuse_rrf"])
        self.add("BM25 + PyStemmer english", self.ranked(self.R_bm), ["bm25"])
        for method, k1, b in (("lucene", 1.2, 0.75), ("lucene", 0.9, 0.4), ("bm25+", 1.5, 0.75)):
            bm = BM25(self.docs, k1=k1, b=b, method=method)
            self.add(f"BM25 stem {method} k1={k1} b={b}", self.ranked(self.runs(bm.scores(d.qtexts))), ["bm25"])

    # --- fusion of BM25 and dense --------------------------------------------------------------
    def fusion_grid(self):
        pairs = list(zip(self.R_bm, self.R_dense))
        blocks = ["bm25", "encode_query", "dense_scan"]
        self.add("RRF k=60 (BM25 stem, dense)", self.ranked([F.rrf(p) for p in pairs]), blocks + ["fuse_rrf"])
        for w in (0.3, 0.4, 0.6, 0.7):
            self.add(f"weighted RRF k=60 w_dense={w}", self.ranked([F.rrf(p, weights=[1 - w, w]) for p in pairs]),
                     blocks + ["fuse_rrf"])
        for depth in (100, 200, 1000):
            pd = pairs if depth == self.depth else list(zip(self.runs(self.S_bm, depth), self.runs(self.S_dense, depth)))
            for norm in ("minmax", "zscore"):
                for a in (0.3, 0.4, 0.5, 0.6, 0.7):
                    fused = [F.score_fusion(p, [1 - a, a], norm) for p in pd]
                    self.add(f"{norm} fusion alpha_dense={a} N={depth}", self.ranked(fused), blocks + ["fuse_score"])
        ref_pairs = list(zip(self.R_bm_ref, self.R_dense))
        self.add("zscore fusion alpha=0.5 N=1000, BM25 no-stem",
                 self.ranked([F.score_fusion(p, [0.5, 0.5], "zscore") for p in ref_pairs]),
                 ["bm25_ref", "encode_query", "dense_scan", "fuse_score"])

    def default_fuse(self, lex, den):
        return F.fuse_seed(lex, den) if self.d.is_seed else F.fuse_free_text(lex, den)

    # --- pseudo-relevance feedback (free text) -------------------------------------------------
    def prf(self):
        d = self.d
        stats = TermStats(self.bm, self.docs)
        fused = [self.default_fuse(a, b) for a, b in zip(self.R_bm, self.R_dense)]
        blocks = ["bm25", "encode_query", "dense_scan", "fuse_score"]

        def rm3_scores(i, first, fb=10, terms=10, lam=0.5):
            toks = self.bm.query_tokens(d.qtexts[i])
            rows, sc = first[i]
            w = rm3_weights(stats, toks, rows[:fb], sc[:fb], terms, lam)
            return self.bm.score_tokens(list(w), w)

        for src, first in (("BM25", self.R_bm), ("fused", fused)):
            for fb, terms, lam in ((10, 10, 0.5), (5, 20, 0.7)):
                S_rm3 = np.stack([rm3_scores(i, first, fb, terms, lam) for i in range(len(d.qtexts))])
                R = self.runs(S_rm3)
                tag = f"fb={fb} terms={terms} orig={lam} from {src}"
                self.block(f"rm3 {tag}", lambda i: topn(rm3_scores(i, first, fb, terms, lam), self.depth))
                self.add(f"RM3 BM25 alone, {tag}", self.ranked(R), ["bm25", f"rm3 {tag}"] + (blocks if src == "fused" else []))
                self.add(f"default fusion(RM3 BM25, dense), {tag}",
                         self.ranked([self.default_fuse(a, b) for a, b in zip(R, self.R_dense)]),
                         blocks + [f"rm3 {tag}", "fuse_score"])
        for k, beta in ((3, 0.5), (5, 0.5), (10, 1.0)):
            qv = np.stack([rocchio(d.query_vecs[i], d.doc_vecs, fused[i][0][:k], beta) for i in range(len(d.qtexts))])
            R = self.runs(qv @ d.doc_vecs.T)
            name = f"rocchio k={k} beta={beta}"
            self.block(name, lambda i: topn(rocchio(d.query_vecs[i], d.doc_vecs, fused[i][0][:k], beta) @ d.doc_vecs.T, self.depth))
            self.add(f"default fusion(BM25, Rocchio dense {k=} {beta=})",
                     self.ranked([self.default_fuse(a, b) for a, b in zip(self.R_bm, R)]), blocks + [name, "fuse_score"])

    # --- sentence-level matching ---------------------------------------------------------------
    def query_sentence_vecs(self, i: int, with_title: bool = True) -> np.ndarray:
        """Sentence vectors of query i: the seed's (title +) abstract sentences from the corpus store,
        or a free-text query's own sentences (one vector when it is one sentence)."""
        d = self.d
        if d.seed_rows[i] >= 0:
            return self.seed_sentences(None, with_title=with_title)[i]
        if "qsents" not in d.extra:
            from scripts.research.cache import embed_cached
            parts = [S.split_sentences(t) or [t] for t in d.qtexts]
            flat = embed_cached(f"{d.name}-query-sents", [x for p in parts for x in p])
            ends = np.cumsum([len(p) for p in parts])
            d.extra["qsents"] = [flat[e - len(p):e] for p, e in zip(parts, ends)]
        return d.extra["qsents"][i]

    def maxsim_run(self, qvecs: list[np.ndarray], cand_title: bool = True):
        sv, owner, _, _ = sentences(self.d, with_title=cand_title)
        n = len(self.d.ids)
        return self.runs(np.stack([S.maxsim_scores(q, sv, owner, n) for q in qvecs]))

    def maxsim_block(self, name: str, qvecs: list[np.ndarray], cand_title: bool = True) -> str:
        sv, owner, _, _ = sentences(self.d, with_title=cand_title)
        n = len(self.d.ids)
        self.block(name, lambda i: topn(S.maxsim_scores(qvecs[i], sv, owner, n), self.depth))
        return name

    def three_way(self, R_maxsim, w=(1 / 3, 1 / 3, 1 / 3), depth: int | None = None):
        n = depth or self.depth
        cut = lambda r: (r[0][:n], r[1][:n])  # noqa: E731 - runs are sorted, so this is the top-n
        return [F.score_fusion([cut(a), cut(b), cut(c)], list(w)) for a, b, c in zip(self.R_bm, self.R_dense, R_maxsim)]

    def three_way_variants(self, R, blocks):
        """Robustness of the chosen equal-weight rule: other weights, depths, normalisations."""
        for w in ((0.4, 0.2, 0.4), (0.5, 0.25, 0.25), (0.25, 0.25, 0.5), (0.4, 0.3, 0.3), (0.5, 0.0, 0.5)):
            self.add(f"zscore(BM25, dense, maxsim) w={'/'.join(f'{x:g}' for x in w)}", self.ranked(self.three_way(R, w)), blocks)
        for depth in (100, 200):
            self.add(f"zscore(BM25, dense, maxsim) equal weights, N={depth}", self.ranked(self.three_way(R, depth=depth)), blocks)
        self.add("minmax(BM25, dense, maxsim) equal weights", self.ranked(
            [F.score_fusion([a, b, c], [1 / 3] * 3, "minmax") for a, b, c in zip(self.R_bm, self.R_dense, R)]), blocks)
        self.add("RRF k=60 (BM25, dense, maxsim)", self.ranked(
            [F.rrf([a, b, c]) for a, b, c in zip(self.R_bm, self.R_dense, R)]), blocks)

    def maxsent_free_text(self):
        """Free text: sentence-level matching of the query's sentences against each paper's sentences."""
        d = self.d
        blocks = ["bm25", "encode_query", "dense_scan", "fuse_score"]
        one = [d.query_vecs[i:i + 1] for i in range(len(d.qtexts))]
        split = [self.query_sentence_vecs(i) for i in range(len(d.qtexts))]
        for tag, qv in (("query as one sentence", one), ("query split into sentences", split)):
            R = self.maxsim_run(qv)
            b = self.maxsim_block(f"maxsim_scan free text, {tag}", qv)
            self.add(f"maxsim alone, {tag}", self.ranked(R), ["encode_query", b])
            self.add(f"zscore(BM25, dense, maxsim) equal weights, {tag}", self.ranked(self.three_way(R)), blocks + [b])
        R = self.maxsim_run(one, cand_title=False)
        self.add("zscore(BM25, dense, maxsim) equal weights, candidates' titles not sentences",
                 self.ranked(self.three_way(R)), blocks + ["maxsim_scan free text, query as one sentence"])
        self.three_way_variants(self.maxsim_run(one), blocks + ["maxsim_scan free text, query as one sentence"])

    def seed_sentences(self, facet_mode: str | None, with_title: bool):
        """Per query: the seed sentence vectors to match (all, or those of the query's facet);
        with_title puts the seed's title first, as one more sentence (never dropped by a facet)."""
        d = self.d
        sv, owner, is_title, texts = sentences(d, with_title=True)
        protos = None
        if facet_mode == "prototype":
            from scripts.research.cache import embed_cached
            pv = embed_cached("facet-prototypes", [t for f in S.FACETS for t in FACET_PROTOTYPES[f]])
            protos = pv.reshape(len(S.FACETS), -1, pv.shape[1]).mean(axis=1)
            protos /= np.linalg.norm(protos, axis=1, keepdims=True)
        out = []
        for i, seed in enumerate(d.seed_rows):
            idx = np.flatnonzero((owner == seed) & ~is_title)
            sents = [texts[j] for j in idx]
            if facet_mode is None or not len(idx):
                mask = np.ones(len(idx), bool)
            else:
                if facet_mode == "cues":
                    labels = S.facet_of_sentence(sents)
                elif facet_mode == "position":
                    labels = S.facet_of_sentence_by_position(len(sents))
                else:
                    labels = S.facet_by_prototype(sv[idx], protos)
                mask = S.facet_sentence_mask(labels, d.facets[i])
            rows = list(idx[mask])
            title = np.flatnonzero((owner == seed) & is_title)
            if with_title and len(title):
                rows = [int(title[0])] + rows
            out.append(sv[np.array(rows, dtype=np.int64)] if rows else sv[owner == seed])
        return out

    def seed_maxsim(self):
        """Seed-paper queries: query variants, CSFCube/Aspire-style sentence matching, facets, rerank cost."""
        d = self.d
        blocks = ["bm25", "dense_scan", "fuse_score"]
        corpus = d.bset.corpus
        for part in ("title", "abstract"):
            qt = [getattr(corpus[r], part) for r in d.seed_rows]
            self.add(f"BM25 stem, seed {part} only as query", self.ranked(self.runs(self.bm.scores(qt))), ["bm25"])
        S_uniq = np.stack([self.bm.score_tokens(list(dict.fromkeys(self.bm.query_tokens(t)))) for t in d.qtexts])
        R_uniq = self.runs(S_uniq)
        self.add("BM25 stem, seed query terms deduplicated", self.ranked(R_uniq), ["bm25"])
        self.add("zscore fusion(BM25 dedup terms, dense) 0.5", self.ranked([F.score_fusion(p, [.5, .5]) for p in zip(R_uniq, self.R_dense)]), blocks)
        seeds_t = self.seed_sentences(None, with_title=True)
        seeds_a = self.seed_sentences(None, with_title=False)
        mean_q = np.stack([q.mean(axis=0) / np.linalg.norm(q.mean(axis=0)) for q in seeds_t])
        R_mean = self.runs(mean_q @ d.doc_vecs.T)
        self.add("dense, query = mean of seed sentence vectors", self.ranked(R_mean), ["dense_scan"])
        self.add("zscore fusion(BM25, dense mean-of-sentences) 0.5", self.ranked([F.score_fusion(p, [.5, .5]) for p in zip(self.R_bm, R_mean)]), blocks)
        # sentence-level matching over the whole corpus (sentence vectors precomputed at build time)
        for seed_title, qv in (("abstract sentences", seeds_a), ("title + abstract sentences", seeds_t)):
            for cand_title in (False, True):
                tag = f"seed {seed_title}; candidates {'title + ' if cand_title else ''}abstract sentences"
                R = self.maxsim_run(qv, cand_title)
                b = self.maxsim_block(f"maxsim_scan {tag}", qv, cand_title)
                self.add(f"maxsim alone ({tag})", self.ranked(R), [b])
                self.add(f"zscore(BM25, dense, maxsim) equal weights ({tag})", self.ranked(self.three_way(R)), blocks + [b])
        R_m = self.maxsim_run(seeds_t)
        b_m = "maxsim_scan seed title + abstract sentences; candidates title + abstract sentences"
        self.three_way_variants(R_m, blocks + [b_m])
        # maxsim only over the candidates BM25 / dense found (sentence vectors from the build-time store)
        sv, owner, _, texts = sentences(d, with_title=True)
        for K in (100, 1000):
            runs = []
            for i, (a, b) in enumerate(zip(self.R_bm, self.R_dense)):
                cand = np.union1d(a[0][:K], b[0][:K])
                sel = np.isin(owner, cand)
                ms = S.maxsim_scores(seeds_t[i], sv[sel], owner[sel], len(d.ids))[cand]
                runs.append(F.score_fusion([(a[0][:K], a[1][:K]), (b[0][:K], b[1][:K]), (cand, ms)], [1 / 3] * 3))
            self.add(f"equal-weight 3-way, maxsim only on union of BM25/dense top-{K}", self.ranked(runs), blocks + [b_m])
        # facet-aware matching: the seed sentences of the query's facet only
        for mode in ("cues", "position", "prototype"):
            qf = self.seed_sentences(mode, with_title=True)
            R_f = self.maxsim_run(qf)
            b = self.maxsim_block(f"maxsim_scan facet {mode}", qf)
            self.add(f"facet ({mode}) maxsim alone", self.ranked(R_f), [b])
            self.add(f"facet ({mode}): zscore(BM25, dense, facet maxsim) equal", self.ranked(self.three_way(R_f)), blocks + [b])
            self.add(f"facet ({mode}): zscore(BM25, dense, maxsim, facet maxsim) equal", self.ranked(
                [F.score_fusion([a, b_, c, e], [.25] * 4) for a, b_, c, e in zip(self.R_bm, self.R_dense, R_m, R_f)]),
                blocks + [b_m, b])
            wts = [np.where((np.abs(a @ f.T - 1) < 1e-5).any(axis=1), 1.0, 0.25) for a, f in zip(seeds_t, qf)]
            R_soft = self.runs(np.stack([S.maxsim_scores(a, sv, owner, len(d.ids), w) for a, w in zip(seeds_t, wts)]))
            self.add(f"facet ({mode}): 3-way with soft-facet maxsim (facet 1, other 0.25)", self.ranked(self.three_way(R_soft)), blocks + [b])
        # rerank the BM25+dense fused top-M, candidates' sentences encoded at query time (no build-time store)
        fused = [F.score_fusion(p, [.5, .5]) for p in zip(self.R_bm, self.R_dense)]
        S_m = np.stack([S.maxsim_scores(q, sv, owner, len(d.ids)) for q in seeds_t])
        for M in (50, 100, 200):
            out = []
            for i, (a, b) in enumerate(zip(self.R_bm, self.R_dense)):
                top = fused[i][0][:M]
                runs3 = [(top, self.S_bm[i, top]), (top, self.S_dense[i, top]), (top, S_m[i, top])]
                head = F.score_fusion(runs3, [1 / 3] * 3)
                out.append((np.r_[head[0], fused[i][0][M:]], None))
            name = f"encode_sents_top{M}"
            self.blocks[name] = self._encode_cost(fused, M, texts, owner)
            self.add(f"rerank BM25+dense top-{M} by equal-weight 3-way, sentences encoded per query",
                     [r[:EVAL_DEPTH] for r, _ in out], blocks + ["fuse_score", name])

    def build_cost(self, n: int = 64) -> dict:
        """Build-time encoding cost per paper, one thread, CPU ms: the paper vector (title. abstract)
        versus the sentence store (title + abstract sentences), on n evenly spaced papers."""
        from scripts.research.cache import encoder
        d = self.d
        enc = encoder()
        rows = np.linspace(0, len(d.ids) - 1, n).astype(int)
        papers = [d.bset.corpus[r] for r in rows]
        sents = [x for p in papers for x in S.paper_sentences(p.title, p.abstract)]
        out = {}
        with one_thread():
            for name, texts in (("paper_vectors", [p.text for p in papers]), ("sentence_vectors", sents)):
                c0 = time.process_time()
                enc.encode(texts, batch_size=64)
                out[f"{name}_cpu_ms_per_paper"] = (time.process_time() - c0) * 1000 / n
        out["sentences_per_paper"] = len(sents) / n
        out["sentence_store_bytes_per_paper_float32"] = len(sents) / n * d.doc_vecs.shape[1] * 4
        self.build = out
        print(f"  {d.name:8s} build cost per paper (1 thread CPU): vector {out['paper_vectors_cpu_ms_per_paper']:.0f} ms, "
              f"sentences {out['sentence_vectors_cpu_ms_per_paper']:.0f} ms ({out['sentences_per_paper']:.1f} sentences)", flush=True)
        return out

    def _encode_cost(self, fused, M, texts, owner, n_queries: int = 2) -> float:
        """Median ms to encode the sentences of the top-M candidates at query time.

        Measured once (top-50 of n_queries queries) as ms per sentence, then scaled by the median
        number of sentences in a top-M list (encoding cost is linear in the sentence count)."""
        from scripts.research.cache import encoder
        if "_ms_per_sentence" not in self.blocks:
            enc = encoder()
            per, per_wall = [], []
            for i in range(n_queries):
                top = set(fused[i][0][:50].tolist())
                batch = [t for t, o in zip(texts, owner) if o in top]
                with one_thread():
                    c0, t0 = time.process_time(), time.perf_counter()
                    enc.encode(batch, batch_size=64)
                    per.append((time.process_time() - c0) * 1000 / len(batch))
                    per_wall.append((time.perf_counter() - t0) * 1000 / len(batch))
            self.blocks["_ms_per_sentence"] = float(np.median(per))
            self.blocks_wall["_ms_per_sentence"] = float(np.median(per_wall))
        counts = np.bincount(owner, minlength=len(self.d.ids))
        n = float(np.median([counts[fused[i][0][:M]].sum() for i in range(len(fused))]))
        self.blocks[f"_sentences_top{M}"] = n
        self.blocks_wall[f"encode_sents_top{M}"] = n * self.blocks_wall["_ms_per_sentence"]
        return n * self.blocks["_ms_per_sentence"]
