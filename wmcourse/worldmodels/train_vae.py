"""Training V: Adam on the negative ELBO over minibatches of frames, with checkpoints a run resumes from.

One optimizer step per batch of `batch_size` frames (VAEConfig), each epoch a fresh shuffle of the frames
(an in-memory array, or a rollout folder read a few shards at a time). The loss is vae.elbo_loss: squared
error summed over pixels plus beta times the frame's KL floored at kl_tolerance * z_size nats (free bits).
A checkpoint (weights, optimizer, step, noise generator, history) is written every `checkpoint_every` steps;
a run that finds one continues from it and gives the same model as an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..checkpoint import check_same_config
from ..errors import CourseError, ShapeError
from ..real.envs import FRAME_SIZE, frames_to_tensor
from ..runtime import pick_device, torch_threads
from .vae import ConvVAE, VAEConfig, build_vae, elbo_loss, frame_kl, read_checkpoint, save_vae


def _epoch_batches(frames_source: np.ndarray | str | Path, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """One shuffled pass over the frames (an in-memory uint8 array, or a rollout folder read shard by shard)."""
    if isinstance(frames_source, np.ndarray):
        order = np.random.default_rng(seed).permutation(len(frames_source))
        for start in range(0, len(order), batch_size):
            yield frames_source[order[start:start + batch_size]]
    else:
        from ..real.rollouts import iter_frame_batches

        yield from iter_frame_batches(frames_source, batch_size, seed=seed)


def _batches_per_epoch(frames_source: np.ndarray | str | Path, batch_size: int) -> int:
    if isinstance(frames_source, np.ndarray):
        x = frames_source
        if x.ndim != 4 or x.shape[1:] != (FRAME_SIZE, FRAME_SIZE, 3) or x.dtype != np.uint8 or len(x) == 0:
            raise ShapeError(f"Expected training frames (N, 64, 64, 3) uint8 with N > 0, got {x.shape} {x.dtype}. "
                             "Raw 96x96 CarRacing frames go through wmcourse.real.envs.preprocess_frames first.")
        return -(-len(frames_source) // batch_size)
    from ..real.rollouts import count_frames

    return -(-count_frames(frames_source) // batch_size)


def train_vae(frames_source: np.ndarray | str | Path, config: VAEConfig | None = None,
              out_path: str | Path | None = None, epochs: int = 1, steps: int | None = None, seed: int = 0,
              device: str = "auto", checkpoint_every: int = 500, threads: int | None = None,
              progress: bool = True) -> dict[str, list[float]]:
    """Train a VAE on frames with Adam; return the loss history {"step", "loss", "reconstruction", "kl", "kl_raw"}
    ("kl": the floored KL the loss uses; "kl_raw": the KL before the floor, both batch means in nats per frame).

    frames_source: uint8 frames (N, 64, 64, 3), or a rollout folder (read a few shards at a time).
    Runs `steps` optimizer steps if given, else `epochs` passes. With out_path, a checkpoint (weights,
    optimizer, step, noise generator, history) is written every `checkpoint_every` steps and at the end,
    and a run that finds one there continues from it: the result is the same as an uninterrupted run.
    config None: VAEConfig's defaults (the paper's).
    """
    config = config or VAEConfig()
    dev = pick_device(device)
    per_epoch = _batches_per_epoch(frames_source, config.batch_size)
    total = steps if steps is not None else epochs * per_epoch
    model = build_vae(config, seed).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    noise = torch.Generator(device=dev).manual_seed(seed)
    history: dict[str, list[float]] = {"step": [], "loss": [], "reconstruction": [], "kl": [], "kl_raw": []}
    step = 0
    if out_path is not None and Path(out_path).exists():
        step, history = _resume(out_path, config, seed, model, optimizer, noise)
        history.setdefault("kl_raw", [float("nan")] * len(history["step"]))  # checkpoints from before kl_raw

    def checkpoint() -> None:
        if out_path is not None:
            save_vae(model, out_path, training={"step": step, "optimizer": optimizer.state_dict(), "history": history,
                                                "noise": noise.get_state(), "seed": seed})

    model.train()
    bar = tqdm(total=total, initial=min(step, total), desc="train VAE", unit="step", disable=not progress)
    with torch_threads(threads):
        try:
            while step < total:
                epoch, skip = divmod(step, per_epoch)
                for b, frames in enumerate(_epoch_batches(frames_source, config.batch_size, seed + epoch)):
                    if b < skip:
                        continue  # already trained on before the interruption
                    if step >= total:
                        break
                    x = frames_to_tensor(frames).to(dev)
                    x_hat, mu, logvar = model(x, generator=noise)
                    loss, reconstruction, kl = elbo_loss(x, x_hat, mu, logvar, config.beta, config.kl_tolerance)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    step += 1
                    values = {"step": step, "loss": loss.item(), "reconstruction": reconstruction.item(),
                              "kl": kl.item(), "kl_raw": frame_kl(mu.detach(), logvar.detach()).mean().item()}
                    for key, value in values.items():
                        history[key].append(value)
                    bar.update(1)
                    bar.set_postfix(loss=f"{values['loss']:.1f}", kl=f"{values['kl']:.2f}")
                    if step % checkpoint_every == 0:
                        checkpoint()
        except KeyboardInterrupt:
            checkpoint()  # stopped by hand: keep every finished step, so a rerun continues from here
            raise
        finally:
            bar.close()
    checkpoint()
    model.eval()
    return history



def _resume(path: str | Path, config: VAEConfig, seed: int, model: ConvVAE, optimizer: torch.optim.Optimizer,
            noise: torch.Generator) -> tuple[int, dict[str, list[float]]]:
    """Load a training checkpoint into model, optimizer and noise generator; return its step and history."""
    blob = read_checkpoint(path)
    check_same_config(path, blob["config"], config)
    if "training" not in blob:
        raise CourseError(f"{path} holds finished weights without training state: it cannot be resumed. "
                          "Use another --out path to train a new VAE.")
    if blob["training"].get("seed") != seed:
        raise CourseError(f"{path} was trained with seed {blob['training'].get('seed')}, not {seed}: resume with the "
                          "same seed (it fixes the data order and noise), or use another --out path.")
    model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    optimizer.load_state_dict(blob["training"]["optimizer"])
    noise.set_state(blob["training"]["noise"])
    return blob["training"]["step"], blob["training"]["history"]
