"""docs/results.md is what scripts/results.py makes from data/, and its numbers are the data's.

The page is generated (no number typed twice); these tests fail when the committed page is stale, and recompute
a few of its numbers straight from the raw values in data/ (episode returns, per-seed means, ledger steps), so a
generator that read the wrong field, rounded wrongly or mislabelled a controller would be caught."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
PAGE = ROOT / "docs" / "results.md"
SCRIPT = ROOT / "scripts" / "results.py"

# the sections notebooks and the README point at ("see docs/results.md, section 'Take Cover'"), in course order
SECTIONS = [
    "Motivation",
    "VAE",
    "MDN-RNN",
    "Temperature",
    "CMA-ES",
    "Take Cover",
    "CarRacing dream vs real",
    "CartPole",
    "Dreamer",
    "Benchmarks and performance",
]


def _script():
    spec = importlib.util.spec_from_file_location("results_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text()


def block(page: str, title: str) -> str:
    """The text of one result (### title) or section (## title), up to the next heading of its level or above."""
    level = "###" if f"\n### {title}\n" in page else "##"
    start = page.index(f"\n{level} {title}\n")
    stops = [page.find(f"\n{h} ", start + 1) for h in ("#", "##", "###")[: len(level)]]
    stops = [s for s in stops if s != -1]
    return page[start : min(stops) if stops else len(page)]


def pm(values) -> str:
    """mean ± population std of raw values, formatted as the page does: one decimal, thousands separated."""
    v = np.asarray(values, dtype=float)
    return f"{v.mean() + 0.0:,.1f} ± {v.std() + 0.0:,.1f}"


def shows(text: str, values, tol: float = 0.05) -> bool:
    """Whether the text shows mean ± std of the raw values: the page rounds to one decimal (tol 0.05); a file
    that stores its returns already rounded needs a little more (tau_sweep.json keeps one decimal: tol 0.1)."""
    v = np.asarray(values, dtype=float)
    pairs = re.findall(r"(-?[\d,]+\.\d) ± ([\d,]+\.\d)", text)
    return any(
        abs(float(a.replace(",", "")) - v.mean()) <= tol and abs(float(b.replace(",", "")) - v.std()) <= tol
        for a, b in pairs
    )


def load(name: str):
    return json.loads((DATA / name).read_text())


def test_the_committed_page_is_what_the_script_makes_from_data(page):
    assert _script().render() == page, "docs/results.md is stale: regenerate it with `python scripts/results.py`"


def test_check_fails_on_a_stale_page_and_names_the_command(tmp_path):
    ok = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    stale = tmp_path / "results.md"
    stale.write_text(PAGE.read_text().replace("±", "+-", 1))
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--out", str(stale)], capture_output=True, text=True, cwd=ROOT
    )
    assert bad.returncode == 1
    message = bad.stderr.strip()
    assert "\n" not in message and "python scripts/results.py" in message


def test_the_sections_are_there_in_course_order(page):
    found = re.findall(r"^## (.+)$", page, flags=re.M)
    assert found == SECTIONS
    titles = re.findall(r"^### (.+)$", page, flags=re.M)
    assert len(titles) == len(set(titles)), "two results share a heading: their links would collide"
    assert f"This page lists {len(titles)} results in {len(SECTIONS)} sections." in page


def test_every_result_names_its_sample_command_machine_and_data(page):
    for title in re.findall(r"^### (.+)$", page, flags=re.M):
        text = block(page, title)
        for field in ("- **Sample:**", "- **Machine:**", "- **Data:** `data/"):
            assert field in text, f"'{title}' has no {field}"
        assert "- **Command:** `" in text or "- **Commands:**\n  - `" in text, f"'{title}' names no command"


def test_every_cited_file_is_in_the_manifest(page):
    listed = set(load("manifest.json")["artefacts"])
    cited = set(re.findall(r"`data/([^`]+)`", page)) - {"manifest.json"}
    assert cited and cited <= listed, cited - listed


def test_plain_labels_only(page):
    prose = re.sub(r"`[^`]*`", "", page)  # commands and file names keep their own spelling
    assert not re.search(r"\brows?\b", prose, flags=re.I), "say what a controller is, not its row"
    assert not re.search(r"\bissue\b", prose, flags=re.I)
    for label in ("dream only, one M", "dream only, three Ms", "dream, then real CMA-ES",
                  "three Ms' dream, then real CMA-ES", "real CMA-ES from scratch"):
        assert label in block(page, "Five controllers on held-out tracks")


def test_means_on_the_page_are_the_means_of_the_stored_returns(page):
    """Each mean ± std recomputed from the raw episode returns in data/ is the one the page shows, in its result."""
    tc = load("takecover_results.json")
    assert pm(tc["random"]["real_returns"]) in block(page, "Random policy in Take Cover")
    table = block(page, "The temperature table")
    for row in tc["rows"]:
        assert pm(row["real_returns"]) in table, row["tau"]
    sweep = load("tau_sweep.json")
    assert shows(block(page, "Random policy on CarRacing-v3"), sweep["random"]["real_returns"], tol=0.1)
    for row in sweep["rows"]:  # its returns are stored with one decimal
        assert shows(block(page, "The τ sweep"), row["real_returns"], tol=0.1), row["tau"]
    rounds = block(page, "Rounds of dream training")
    for suffix in ("", "_round1", "_round2"):
        assert pm(load(f"controller_carracing{suffix}_eval.json")["returns"]) in rounds, suffix
    dreamer = block(page, "Minimal Dreamer on CartPole")
    for name in ("dreamer_cartpole.json", "dreamer_cartpole_seed1.json", "dreamer_cartpole_seed2.json"):
        assert pm(load(name)["final"]["returns"]) in dreamer, name


def test_the_five_carracing_controllers_carry_their_own_scores_and_steps(page):
    """From the ledger's raw entries: each controller's 100-track score (a setup's last look, where its kept
    controller was replaced) sits on its own line, with its real steps."""
    entries = load("carracing_ledger.json")["entries"]
    text = block(page, "Five controllers on held-out tracks")
    labels = {"dream-only": "dream only, one M", "dream-only-ensemble": "dream only, three Ms",
              "refined": "dream, then real CMA-ES", "refined-ensemble": "three Ms' dream, then real CMA-ES",
              "from-scratch": "real CMA-ES from scratch"}
    lines = {label: next(l for l in text.splitlines() if l.startswith(f"| {label} |")) for label in labels.values()}
    for setup, label in labels.items():
        ev = [e for e in entries if e["setup"] == setup and e["stage"] == "evaluation"][-1]["result"]
        score = pm(ev["returns"]) if "returns" in ev else f"{ev['mean']:,.1f} ± {ev['std']:,.1f}"
        assert score in lines[label], label
        total = sum(e["real_steps"] for e in entries if e["setup"] == setup)
        assert lines[label].rstrip(" |").endswith(f"{total:,}"), label


def test_spreads_across_seeds_are_recomputed_from_the_per_seed_means(page):
    over = load("cartpole_seeds.json")
    table = block(page, "CartPole over training seeds")
    for row in over["rows"]:
        per_seed = [row["real"]["per_seed"][str(s)] for s in row["seeds"]]
        line = next(l for l in table.splitlines() if l.startswith(f"| {row['label']} |"))
        assert f"**{pm(per_seed)}**" in line, row["name"]
    seeds = load("takecover_training_seeds.json")
    chosen = [next(r for r in run["selection"]["tests"]) for run in seeds["runs"]]
    assert pm([c["real_mean"] for c in chosen]) in block(page, "When to stop iterating")
    finals = [
        load(n)["final"]["mean"]
        for n in ("dreamer_cartpole.json", "dreamer_cartpole_seed1.json", "dreamer_cartpole_seed2.json")
    ]
    assert f"**{pm(finals)}**" in block(page, "Minimal Dreamer on CartPole")


def test_a_claim_the_data_stops_supporting_stops_the_build(monkeypatch):
    """If the shipped numbers changed so that a sentence became false, the page is not written."""
    script = _script()
    real = script.load_json

    def tampered(name):
        data = real(name)
        if name == "tau_sweep.json":
            data["rows"][0]["real_mean"] = data["random"]["real_mean"] + 1  # one controller now beats random
        return data

    monkeypatch.setattr(script, "load_json", tampered)
    with pytest.raises(script.ClaimError, match="below random"):
        script.render()


def test_the_draws_spread_is_recomputed_from_each_draws_validation_mean(page):
    run = load("carracing_search_seeds.json")
    means = [r["mean"] for r in run["selection"]["generations"]]
    text = block(page, "The three-Ms search, over search seeds")
    assert f"{pm(means)} (mean ± standard deviation over the draws" in text
    kept = max(run["selection"]["generations"], key=lambda r: r["mean"])
    assert f"Seed {kept['generation']}'s draw was kept" in text
