"""Shipped artefacts: the catalogue of every file in data/, with the command that makes it and its loader.

CATALOGUE lists each file under data/ (its path there), the command that makes it, and the dotted name of
the function that loads it, so a reader finds in one table what a file is, how to remake it and how to read
it (`data/manifest.json` adds each file's hash, size, seed and measured figures). A controller's entry also
names the V and M it acts through (`models_for`), so a command given a shipped controller finds them itself. The loaders
of the CarRacing V, M and C files live here; every loader checks the file against the manifest first
(`artefacts.require`), and a missing or altered file stops with the command that remakes it. The files of
the CartPole, Dreamer, Take Cover and tau-sweep experiments are loaded by their own modules (named in the
catalogue as strings, so this module imports none of them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import artefacts
from ..errors import MissingArtefactError, SettingsError
from ..worldmodels.controller import ControllerConfig, load_controller
from ..worldmodels.latents import EncodedEpisodes, load_encoded
from ..worldmodels.mdnrnn import MDNRNN, load_mdnrnn, read_checkpoint
from ..worldmodels.vae import ConvVAE, load_vae
from . import ledger

MAKE_MODELS = "bash scripts/train_carracing_models.sh && python scripts/ship_carracing_models.py"
MAKE_CONTROLLER = "bash scripts/evolve_carracing_controller.sh"
LATENT_SIZES = (4, 8, 16, 32)  # the small VAEs of the latent-size comparison (half width)
HELDOUT = "carracing_heldout"  # 4 real CarRacing episodes (another seed) that no model trained on
HELDOUT_ENCODED = "carracing_heldout_encoded.npz"  # the same episodes, encoded by the shipped VAE
VAE_RESULTS = "vae_results.json"
VAE_NAME = "vae_carracing_z32.pt"
MDNRNN_NAME = "mdnrnn_carracing.pt"
CONTROLLER_NAME = "controller_carracing.npz"
ROUNDS = (0, 1, 2)  # the rounds of iterative training whose M, C and real score are shipped (0: the first M)

_CARTPOLE = "python -m wmcourse cartpole --out data/cartpole_results.json"
_DREAMER = "python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --out data/dreamer_cartpole.json"
_DREAMER_099 = ("python -m wmcourse dreamer --env CartPole-v1 --steps 50000 --gamma 0.99 "
                "--out data/dreamer_cartpole_gamma099.json")
_TAKECOVER = "python -m wmcourse takecover --out runs/TakeCover --ship data"
_TAKECOVER_SEEDS = ("python scripts/takecover_training_seeds.py runs/TakeCover runs/TakeCover_seed1 "
                    "runs/TakeCover_seed2 --fixed-policies")  # takecover.SEEDS_COMMAND
_TAU_SWEEP = ("python -m wmcourse tau-sweep --vae data/vae_carracing_z32.pt --mdnrnn data/mdnrnn_carracing.pt "
              "--encoded data/carracing_heldout_encoded.npz --out data/tau_sweep.json")  # tau_sweep.TAU_SWEEP_COMMAND
REFINED_CONTROLLER = "controller_carracing_refined.npz"  # dream, then real CMA-ES: the round-2 controller refined
_REFINED = ("python -m wmcourse evolve-real --controller data/controller_carracing_round2.npz "
            "--vae data/vae_carracing_z32.pt --mdnrnn data/mdnrnn_carracing_round2.pt --out runs/cr_real/refined.npz "
            "--population 12 --rollouts 2 --sigma-init 0.05 --generations 13 --seed 7")
REFINED_ENSEMBLE_CONTROLLER = "controller_carracing_refined_ensemble.npz"  # the three Ms' controller refined
_REFINED_ENSEMBLE = ("python -m wmcourse evolve-real --controller data/controller_carracing_ensemble.npz "
                     "--vae data/vae_carracing_z32.pt --mdnrnn data/mdnrnn_carracing_round2.pt "
                     "--out runs/cr_real_ens/refined.npz --population 12 --rollouts 2 --seed 8 --generations 21 "
                     "--workers 2 --select 16 --select-every 3 --select-since 9 --select-seed 6100000")
FROM_SCRATCH_CONTROLLER = "controller_carracing_from_scratch.npz"  # real CMA-ES from zeros, the refined one's budget
_FROM_SCRATCH = ("python -m wmcourse evolve-real --controller data/controller_carracing_round2.npz --from-scratch "
                 "--vae data/vae_carracing_z32.pt --mdnrnn data/mdnrnn_carracing_round2.pt "
                 "--out runs/cr_real/from_scratch.npz --population 12 --rollouts 2 --sigma-init 0.1 --generations 13 "
                 "--seed 7")
_LEDGER = "python scripts/carracing_ledger.py"  # ledger.MAKE_LEDGER (its arguments: in the manifest)
LARGER_ROUND = "carracing_round3.json"  # a round four times larger, measured on validation tracks, not shipped as C
_LARGER_ROUND = "python scripts/carracing_round3.py"  # its steps: in the file's "commands"
ENSEMBLE_CONTROLLER = "controller_carracing_ensemble.npz"  # evolved in three Ms' dreams, scored by the worst
LONG_SEARCH = "carracing_long_search.json"  # the three-Ms search run to 100 generations, chosen on validation tracks
LONG_CONTROLLER = "controller_carracing_ensemble_long.npz"  # its kept search mean
_LONG_SEARCH = "python scripts/carracing_long_search.py"  # its steps: in the file's "commands"
REFINE_WIDE = "carracing_refine_wide.json"  # the three-Ms setup's second real CMA-ES run, 8 tracks a candidate
REFINE_WIDE_CONTROLLER = "controller_carracing_refined_wide.npz"  # the search mean it kept
_REFINE_WIDE = "bash scripts/carracing_refine_wide.sh"
SEEDS_SEARCH = "carracing_search_seeds.json"  # the three-Ms search over six search seeds, one kept on validation
SEEDS_CONTROLLER = "controller_carracing_ensemble_seeds.npz"  # the kept draw's search mean
_SEEDS_SEARCH = "python scripts/carracing_search_seeds.py"  # its steps: in the file's "commands"
NEXT_ROUNDS = ("carracing_round5.json", "carracing_round6.json")  # one more round from the ensemble's controller,
# with noise 0.1 and again with 0.03: measured, not shipped as C
_NEXT_ROUND = "python scripts/carracing_round5.py"  # its steps: in the file's "commands"
_SEARCH_SPREAD = ("python scripts/cartpole_search_spread.py --out data/cartpole_search_spread.json --seeds 0 3 "
                  "--search-seeds 1 2")


@dataclass(frozen=True)
class Shipped:
    """One file in data/: its path there, the command that makes it, the function that loads it, and for a
    controller the V and M (their names in data/) it acts through."""

    name: str
    command: str
    loader: str  # dotted name, e.g. "wmcourse.shipped.catalogue.load_shipped_vae"
    models: tuple[str, str] | None = None


def _entries() -> list[Shipped]:
    here = "wmcourse.shipped.catalogue."
    cartpole = "wmcourse.experiments.cartpole."
    takecover = "wmcourse.experiments.takecover."
    entries = [
        Shipped(f"{HELDOUT}/shard_00000.npz", MAKE_MODELS, here + "load_heldout_episode"),
        Shipped(f"{HELDOUT}/collection.json", MAKE_MODELS, here + "load_heldout_collection"),
        Shipped(HELDOUT_ENCODED, MAKE_MODELS, here + "load_shipped_heldout_encoded"),
        Shipped(VAE_NAME, MAKE_MODELS, here + "load_shipped_vae"),
        *(Shipped(shipped_vae_name(z, small=True), MAKE_MODELS, here + "load_shipped_vae") for z in LATENT_SIZES),
        Shipped(VAE_RESULTS, MAKE_MODELS, here + "load_vae_results"),
        Shipped(MDNRNN_NAME, MAKE_MODELS, here + "load_shipped_mdnrnn"),
        *(Shipped(mdnrnn_name(r), MAKE_CONTROLLER, here + "load_shipped_mdnrnn") for r in (1, 2)),
        *(Shipped(controller_name(r), MAKE_CONTROLLER, here + "load_shipped_controller", (VAE_NAME, mdnrnn_name(r)))
          for r in ROUNDS),
        *(Shipped(controller_name(r, "_eval.json"), MAKE_CONTROLLER, here + "load_shipped_evaluation") for r in ROUNDS),
        Shipped("tau_sweep.json", _TAU_SWEEP, "wmcourse.experiments.tau_sweep.load_tau_sweep"),
        Shipped(REFINED_CONTROLLER, _REFINED, here + "load_refined_controller", (VAE_NAME, mdnrnn_name(2))),
        Shipped(REFINED_ENSEMBLE_CONTROLLER, _REFINED_ENSEMBLE, here + "load_refined_ensemble_controller",
                (VAE_NAME, mdnrnn_name(2))),
        Shipped(FROM_SCRATCH_CONTROLLER, _FROM_SCRATCH, here + "load_from_scratch_controller",
                (VAE_NAME, mdnrnn_name(2))),
        Shipped("carracing_ledger.json", _LEDGER, "wmcourse.shipped.ledger.load"),  # real steps by setup and stage
        Shipped(LARGER_ROUND, _LARGER_ROUND, here + "load_larger_round"),
        Shipped(ENSEMBLE_CONTROLLER, _LARGER_ROUND, here + "load_ensemble_controller", (VAE_NAME, mdnrnn_name(2))),
        Shipped(LONG_SEARCH, _LONG_SEARCH, here + "load_long_search"),
        Shipped(LONG_CONTROLLER, _LONG_SEARCH, here + "load_long_search_controller", (VAE_NAME, mdnrnn_name(2))),
        Shipped(REFINE_WIDE, _REFINE_WIDE, here + "load_refine_wide"),
        Shipped(REFINE_WIDE_CONTROLLER, _REFINE_WIDE, here + "load_refine_wide_controller", (VAE_NAME, mdnrnn_name(2))),
        Shipped(SEEDS_SEARCH, _SEEDS_SEARCH, here + "load_search_seeds"),
        Shipped(SEEDS_CONTROLLER, _SEEDS_SEARCH, here + "load_search_seeds_controller", (VAE_NAME, mdnrnn_name(2))),
        *(Shipped(name, _NEXT_ROUND, here + "load_next_round") for name in NEXT_ROUNDS),
        Shipped("cartpole_results.json", _CARTPOLE, cartpole + "load_cartpole_results"),
        *(Shipped(f"cartpole_{kind}_{data}.{ext}", _CARTPOLE, cartpole + "load_shipped")
          for data in ("random", "iterative") for kind, ext in (("wm", "pt"), ("c", "npz"), ("data", "npz"))),
        Shipped("cartpole_dqn.pt", _CARTPOLE, cartpole + "load_shipped_dqn"),
        Shipped("cartpole_seeds.json", "python -m wmcourse cartpole --seeds 0 1 2 3 4 --out data/cartpole_seeds.json",
                cartpole + "load_over_seeds"),
        # each seed's rows, summed up in cartpole_seeds.json
        *(Shipped(f"cartpole_seeds/seed{s}.json", f"python -m wmcourse cartpole --seeds {s} --rows-only",
                  cartpole + "load_over_seeds") for s in range(5)),
        Shipped("cartpole_search_spread.json", _SEARCH_SPREAD, cartpole + "load_search_spread"),
        Shipped("dreamer_cartpole.json", _DREAMER, "wmcourse.dreamer.train.load_dreamer_results"),
        Shipped("dreamer_cartpole.pt", _DREAMER, "wmcourse.dreamer.train.load_agent"),
        *(Shipped(f"dreamer_cartpole_seed{seed}.{ext}",
                  _DREAMER.replace("--out data/dreamer_cartpole.json",
                                   f"--seed {seed} --out data/dreamer_cartpole_seed{seed}.json"),
                  "wmcourse.dreamer.train." + loader)
          for seed in (1, 2) for ext, loader in (("json", "load_dreamer_results"), ("pt", "load_agent"))),
        Shipped("dreamer_cartpole_gamma099.json", _DREAMER_099, "wmcourse.dreamer.train.load_dreamer_results"),
        Shipped("dreamer_cartpole_gamma099.pt", _DREAMER_099, "wmcourse.dreamer.train.load_agent"),
        Shipped("takecover_results.json", _TAKECOVER, takecover + "load_shipped_results"),
        Shipped("takecover_training_seeds.json", _TAKECOVER_SEEDS, takecover + "load_training_seeds"),
        *(Shipped(name, _TAKECOVER, takecover + "load_shipped_models")
          for name in ("vae_takecover_z64.pt", "mdnrnn_takecover.pt", "takecover_start_z.npy")),
        *(Shipped(f"controller_takecover_tau{tau}.npz", _TAKECOVER, takecover + "load_shipped_controller",
                  ("vae_takecover_z64.pt", "mdnrnn_takecover.pt")) for tau in ("0.1", "0.5", "1", "1.15", "1.3")),
    ]
    return entries


def models_for(controller: str | Path) -> tuple[Path, Path] | None:
    """The V and M a shipped controller acts through (their paths in data/), or None for a controller that is
    not a file of data/ (one a run wrote)."""
    path = Path(controller)
    if path.resolve().parent != artefacts.data_dir().resolve():
        return None
    entry = next((e for e in CATALOGUE if e.name == path.name and e.models), None)
    return None if entry is None else (path.parent / entry.models[0], path.parent / entry.models[1])


# --- names ------------------------------------------------------------------------------------------------

def shipped_vae_name(z: int = 32, small: bool = False) -> str:
    """File name in data/ of a shipped VAE: the paper's (z=32) or a small half-width one (z in LATENT_SIZES)."""
    if small and z not in LATENT_SIZES:
        raise SettingsError(f"The small shipped VAEs have z in {LATENT_SIZES}, got z={z}.")
    if not small and z != 32:
        raise SettingsError(f"The full-size shipped VAE has z=32 (the paper's), got z={z}; "
                         f"for other sizes use small=True (z in {LATENT_SIZES}).")
    return f"vae_carracing_small_z{z}.pt" if small else "vae_carracing_z32.pt"


def mdnrnn_name(round_: int = 0) -> str:
    """data/ name of the CarRacing M after `round_` rounds of iterative training (0: trained on scripted rollouts)."""
    return MDNRNN_NAME if round_ == 0 else MDNRNN_NAME.replace(".pt", f"_round{round_}.pt")


def controller_name(round_: int = 0, suffix: str = ".npz") -> str:
    """data/ name of the controller evolved in the dream of the M of round `round_` (0: the first M)."""
    return f"controller_carracing{'' if round_ == 0 else f'_round{round_}'}{suffix}"


# --- V ----------------------------------------------------------------------------------------------------

def load_shipped_vae(z: int = 32, small: bool = False, device: str | torch.device = "cpu") -> ConvVAE:
    """A VAE trained on real CarRacing frames, shipped in data/ (an error naming the command if it is missing)."""
    return load_vae(artefacts.require(shipped_vae_name(z, small), MAKE_MODELS), device=device)


def load_vae_results() -> list[dict]:
    """Every shipped VAE measured on the held-out frames (data/vae_results.json, written by `eval-vae`):
    dicts with vae, frames, z_size, beta, parameters, mse_per_pixel, kl_nats_per_frame."""
    return json.loads(artefacts.require(VAE_RESULTS, MAKE_MODELS).read_text())


def shipped_result(results: list[dict], z: int = 32, small: bool = False) -> dict:
    """The measured figures of one shipped VAE."""
    name = shipped_vae_name(z, small)
    for r in results:
        if Path(r["vae"]).name == name:
            return r
    raise MissingArtefactError(f"{name} is not in the results table; remake it with:\n    {MAKE_MODELS}")


def beta_sweep_results(results: list[dict]) -> list[dict]:
    """The beta-sweep models (half width, no free bits), sorted by beta."""
    return sorted((r for r in results if "vae_beta" in r["vae"]), key=lambda r: r["beta"])


def latent_size_results(results: list[dict]) -> dict[int, dict]:
    """The small VAEs of the latent-size comparison, by z."""
    found = {}
    for r in results:
        name = Path(r["vae"]).name
        for z in LATENT_SIZES:
            if name == shipped_vae_name(z, small=True):
                found[z] = r
    return dict(sorted(found.items()))


# --- the held-out episodes --------------------------------------------------------------------------------

def _heldout_folder() -> Path:
    return artefacts.require(f"{HELDOUT}/shard_00000.npz", MAKE_MODELS).parent


def load_heldout_frames(max_frames: int | None = None) -> np.ndarray:
    """The held-out CarRacing frames shipped in data/carracing_heldout, uint8 (N, 64, 64, 3)."""
    from ..real import rollouts

    return rollouts.load_frames(_heldout_folder(), max_frames=max_frames)


def pick_heldout_frames(n: int = 8, skip: int = 60, seed: int | None = None) -> np.ndarray:
    """n held-out frames spread over every held-out episode, leaving out each episode's first `skip` steps
    (the camera zooms in there); seed=None takes them evenly spaced, a seed takes them at random."""
    from ..real import rollouts

    episodes = rollouts.load_episodes(_heldout_folder())
    pool = np.concatenate([e.obs[min(skip, len(e) // 2):] for e in episodes])
    if seed is None:
        index = np.linspace(0, len(pool) - 1, n).round().astype(int)
    else:
        index = np.sort(np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False))
    return pool[index]


def load_heldout_episode(index: int = 0):
    """One held-out real CarRacing episode.

    A wmcourse.real.rollouts.Episode: obs (T, 64, 64, 3) uint8, action (T, 3), ..."""
    from ..real.rollouts import load_episodes

    folder = _heldout_folder()
    episodes = load_episodes(folder, max_episodes=index + 1)
    if index >= len(episodes):
        raise SettingsError(f"There are {len(episodes)} held-out episodes in {folder}; index {index} is out of range.")
    return episodes[index]


def load_heldout_collection() -> dict:
    """How the held-out episodes were collected (environment, policy, seeds): data/carracing_heldout/collection.json."""
    return json.loads(artefacts.require(f"{HELDOUT}/collection.json", MAKE_MODELS).read_text())


def load_shipped_heldout_encoded() -> EncodedEpisodes:
    """The held-out CarRacing episodes (never trained on) encoded by the shipped VAE: M's test set."""
    return load_encoded(artefacts.require(HELDOUT_ENCODED, MAKE_MODELS))


# --- M ----------------------------------------------------------------------------------------------------

def load_shipped_mdnrnn(device: torch.device | str = "cpu", round_: int = 0) -> MDNRNN:
    """The MDN-RNN shipped in data/ (trained on encoded CarRacing rollouts), in eval mode. round_ 1: the same M
    trained on, after one round of real episodes collected with the controller (scripts/carracing_round.py)."""
    return load_mdnrnn(artefacts.require(mdnrnn_name(round_), MAKE_MODELS if round_ == 0 else MAKE_CONTROLLER), device)


def shipped_training_record() -> dict:
    """How the shipped M was trained: its config, its per-epoch history (when the file keeps it) and the
    figures the manifest recorded for it (when there is a manifest entry). Missing parts are empty."""
    path = artefacts.require(MDNRNN_NAME, MAKE_MODELS)
    ckpt = read_checkpoint(path, "cpu")
    entry = artefacts.load_manifest(path.parent).get(MDNRNN_NAME, {})
    return {"config": ckpt["config"], "history": list(ckpt.get("history", [])), "seed": ckpt.get("seed"),
            "manifest": entry}


# --- C ----------------------------------------------------------------------------------------------------

def load_shipped_controller(round_: int = 0) -> tuple[np.ndarray, ControllerConfig, dict]:
    """A controller evolved in the dream of a shipped MDN-RNN (data/), with its history and tau in details.
    Round 0's was evolved in the dream of M trained on scripted-policy data; round 1's after one round of
    collecting real episodes with it and retraining M (scripts/carracing_round.py)."""
    return load_controller(artefacts.require(controller_name(round_), MAKE_CONTROLLER))


def load_refined_controller() -> tuple[np.ndarray, ControllerConfig, dict]:
    """"Dream, then real CMA-ES": the round-2 dream controller refined by CMA-ES in the real game (13 generations
    of 12 candidates x 2 real tracks); it reads the round-2 M (mdnrnn_carracing_round2.pt)."""
    return load_controller(artefacts.require(REFINED_CONTROLLER, _REFINED))


def load_refined_ensemble_controller() -> tuple[np.ndarray, ControllerConfig, dict]:
    """"Three Ms' dream, then real CMA-ES": the controller evolved in three Ms' dreams refined by CMA-ES in the real
    game (12 candidates x 2 real tracks a generation, 21 generations), the generation kept chosen on 16 fresh
    validation tracks (seeds 6,100,000 on); it reads the round-2 M."""
    return load_controller(artefacts.require(REFINED_ENSEMBLE_CONTROLLER, _REFINED_ENSEMBLE))


def load_from_scratch_controller() -> tuple[np.ndarray, ControllerConfig, dict]:
    """"Real CMA-ES from scratch", the control: CMA-ES in the real game from zeros (the paper's start) with the
    refined controller's settings and real-step budget; it reads the same V and round-2 M."""
    return load_controller(artefacts.require(FROM_SCRATCH_CONTROLLER, _FROM_SCRATCH))


def held_out_look(name: str) -> dict:
    """The last held-out evaluation the run ledger counts for the shipped controller `name` (told by its sha256):
    its mean, std and per-track returns."""
    entries = ledger.load(artefacts.require(ledger.LEDGER_NAME, ledger.MAKE_LEDGER))
    sha = artefacts.load_manifest()[name]["sha256"]
    looks = [e for e in entries if e.stage == "evaluation" and e.result.get("controller_sha256") == sha]
    if not looks:
        raise MissingArtefactError(f"the run ledger counts no held-out evaluation of {name}: score it with "
                                   "`python -m wmcourse eval-agent ... --ledger data/carracing_ledger.json`.")
    return looks[-1].result


def carracing_step_curves() -> list[ledger.StepCurve]:
    """The five CarRacing setups as real score against the real steps spent (data, selection, refinement):
    "dream only, one M" by its iterative rounds (each round's 20-episode score after the data it had), "three Ms"
    by its controller's score on the validation tracks that chose it, the three real
    CMA-ES setups by their generations (the population's mean on that generation's tracks); each ends in its
    score on the 100 held-out tracks of the run ledger."""
    entries = ledger.load(artefacts.require(ledger.LEDGER_NAME, ledger.MAKE_LEDGER))
    manifest = artefacts.load_manifest()
    first = manifest[VAE_NAME]["training_data"]["rollouts"]
    steps = [artefacts.frames_in(first) + int(manifest[f"{HELDOUT}/shard_00000.npz"]["figures"]["frames"])]
    for round_ in shipped_rounds()[1:]:
        steps.append(steps[-1] + int(manifest[mdnrnn_name(round_)]["figures"]["real_steps_collected"]))
    rounds = ledger.StepCurve(ledger.DREAM_ONLY, "dream only, one M (iterative rounds)", steps,
                              [load_shipped_evaluation(r)["mean"] for r in shipped_rounds()],
                              ledger.held_out_point(entries, ledger.DREAM_ONLY))
    held_out = ledger.held_out_point(entries, ledger.ENSEMBLE)
    ensemble = ledger.StepCurve(ledger.ENSEMBLE, "dream only, three Ms (its 16 validation tracks)", [held_out[0]],
                                [_ensemble_validation(entries, manifest)], held_out)
    return [rounds, ensemble,
            ledger.refinement_curve(entries, ledger.REFINED, [load_refined_controller()[2]["history"]],
                                    ledger.SETUPS[ledger.REFINED]),
            ledger.refinement_curve(entries, ledger.REFINED_ENSEMBLE, [load_refined_ensemble_controller()[2]["history"],
                                                                       load_refine_wide()["history"]],
                                    ledger.SETUPS[ledger.REFINED_ENSEMBLE]),
            ledger.refinement_curve(entries, ledger.FROM_SCRATCH, [load_from_scratch_controller()[2]["history"]],
                                    ledger.SETUPS[ledger.FROM_SCRATCH])]


def _ensemble_validation(entries: list[ledger.Entry], manifest: dict) -> float:
    """The validation tracks' score of the three-Ms controller that the setup's last held-out look scored: the kept
    draw of the search over seeds, or the longer search's kept generation, when that look was of its controller,
    else round 3's chosen ensemble."""
    last = [e for e in entries if e.setup == ledger.ENSEMBLE and e.stage == "evaluation"][-1]
    if SEEDS_CONTROLLER in manifest and last.result.get("controller_sha256") == manifest[SEEDS_CONTROLLER]["sha256"]:
        choice = load_search_seeds()["selection"]  # a draw's row: "generation" holds its search seed
        return next(r["mean"] for r in choice["generations"] if r["generation"] == choice["chosen"])
    if LONG_CONTROLLER in manifest and last.result.get("controller_sha256") == manifest[LONG_CONTROLLER]["sha256"]:
        choice = load_long_search()["selection"]
        return next(r["mean"] for r in choice["generations"] if r["generation"] == choice["chosen"])
    return next(c for c in load_larger_round()["candidates"] if c["name"] == "ensemble")["validation"]["mean"]


def load_shipped_evaluation(round_: int = 0) -> dict:
    """The real evaluation of a shipped controller: mean, std, episodes, returns and replayable references."""
    return json.loads(artefacts.require(controller_name(round_, "_eval.json"), MAKE_CONTROLLER).read_text())


def load_larger_round() -> dict:
    """CarRacing's round 3, four times an earlier round (scripts/carracing_round3.py): its data, and for round 2's
    controller and each new one the dream's score, the validation tracks' score and one real drive."""
    return json.loads(artefacts.require(LARGER_ROUND, _LARGER_ROUND).read_text())


def load_ensemble_controller() -> tuple[np.ndarray, ControllerConfig, dict]:
    """The controller evolved in the dreams of three Ms at once, each candidate scored by its worst member
    (scripts/carracing_round3.py --ensemble); in the real game it reads the shipped V and round-2 M."""
    return load_controller(artefacts.require(ENSEMBLE_CONTROLLER, _LARGER_ROUND))


def load_long_search() -> dict:
    """The three-Ms search run longer in the same dreams (scripts/carracing_long_search.py): the dream score generation
    by generation, the search means on fresh validation tracks and the generation kept."""
    return json.loads(artefacts.require(LONG_SEARCH, _LONG_SEARCH).read_text())


def load_long_search_controller() -> tuple[np.ndarray, ControllerConfig, dict]:
    """The longer three-Ms search's kept search mean; in the real game it reads the shipped V and round-2 M."""
    return load_controller(artefacts.require(LONG_CONTROLLER, _LONG_SEARCH))


def load_refine_wide() -> dict:
    """The three-Ms setup's second real CMA-ES run, 8 tracks a candidate, from the first run's kept controller
    (scripts/carracing_refine_wide.sh): its settings, generation by generation, and the choice on validation tracks."""
    return json.loads(artefacts.require(REFINE_WIDE, _REFINE_WIDE).read_text())


def load_refine_wide_controller() -> tuple[np.ndarray, ControllerConfig, dict]:
    """The search mean the three-Ms setup's second real CMA-ES run kept; in the real game it reads the shipped V and
    round-2 M."""
    return load_controller(artefacts.require(REFINE_WIDE_CONTROLLER, _REFINE_WIDE))


def load_search_seeds() -> dict:
    """The three-Ms search run once more for each of several search seeds (scripts/carracing_search_seeds.py): each
    draw's dream score generation by generation, every draw's search mean on fresh validation tracks beside the
    shipped three-Ms controller, and the draw kept."""
    return json.loads(artefacts.require(SEEDS_SEARCH, _SEEDS_SEARCH).read_text())


def load_search_seeds_controller() -> tuple[np.ndarray, ControllerConfig, dict]:
    """The kept draw's search mean; in the real game it reads the shipped V and round-2 M."""
    return load_controller(artefacts.require(SEEDS_CONTROLLER, _SEEDS_SEARCH))


def load_next_round(number: int = 5) -> dict:
    """One more round from the ensemble's controller (scripts/carracing_round5.py; 5: noise 0.1, 6: noise 0.03): its
    episodes, the new M's last epoch, the search in two Ms' dreams, the new controller's validation score and each
    M's dream of both."""
    name = f"carracing_round{number}.json"
    if name not in NEXT_ROUNDS:
        raise SettingsError(f"No shipped round {number} from the ensemble's controller: expected 5 or 6.")
    return json.loads(artefacts.require(name, _NEXT_ROUND).read_text())


def shipped_rounds() -> list[int]:
    """The rounds of iterative training whose controller and evaluation are shipped in data/ (0, 1, ...)."""
    found, round_ = [], 0
    while all((artefacts.data_dir() / controller_name(round_, suffix)).exists() for suffix in (".npz", "_eval.json")):
        found.append(round_)
        round_ += 1
    return found


CATALOGUE: tuple[Shipped, ...] = tuple(_entries())
