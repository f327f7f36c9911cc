"""Copy the CarRacing models made by scripts/train_carracing_models.sh into data/ and record them in the
manifest, with the command that made each one and the figures measured on held-out episodes.

    python scripts/ship_carracing_models.py [RUNS_DIR]      (default runs/CarRacing-v3)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch

from wmcourse import artefacts, latents, mdnrnn, rollouts

TRAIN = "bash scripts/train_carracing_models.sh"


def main(runs: Path) -> None:
    data = artefacts.data_dir()
    collection = json.loads((runs / "rollouts" / "collection.json").read_text())
    training_data = {"rollouts": f"{len(rollouts.list_shards(runs / 'rollouts'))} shards, "
                                 f"{rollouts.count_frames(runs / 'rollouts'):,} frames", **collection}
    results = [json.loads(line) for line in (runs / "ship" / "vae_eval.jsonl").read_text().splitlines() if line]
    by_name = {Path(r["vae"]).name: r for r in results}

    for ship in sorted((runs / "ship").glob("vae_carracing_*.pt")):
        target = data / ship.name
        shutil.copy(ship, target)
        r = by_name[ship.name]
        width = "" if "small" not in ship.name else " --width 0.5"
        command = f"{TRAIN}  (step: python -m wmcourse train-vae --z {r['z_size']}{width} ...)"
        artefacts.record(target, command, seed=0, figures={k: r[k] for k in ("mse_per_pixel", "kl_nats_per_frame",
                         "parameters", "frames")}, measured_on="data/carracing_heldout (4 held-out episodes)",
                         training_data=training_data)

    table = data / "vae_results.json"
    table.write_text(json.dumps(results, indent=1) + "\n")
    artefacts.record(table, f"{TRAIN}  (step: python -m wmcourse eval-vae ...)", seed=0,
                     figures={"models": len(results)}, measured_on="data/carracing_heldout")

    held = data / "carracing_heldout"
    held.mkdir(exist_ok=True)
    shutil.copy(runs / "heldout" / "collection.json", held / "collection.json")
    for shard in rollouts.list_shards(runs / "heldout"):
        shutil.copy(shard, held / shard.name)
        artefacts.record(held / shard.name, "python -m wmcourse collect --env CarRacing-v3 --episodes 4 "
                         "--episodes-per-shard 4 --num-envs 4 --policy mix --seed 1 --out data/carracing_heldout",
                         seed=1, figures={"frames": rollouts.count_frames(held)})

    encoded = sorted((runs / "heldout_encoded").glob("*.npz"))
    shutil.copy(encoded[0], data / "carracing_heldout_encoded.npz")
    artefacts.record(data / "carracing_heldout_encoded.npz", "python -m wmcourse encode --vae data/vae_carracing_z32.pt "
                     "--rollouts data/carracing_heldout --out runs/heldout_encoded", seed=None,
                     figures={"episodes": len(latents.load_encoded(data / "carracing_heldout_encoded.npz"))})

    checkpoint = torch.load(runs / "mdnrnn.pt", map_location="cpu", weights_only=True)
    last = checkpoint["history"][-1]
    target = mdnrnn.save_mdnrnn(mdnrnn.load_mdnrnn(runs / "mdnrnn.pt"), data / "mdnrnn_carracing.pt",
                                history=checkpoint["history"])
    artefacts.record(target, f"{TRAIN}  (step: python -m wmcourse train-mdnrnn --epochs 100 --seq-len 200 --batch-size 32 --predict-reward "
                     "--predict-done)", seed=0, figures={k: round(float(v), 4) for k, v in last.items()},
                     training_data=training_data)
    print("\n".join(artefacts.verify()) or f"data/ recorded: {len(artefacts.load_manifest())} artefacts")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/CarRacing-v3"))
