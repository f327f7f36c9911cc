"""Write docs/results.md, the course's results appendix, from the files in data/.

    python scripts/results.py            # writes docs/results.md
    python scripts/results.py --check    # exits 1, naming the command above, when docs/results.md is stale

Every number on the page is read from data/manifest.json or from a result file in data/ (JSON; the controllers'
.npz files for their search histories), or computed from them here (a mean over seeds, a sum of real steps, a
standard error). Nothing here types a measured number: the prose around the numbers lives in this script as
templates, and a claim whose words depend on the data (one score below another) is checked by `require`, which
stops the build when new data no longer supports the sentence. Only the standard library and numpy are used,
so the page can be rebuilt without the course's package.

Spreads: "a ± b" is a mean and its population standard deviation (numpy's default, ddof = 0), as the course's
own commands record them: over real episodes, over dreams, or, where the page says "across seeds", over the
per-seed means.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
PAGE = ROOT / "docs" / "results.md"
COMMAND = "python scripts/results.py"
NOT_RECORDED = "not recorded"


class ClaimError(RuntimeError):
    """The data no longer supports a sentence of the page: rewrite the template."""


def require(condition: bool, what: str) -> None:
    if not condition:
        raise ClaimError(f"the data no longer supports the claim: {what}. Rewrite its template in {__file__}.")


# ---------------------------------------------------------------------------------------------------- reading data


def load_json(name: str):
    return json.loads((DATA / name).read_text())


def manifest() -> dict:
    return load_json("manifest.json")["artefacts"]


def npz_details(name: str) -> dict:
    """The JSON details a controller .npz carries beside its weights (its search history)."""
    with np.load(DATA / name, allow_pickle=False) as z:
        return json.loads(str(z["details"]))


def stats(values) -> tuple[float, float]:
    """Mean and population standard deviation (ddof = 0), as the course's commands compute them."""
    v = np.asarray(list(values), dtype=float)
    return float(v.mean()), float(v.std())


# ---------------------------------------------------------------------------------------------------- formatting


def f1(x: float) -> str:
    """A score: one decimal, thousands separated, no negative zero."""
    return f"{x + 0.0:,.1f}"


def pm(mean: float, std: float) -> str:
    return f"{f1(mean)} ± {f1(std)}"


def count(n: float) -> str:
    return f"{int(round(n)):,}"


def minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min"


def joined(items: list[str]) -> str:
    """a, b and c."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def paired_difference(a: dict, b: dict) -> tuple[float, float]:
    """Two evaluations of the same tracks in the same order, track by track: the mean difference of their returns
    and its standard error."""
    diff = np.asarray(a["returns"]) - np.asarray(b["returns"])
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def paired(a: dict, b: dict) -> str:
    """`paired_difference` as the page writes it: mean ± standard error."""
    return pm(*paired_difference(a, b))


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- the page model


@dataclass
class Result:
    title: str  # a stable heading: notebooks may link it
    claim: str  # what the result says, in plain sentences, numbers filled in from data/
    sample: str  # how many episodes, dreams, tracks or seeds stand behind the spread
    commands: list[str]
    files: list[str]  # the files in data/ the numbers come from
    machine: str = NOT_RECORDED
    body: str = ""  # a small table, when one sentence cannot hold the numbers


@dataclass
class Section:
    title: str  # a stable heading: notebooks say "see docs/results.md, section '<title>'"
    notebook: str
    intro: str
    results: list[Result] = field(default_factory=list)


def machines(entries: list[dict]) -> str:
    """The machines the ledger entries name, or "not recorded"."""
    named = sorted({e["machine"] for e in entries if e.get("machine") and e["machine"] != NOT_RECORDED})
    return "; ".join(named) if named else NOT_RECORDED


# ---------------------------------------------------------------------------------------------------- 00 motivation


def motivation(m: dict) -> Section:
    cart = load_json("cartpole_results.json")
    seeds = load_json("cartpole_seeds.json")
    sweep = load_json("tau_sweep.json")
    cap = cart["config"]["controller"]["max_steps"]
    random_row = next(r for r in cart["rows"] if r["name"] == "random")
    random_seeds = next(r for r in seeds["rows"] if r["name"] == "random")["real"]
    rand = sweep["random"]
    returns = rand["real_returns"]
    require(max(returns) < 0, "every random CarRacing episode scores below zero")
    return Section(
        "Motivation",
        "00_motivation",
        "The bar every learned controller must clear: a random policy. The cost of a real step against a "
        "dream step is measured as the notebook runs and is not kept in data/.",
        [
            Result(
                "Random policy on CartPole-v1",
                "A policy that pushes the cart left or right at random keeps the pole up for "
                f"{f1(random_row['real_mean'])} steps on average, far below the episode's cap of {count(cap)} steps. "
                f"Over {random_seeds['n']} seeds the mean barely moves "
                f"({pm(random_seeds['mean'], random_seeds['std'])} across seeds).",
                f"{random_row['episodes']} real episodes (seed {cart['seed']}); the same over seeds "
                f"{joined([str(s) for s in seeds['seeds']])}, {random_seeds['n']} means of {random_row['episodes']} "
                "episodes",
                [cart["command"], seeds["command"]],
                ["cartpole_results.json", "cartpole_seeds.json"],
                body=table(
                    ["run", "real score"],
                    [
                        [
                            f"seed {cart['seed']}, {random_row['episodes']} episodes",
                            pm(random_row["real_mean"], random_row["real_std"]),
                        ],
                        [
                            f"{random_seeds['n']} seeds, across seeds (lowest–highest)",
                            f"{pm(random_seeds['mean'], random_seeds['std'])} "
                            f"({f1(random_seeds['min'])}–{f1(random_seeds['max'])})",
                        ],
                    ],
                ),
            ),
            Result(
                "Random policy on CarRacing-v3",
                f"A random policy scores below zero on every track: {pm(rand['real_mean'], rand['real_std'])} over "
                f"{len(returns)} real episodes (highest {f1(max(returns))}). Every CarRacing score on this page is "
                "read against it.",
                f"{len(returns)} real episodes, measured beside the τ sweep on the same tracks",
                [m["tau_sweep.json"]["command"]],
                ["tau_sweep.json"],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- 01 VAE


def vae_section(m: dict) -> Section:
    rows = load_json("vae_results.json")
    full = m["vae_carracing_z32.pt"]
    held = m["carracing_heldout_encoded.npz"]["figures"]["episodes"]
    paper = next(r for r in rows if r["vae"].endswith("vae_carracing_z32.pt"))
    small = sorted((r for r in rows if "_small_z" in r["vae"]), key=lambda r: r["z_size"])
    betas = sorted((r for r in rows if "vae_beta" in r["vae"]), key=lambda r: r["beta"])
    frames = paper["frames"]
    trained = full["training_data"]

    worst = max(small, key=lambda r: r["mse_per_pixel"])
    others = [r for r in small if r is not worst]
    require(worst is small[0], "the smallest latent size reconstructs worst")
    require(
        all(a["kl_nats_per_frame"] < b["kl_nats_per_frame"] for a, b in zip(small, small[1:])),
        "the KL grows with the latent size",
    )
    require(
        all(
            a["kl_nats_per_frame"] > b["kl_nats_per_frame"] and a["mse_per_pixel"] < b["mse_per_pixel"]
            for a, b in zip(betas, betas[1:])
        ),
        "a larger beta gives less KL and more reconstruction error",
    )
    sample = (f"{count(frames)} frames of {held} held-out episodes; one training run per model (seed {full['seed']}); "
              "no spread recorded")
    return Section(
        "VAE",
        "01_vae",
        "V, the variational autoencoder that turns a frame into a short code z.",
        [
            Result(
                "The paper's VAE on held-out frames",
                f"The paper's convolutional VAE with z = {paper['z_size']} ({count(paper['parameters'])} parameters) "
                f"rebuilds frames of episodes it never saw with a mean squared error of {paper['mse_per_pixel']:.5f} "
                f"per pixel value (pixels scaled to the unit interval), while its code carries "
                f"{paper['kl_nats_per_frame']:.1f} nats per frame. Its training data: {trained['rollouts']} of real "
                f"CarRacing-v3 (the '{trained['policy']}' data policy).",
                sample,
                [full["command"], m["vae_results.json"]["command"]],
                ["vae_results.json", "manifest.json#vae_carracing_z32.pt"],
            ),
            Result(
                "Latent size",
                f"Half-width VAEs with z = {joined([str(r['z_size']) for r in small])}: the smallest code, "
                f"z = {worst['z_size']}, rebuilds frames worst (MSE {worst['mse_per_pixel']:.5f}); the others are "
                f"close ({min(r['mse_per_pixel'] for r in others):.5f} to "
                f"{max(r['mse_per_pixel'] for r in others):.5f}). The information the code carries (KL) grows with its "
                "size.",
                sample,
                [m[Path(r["vae"]).name]["command"] for r in small] + [m["vae_results.json"]["command"]],
                ["vae_results.json"],
                body=table(
                    ["z", "parameters", "MSE per pixel value", "KL, nats per frame"],
                    [
                        [
                            r["z_size"],
                            count(r["parameters"]),
                            f"{r['mse_per_pixel']:.5f}",
                            f"{r['kl_nats_per_frame']:.1f}",
                        ]
                        for r in small
                    ],
                ),
            ),
            Result(
                "The β trade-off",
                f"Raising β trades detail for a smaller code: from β = {betas[0]['beta']:g} to {betas[-1]['beta']:g} "
                f"the KL falls from {betas[0]['kl_nats_per_frame']:.1f} to {betas[-1]['kl_nats_per_frame']:.1f} nats "
                f"per frame and the error rises from {betas[0]['mse_per_pixel']:.5f} to "
                f"{betas[-1]['mse_per_pixel']:.5f}. These half-width VAEs were trained apart from the latent-size "
                "ones, with settings the file does not record beyond β and size: compare them with each other, not "
                "with the table above.",
                sample,
                [m["vae_results.json"]["command"]],
                ["vae_results.json"],
                body=table(
                    ["β", "parameters", "MSE per pixel value", "KL, nats per frame"],
                    [
                        [
                            f"{r['beta']:g}",
                            count(r["parameters"]),
                            f"{r['mse_per_pixel']:.5f}",
                            f"{r['kl_nats_per_frame']:.1f}",
                        ]
                        for r in betas
                    ],
                ),
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- 02 MDN


def mdn_section(m: dict) -> Section:
    entry = m["mdnrnn_carracing.pt"]
    f = entry["figures"]
    require(f["held_out_reward_mse"] > f["reward_mse"], "the reward head does worse on held-out episodes")
    ratio = f["held_out_reward_mse"] / f["reward_mse"]
    return Section(
        "MDN-RNN",
        "02_mdn",
        "M, the recurrent network that predicts the next code as a mixture of Gaussians.",
        [
            Result(
                "M's prediction error, training and held out",
                f"After {count(f['epoch'])} epochs, M predicts the next latent code almost as well on held-out "
                f"episodes as on its training data ({f['held_out_z_nll']:.4f} against {f['z_nll']:.4f} nats per "
                f"dimension). Its reward head does not: its squared error is {ratio:.0f} times larger on held-out "
                f"episodes ({f['held_out_reward_mse']:.4f} against {f['reward_mse']:.4f}).",
                f"the episodes the training run split off its own data ({entry['training_data']['rollouts']}); "
                f"one training run (seed {entry['seed']}); no spread recorded",
                [entry["command"]],
                ["manifest.json#mdnrnn_carracing.pt"],
                body=table(
                    ["loss", f"training (epoch {count(f['epoch'])})", "held out"],
                    [
                        ["next-latent NLL, nats per dimension", f"{f['z_nll']:.4f}", f"{f['held_out_z_nll']:.4f}"],
                        ["reward, mean squared error", f"{f['reward_mse']:.4f}", f"{f['held_out_reward_mse']:.4f}"],
                        ["done, binary cross-entropy", f"{f['done_bce']:.4f}", f"{f['held_out_done_bce']:.4f}"],
                    ],
                ),
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- 03 temperature


def temperature_section(m: dict) -> Section:
    return Section(
        "Temperature",
        "03_temperature",
        "Notebook 03 measures its dreams at several temperatures as it runs; no file in data/ holds those numbers. "
        "The temperature sweeps that need a controller trained with CMA-ES are listed where CMA-ES is known: "
        "the paper's temperature table in section 'Take Cover', and the CarRacing sweep in section "
        "'CarRacing dream vs real'.",
    )


# ---------------------------------------------------------------------------------------------------- 04 CMA-ES


def cma_section(m: dict) -> Section:
    entry = m["controller_carracing.npz"]
    history = npz_details("controller_carracing.npz")["history"]
    first, last = history[0], history[-1]
    require(last["mean"] > first["mean"], "CMA-ES raised the population's mean dream score")
    return Section(
        "CMA-ES",
        "04_cma_es",
        "C, the linear controller, searched with CMA-ES inside M's dream.",
        [
            Result(
                "CMA-ES in the dream, generation by generation",
                f"CMA-ES raised the population's mean dream score from {f1(first['mean'])} in generation "
                f"{first['generation']} to {f1(last['mean'])} in generation {last['generation']} (best candidate of "
                f"the last generation: {f1(last['best'])}). This is the first controller of section 'CarRacing dream "
                "vs real' (round 0); its real score is there.",
                f"one search (seed {entry['seed']}), {len(history)} generations; each candidate's score is a mean over "
                "dreams whose number the file does not record",
                [entry["command"]],
                ["controller_carracing.npz"],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- 05 Take Cover


def _row(rows: list[dict], tau: float) -> dict:
    return next(r for r in rows if math.isclose(r["tau"], tau))


def take_cover_section(m: dict) -> Section:
    res = load_json("takecover_results.json")
    seeds = load_json("takecover_training_seeds.json")
    cfg = res["config"]
    rand = res["random"]
    rows = sorted(res["rows"], key=lambda r: r["tau"])
    n_real = rows[0]["real_episodes"]
    n_dream = rows[0]["dream_episodes"]
    runs = {run["seed"]: run for run in seeds["runs"]}
    ship_cmd = m["takecover_results.json"]["command"]
    seeds_cmd = m["takecover_training_seeds.json"]["command"]
    run_cmds = [runs[s]["command"] for s in sorted(runs)]

    # the temperature table
    low, high = rows[:2], rows[2:]
    low_taus = joined([f"{r['tau']:g}" for r in low])
    high_taus = joined([f"{r['tau']:g}" for r in high])
    require(
        min(r["dream_mean"] for r in low) > max(r["dream_mean"] for r in high)
        and max(r["real_mean"] for r in low) < min(r["real_mean"] for r in high),
        "the two lowest temperatures dream highest and score lowest in reality",
    )
    se = {r["tau"]: r["real_std"] / math.sqrt(r["real_episodes"]) for r in rows}
    spread_high = max(r["real_mean"] for r in high) - min(r["real_mean"] for r in high)
    require(spread_high < 2 * max(se[r["tau"]] for r in high), "the higher temperatures' order is within the noise")
    frames = runs[res["config"]["seed"]]["frames"]

    # the same V and M, searched again
    across = seeds["across_seeds"]
    key = {float(k): k for k in across}
    cheat_tau, tau = min(key), max(key)  # the cheating temperature and the one the paper solved with
    require(all(math.isclose(r["tau"], tau) for r in res["controller_seeds"]), "the searches again use the main tau")
    tau_s, cheat_s = f"{tau:g}", f"{cheat_tau:g}"
    main, low_all = across[key[tau]], across[key[cheat_tau]]
    search = [_row(res["rows"], tau)] + sorted(res["controller_seeds"], key=lambda r: r["controller_seed"])
    search_mean, search_std = stats(r["real_mean"] for r in search)
    require(main["std"] > search_std, "the training seed spreads the score more than the search")

    # training seeds
    seed_rows = []
    for s in sorted(runs):
        a, b = _row(runs[s]["rows"], tau), _row(runs[s]["rows"], cheat_tau)
        seed_rows.append(
            [
                f"{s}",
                f1(a["dream_mean"]),
                pm(a["real_mean"], a["real_std"]),
                f1(b["dream_mean"]),
                pm(b["real_mean"], b["real_std"]),
                count(runs[s]["frames"]),
            ]
        )
    seed_rows.append(
        [
            f"across {len(runs)} seeds",
            "",
            f"**{pm(main['mean'], main['std'])}**",
            "",
            pm(low_all["mean"], low_all["std"]),
            "",
        ]
    )
    cheat = [_row(runs[s]["rows"], cheat_tau) for s in sorted(runs)]
    near_random = [
        _row(runs[s]["rows"], tau)
        for s in sorted(runs)
        if _row(runs[s]["rows"], tau)["real_mean"] < rand["real_mean"] + rand["real_std"]
    ]
    require(len(near_random) >= 1, "some training seed's controller scores like the random policy")

    # fixed policies
    fixed_rows, most_generous = [], []
    for s in sorted(runs):
        by_round = {e["round"]: {r["policy"]: r for r in e["rows"]} for e in runs[s]["fixed_policies"]}
        policies = list(by_round[0])
        for p in policies:
            fixed_rows.append(
                [f"{s}", p]
                + [pm(by_round[r][p]["dream_mean"], by_round[r][p]["dream_std"]) for r in sorted(by_round)]
                + [pm(by_round[0][p]["real_mean"], by_round[0][p]["real_std"])]
            )
        best = max(policies, key=lambda p: by_round[0][p]["dream_mean"] / by_round[0][p]["real_mean"])
        most_generous.append(
            (s, best, by_round[0][best]["dream_mean"], by_round[0][best]["real_mean"], by_round[1][best]["dream_mean"])
        )
    fixed_rounds = sorted({e["round"] for run in runs.values() for e in run["fixed_policies"]})
    lenient = [g for g in most_generous if g[2] > 5 * g[3]]
    require(len(lenient) >= 1 and all(g[4] < g[2] for g in lenient), "one round takes the safe walls away")

    # rounds of iterative training
    round_rows = []
    peaks = {}
    for s in sorted(runs):
        table_row = _row(runs[s]["rows"], tau)
        scores = {0: table_row["real_mean"]}
        round_rows.append(
            [
                f"{s}",
                "0 (the table)",
                "",
                f1(table_row["dream_mean"]),
                pm(table_row["real_mean"], table_row["real_std"]),
            ]
        )
        for r in runs[s]["rounds"]:
            scores[r["round"]] = r["real_mean"]
            round_rows.append(
                [
                    f"{s}",
                    f"{r['round']}",
                    f"+{count(r['real_steps_collected'])}",
                    f1(r["dream_mean"]),
                    pm(r["real_mean"], r["real_std"]),
                ]
            )
        peaks[s] = max(scores, key=scores.get)
    ras = seeds["rounds_across_seeds"]
    require(len(set(peaks.values())) > 1, "no round is best for every training seed")
    peak_text = joined([f"seed {s} peaks at round {r}" for s, r in sorted(peaks.items())])
    round_summary = [
        [f"after round {k}", pm(v["mean"], v["std"]), f"{v['solved']} of {len(v['real_means'])}"]
        for k, v in sorted(ras.items(), key=lambda kv: int(kv[0]))
    ]
    round_summary.insert(
        0, ["no rounds (the table)", pm(main["mean"], main["std"]), f"{main['solved']} of {len(main['real_means'])}"]
    )
    require(
        all(math.isclose(r["tau"], tau) for run in runs.values() for r in run["rounds"])
        and all(math.isclose(e["tau"], tau) for run in runs.values() for e in run["fixed_policies"])
        and all(math.isclose(run["selection"]["tau"], tau) for run in runs.values()),
        "the rounds, the fixed policies and the selection use the main tau",
    )

    # when to stop: held-out episodes choose, fresh episodes score
    sel_rows, biases = [], []
    for s in sorted(runs):
        sel = runs[s]["selection"]
        val = {v["round"]: v for v in sel["validation"]}
        test = sel["tests"][0]
        require(
            test["round"] == sel["chosen_round"] and sel["chosen_round"] == max(val, key=lambda r: val[r]["real_mean"]),
            "the kept round is the one that lived longest on the held-out episodes",
        )
        sel_rows.append(
            [f"{s}"]
            + [f1(val[r]["real_mean"]) for r in sorted(val)]
            + [f"{sel['chosen_round']}", pm(test["real_mean"], test["real_std"])]
        )
        biases.append(
            (
                val[sel["chosen_round"]]["real_mean"] - test["real_mean"],
                s,
                val[sel["chosen_round"]]["real_mean"],
                test["real_mean"],
            )
        )
    sel0 = runs[sorted(runs)[0]]["selection"]
    chosen = seeds["chosen_across_seeds"]
    drop = max(biases)
    require(drop[0] > 0, "the kept controller's held-out score is biased up")
    val_rounds = sorted(v["round"] for v in sel0["validation"])

    return Section(
        "Take Cover",
        "05_take_cover",
        "The paper's own dream: VizDoom Take Cover, with the controller trained only inside M's dream. "
        "A score is the number of steps the agent survives.",
        [
            Result(
                "Random policy in Take Cover",
                f"A random policy survives {pm(rand['real_mean'], rand['real_std'])} steps in the real game.",
                f"{rand['real_episodes']} real episodes, episode seeds from {count(cfg['eval_seed'])}",
                [ship_cmd],
                ["takecover_results.json"],
            ),
            Result(
                "The temperature table",
                f"Controllers trained only in the dream at the two lowest temperatures (τ = {low_taus}) "
                f"score highest in the dream ({joined([f1(r['dream_mean']) for r in low])}) and lowest in the real "
                f"game ({joined([f1(r['real_mean']) for r in low])}, beside random's {f1(rand['real_mean'])}): the "
                f"dream is too easy and they exploit it. At τ = {high_taus} they survive "
                f"{f1(min(r['real_mean'] for r in high))} to {f1(max(r['real_mean'] for r in high))} steps in reality. "
                f"The standard error of one of these {n_real}-episode means is about "
                f"{f1(max(se[r['tau']] for r in high))} steps, so their order is within the noise. "
                "This is one training run; the results below show how much another run differs.",
                f"dream: {n_dream} new dreams per controller; real: {n_real} episodes per controller (seeds from "
                f"{count(cfg['eval_seed'])}); one training run (seed {cfg['seed']})",
                [ship_cmd],
                ["takecover_results.json"],
                body=table(
                    ["τ", f"dream ({n_dream} dreams)", f"real ({n_real} episodes)", "standard error of the real mean"],
                    [
                        [
                            f"{r['tau']:g}",
                            pm(r["dream_mean"], r["dream_std"]),
                            pm(r["real_mean"], r["real_std"]),
                            f1(se[r["tau"]]),
                        ]
                        for r in rows
                    ]
                    + [["random policy", "", pm(rand["real_mean"], rand["real_std"]), ""]],
                )
                + f"\n\nSettings: {count(cfg['episodes'])} episodes of the '{cfg['policy']}' data policy "
                f"({count(frames)} frames); V with z = {cfg['z_size']}, {count(cfg['vae_steps'])} training steps; "
                f"M an LSTM of {cfg['hidden']} units, {cfg['mdnrnn_epochs']} epochs of {cfg['mdnrnn_seq_len']}-step "
                f"windows in batches of {cfg['mdnrnn_batch']}; C searched with a population of {cfg['population']} "
                f"× {cfg['rollouts']} dreams for {cfg['generations']} generations, dreams cut at "
                f"{count(cfg['max_steps'])} steps.",
            ),
            Result(
                "The same dream, searched again",
                f"With V, M and their data kept, CMA-ES run again with other seeds gives τ = {tau_s} controllers that "
                f"score {joined([f1(r['real_mean']) for r in search])} in reality: {pm(search_mean, search_std)} "
                f"across the {len(search)} searches. The search adds little spread; the training run adds far more "
                "(next result).",
                f"{n_real} real episodes per controller (the same episodes for all); CMA-ES seeds "
                f"{joined([str(r.get('controller_seed', cfg['seed'])) for r in search])}; the spread across searches "
                f"is computed on this page from the {len(search)} means; the file does not record the command of the "
                "searches with other seeds",
                [ship_cmd],
                ["takecover_results.json"],
                body=table(
                    ["CMA-ES seed", f"dream ({n_dream} dreams)", f"real ({n_real} episodes)"],
                    [
                        [
                            str(r.get("controller_seed", cfg["seed"])),
                            pm(r["dream_mean"], r["dream_std"]),
                            pm(r["real_mean"], r["real_std"]),
                        ]
                        for r in search
                    ],
                ),
            ),
            Result(
                "Take Cover over training seeds",
                f"Each training seed makes its own data, V, M and controllers with the same command. At τ = {tau_s} "
                f"the controller counted as solved on {main['solved']} seed of {len(runs)}: "
                f"{joined([f1(v) for v in main['real_means']])} steps, "
                f"{pm(main['mean'], main['std'])} across seeds. Where it scored within one standard deviation of the "
                f"random policy, it still dreamed {joined([f1(r['dream_mean']) for r in near_random])} steps. "
                f"Every τ = {cheat_s} controller dreamed {f1(min(r['dream_mean'] for r in cheat))} to "
                f"{f1(max(r['dream_mean'] for r in cheat))} steps and scored {f1(min(r['real_mean'] for r in cheat))} "
                f"to {f1(max(r['real_mean'] for r in cheat))} in reality (random: {f1(rand['real_mean'])}). Whether "
                f"τ = {tau_s} transfers depends on the training run.",
                f"{n_real} real episodes per controller; {len(runs)} training seeds; "
                "the spread across seeds is over the per-seed means",
                run_cmds + [seeds_cmd],
                ["takecover_training_seeds.json"],
                body=table(
                    [
                        "training seed",
                        f"τ = {tau_s} dream",
                        f"τ = {tau_s} real ({n_real} episodes)",
                        f"τ = {cheat_s} dream",
                        f"τ = {cheat_s} real ({n_real} episodes)",
                        "frames of data",
                    ],
                    seed_rows,
                ),
            ),
            Result(
                "Policies that see nothing",
                "How honest is each M's dream? Constant policies (always left, always stay, always right) live in the "
                f"dream at τ = {tau_s} and in the game. "
                + " ".join(
                    f"In training seed {s}'s first M, '{p}' lives {f1(d)} steps in the dream against {f1(r)} in the "
                    f"game; after one round of iterative training, {f1(d1)}."
                    for s, p, d, r, d1 in lenient
                )
                + " The rounds (next result) take such safe walls away.",
                "dream and real means ± standard deviation over a number of dreams and episodes the file does not "
                "record; the real episodes are the same for every M",
                [seeds_cmd],
                ["takecover_training_seeds.json"],
                body=table(
                    ["training seed", "policy"] + [f"dream, M of round {r}" for r in fixed_rounds] + ["real"],
                    fixed_rows,
                ),
            ),
            Result(
                "Rounds of iterative training",
                f"The paper's iterative training, after the table: each round plays the last τ = {tau_s} controller in "
                "the real game to collect more data, trains M further on all of it, and evolves a new controller in "
                "the new dream (C still learns only in the dream). "
                f"The best round differs by seed ({peak_text}), so no fixed number of rounds suits them all. After "
                f"round{'s' if len(ras) > 1 else ''} {joined(sorted(ras, key=int))} the training seeds average "
                f"{joined([f1(ras[k]['mean']) for k in sorted(ras, key=int)])}.",
                f"{n_real} real episodes per controller; {len(runs)} training seeds; the spread "
                "across seeds is over the per-seed means; 'solved' is the file's own count",
                run_cmds + [seeds_cmd],
                ["takecover_training_seeds.json"],
                body=table(
                    ["training seed", "round", "real steps collected", "dream", f"real ({n_real} episodes)"], round_rows
                )
                + "\n\n"
                + table(["across seeds", "real", "solved"], round_summary),
            ),
            Result(
                "When to stop iterating",
                f"A look at reality with episodes of its own decides when to stop: every round's controller (rounds "
                f"{joined([str(r) for r in val_rounds])}) plays {sel0['validation_episodes']} held-out episodes, the "
                f"one that lives longest is kept, and only it plays {sel0['test_episodes']} fresh episodes. The kept "
                f"controllers score {joined([f1(v) for v in chosen['real_means']])} on the fresh episodes: "
                f"**{pm(chosen['mean'], chosen['std'])} across the {len(chosen['real_means'])} training seeds**, "
                f"{chosen['solved']} of {len(chosen['real_means'])} counted as solved. The best of several noisy means "
                f"is biased up, hence the fresh score: training seed {drop[1]}'s kept controller lived {f1(drop[2])} "
                f"on the held-out episodes and {f1(drop[3])} on the fresh ones.",
                f"held out: {sel0['validation_episodes']} real episodes per controller, seeds from "
                f"{count(sel0['validation_seed'])}; fresh: {sel0['test_episodes']} real episodes, seeds from "
                f"{count(sel0['test_seed'])}; {len(runs)} training seeds",
                run_cmds + [seeds_cmd],
                ["takecover_training_seeds.json"],
                body=table(
                    ["training seed"]
                    + [f"held out, round {r}" for r in val_rounds]
                    + ["kept round", f"fresh ({sel0['test_episodes']} episodes)"],
                    sel_rows,
                ),
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- 06 CarRacing

DREAM_ONLY, ENSEMBLE, REFINED, FROM_SCRATCH = "dream-only", "dream-only-ensemble", "refined", "from-scratch"  # setups
REFINED_ENSEMBLE = "refined-ensemble"
LABELS = {DREAM_ONLY: "dream only, one M", ENSEMBLE: "dream only, three Ms", REFINED: "dream, then real CMA-ES",
          REFINED_ENSEMBLE: "three Ms' dream, then real CMA-ES", FROM_SCRATCH: "real CMA-ES from scratch"}
CONTROLLERS = [f"controller_carracing{s}" for s in ("", "_round1", "_round2")]  # rounds 0, 1, 2 of dream training


def ledger_setups() -> dict[str, list[dict]]:
    entries = load_json("carracing_ledger.json")["entries"]
    setups: dict[str, list[dict]] = {}
    for e in entries:
        setups.setdefault(e["setup"], []).append(e)
    return setups


KEY = "name"


def larger_round_result(m: dict) -> Result:
    """Round 3, four times an earlier round, from the shipped round-2 files (scripts/carracing_round3.py): its
    failures, the same search in round 2's own dream, and what each M's dream says of the others' controllers."""
    r3 = load_json("carracing_round3.json")
    c = {x["name"]: x for x in r3["candidates"]}
    failed = [c[n] for n in ("round3", "round3_dropout", "round3_all")]
    dropout = c["round3_dropout"]["dropout"]
    labels = {"round2": "round 2 (the 'dream only' controller)",
              "round3": "round 3, M fine-tuned on the round's episodes",
              "round3_dropout": f"the same, M trained with dropout (p = {dropout:g})",
              "round3_all": "round 3, M fine-tuned on the round's and the first 64 episodes",
              "round3_in_round2_m": "round 2's own M, the larger search",
              "every_round": "M fine-tuned on every round's episodes, round 4's included",
              "ensemble": "three Ms, each candidate scored by the worst"}
    dream = {x["name"]: x["dream_last_generation"]["mean"] for x in r3["candidates"]}
    valid = {x["name"]: x["validation"]["mean"] for x in r3["candidates"]}
    gas = {x["name"]: x["drive"]["mean_action"][1] for x in r3["candidates"]}
    brake = {x["name"]: x["drive"]["mean_action"][2] for x in r3["candidates"]}
    drive = {x["name"]: x["drive"] for x in r3["candidates"]}
    cross = r3["cross"]["scores"]
    own = {"round3": "round 3", "every_round": "every round"}  # the M each controller was evolved in
    others = {n: [v for k, v in cross[n].items() if k != own[n]] for n in own}
    require(all(valid[x["name"]] < 0 for x in failed) and valid["round2"] > 0, "every round-3 controller scores < 0")
    require(max(brake["round3"], brake["round3_dropout"]) < 0.05 < 0.8 < min(gas["round3_all"], brake["round3_all"]),
            "two hardly brake, the third holds gas and brake down together")
    require(all(-100 < valid[x["name"]] < -50 for x in failed), "every round-3 controller scores about -100")
    require(valid["round3_in_round2_m"] > valid["round2"] - 50, "the larger search in round 2's M does not fail")
    require(cross["round3"]["round 3"] > 500 and max(others["round3"]) < 0, "only round 3's own M pays its controller")
    require(valid["every_round"] < 0 and cross["round3"]["every round"] < 0,
            "every round's M sees round 3's exploit and is exploited in turn")
    require(cross["every_round"]["every round"] > max(others["every_round"]) + 100, "every round's M pays its own most")
    n = r3["validation_tracks"]
    short = {"round3": "new episodes only", "round3_dropout": "with dropout", "round3_all": "with the first 64 too"}
    frames = {x["name"]: x["validation"]["real_steps"] / n for x in failed}  # CarRacing costs 0.1 a frame
    tiles = {x["name"]: valid[x["name"]] + 0.1 * frames[x["name"]] for x in failed}
    require(all(t < 50 for t in tiles.values()), "the round-3 controllers collect under 50 points of tiles")
    rounds = r3["other_rounds"]
    round4 = rounds["4"]

    def row(name: str) -> list[str]:
        d = drive[name]
        return [labels[name], f1(dream[name]), f"**{pm(valid[name], c[name]['validation']['std'])}**",
                f"{gas[name]:.2f} / {brake[name]:.2f}", f"{f1(d['real_return'])} / {f1(d['predicted_return'])}"]

    ms = list(cross["round2"])
    cross_rows = [[labels[name], *[f1(cross[name][k]) for k in ms], f1(valid[name])]
                  for name in cross if name != "ensemble"]
    return Result(
        "A round four times larger",
        f"A further round collected {count(r3['data_real_steps'])} real steps: {r3['episodes']} new episodes, four "
        f"times the 32 that rounds 1 and 2 each collected, driven by round 2's controller (action noise "
        f"{r3['noise']:g}). M continued training from round 2's weights for {r3['epochs']} epochs with a freshly "
        "started Adam optimizer (a variant of gradient descent). It trained on the new episodes alone, once plainly "
        "and once with a variant of the dropout of Wellmer and Kwok's 'Dropout's Dream Land' (2021), or on them plus "
        "the first 64 episodes (collected again from the same seeds: the same "
        f"{count(r3['first_data_real_steps'])} steps). Each controller CMA-ES tried was scored on "
        f"{r3['search']['rollouts']} dreams, not 8. The new dreams paid their controllers "
        f"{joined([f'{f1(dream[x[KEY]])} ({short[x[KEY]]})' for x in failed])}; round 2's dream paid "
        f"{f1(dream['round2'])}. On the validation tracks (real tracks used only to compare controllers, not the "
        "100 held-out ones) every new controller scored between "
        f"{f1(min(valid[x['name']] for x in failed))} and {f1(max(valid[x['name']] for x in failed))}. That is "
        f"about what {max(frames.values()):,.0f} frames at -0.1 each cost, plus under "
        f"{max(tiles.values()):.0f} points of track tiles: the car barely makes progress. On the same tracks round "
        f"2's controller scored {f1(valid['round2'])}. Along one real drive the plain and the dropout controllers "
        "hardly brake, and the controller evolved in the M that also saw the first 64 episodes holds gas and brake "
        "down together.\n\n"
        "Why? Not the larger search: the same search in round 2's own M found a controller that scored "
        f"{f1(valid['round3_in_round2_m'])} on the validation tracks. Scored in new dreams of each M (second table), "
        f"round 3's controller earns {f1(cross['round3']['round 3'])} in the dream of the M it was evolved in, and "
        f"{joined([f1(v) for v in others['round3']])} in the dreams of round 2's M and of an M trained on every "
        f"round's episodes (below), about what the real game pays ({f1(valid['round3'])}). It found a mistake of "
        f"the one M it was evolved in. A fourth round drove that controller, with the same noise, for "
        f"{round4['episodes']} episodes ({count(round4['real_steps'])} real steps, scoring "
        f"{f1(round4['returns']['mean'])}). The every-round M then trained for {r3['every_round_epochs']} epochs on "
        "the first 64 episodes, rounds 1 and 2 (collected again: "
        f"{count(rounds['1']['real_steps'] + rounds['2']['real_steps'])} real steps driven by the round-0 and "
        "round-1 controllers), round 3 and round 4. The controller evolved in it failed too: its own dream pays it "
        f"{f1(cross['every_round']['every round'])}, the dreams of round 2's and round 3's M "
        f"{joined([f1(v) for v in others['every_round']])}, and the real game {f1(valid['every_round'])}. In this "
        "one run more data did not stop the search from finding a mistake of the M it searched in.",
        f"{n} validation tracks per controller, one track per seed, seeds {count(r3['validation_seed'])}–"
        f"{count(r3['validation_seed'] + n - 1)}, disjoint from the training and the reporting tracks; one run per "
        f"controller; search: population {r3['search']['population']} × {r3['search']['rollouts']} dreams, "
        f"{r3['search']['generations']} generations (round 2's own search: 64 × 8 dreams, 20 generations); the "
        f"drive: one real episode on the first validation track; the second table: {r3['cross']['dreams']} fresh "
        f"dreams of each M per controller (seed {r3['cross']['seed']}), started from every round's first frames",
        r3["commands"],
        ["carracing_round3.json"],
        machine=r3["machine"],
        body=table(["controller", "dream, population mean in the last generation", f"real ({n} validation tracks)",
                    "the drive: mean gas / brake", "the drive: real / M's predicted reward"],
                   [row(x["name"]) for x in r3["candidates"] if x["name"] != "ensemble"])
        + "\n\n" + table(["controller", *[f"dream of {k}'s M" for k in ms], f"real ({n} validation tracks)"],
                          cross_rows),
    )


def ensemble_result(m: dict) -> Result:
    """The controller evolved in three Ms' dreams at once, each candidate scored by the worst (scripts/
    carracing_round3.py --ensemble), on the validation tracks and once on the 100 held-out tracks."""
    r3 = load_json("carracing_round3.json")
    c = {x["name"]: x for x in r3["candidates"]}
    e, r2 = c["ensemble"], c["round2"]
    held = r3.get("ensemble_heldout")
    require(e["validation"]["mean"] > max(r2["validation"]["mean"], c["round3_in_round2_m"]["validation"]["mean"])
            + 50, "the ensemble's controller beats round 2's and the same-size search in round 2's M")
    require(e["validation"]["std"] < r2["validation"]["std"] / 2, "and it varies less from track to track")
    n = r3["validation_tracks"]
    heldout = ""
    other_variants = ("--dropout", "--all-data", "--in-round2-m", "evolve --every-round")  # the ensemble needs none
    commands = [x for x in r3["commands"] if "ensemble" in x or not any(v in x for v in other_variants)]
    if held:
        row1 = next(x for x in ledger_setups()[DREAM_ONLY] if x["stage"] == "evaluation")["result"]
        require(held["episodes"] == row1["episodes"] == 100 and [held["seed"]] == row1["reset_seeds"],
                "the ensemble's controller was scored on the same 100 held-out tracks as round 2's")
        heldout = (" On the 100 held-out tracks, evaluated once after it was picked on the validation tracks, it "
                   f"scored **{pm(held['mean'], held['std'])}**; round 2's controller, on the same tracks, scored "
                   f"{pm(row1['mean'], row1['std'])} (section 'Five controllers on held-out tracks').")
        commands = [*commands, held["command"]]
    return Result(
        "A dream that is harder to cheat: an ensemble of Ms",
        "Three Ms made three dreams: round 2's M, the M fine-tuned on round 3's episodes, and the M fine-tuned on "
        "every round's episodes. All three share data and descend from round 2's weights: the last two start from "
        "them, and the every-round M's data include the episodes round 2's M trained on. CMA-ES scored each "
        "controller it tried in all three and kept the worst of its three mean scores, so a mistake that only one M "
        "makes earns nothing extra. This is a robust objective over an ensemble of models: a harsher, minimum-based "
        "relative of EPOpt's (Rajeswaran et al. 2017), which averages the worst fraction of its simulated episodes; "
        "MOPO (Yu et al. 2020) instead subtracts from each predicted reward the largest uncertainty among its "
        "members, MOReL (Kidambi et al. 2020) ends a model rollout with a fixed penalty once the members disagree "
        "too much, and Dropout's Dream Land (Wellmer and Kwok 2021) averages over many dropout dreams of one M. In "
        "each dream the controller reads z and that M's memory h; in the real game both come from round 2's V and "
        "M. New dreams of the three Ms pay it "
        f"{joined([f'{f1(v)} ({k})' for k, v in r3['cross']['scores']['ensemble'].items()])}; all three were in "
        "its own objective, so no left-out M checked it. On the validation tracks it scored "
        f"**{pm(e['validation']['mean'], e['validation']['std'])}**, against "
        f"{pm(c['round3_in_round2_m']['validation']['mean'], c['round3_in_round2_m']['validation']['std'])} for "
        "the search with the same population and generations in round 2's M alone (16 dreams a candidate there, "
        "24 here) and "
        f"{pm(r2['validation']['mean'], r2['validation']['std'])} for round 2's controller. Its search never saw "
        "a real score, but the validation tracks did choose among the 7 controllers of this section and the last, "
        "and the ensemble was tried after the failures above. It differs from the plain search in more than "
        "pessimism too: its dreams start from every round's first frames, and each controller gets 8 dreams per "
        "member. One run, one seed."
        f"{heldout}",
        f"{n} validation tracks (seeds {count(r3['validation_seed'])}–{count(r3['validation_seed'] + n - 1)}); "
        f"search: population {r3['search']['population']} × 8 dreams in each of the three Ms, "
        f"{e['dream_last_generation']['generation']} generations, one run"
        + ("; held out: the first 100 tracks after one environment reset with seed 5,000,000" if held else ""),
        commands,
        ["carracing_round3.json", "controller_carracing_ensemble.npz"],
        machine=r3["machine"],
    )


ROUND3 = "python scripts/carracing_round3.py"  # the three-Ms run's steps, as the ledger names them
SEEDS_COMMAND = "python scripts/carracing_search_seeds.py"  # the search over seeds, as the ledger names it


def long_search_result(m: dict) -> Result | None:
    """The three-Ms search run longer (scripts/carracing_long_search.py): the dream score generation by generation,
    the choice on fresh validation tracks and, by the rule fixed before the run, a held-out look unless generation
    20 won. None until the run has shipped its file."""
    if not (DATA / "carracing_long_search.json").exists():
        return None
    run = load_json("carracing_long_search.json")
    history, chosen, first = run["history"], run["selection"], run["first"]
    rows = {r["generation"]: r for r in chosen["generations"]}
    kept, n, seed = chosen["chosen"], run["validation_tracks"], run["validation_seed"]
    peak = max(history, key=lambda h: h["mean"])
    original = npz_details("controller_carracing_ensemble.npz")["history"]  # the shipped run, 20 generations
    before, at_first = original[first - 2], original[first - 1]
    earlier = original[first - 6]  # five generations back: one generation's change is within the noise
    validated = joined([f"{pm(rows[g]['mean'], rows[g]['std'])} (generation {g})" for g in sorted(rows)])
    require(at_first["mean"] > earlier["mean"] + 20 and at_first["sigma"] > before["sigma"],
            "at generation 20 the shipped run's step size and population mean dream score were still rising")
    require(kept == max(rows, key=lambda g: rows[g]["mean"]), "the kept generation is the best on validation")
    same = run["first_vs_shipped_max_abs"] == 0
    three_ms = ledger_setups()[ENSEMBLE]
    round4 = [e["result"]["mean"] for e in three_ms  # collected by the first run, then again
              if e["stage"] == "data" and e["command"].startswith(f"{ROUND3} collect --round 4")]
    require(len(round4) == 2, "round 4's episodes were collected twice")
    remade = ("its generation 20 is the shipped controller, weight for weight" if same else
              f"its generation 20 differs from the shipped controller by up to {run['first_vs_shipped_max_abs']:.2g} "
              f"in a weight, its population mean {f1(history[first - 1]['mean'])} against {f1(at_first['mean'])}")
    claim = (
        f"The search that made the three-Ms controller stopped after {first} generations while its step size was "
        f"still growing (σ {before['sigma']:.3f}, then {at_first['sigma']:.3f}) and its population's mean score, "
        f"each candidate's worst of the three dreams, was still rising ({f1(earlier['mean'])} at generation "
        f"{earlier['generation']}, {f1(at_first['mean'])} at {at_first['generation']}). Its run folder had not been "
        "kept, so the three Ms were made again by the same commands from episodes collected again with the same "
        f"seeds; every episode came out the same except round 4's, which round 3's remade controller drove (mean "
        f"return {f1(round4[1])} against {f1(round4[0])}). So the remade Ms are a second run of the recipe "
        f"({remade}), and that search went on to generation "
        f"{len(history)}. The population's mean dream score peaked at {f1(peak['mean'])} in generation "
        f"{peak['generation']} and ended at {f1(history[-1]['mean'])}. No real score entered the search. The search "
        f"means drove {n} fresh validation tracks: {validated}; generation {kept} was kept."
    )
    last = history[-1]["generation"]
    require(history[-1]["mean"] > history[kept - 1]["mean"] and rows[last]["mean"] < rows[kept]["mean"],
            "after the kept generation the dream score rose while the validation score fell")
    larger = load_json("carracing_round3.json")
    first_run = next(c for c in larger["candidates"] if c["name"] == "ensemble")["validation"]
    gap_se = np.hypot(first_run["std"], rows[first]["std"]) / np.sqrt(n)
    require(first_run["mean"] - rows[first]["mean"] > 5 * gap_se, "the two runs' generation 20 differ far beyond noise")
    claim += (
        f" From generation {kept} to {last} the population's mean dream score rose from "
        f"{f1(history[kept - 1]['mean'])} to {f1(history[-1]['mean'])} while the search mean's validation score fell "
        f"from {f1(rows[kept]['mean'])} to {f1(rows[last]['mean'])}: the longer search found mistakes that all three "
        "Ms share, as round 0's controller found one M's. And this second run of the recipe gave a far weaker "
        f"controller than the first: its generation {first} scored {f1(rows[first]['mean'])} on these tracks, where "
        f"the first run's scored {f1(first_run['mean'])} on its own {larger['validation_tracks']} (other tracks, where "
        "it was the best of seven controllers, so its score runs high; still, the gap is "
        f"{(first_run['mean'] - rows[first]['mean']) / gap_se:.0f} times its standard error). One run of the recipe "
        "is one draw. The remade generation 20 was not the shipped controller, so the shipped controller was not "
        "among the candidates the rule below speaks of; the rule was applied as written.")
    looks = [e for e in three_ms if e["stage"] == "evaluation"]
    require(looks[0]["result"].get("controller_sha256") in (None, m["controller_carracing_ensemble.npz"]["sha256"])
            and "controller_carracing_ensemble.npz" in looks[0]["command"], "the first look scored the shipped one")
    shipped = m["controller_carracing_ensemble_long.npz"]["sha256"]
    long_looks = [e for e in looks if e["result"].get("controller_sha256") == shipped]
    if kept == first:
        require(not long_looks, "generation 20 won, so the held-out tracks did not look again")
        claim += (f" By the rule fixed before the run, generation {first} winning meant no new held-out look: the "
                  "setup keeps its score.")
    else:
        require(len(long_looks) == 1 and looks[1] is long_looks[0], "the kept generation's look is the setup's second")
        new, old = long_looks[0]["result"], looks[0]["result"]
        require(new["reset_seeds"] == old["reset_seeds"] and len(new["returns"]) == len(old["returns"]) == 100,
                "both looks drove the same tracks")
        claim += (f" On the 100 held-out tracks generation {kept} scored **{pm(new['mean'], new['std'])}**, against "
                  f"{pm(old['mean'], old['std'])} for the shipped three-Ms controller: a difference of "
                  f"{paired(new, old)} track by track (mean ± standard error). By a rule fixed before the run, this "
                  "second look is the setup's score, higher or lower.")
    table_rows = [[str(h["generation"]), f"{f1(h['mean'])} ({f1(h['best'])})", f"{h['sigma']:.3f}",
                   pm(rows[h["generation"]]["mean"], rows[h["generation"]]["std"]) + (
                       " (kept)" if h["generation"] == kept else "") if h["generation"] in rows else ""]
                  for h in history if h["generation"] % 10 == 0 or h["generation"] in rows]
    return Result(
        "The three-Ms search, run longer",
        claim,
        f"one search (population 64 × 8 dreams in each of the three Ms); validation: {n} tracks (seeds "
        f"{count(seed)}–{count(seed + n - 1)}, never driven before)"
        + ("; held out: the first 100 tracks after one environment reset with seed 5,000,000" if kept != first else ""),
        [*run["commands"], *([looks[-1]["command"]] if kept != first else [])],
        ["carracing_long_search.json", "controller_carracing_ensemble_long.npz", "carracing_ledger.json"],
        machine=run["machine"],
        body=table(["generation", "population mean (best), worst of three dreams", "σ",
                    f"search mean on {n} validation tracks"], table_rows),
    )


def search_seeds_result(m: dict) -> Result:
    """The three-Ms search over several search seeds (scripts/carracing_search_seeds.py): each draw's dream score and
    its search mean on fresh validation tracks, the shipped three-Ms controller beside them, the draw kept and, by
    the rule fixed before the run, its one held-out look."""
    run = load_json("carracing_search_seeds.json")
    chosen, n, seed = run["selection"], run["validation_tracks"], run["validation_seed"]
    rows, ref = chosen["generations"], chosen["reference"]["generations"][0]  # a row's "generation": its seed
    kept = chosen["chosen"]
    require([r["generation"] for r in rows] == run["seeds"], "every draw drove the validation tracks")
    require(kept == max(rows, key=lambda r: r["mean"])["generation"], "the kept draw is the best on validation")
    real = np.array([r["mean"] for r in rows])
    dream = np.array([run["searches"][str(r["generation"])][-1]["mean"] for r in rows])
    agree = sum((dream[i] - dream[j]) * (real[i] - real[j]) > 0 for i in range(len(rows)) for j in range(i))
    pairs = len(rows) * (len(rows) - 1) // 2
    three_ms = ledger_setups()[ENSEMBLE]
    chose = [e for e in three_ms if e["stage"] == "selection" and e["command"].startswith(SEEDS_COMMAND)]
    require(len(chose) == 1 and chose[0]["real_steps"] == chosen["real_steps"] + chosen["reference"]["real_steps"],
            "the ledger counts every validation episode of the draws and of the reference once")
    looks = [e for e in three_ms if e["stage"] == "evaluation"]
    last, first = looks[-1]["result"], looks[0]["result"]
    require(last["controller_sha256"] == m["controller_carracing_ensemble_seeds.npz"]["sha256"],
            "the setup's last look scored the kept draw")
    require(last["reset_seeds"] == first["reset_seeds"] and len(last["returns"]) == len(first["returns"]) == 100,
            "the kept draw and the first run's controller drove the same held-out tracks")
    longer = looks[-2]["result"]
    claim = (
        f"One run of the three-Ms recipe is one draw: the first run's controller scored {f1(first['mean'])} on the "
        f"held-out tracks, the second run's {f1(longer['mean'])}. So the recipe's search ran again in the second run's "
        f"three Ms with {len(rows) - 1} more search seeds ({joined([str(s) for s in run['seeds'][1:]])}; seed "
        f"{run['seeds'][0]} is the longer search's own generation {run['generations']}): population 64 × 8 dreams in "
        f"each M, each candidate scored by its worst, {run['generations']} generations, no real score in the search. "
        f"Each draw's search mean drove {n} fresh validation tracks, and the first run's controller drove them too, "
        f"as a reference, not a candidate. Across the {len(rows)} draws the validation score was "
        f"{pm(real.mean(), real.std())} (mean ± standard deviation over the draws; from {f1(real.min())} to "
        f"{f1(real.max())}); the reference scored {pm(ref['mean'], ref['std'])} (± its spread over the tracks). The "
        f"dream's own score (each search's last population mean in its own dreams, not the search means in shared "
        f"dreams) ranked the draws as the real game did in {agree} of {pairs} pairs of draws; a coin gives "
        f"{pairs / 2:g}, though {len(rows)} draws are too few to call the dream's score useless. Seed {kept}'s draw "
        f"was kept. By a rule fixed before the run, it was scored once on the 100 held-out tracks: "
        f"**{pm(last['mean'], last['std'])}**, against {pm(first['mean'], first['std'])} for the first run's "
        f"controller (a difference of {paired(last, first)} track by track, mean ± standard error) and "
        f"{f1(longer['mean'])} for the longer search's; that look is the setup's score, higher or lower. It scores "
        f"the procedure '{len(rows)} draws, the best kept on real validation tracks', not one run of the recipe; and "
        "this search was started after the second look, so the held-out tracks have now judged the setup three "
        "times: the rule keeps the best look from being chosen, not the setup from being tried again."
    )
    table_rows = [[str(r["generation"]), f"{f1(d)} ({f1(run['searches'][str(r['generation'])][-1]['best'])})",
                   pm(r["mean"], r["std"]) + (" (kept)" if r["generation"] == kept else "")]
                  for r, d in zip(rows, dream)]
    table_rows.append(["the first run's controller (reference)", "", pm(ref["mean"], ref["std"])])
    return Result(
        "The three-Ms search, over search seeds",
        claim,
        f"{len(rows)} searches, one per search seed (population 64 × 8 dreams in each of the three Ms, "
        f"{run['generations']} generations); validation: {n} tracks (seeds {count(seed)}–{count(seed + n - 1)}, never "
        "driven before); held out: the first 100 tracks after one environment reset with seed 5,000,000",
        [*run["commands"], looks[-1]["command"]],
        ["carracing_search_seeds.json", "controller_carracing_ensemble_seeds.npz", "carracing_ledger.json"],
        machine=run["machine"],
        body=table(["search seed", f"dream after {run['generations']} generations: population mean (best), worst "
                    "of three", f"search mean on {n} validation tracks"], table_rows),
    )


def next_round_result(m: dict) -> Result:
    """One more round from the three-Ms controller, twice (scripts/carracing_round5.py: noise 0.1, then 0.03 on other
    tracks): its episodes, an M trained on them, the controller evolved further in two Ms' dreams, on the validation
    tracks; each M's dream of both controllers."""
    tries = [load_json(f"carracing_round{n}.json") for n in (5, 6)]
    start = next(c for c in load_json("carracing_round3.json")["candidates"] if c["name"] == "ensemble")["validation"]
    for r in tries:
        dreams = r["cross"]["scores"][f"round{r['round']}"]
        require(r["validation"]["mean"] < start["mean"] - 100, "each new controller is worse than its start")
        require(min(dreams.values()) > r["validation"]["mean"] + 100, "both Ms over-pay each new controller")
    quiet, noisy = tries[1], tries[0]
    v, s, n = noisy["validation"], noisy["search"], noisy["validation_tracks"]
    rows = []
    for r in tries:
        new, old = r["cross"]["scores"][f"round{r['round']}"], r["cross"]["scores"]["ensemble"]
        m_new = f"round {r['round']}"  # the new M's label in the dreams
        rows.append([f"{r['noise']:g}", str(r["episodes"]), pm(r["data_returns"]["mean"], r["data_returns"]["std"]),
                     f"{f1(old['round 2'])} / {f1(old[m_new])}", f"{f1(new['round 2'])} / {f1(new[m_new])}",
                     f"**{pm(r['validation']['mean'], r['validation']['std'])}**"])
    spent = sum(r["data_real_steps"] + r["validation"]["real_steps"] for r in tries)
    return Result(
        "One more round, driven by the three-Ms controller",
        "The three-Ms controller drove new real episodes with action noise, twice: "
        f"{noisy['episodes']} episodes with noise {noisy['noise']:g}, then {quiet['episodes']} on other tracks with "
        f"noise {quiet['noise']:g}. Each time round 2's M was trained further on them for {noisy['epochs']} epochs, "
        "and CMA-ES, starting from the three-Ms controller, searched in the dreams of round 2's M and the new one, "
        "each candidate scored by its worse dream. Both new controllers did worse on the validation tracks than the "
        f"controller they started from ({pm(start['mean'], start['std'])}, a score that was picked on these same "
        f"tracks and so runs high): {pm(v['mean'], v['std'])} ({sum(x > 650 for x in v['returns'])} tracks above "
        f"650, {sum(x < 100 for x in v['returns'])} below 100) and "
        f"{pm(quiet['validation']['mean'], quiet['validation']['std'])} (below 0 on "
        f"{sum(x < 0 for x in quiet['validation']['returns'])} of {n} tracks). Neither was "
        "scored on the held-out tracks. Both Ms' fresh dreams over-paid each new controller, by about 200 to 700 "
        "points. In both tries the new M paid the starting controller about what its noisy episodes scored, and as "
        "the lower of the two dreams it set the search's objective. Unlike the previous result's three Ms, here two "
        "Ms searched together, and the new one had seen the episodes of one controller only. One run each; the two "
        "tries also differ in episodes, M updates, tracks and seeds, so the noise's effect is not isolated. Dream "
        f"scores compare within one try only: each try's dreams start from its own tracks. The two tries together "
        f"spent {count(spent)} real steps ({' + '.join(count(r['data_real_steps']) for r in tries)} in episodes, "
        f"{len(tries)} × {count(v['real_steps'])} on the validation tracks); the ledger counts them for no setup, "
        "since nothing they made was kept and the three-Ms controller's held-out score came before them.",
        f"{n} validation tracks (seeds {count(noisy['validation_seed'])}–{count(noisy['validation_seed'] + n - 1)}); "
        f"search: population {s['population']} × {s['rollouts']} dreams in each of the two Ms, {s['generations']} "
        f"generations from the three-Ms controller (initial step size {s['sigma_init']:g}); dreams: "
        f"{noisy['cross']['dreams']} per controller and M (seed {noisy['cross']['seed']}); one run each",
        [c for r in tries for c in r["commands"]],
        ["carracing_round5.json", "carracing_round6.json"],
        machine=noisy["machine"],
        body=table(["action noise", "episodes", "their real score", "start: dream of round 2's M / new M",
                    "new controller: dream of round 2's M / new M", f"new controller: real ({n} validation tracks)"],
                   rows),
    )


def refined_ensemble_result(ledger: dict[str, list[dict]]) -> Result:
    """The three-Ms controller refined by CMA-ES in the real game (evolve-real --select), a run in two parts: every
    generation's population on its own two tracks, the search means that drove each range of validation tracks,
    the mean each range kept, and each kept mean's score on the 100 held-out tracks, the last one beside the first
    and beside the refinement of round 2's controller, track by track."""
    d = npz_details("controller_carracing_refined_ensemble.npz")
    hist, st = d["history"], d["settings"]
    own = [e for e in ledger[REFINED_ENSEMBLE] if not in_wide_run(e)]  # the first real run only
    parts = [e for e in own if e["stage"] == "refinement"]
    choices = [e for e in own if "chosen_generation" in e["result"]]  # not the restated choices among controllers
    looks = [e for e in own if e["stage"] == "evaluation"]
    require(len(parts) == len(choices) == len(looks) == 2, "a run in two parts: each part chosen and scored once")
    ev, first = looks[-1]["result"], looks[0]["result"]
    old = next(e for e in ledger[REFINED] if e["stage"] == "evaluation")["result"]
    old_refine = next(e for e in ledger[REFINED] if e["stage"] == "refinement")
    old_sigma = re.search(r"--sigma-init ([\d.]+)", old_refine["command"]).group(1)
    validated = [{row["generation"]: row for row in c["result"]["generations"]} for c in choices]
    kept = [v[c["result"]["chosen_generation"]] for v, c in zip(validated, choices)]
    for v, k in zip(validated, kept):
        require(k["mean"] == max(row["mean"] for row in v.values()), "each kept mean is its range's validation best")
    require(d["selection"]["chosen"] == choices[-1]["result"]["chosen_generation"], "the shipped mean is the last kept")
    require(all(e["episodes"] == 100 and e["reset_seeds"] == old["reset_seeds"] for e in (ev, first)),
            "the same 100 held-out tracks")
    shipped = hashlib.sha256((DATA / "controller_carracing_refined_ensemble.npz").read_bytes()).hexdigest()
    require(ev["controller_sha256"] == shipped,
            "the last look scored the shipped controller")
    require(len(hist) == parts[-1]["result"]["generations"], "the shipped history is the whole run")
    before = [e for e in own if e["stage"] != "evaluation"]
    spent = sum(e["real_steps"] for e in before)
    at_most = "" if all(e["exact"] for e in before) else "at most "
    require(spent < 3_000_000, "within 3 million real steps before the held-out tracks")
    n = ev["episodes"]

    gap, gap_se = ev["mean"] - old["mean"], np.sqrt((ev["std"] ** 2 + old["std"] ** 2) / n)
    searched = sum(e["real_steps"] for e in (*parts, *choices))
    ranges = [c["result"]["validation_seeds"] for c in choices]
    rows = [[str(h["generation"]), f"{f1(h['mean'])} ({f1(h['best'])})", count(h["total_real_steps"])]
            + [pm(v[h["generation"]]["mean"], v[h["generation"]]["std"]) + (" (kept)" if v[h["generation"]] is k
                                                                              else "") if h["generation"] in v else ""
               for v, k in zip(validated, kept)] for h in hist]
    rows.insert(0, ["0 (the start)", "", "0"] + [pm(v[0]["mean"], v[0]["std"]) + (" (kept)" if v[0] is k else "")
                                                for v, k in zip(validated, kept)])
    g1, g2 = (c["result"]["chosen_generation"] for c in choices)
    since = sorted(validated[1])[1]
    return Result(
        "Real CMA-ES from the three-Ms controller",
        f"The controller evolved in three Ms' dreams was refined by CMA-ES in the real game: {len(hist)} generations "
        f"of {st['population']} candidates, each scored on {st['rollouts']} real tracks (seed {st['seed']}, initial "
        f"step size σ = {st['sigma_init']:g}; the refinement of round 2's controller used σ = {old_sigma} and "
        f"{old_refine['result']['generations']} generations and kept its last). The run went in two parts. After "
        f"{parts[0]['result']['generations']} generations (it was launched for 18 and stopped for time), the search "
        "mean (the centre CMA-ES draws its candidates around) at the start and after every third generation drove "
        f"16 validation tracks, the same tracks that had chosen the start among seven controllers, and generation "
        f"{g1} scored best there ({pm(kept[0]['mean'], kept[0]['std'])}); on the 100 held-out tracks it scored "
        f"{pm(first['mean'], first['std'])}. The run then went on to generation {len(hist)}. Those validation "
        f"tracks had now chosen twice, so {len(choices[-1]['result']['reset_seeds'])} fresh ones (seeds "
        f"{count(ranges[-1][0])}–{count(ranges[-1][1])}) chose again among the start, generation {since} and every "
        f"third generation after it: generation {g2} scored best ({pm(kept[1]['mean'], kept[1]['std'])}; generation "
        f"{g1} scored {f1(validated[1][g1]['mean'])} there, against {f1(kept[0]['mean'])} on the tracks that had "
        f"picked it, and the start {f1(validated[1][0]['mean'])} against {f1(validated[0][0]['mean'])}: the fresh "
        "tracks may be harder, and the best of several noisy 16-track means runs high, this one included). So the "
        "held-out tracks scored this run twice, once for each kept controller; the second score replaced the "
        "first, by a rule fixed before it was known: a setup reports its last look, whichever is higher (the run "
        "of the next section looked once more). Generation "
        f"{g2} scored **{pm(ev['mean'], ev['std'])}** (mean ± standard deviation over the "
        f"tracks); track by track it differs from generation {g1} by {paired(ev, first)} (mean ± standard error over "
        f"the {n} shared tracks), so going on to generation {len(hist)} and choosing again bought nothing "
        f"measurable. Its median over the {n} tracks was {f1(np.median(ev['returns']))} (generation {g1}: "
        f"{f1(np.median(first['returns']))}), but {sum(r < 550 for r in ev['returns'])} tracks fell below 550 "
        f"(generation {g1}: {sum(r < 550 for r in first['returns'])}): in this run the low tail, not the median, "
        "accounts for the lower mean. "
        f"'Dream, then real CMA-ES' scored {pm(old['mean'], old['std'])} on them: a difference of {pm(gap, gap_se)} "
        "(± its standard error, from the two means and spreads: that evaluation kept no per-track returns to pair). "
        "The two refinements differ in their start, σ, seed, length and in choosing a generation on validation "
        "tracks, so this one run cannot say which of these helped. The run spent "
        f"{count(sum(e['real_steps'] for e in parts))} real CMA-ES steps and "
        f"{count(sum(e['real_steps'] for e in choices))} on validation tracks ({count(searched)} together, against "
        f"{count(old_refine['real_steps'])}); with the three-Ms controller's own data and selection, {at_most}"
        f"{count(spent)} real steps in all before its second held-out evaluation. The two held-out evaluations' "
        f"{count(looks[0]['real_steps'])} and {count(looks[1]['real_steps'])} steps are in the evaluation column of "
        "'Five controllers on held-out tracks', outside that budget. One run, one seed.",
        f"each candidate the mean of {st['rollouts']} real tracks, a population of {st['population']}; validation: "
        + joined([f"16 tracks (seeds {count(a)}–{count(b)})" for a, b in ranges]) + "; held out: the first 100 "
        "tracks after one environment reset with seed 5,000,000",
        [parts[0]["command"], parts[-1]["command"], looks[-1]["command"],
         f"python scripts/carracing_ledger.py --restate {ENSEMBLE} {REFINED_ENSEMBLE} data selection"],
        ["controller_carracing_refined_ensemble.npz", "carracing_ledger.json"],
        machine=machines([*parts, *choices, *looks]),
        body=table(["generation", "population mean (best), its 2 tracks", "real CMA-ES steps so far"]
                   + [f"search mean on validation tracks {count(a)}–{count(b)}" for a, b in ranges], rows),
    )

def in_wide_run(entry: dict) -> bool:
    """Whether a ledger entry is of the three-Ms setup's second real CMA-ES run (8 tracks a candidate): its run
    folder, or the held-out look at the controller it kept."""
    return any(name in entry["command"] for name in ("runs/cr_real_wide/", "controller_carracing_refined_wide.npz"))


def refined_wide_result(m: dict) -> Result:
    """The three-Ms setup's second real CMA-ES run (scripts/carracing_refine_wide.sh): from the first run's kept
    controller, 8 real tracks a candidate; the choice on 32 fresh validation tracks and, by the rule fixed before the
    run, a held-out look unless the start won."""
    run = load_json("carracing_refine_wide.json")
    history, chosen, st = run["history"], run["selection"], run["settings"]
    own = ledger_setups()[REFINED_ENSEMBLE]
    wide = [e for e in own if in_wide_run(e)]
    (part,), (choice,) = ([e for e in wide if e["stage"] == s] for s in ("refinement", "selection"))
    rows = {r["generation"]: r for r in chosen["generations"]}
    kept, n = chosen["chosen"], len(chosen["seeds"])
    require(kept == max(rows, key=lambda g: rows[g]["mean"]), "the kept mean is the best on validation")
    require(part["real_steps"] == history[-1]["total_real_steps"] and choice["real_steps"] == chosen["real_steps"],
            "the ledger counts every generation and every validation episode once")
    earlier = [e for e in own if e["stage"] == "evaluation" and not in_wide_run(e)]
    start_look = earlier[-1]["result"]  # the start's own look: the first run's last
    spent = sum(e["real_steps"] for e in own if e["stage"] != "evaluation")
    require(spent < 3_000_000, "within 3 million real steps before the held-out tracks")
    at_most = "" if all(e["exact"] for e in own if e["stage"] != "evaluation") else "at most "
    means = [h["mean"] for h in history]
    validated = joined([f"{pm(rows[g]['mean'], rows[g]['std'])} ({'the start' if g == 0 else f'generation {g}'})"
                        for g in sorted(rows)])
    claim = (
        f"The first real CMA-ES run of the three-Ms controller scored each candidate on 2 real tracks. A track's "
        f"score spreads by about {f1(start_look['std'])} points (its kept controller on the held-out tracks), so a "
        f"2-track mean carries a noise of about {f1(start_look['std'] / np.sqrt(2))} points; 8 tracks halve it. "
        f"A second run started from that run's kept controller with {st['rollouts']} tracks a "
        f"candidate: population {st['population']}, σ = {st['sigma_init']:g}, seed {st['seed']}, {len(history)} "
        f"generations, {count(history[-1]['total_real_steps'])} real steps. Its population's mean went from "
        f"{f1(means[0])} to {f1(means[-1])} (lowest {f1(min(means))}, highest {f1(max(means))}). The start and the "
        f"search means after every third generation drove {n} fresh validation tracks (seeds "
        f"{count(chosen['seeds'][0])}–{count(chosen['seeds'][-1])}): {validated}; "
        + ("the start was kept. By the rule fixed before the run, the held-out tracks did not look again, and the "
           f"setup keeps {f1(start_look['mean'])}." if kept == 0 else f"generation {kept} was kept.")
    )
    commands = [part["command"]]
    if kept != 0:
        (look,) = [e for e in wide if e["stage"] == "evaluation"]
        ev = look["result"]
        gain, error = paired_difference(ev, start_look)
        require(look is own[-1] or all(e["stage"] != "evaluation" for e in own[own.index(look) + 1:]),
                "the kept controller's look is the setup's last")
        require(ev["controller_sha256"] == m["controller_carracing_refined_wide.npz"]["sha256"],
                "the look scored the shipped file")
        claim += (f" On the 100 held-out tracks it scored **{pm(ev['mean'], ev['std'])}**, against "
                  f"{pm(start_look['mean'], start_look['std'])} for its start: a difference of "
                  f"{paired(ev, start_look)} track by track (mean ± standard error), "
                  + ("within two standard errors of no difference: this one run cannot tell them apart. "
                     if abs(gain) < 2 * error else "")
                  + "By the rule fixed before the run, this look is the setup's score, higher or lower, and its last "
                  "on these tracks.")
        commands.append(look["command"])
    claim += (f" With everything before it, the setup spent {at_most}{count(spent)} real steps before the held-out "
              "tracks, of the 3 million allowed. One run, one seed.")
    table_rows = [[str(h["generation"]), f"{f1(h['mean'])} ({f1(h['best'])})", count(h["total_real_steps"]),
                   pm(rows[h["generation"]]["mean"], rows[h["generation"]]["std"])
                   + (" (kept)" if h["generation"] == kept else "") if h["generation"] in rows else ""]
                  for h in history]
    table_rows.insert(0, ["0 (the start)", "", "0", pm(rows[0]["mean"], rows[0]["std"])
                          + (" (kept)" if kept == 0 else "")])
    return Result(
        "Real CMA-ES with 8 tracks a candidate",
        claim,
        f"each candidate the mean of {st['rollouts']} real tracks, a population of {st['population']}; validation: "
        f"{n} tracks (seeds {count(chosen['seeds'][0])}–{count(chosen['seeds'][-1])}, never driven before)"
        + ("; held out: the first 100 tracks after one environment reset with seed 5,000,000" if kept else ""),
        commands,
        ["carracing_refine_wide.json", *(["controller_carracing_refined_wide.npz"] if kept else []),
         "carracing_ledger.json"],
        machine=machines(wide),
        body=table(["generation", f"population mean (best), its {st['rollouts']} tracks", "real CMA-ES steps so far",
                    f"search mean on {n} validation tracks"], table_rows),
    )


def carracing_section(m: dict) -> Section:
    rounds = []
    for i, name in enumerate(CONTROLLERS):
        entry = m[f"{name}.npz"]
        history = npz_details(f"{name}.npz")["history"]
        ev = load_json(f"{name}_eval.json")
        rounds.append((i, entry, history, ev))
    sweep = load_json("tau_sweep.json")
    rand = sweep["random"]
    ledger = ledger_setups()
    selection = next(e for e in ledger[DREAM_ONLY] if e["stage"] == "selection" and "means" in e["result"])
    retrained = [m["mdnrnn_carracing_round1.pt"]["figures"], m["mdnrnn_carracing_round2.pt"]["figures"]]

    reals = [ev["mean"] for _, _, _, ev in rounds]
    dreams = [h[-1]["mean"] for _, _, h, _ in rounds]
    require(all(a < b for a, b in zip(reals, reals[1:])), "each round's real score is higher than the last")
    require(reals[0] < rand["real_mean"], "round 0 scores below the random policy")
    require(all(a >= b for a, b in zip(dreams, dreams[1:])), "the dream score does not rise over the rounds")

    srows = sorted(sweep["rows"], key=lambda r: r["tau"])
    require(all(r["real_mean"] < rand["real_mean"] for r in srows), "every tau's controller scores below random")
    require(
        all(a["dream_mean"] > b["dream_mean"] for a, b in zip(srows, srows[1:])), "the dream score falls as tau rises"
    )
    scfg = sweep["config"]

    # the three controllers on 100 held-out tracks, with their real steps by stage
    evals = {r: [e for e in ledger[r] if e["stage"] == "evaluation"][-1] for r in LABELS}  # a setup's last look
    stages = ["data", "selection", "refinement", "evaluation"]
    step_rows, totals = [], {}
    for r, label in LABELS.items():
        cells = []
        for stage in stages:
            es = [e for e in ledger[r] if e["stage"] == stage]
            n = sum(e["real_steps"] for e in es)
            cells.append(("0" if not es else ("" if all(e["exact"] for e in es) else "at most ") + count(n)))
        totals[r] = sum(e["real_steps"] for e in ledger[r])
        exact = all(e["exact"] for e in ledger[r])
        ev = evals[r]["result"]
        step_rows.append(
            [label, f"**{pm(ev['mean'], ev['std'])}**"] + cells + [("" if exact else "at most ") + count(totals[r])]
        )
    score = {r: evals[r]["result"]["mean"] for r in LABELS}
    require(score[REFINED] > score[DREAM_ONLY] > score[FROM_SCRATCH],
            "dream then real beats one M's dream, which beats real from scratch")
    ensemble_looks = [e["result"] for e in ledger[ENSEMBLE] if e["stage"] == "evaluation"]
    require(len(ensemble_looks) == 3, "the three-Ms setup met the held-out tracks three times: its first run, "
            "the longer search and the kept draw of the search over seeds")
    refined_looks = [e for e in ledger[REFINED_ENSEMBLE] if e["stage"] == "evaluation"]
    before = {r: totals[r] - sum(e["real_steps"] for e in ledger[r] if e["stage"] == "evaluation") for r in LABELS}
    recollected = sum(e["real_steps"] for e in ledger[ENSEMBLE] if e["result"].get("again"))  # kept nowhere
    refine = {r: sum(e["real_steps"] for e in ledger[r] if e["stage"] == "refinement") for r in (REFINED, FROM_SCRATCH)}
    require(abs(refine[REFINED] - refine[FROM_SCRATCH]) < 0.01 * refine[REFINED],
            "both real CMA-ES runs spent the same real steps")
    n_tracks = evals[DREAM_ONLY]["result"]["episodes"]
    reset = evals[DREAM_ONLY]["result"]["reset_seeds"][0]

    # real CMA-ES generation by generation
    h2 = npz_details("controller_carracing_refined.npz")["history"]
    d3 = npz_details("controller_carracing_from_scratch.npz")
    h3 = d3["history"]
    st = d3["settings"]
    gen_rows = [
        [
            str(a["generation"]),
            f"{f1(a['mean'])} ({f1(a['best'])})",
            f"{f1(b['mean'])} ({f1(b['best'])})",
            count(a["total_real_steps"]),
            count(b["total_real_steps"]),
        ]
        for a, b in zip(h2, h3)
    ]
    refinements = {r: [e for e in ledger[r] if e["stage"] == "refinement"][-1]  # a resumed run's last command
                   for r in (REFINED, REFINED_ENSEMBLE, FROM_SCRATCH)}
    larger, ensemble, next_round = larger_round_result(m), ensemble_result(m), next_round_result(m)
    longer, seeds = long_search_result(m), search_seeds_result(m)

    return Section(
        "CarRacing dream vs real",
        "06_dream_vs_real",
        "CarRacing: controllers trained in M's dream, scored in the real game, and the fixes. A score is "
        "the game's return: points for the track's tiles, minus a little every frame.",
        [
            Result(
                "Rounds of dream training",
                f"Each round collects {retrained[0]['new_episodes']} real episodes with the last controller (action "
                f"noise {retrained[0]['noise']:g}), trains M on all the data and evolves a new controller in the new "
                f"dream. The real score rose from {f1(reals[0])} (round 0, below random's {f1(rand['real_mean'])}: "
                f"that controller exploits M) to {joined([f1(x) for x in reals[1:]])}, while the population's mean "
                f"dream score did not rise ({joined([f1(x) for x in dreams])}). Round {rounds[-1][0]}'s controller is "
                "the one called 'dream only' below.",
                f"{rounds[0][3]['episodes']} real episodes per round, the same tracks for every round (the first "
                f"tracks of {selection['result']['num_envs']} environments reset with seeds "
                f"{joined([count(s) for s in selection['result']['reset_seeds']])}); one run",
                [r[1]["command"] for r in rounds] + [m["controller_carracing_round1_eval.json"]["command"]],
                [f"{name}{x}" for name in CONTROLLERS for x in (".npz", "_eval.json")]
                + ["manifest.json#mdnrnn_carracing_round1.pt", "manifest.json#mdnrnn_carracing_round2.pt"],
                body=table(
                    [
                        "round",
                        "generations in the dream",
                        "dream, population mean (best) in the last generation",
                        f"real ({rounds[0][3]['episodes']} episodes)",
                    ],
                    [
                        [str(i), str(len(h)), f"{f1(h[-1]['mean'])} ({f1(h[-1]['best'])})", pm(ev["mean"], ev["std"])]
                        for i, _, h, ev in rounds
                    ],
                ),
            ),
            larger,
            ensemble,
            *([longer] if longer else []),
            seeds,
            next_round,
            Result(
                "The τ sweep",
                f"One controller evolved in the round-0 dream at each temperature. Raising τ lowers the dream score "
                f"({f1(srows[0]['dream_mean'])} at τ = {srows[0]['tau']:g}, {f1(srows[-1]['dream_mean'])} at "
                f"τ = {srows[-1]['tau']:g}), but every controller scores below the random policy in reality "
                f"({f1(min(r['real_mean'] for r in srows))} to {f1(max(r['real_mean'] for r in srows))} against "
                f"{f1(rand['real_mean'])}): no temperature closes the gap with this M.",
                f"dream: {scfg['dream_episodes']} new dreams per controller; real: {scfg['real_episodes']} episodes "
                f"per controller, the same tracks for all; search: population {scfg['population']} × "
                f"{scfg['rollouts']} dreams, {scfg['generations']} generations (seed {scfg['seed']})",
                [m["tau_sweep.json"]["command"]],
                ["tau_sweep.json"],
                body=table(
                    ["τ", f"dream ({scfg['dream_episodes']} dreams)", f"real ({scfg['real_episodes']} episodes)"],
                    [
                        [f"{r['tau']:g}", pm(r["dream_mean"], r["dream_std"]), pm(r["real_mean"], r["real_std"])]
                        for r in srows
                    ]
                    + [["random policy", "", pm(rand["real_mean"], rand["real_std"])]],
                ),
            ),
            Result(
                "Five controllers on held-out tracks",
                f"On the same {n_tracks} held-out tracks, 'three Ms' dream, then real CMA-ES' scores "
                f"{pm(score[REFINED_ENSEMBLE], evals[REFINED_ENSEMBLE]['result']['std'])} and 'dream, then real "
                f"CMA-ES' {pm(score[REFINED], evals[REFINED]['result']['std'])} (within the noise of each other), "
                f"'dream only, one M' {pm(score[DREAM_ONLY], evals[DREAM_ONLY]['result']['std'])}, 'dream only, "
                "three Ms' "
                f"{pm(score[ENSEMBLE], evals[ENSEMBLE]['result']['std'])} and 'real CMA-ES from scratch' "
                f"{pm(score[FROM_SCRATCH], evals[FROM_SCRATCH]['result']['std'])}. The refinement of round 2's "
                f"controller and the search from zeros each spent about {count(refine[FROM_SCRATCH])} real CMA-ES "
                "steps; starting from the dream's controller was worth more than "
                "that whole budget spent from zeros. How many more steps the search from scratch needs to catch up was "
                "not measured. The three-Ms setup's score is its last look: the first run's controller scored "
                f"{pm(ensemble_looks[0]['mean'], ensemble_looks[0]['std'])} on these tracks, the longer search's "
                f"{f1(ensemble_looks[1]['mean'])}, and by rules fixed before each run, each look replaced the one "
                "before (sections 'The three-Ms search, run longer' and 'The three-Ms search, over search seeds'). "
                "No search of this setup met a real score; before the held-out tracks its runs spent at most "
                f"{count(before[ENSEMBLE])} real steps, all of them on episodes for the Ms and on the validation "
                "tracks that chose the controllers (section 'A dream that is harder to cheat: an ensemble of Ms'), "
                f"against at most {count(before[REFINED])} for 'dream, then real CMA-ES'. {count(recollected)} of its "
                "data steps collected again episodes "
                "whose first copies were not kept: they were spent, so they count, but a run that kept its episodes "
                "would not need them. The three-Ms controller refined in the real game started from the first run's "
                "controller; it is the sections 'Real CMA-ES from the three-Ms controller' and 'Real CMA-ES with 8 "
                f"tracks a candidate': its score is the last of {len(refined_looks)} held-out evaluations, and its "
                "evaluation column counts them all, as the three-Ms setup's does.",
                f"{n_tracks} real tracks per controller: the first {n_tracks} after one environment reset with seed "
                f"{count(reset)}, far from every seed used in training; one run per controller. Real steps by stage "
                "from the ledger; 'at most' marks stages whose steps were not recorded (counted as "
                f"{count(st['max_steps'])} steps, an episode's limit, per episode)",
                [e["command"] for e in (evals[DREAM_ONLY], evals[ENSEMBLE], refinements[REFINED], evals[REFINED],
                                        refinements[REFINED_ENSEMBLE], evals[REFINED_ENSEMBLE],
                                        refinements[FROM_SCRATCH], evals[FROM_SCRATCH])]
                + ["python scripts/carracing_ledger.py --ensemble"],
                ["carracing_ledger.json"],
                machine=machines([evals[DREAM_ONLY], refinements[REFINED], evals[REFINED],
                                  refinements[REFINED_ENSEMBLE], evals[REFINED_ENSEMBLE], refinements[FROM_SCRATCH],
                                  evals[FROM_SCRATCH]]),
                body=table(
                    ["controller", f"real ({n_tracks} tracks)"]
                    + [f"real steps: {s}" for s in stages]
                    + ["real steps in all"],
                    step_rows,
                ),
            ),
            Result(
                "Real CMA-ES, generation by generation",
                f"Started from the 'dream only' controller, real CMA-ES's population mean began at {f1(h2[0]['mean'])} "
                f"and ended at {f1(h2[-1]['mean'])} after {len(h2)} generations; started from zeros it began at "
                f"{f1(h3[0]['mean'])} and ended at {f1(h3[-1]['mean'])}. Candidates are the search mean plus noise, so "
                "these are not the scores of the kept controllers (those are in the result above).",
                f"each candidate the mean of {st['rollouts']} real tracks, a population of {st['population']}; one run "
                "each; best candidate in brackets",
                [refinements[REFINED]["command"], refinements[FROM_SCRATCH]["command"]],
                ["controller_carracing_refined.npz", "controller_carracing_from_scratch.npz"],
                machine=machines(list(refinements.values())),
                body=table(
                    [
                        "generation",
                        "from 'dream only': mean (best)",
                        "from zeros: mean (best)",
                        "real steps so far, from 'dream only'",
                        "real steps so far, from zeros",
                    ],
                    gen_rows,
                ),
            ),
            refined_ensemble_result(ledger),
            refined_wide_result(m),
        ],
    )


# ---------------------------------------------------------------------------------------------------- 07 CartPole


def cartpole_section(m: dict) -> Section:
    one = load_json("cartpole_results.json")
    over = load_json("cartpole_seeds.json")
    spread = load_json("cartpole_search_spread.json")
    cap = over["config"]["controller"]["max_steps"]
    rows = {r["name"]: r for r in over["rows"]}
    one_rows = {r["name"]: r for r in one["rows"]}
    n_seeds = len(over["seeds"])
    n_ep = over["config"]["eval_episodes"]
    fail, fix = over["failure_variant"], over["fixed_variant"]

    def at_cap(row):
        return sum(v == cap for v in row["real"]["per_seed"].values())

    wm = [r for r in over["rows"] if r["dream"] is not None]
    require(
        all(r["dream"]["min"] >= 0.99 * cap for r in wm), "every World Model variant dreams about the cap on every seed"
    )
    first_steps = rows[fail]["steps"]
    more = rows["random_all"]["steps"] / first_steps

    # the shipped single run
    one_table = [
        [
            r["label"],
            count(r["steps"]),
            "" if r["dream_mean"] is None else pm(r["dream_mean"], r["dream_std"]),
            pm(r["real_mean"], r["real_std"]),
        ]
        for r in one["rows"]
    ]
    require(
        one_rows[fail]["real_mean"] < cap and one_rows[fail]["dream_mean"] == cap,
        "the shipped failure dreams the cap and falls short in reality",
    )

    require(at_cap(rows[fix]) < n_seeds, "over seeds the shipped loop does not always reach the cap")

    # over seeds
    seed_table = []
    for r in over["rows"]:
        per = r["real"]["per_seed"]
        seed_table.append(
            [
                r["label"],
                count(r["steps"]),
                f"**{pm(r['real']['mean'], r['real']['std'])}**",
                ", ".join(f1(per[str(s)]) for s in r["seeds"]),
                f"{at_cap(r)} of {r['real']['n']}",
                "" if r["dream"] is None else f"{f1(r['dream']['min'])}–{f1(r['dream']['max'])}",
            ]
        )

    # the loops, round by round
    loops = [r for r in over["rows"] if len(r.get("rounds", ())) > 1]
    steps = loops[0]["curve"]["steps"]
    loop_table = [[r["label"]] + [pm(mu, sd) for mu, sd in zip(r["curve"]["mean"], r["curve"]["std"])] for r in loops]
    paper_loop = rows[fix]
    lows = [min(v) for v in paper_loop["curve"]["per_seed"].values()]
    require(
        all(max(v) == cap for v in paper_loop["curve"]["per_seed"].values()),
        "every seed of the loop reaches the cap in some round",
    )
    require(all(rd["dream"]["min"] == cap for rd in paper_loop["rounds"]), "the loop's dream says the cap every round")

    # DQN's curve
    dqn = over["curves"]["dqn"]
    worst = int(np.argmin(dqn["min"]))
    falls = all(any(b < a for a, b in zip(v, v[1:])) for v in dqn["per_seed"].values())
    require(falls, "every DQN seed's curve falls back at least once")
    dqn_table = [
        [count(s), pm(mu, sd), f"{f1(lo)}–{f1(hi)}"]
        for s, mu, sd, lo, hi in zip(dqn["steps"], dqn["mean"], dqn["std"], dqn["min"], dqn["max"])
    ]

    # the search spread
    sp_rows, sp_dreams = [], []
    for seed, reruns in sorted(spread["runs"].items(), key=lambda kv: int(kv[0])):
        own = rows[spread["variant"]]["real"]["per_seed"][seed]
        sp_rows.append([seed, f1(own)] + [f"{f1(r['real_mean'])} (dream {f1(r['dream_mean'])})" for r in reruns])
        sp_dreams += [r["dream_mean"] for r in reruns]
    s0 = sorted(spread["runs"], key=int)[0]
    search_ids = [r["search_seed"] for r in spread["runs"][s0]]

    return Section(
        "CartPole",
        "07_cartpole_failure",
        f"A World Model of CartPole that wins in its dream and fails in reality, and the fixes, against "
        f"DQN on the same budget of {count(over['budget'])} real steps. A score is the number of steps the "
        f"pole stays up, at most {count(cap)}.",
        [
            Result(
                "The shipped agents of notebook 07",
                f"In the run whose agents the notebook loads, the World Model trained on {count(first_steps)} random "
                f"steps with a learned done head dreams {f1(one_rows[fail]['dream_mean'])} and scores "
                f"{pm(one_rows[fail]['real_mean'], one_rows[fail]['real_std'])} in reality; the iterative loop with a "
                f"done head ends at {f1(one_rows[fix]['real_mean'])}, and DQN at {f1(one_rows['dqn']['real_mean'])}. "
                f"This is one seed: over {n_seeds} seeds (next result) the same failure variant scores "
                f"{f1(rows[fail]['real']['per_seed'][str(one['seed'])])} on seed {one['seed']}, and the loop is far "
                "less reliable.",
                f"{one['config']['eval_episodes']} real episodes and {one['config']['dream_episodes']} dreams per "
                f"agent; one training seed ({one['seed']})",
                [one["command"]],
                ["cartpole_results.json"],
                body=table(
                    [
                        "agent",
                        "real steps used",
                        f"dream ({one['config']['dream_episodes']} dreams)",
                        f"real ({one['config']['eval_episodes']} episodes)",
                    ],
                    one_table,
                ),
            ),
            Result(
                "CartPole over training seeds",
                f"Over {n_seeds} training seeds the dream promises about the cap for every World Model variant "
                f"({f1(min(r['dream']['min'] for r in wm))} to {f1(max(r['dream']['max'] for r in wm))}), and reality "
                f"rarely keeps the promise. On {count(first_steps)} random steps with a learned done head: "
                f"{pm(rows[fail]['real']['mean'], rows[fail]['real']['std'])} across seeds, the cap on "
                f"{at_cap(rows[fail])} of {n_seeds}. Using {more:g} times as much random data does not close the gap "
                f"({pm(rows['random_all']['real']['mean'], rows['random_all']['real']['std'])}); nor does the paper's "
                f"iterative loop alone ({pm(rows[fix]['real']['mean'], rows[fix]['real']['std'])}, the cap on "
                f"{at_cap(rows[fix])} of {n_seeds}). Searching C in longer dreams makes the loop reach the cap on "
                f"{at_cap(rows['iterative_long'])} of {n_seeds}; DQN, on real steps alone, reaches it on "
                f"{at_cap(rows['dqn'])} of {n_seeds}.",
                f"each seed's score is the mean of {n_ep} real episodes; mean ± standard deviation across the "
                f"{n_seeds} seeds ({joined([str(s) for s in over['seeds']])})",
                [over["command"]] + [over["seed_commands"][str(s)] for s in over["seeds"]],
                ["cartpole_seeds.json"] + [f"cartpole_seeds/seed{s}.json" for s in over["seeds"]],
                body=table(
                    [
                        "variant",
                        "real steps used",
                        "real, across seeds",
                        "real, per seed",
                        "seeds at the cap",
                        "dream, lowest–highest seed",
                    ],
                    seed_table,
                ),
            ),
            Result(
                "The loops, round by round",
                f"No loop improves steadily from round to round. With the learned done head (the paper's loop) every "
                f"seed reaches the cap in some round and falls to {f1(min(lows))}–{f1(max(lows))} in another, while "
                f"its dream says {f1(cap)} in every round: the last round's controller is a draw from that lottery.",
                f"each cell: mean ± standard deviation across {n_seeds} seeds of each seed's {n_ep}-episode mean",
                [over["command"]],
                ["cartpole_seeds.json"],
                body=table(["loop"] + [f"{count(s)} steps" for s in steps], loop_table),
            ),
            Result(
                "DQN's learning curve",
                f"DQN learns only from real steps, and not steadily: every seed's score falls back at least once, and "
                f"at {count(dqn['steps'][worst])} steps the training seeds score {f1(dqn['min'][worst])} to "
                f"{f1(dqn['max'][worst])}. At the end {at_cap(rows['dqn'])} of {n_seeds} seeds are at the cap. The "
                "curve's points are evaluations during training, on other episodes than the final score in 'CartPole "
                "over training seeds', so its last point differs a little from that score.",
                f"each point: mean ± standard deviation across {n_seeds} seeds of each seed's evaluation "
                "(lowest–highest seed)",
                [over["command"]],
                ["cartpole_seeds.json"],
                body=table(["real steps", "real, across seeds", "lowest–highest seed"], dqn_table),
            ),
            Result(
                "The same M, searched again",
                "Keeping M and its data and only running CMA-ES again with other seeds "
                f"({joined([str(s) for s in search_ids])}) moves the failure variant's real score on seed {s0} from "
                f"{f1(rows[spread['variant']]['real']['per_seed'][s0])} to "
                f"{joined([f1(r['real_mean']) for r in spread['runs'][s0]])}, while every search dreams "
                f"{f1(min(sp_dreams))} to {f1(max(sp_dreams))}: a dream where every controller reaches the cap cannot "
                "rank them.",
                f"{spread['runs'][s0][0]['episodes']} real episodes per controller; training seeds "
                f"{joined(sorted(spread['runs'], key=int))}",
                [spread["command"]],
                ["cartpole_search_spread.json"],
                body=table(
                    ["training seed", "the over-seeds table's C"]
                    + [f"CMA-ES seed {s}: real (dream)" for s in search_ids],
                    sp_rows,
                ),
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- 08 Dreamer


def _first_at_best(curve: list[dict]) -> tuple[float, int, int]:
    """The curve's best score, the first step that reached it, and the step from which it stayed there."""
    key = "steps" if "steps" in curve[0] else "step"
    means = [c["mean"] for c in curve]
    best = max(means)
    first = next(c[key] for c in curve if c["mean"] == best)
    stay = len(curve) - 1
    while stay > 0 and means[stay - 1] == best:
        stay -= 1
    return best, first, curve[stay][key]


def dreamer_section(m: dict) -> Section:
    names = ["dreamer_cartpole.json", "dreamer_cartpole_seed1.json", "dreamer_cartpole_seed2.json"]
    runs = [load_json(n) for n in names]
    g099 = load_json("dreamer_cartpole_gamma099.json")
    require(len({r["config"]["gamma"] for r in runs}) == 1, "the three seeds share one discount")
    finals = [r["final"]["mean"] for r in runs]
    mean, std = stats(finals)
    reach = [_first_at_best(r["curve"]) for r in runs]
    params = runs[0]["parameters"]
    rows = [
        [
            str(r["config"]["seed"]),
            pm(r["final"]["mean"], r["final"]["std"]),
            count(first),
            count(stay),
            minutes(r["train_seconds"]),
            minutes(r["train_cpu_seconds"]),
        ]
        for r, (_, first, stay) in zip(runs, reach)
    ]
    rows.append([f"across {len(runs)} seeds", f"**{pm(mean, std)}**", "", "", "", ""])
    gbest, gfirst, gstay = _first_at_best(g099["curve"])
    base = runs[0]
    bbest, bfirst, bstay = reach[0]
    return Section(
        "Dreamer",
        "08_dreamer",
        "A minimal Dreamer (an RSSM world model, an actor and a critic trained in imagination) on CartPole-v1.",
        [
            Result(
                "Minimal Dreamer on CartPole",
                f"A minimal Dreamer ({count(params['total (trained)'])} parameters: world model "
                f"{count(params['world model'])}, actor {count(params['actor'])}, critic {count(params['critic'])}) "
                f"ends at {joined([f1(x) for x in finals])} with {count(base['real_steps'])} real steps: "
                f"{pm(mean, std)} across {len(runs)} training seeds. Each first reached its best evaluation between "
                f"{count(min(x[1] for x in reach))} and {count(max(x[1] for x in reach))} real steps. Compare the "
                "World Model agents and DQN on the same budget in section 'CartPole'.",
                f"final score: {base['final']['episodes']} real episodes per seed; learning curve: an evaluation of "
                f"{base['config']['eval_episodes']} episodes every {count(base['config']['eval_every'])} real steps; "
                f"{len(runs)} training seeds; {base['torch_threads']} torch thread",
                [r["command"] for r in runs],
                names,
                body=table(
                    [
                        "training seed",
                        f"final real ({base['final']['episodes']} episodes)",
                        "first at its best (real steps)",
                        "at its best from (real steps)",
                        "wall time",
                        "CPU time",
                    ],
                    rows,
                ),
            ),
            Result(
                "Dreamer with a shorter discount",
                f"With discount γ = {g099['config']['gamma']:g} instead of {base['config']['gamma']:g} (seed "
                f"{g099['config']['seed']}, run on an earlier version of the code, as its manifest entry says), the "
                f"same agent also ends at {pm(g099['final']['mean'], g099['final']['std'])}. It first reached "
                f"{f1(gbest)} after {count(gfirst)} real steps and stayed there from {count(gstay)}; with γ = "
                f"{base['config']['gamma']:g} the same seed first reached {f1(bbest)} after {count(bfirst)} and stayed "
                f"from {count(bstay)}.",
                f"final score: {g099['final']['episodes']} real episodes; learning curve: "
                f"{g099['config']['eval_episodes']} episodes every {count(g099['config']['eval_every'])} real steps; "
                "one training seed",
                [g099["command"]],
                ["dreamer_cartpole_gamma099.json"],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- benchmarks


def performance_section(m: dict) -> Section:
    tc = load_json("takecover_results.json")
    seeds = load_json("takecover_training_seeds.json")
    ledger = ledger_setups()
    sweep = load_json("tau_sweep.json")
    one = load_json("cartpole_results.json")
    over = load_json("cartpole_seeds.json")
    mdn = m["mdnrnn_carracing.pt"]

    stage_rows = [[name, minutes(s["seconds"])] for name, s in tc["stages"].items()]
    longest = max(tc["stages"], key=lambda k: tc["stages"][k]["seconds"])
    hours = [run["total_seconds"] / 3600 for run in seeds["runs"]]
    n_rounds = max(len(run["rounds"]) for run in seeds["runs"])
    per_seed_hours = joined([f"seed {run['seed']}: {run['total_seconds'] / 3600:.1f} h" for run in seeds["runs"]])

    refinements = [(r, [e for e in ledger[r] if e["stage"] == "refinement"])  # a resumed run: one entry a part
                   for r in (REFINED, REFINED_ENSEMBLE, FROM_SCRATCH)]
    evals = [(r, e) for r in LABELS for e in ledger[r] if e["stage"] == "evaluation"]
    first_run = npz_details("controller_carracing_refined_ensemble.npz")["history"]  # the three-Ms setup's two runs
    wide_run = load_json("carracing_refine_wide.json")["history"]
    hist = {
        REFINED: npz_details("controller_carracing_refined.npz")["history"],
        REFINED_ENSEMBLE: first_run + wide_run,
        FROM_SCRATCH: npz_details("controller_carracing_from_scratch.npz")["history"],
    }
    es_rows = []
    for r, parts in refinements:
        rates = [h["real_steps_per_s"] for h in hist[r]]
        steps, seconds = sum(e["real_steps"] for e in parts), sum(e["wall_seconds"] for e in parts)
        es_rows.append(
            [
                LABELS[r],
                count(steps),
                minutes(seconds),
                f1(steps / seconds),
                f"{f1(min(rates))}–{f1(max(rates))} (median {f1(float(np.median(rates)))})",
            ]
        )
    ev_rows = []
    for r, e in evals:
        cpu = e["result"].get("user_cpu_seconds")
        looks = [x for q, x in evals if q == r]
        ev_rows.append(
            [
                LABELS[r] + (f" (look {looks.index(e) + 1} of {len(looks)})" if len(looks) > 1 else ""),
                count(e["real_steps"]),
                minutes(e["wall_seconds"]),
                f1(e["real_steps"] / e["wall_seconds"]),
                "" if cpu is None else minutes(cpu),
            ]
        )
    sweep_rows = [[f"{r['tau']:g}", minutes(r["seconds"])] for r in sorted(sweep["rows"], key=lambda r: r["tau"])]
    seed_secs = over["seconds"]
    f = mdn["figures"]
    frames = mdn["training_data"]["rollouts"]

    return Section(
        "Benchmarks and performance",
        "",
        "Wall times and throughputs that the shipped files record. The step rates that notebooks measure "
        "as they run (the real environments, the batched dream, driving the dream yourself) are not kept "
        "in data/ and are not listed here. Wall times on a shared machine say how much of the machine a "
        "run got as much as how fast the code is.",
        [
            Result(
                "Take Cover, stage by stage",
                f"The Take Cover experiment behind the temperature table, from collecting the data to scoring "
                f"{len(tc['rows'])} controllers, took {minutes(tc['total_seconds'])} in all; the longest stage was "
                f"'{longest}' ({minutes(tc['stages'][longest]['seconds'])}).",
                f"one run (seed {tc['config']['seed']}); {tc['config']['workers']} worker processes, "
                f"{tc['config']['threads']} torch thread each",
                [m["takecover_results.json"]["command"]],
                ["takecover_results.json"],
                body=table(["stage", "wall time"], stage_rows),
            ),
            Result(
                "Take Cover with rounds",
                f"A whole training seed with {n_rounds} rounds of iterative training and the held-out look took "
                f"{hours[0] if len(hours) == 1 else min(hours):.1f} to {max(hours):.1f} hours of wall time "
                f"({per_seed_hours}).",
                f"{len(hours)} runs, one per training seed, run side by side",
                [run["command"] for run in seeds["runs"]],
                ["takecover_training_seeds.json"],
            ),
            Result(
                "Real CMA-ES on CarRacing",
                "Real CMA-ES spends nearly all of its time in the real game: the whole run's real steps per second of "
                "wall time, and the spread of that rate over its generations.",
                f"one run each, two for three Ms' dream, then real CMA-ES ({len(first_run)} generations of 2 tracks a "
                f"candidate, then {len(wide_run)} of 8); "
                + joined([f"{len(h)} generations ({LABELS[r]})" for r, h in hist.items()]),
                [e["command"] for _, parts in refinements for e in parts],
                ["carracing_ledger.json", "controller_carracing_refined.npz",
                 "controller_carracing_refined_ensemble.npz", "carracing_refine_wide.json",
                 "controller_carracing_from_scratch.npz"],
                machine=machines([e for _, parts in refinements for e in parts]),
                body=table(
                    ["run", "real steps", "wall time", "real steps per second", "per generation: lowest–highest"],
                    es_rows,
                ),
            ),
            Result(
                "Scoring a CarRacing controller on held-out tracks",
                "Scoring one controller (V, M and C together) on the held-out tracks, one environment at a time.",
                "one run per look at the held-out tracks",
                list(dict.fromkeys(e["command"] for _, e in evals)),
                ["carracing_ledger.json"],
                machine=machines([e for _, e in evals]),
                body=table(
                    ["controller", "real steps", "wall time", "real steps per second", "CPU time (user)"], ev_rows
                ),
            ),
            Result(
                "The CarRacing τ sweep, per temperature",
                "Evolving one controller in the dream and scoring it in the real game took this long per temperature.",
                f"one run; {sweep['config']['real_episodes']} real episodes per temperature, "
                f"{sweep['config']['num_envs']} environments at once",
                [m["tau_sweep.json"]["command"]],
                ["tau_sweep.json"],
                body=table(["τ", "wall time"], sweep_rows),
            ),
            Result(
                "The CartPole tables",
                f"The shipped single-seed table took {minutes(one['seconds'])}; one seed of the over-seeds sweep took "
                f"{minutes(min(seed_secs.values()))} to {minutes(max(seed_secs.values()))}.",
                f"one run, and {len(seed_secs)} seeds run side by side",
                [one["command"], over["command"]],
                ["cartpole_results.json", "cartpole_seeds.json"],
            ),
            Result(
                "Training M on CarRacing",
                f"One epoch of M's training over {frames} took {f['seconds']:.1f} s: {count(f['timesteps_per_s'])} "
                "timesteps per second (the last epoch's record).",
                "one training run",
                [mdn["command"]],
                ["manifest.json#mdnrnn_carracing.pt"],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------- the page

INTRO = """\
# Results

Every measured result of the course, by notebook in course order, then the benchmarks. Each result gives what it
shows, its numbers with their spread, how many episodes, tracks or seeds stand behind them, the command that
measures it, the machine it ran on where a file records one, and the file in `data/` it comes from
(`data/manifest.json` lists each file with its sha256, the command that made it and its date).

This page is generated from `data/` by `{command}`: do not edit it by hand. `{command} --check` fails when it is
stale, and so does `tests/test_results_doc.py`.

How to read a number: "a ± b" is a mean and its standard deviation (population, ddof = 0). Over episodes it
says how much one episode varies; "across seeds" it is over the per-seed means, and says how much a whole
training run varies. A standard error of a mean is the standard deviation divided by the square root of the
number of episodes. Scores are read against the random policy of the same environment.

This page lists {n} results in {sections} sections.
"""


def sections() -> list[Section]:
    m = manifest()
    return [
        motivation(m),
        vae_section(m),
        mdn_section(m),
        temperature_section(m),
        cma_section(m),
        take_cover_section(m),
        carracing_section(m),
        cartpole_section(m),
        dreamer_section(m),
        performance_section(m),
    ]


def render_result(r: Result, m: dict) -> str:
    parts = [f"### {r.title}", "", r.claim, ""]
    if r.body:
        parts += [r.body, ""]
    dated = []
    for name in r.files:
        # "manifest.json#NAME": figures the manifest records beside the file NAME
        listed = name.split("#", 1)[1] if name.startswith("manifest.json#") else name
        entry = m.get(listed)
        if entry is None:
            raise KeyError(f"data/{listed} is cited by '{r.title}' but data/manifest.json does not list it")
        where = f"{code('data/manifest.json')}, the entry of {code(listed)}" if listed != name else code("data/" + name)
        dated.append(f"{where} ({entry['date']})")
    commands = r.commands if len(r.commands) == 1 else r.commands
    parts.append(f"- **Sample:** {r.sample}.")
    if len(commands) == 1:
        parts.append(f"- **Command:** {code(commands[0])}")
    else:
        parts.append("- **Commands:**")
        parts += [f"  - {code(c)}" for c in dict.fromkeys(commands)]
    parts.append(f"- **Machine:** {r.machine}")
    parts.append(f"- **Data:** {', '.join(dated)}")
    return "\n".join(parts)


def render() -> str:
    m = manifest()
    secs = sections()
    n = sum(len(s.results) for s in secs)
    out = [INTRO.format(command=COMMAND, n=n, sections=len(secs))]
    for s in secs:
        where = f"Notebook `notebooks/{s.notebook}.py`. " if s.notebook else ""
        out.append(f"## {s.title}\n\n{where}{s.intro}\n")
        for r in s.results:
            out.append(render_result(r, m) + "\n")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page differs from what data/ gives")
    parser.add_argument("--out", type=Path, default=PAGE, help="the page (default: docs/results.md)")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: regenerate it with `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
