"""The two pictures (issue 13): the collection layout stored at build time, the neighbourhood of a paper,
the map API and `recommender map`, on the bundled listing with the real model."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from recommender.maps import layout
from recommender.maps.neighbourhood import force_layout
from recommender.maps.scene import UNKNOWN_YEAR, year_colours

KO = "KO codes: Inventing Nonlinear Encoding and Decoding for Reliable Wireless Communication via Deep-learning"
CODING = {"CRISP: Curriculum based Sequential Neural Decoders for Polar Code Family",
          "Machine Learning-Aided Efficient Decoding of Reed-Muller Subcodes",
          "DeepPolar: Inventing Nonlinear Large-Kernel Polar Codes via Deep Learning"}


def run(args, cwd):
    return subprocess.run([sys.executable, "-m", "recommender", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def one_error(proc, code: int, *fragments: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def index_copy(seed_index, tmp_path):
    folder = tmp_path / "seed"
    shutil.copytree(seed_index, folder)
    return folder


# --- the layout, stored with the index --------------------------------------------------------------

def test_the_build_stores_the_map_and_the_manifest_covers_it(seed_index, seed_rec):
    manifest = json.loads((seed_index / "manifest.json").read_text())
    assert manifest["map"]["file"] == "map.npy" and manifest["map"]["method"].startswith("openTSNE ")
    assert "map.npy" in manifest["files"] and "map.npy" in manifest["checksums"]["sha256"]
    coords = np.load(seed_index / "map.npy")
    assert coords.shape == (50, 2) and coords.dtype == np.float32
    assert np.abs(coords).max() <= 1.0 + 1e-6 and np.ptp(coords, axis=0).min() > 0.5
    # Papers about one topic lie together: KO codes' three coding neighbours are nearer to it than most papers.
    row = {p.title: i for i, p in enumerate(seed_rec.papers)}
    distance = np.linalg.norm(coords - coords[row[KO]], axis=1)
    assert all(distance[row[t]] < np.quantile(distance, 0.25) for t in CODING)


def test_a_changed_map_file_is_found_by_verify(index_copy, tmp_path):
    assert run(["verify", "--index", index_copy], tmp_path).returncode == 0
    data = bytearray((index_copy / "map.npy").read_bytes())
    data[-1] ^= 0xFF
    (index_copy / "map.npy").write_bytes(bytes(data))
    one_error(run(["verify", "--index", index_copy], tmp_path), 3, "map.npy", "content changed")


def test_remove_lays_the_map_out_again(index_copy, tmp_path):
    from recommender.index.update import remove_from_index
    from recommender.search.engine import Recommender

    remove_from_index([KO], index_copy, progress=False)
    assert np.load(index_copy / "map.npy").shape == (49, 2)
    assert run(["verify", "--index", index_copy], tmp_path).returncode == 0
    assert len(Recommender.open(index_copy)) == 49


def test_above_the_limit_the_map_is_skipped_and_says_why(seed_listing, tmp_path, monkeypatch):
    from recommender.index.build import build_index
    from recommender.maps.collection import collection_scene
    from recommender.errors import UsageError
    from recommender.search.engine import Recommender

    monkeypatch.setattr(layout, "MAX_MAP_PAPERS", 40)
    build_index([seed_listing], tmp_path / "big", progress=False)
    manifest = json.loads((tmp_path / "big" / "manifest.json").read_text())
    assert manifest["map"] == {"skipped": "50 papers is more than the map's limit of 40; the neighbourhood picture still works"}
    assert not (tmp_path / "big" / "map.npy").exists()
    with pytest.raises(UsageError, match="no collection map: 50 papers is more than the map's limit of 40"):
        collection_scene(Recommender.open(tmp_path / "big"))


def test_a_tiny_collection_is_laid_out_on_its_main_axes():
    vectors = np.eye(5, 8, dtype=np.float32)
    coords, block = layout.compute(vectors)
    assert coords.shape == (5, 2) and block["method"] == "principal axes (fewer than 10 papers)"
    assert len({tuple(np.round(c, 4)) for c in coords}) >= 4  # not all on one spot


# --- pure logic of the pictures -----------------------------------------------------------------------

def test_the_force_layout_pulls_linked_papers_together_and_is_repeatable():
    edges = [[0, 1, 0.9], [1, 2, 0.9], [0, 2, 0.9], [3, 4, 0.9], [4, 5, 0.9], [3, 5, 0.9]]
    first, second = force_layout(6, edges), force_layout(6, edges)
    assert np.array_equal(first, second) and np.allclose(first[0], 0)
    linked = np.mean([np.linalg.norm(first[i] - first[j]) for i, j, _ in edges])
    apart = np.mean([np.linalg.norm(first[i] - first[j]) for i in (0, 1, 2) for j in (3, 4, 5)])
    assert linked < apart / 1.5


def test_year_colours_split_the_span_and_mark_unknown_years():
    colours, palette, legend = year_colours([2020, 2021, 2025, None])
    assert [entry["label"] for entry in legend] == ["2020", "2021", "2022", "2023", "2024", "2025", "year unknown"]
    assert palette[colours[0]] != palette[colours[2]] and palette[colours[3]] == UNKNOWN_YEAR


# --- the API -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(seed_rec):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from recommender.server import create_app

    with TestClient(create_app(seed_rec), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def test_the_neighbourhood_api(client, seed_rec):
    scene = client.get("/api/map/neighbourhood", params={"paper": "KO codes"}).json()
    assert scene["kind"] == "neighbourhood" and scene["center"] == 0 and len(scene["ids"]) == 31
    assert scene["titles"][0] == KO and CODING <= set(scene["titles"][1:6])
    threshold = float(scene["note"].split("at least ")[1].split(" ")[0])
    vectors = {p.id: np.asarray(seed_rec.vectors[i]) for i, p in enumerate(seed_rec.papers)}
    for i, j, similarity in scene["edges"]:
        cosine = float(vectors[scene["ids"][i]] @ vectors[scene["ids"][j]])
        assert abs(cosine - similarity) < 1e-3 and similarity >= threshold - 1e-3
    degree = np.bincount(np.array([e[:2] for e in scene["edges"]], dtype=int).ravel(), minlength=31)
    assert np.array_equal(np.argsort(scene["size"], kind="stable"), np.argsort(degree, kind="stable"))
    bad = client.get("/api/map/neighbourhood", params={"paper": "no such paper about zebras"})
    assert bad.status_code == 404 and bad.json()["error"]["type"] == "PaperNotFound"


def test_the_collection_api(client, seed_rec):
    scene = client.get("/api/map/collection").json()
    assert scene["kind"] == "collection" and len(scene["x"]) == len(seed_rec) == len(scene["ids"])
    assert scene["labels"] and all(label["text"] for label in scene["labels"])
    ids = [seed_rec.papers[7].id, "not an id", seed_rec.papers[3].id]
    assert client.post("/api/map/rows", json={"ids": ids}).json() == {"rows": [7, 3]}
    assert client.get("/api/map/point/7").json()["id"] == seed_rec.papers[7].id
    assert client.get("/api/map/point/50").status_code == 404


def test_recommendations_name_their_closest_like_and_weights_count(client, seed_rec):
    like = ["KO codes", "Label Poisoning is All You Need"]
    plain = client.post("/api/recommend", json={"like": like, "k": 10}).json()["results"]
    liked_titles = {KO, "Label Poisoning is All You Need"}
    assert all(r["closest_like"]["title"] in liked_titles for r in plain)
    weighed = client.post("/api/recommend", json={"like": like, "like_weights": [4, 1], "k": 10}).json()["results"]
    from_ko = lambda results: sum(r["closest_like"]["title"] == KO for r in results)  # noqa: E731
    assert from_ko(weighed) > from_ko(plain)
    bad = client.post("/api/recommend", json={"like": like, "like_weights": [2], "k": 5})
    assert bad.status_code == 400 and "like_weights: 1 weights for 2 liked papers" in bad.json()["error"]["message"]


def test_the_markdown_export_takes_the_page_heading(client, seed_rec):
    text = client.post("/api/export", json={"ids": [seed_rec.papers[0].id], "format": "markdown",
                                            "title": "Reading list [draft]"}).text
    assert text.startswith("# Reading list \\[draft\\]\n")


# --- recommender map ----------------------------------------------------------------------------------

def test_map_command_writes_each_format(seed_index, tmp_path):
    proc = run(["map", "KO codes", "-i", seed_index, "-o", tmp_path / "ko.svg", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["kind"] == "neighbourhood" and report["points"] == 31 and report["edges"] > 0
    svg = (tmp_path / "ko.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "KO codes" in svg
    proc = run(["map", "--query", "backdoor attacks", "-i", seed_index, "-o", tmp_path / "m.html"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "m.html").read_text()
    scene = json.loads(html.split('<script id="scene" type="application/json">')[1].split("</script>")[0])
    assert len(scene["highlight"]) == 20 and len(scene["x"]) == 50 and "class MapView" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html.split("<script>")[0]
    proc = run(["map", "-i", seed_index, "-o", tmp_path / "all.png"], tmp_path)
    assert proc.returncode == 0 and (tmp_path / "all.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_map_command_mistakes_are_one_line(seed_index, tmp_path):
    one_error(run(["map", "KO codes", "-i", seed_index, "-o", tmp_path / "ko.pdf"], tmp_path), 2, "ko.pdf", ".html, .png or .svg")
    one_error(run(["map", "KO codes", "--query", "x", "-i", seed_index, "-o", tmp_path / "a.png"], tmp_path), 2, "not both")
    one_error(run(["map", "zebra migration patterns", "-i", seed_index, "-o", tmp_path / "a.png"], tmp_path), 4)
    one_error(run(["map", "KO codes", "-i", seed_index, "-o", tmp_path], tmp_path), 2)
    assert not (tmp_path / "a.png").exists()


def test_a_big_collection_leaves_titles_out_of_the_scene(seed_rec, monkeypatch):
    """Above MAX_INLINE_TITLES the scene carries positions and colours only; the page asks /api/map/point."""
    from recommender.maps import collection

    monkeypatch.setattr(collection, "MAX_INLINE_TITLES", 10)
    scene = collection.collection_scene(seed_rec).to_dict()
    assert scene["ids"] is None and scene["titles"] is None and scene["years"] is None
    assert len(scene["x"]) == len(scene["color"]) == len(seed_rec)
    assert len(json.dumps(scene)) < 60 * len(seed_rec) + 5_000  # a few numbers a point, not its title
