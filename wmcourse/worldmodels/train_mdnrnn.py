"""Training M: Adam on the MDN-RNN's loss over windows of encoded episodes, with checkpoints a run resumes from.

Training follows the paper's code: Adam at lr 1e-3, batch 100, each gradient element clipped to
[-1, 1] (tf.clip_by_value in the original, not a norm clip), and every batch draws z = mu + sigma * eps
afresh from the stored mu and log sigma^2 of the VAE, so M never sees the same sample twice.

Each epoch visits every training episode once, in windows of seq_len steps (latents.epoch_windows), and
scores the held-out episodes (split_episodes) after it. With an output path, a checkpoint (weights,
optimizer, history, seed, generator states) is written after every epoch; calling again with the same
settings continues from it, and other settings stop with the settings that differ.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..checkpoint import check_same_config
from ..errors import CourseError, SettingsError, ShapeError
from ..runtime import pick_device
from .latents import EncodedEpisodes, epoch_windows, load_encoded, make_batch, smooth_rewards
from .mdnrnn import MDNRNN, MDNRNNConfig, read_checkpoint, save_mdnrnn


@torch.no_grad()
def evaluate_mdnrnn(model: MDNRNN, data: EncodedEpisodes, seq_len: int | None = None, batch_size: int | None = None,
                    seed: int = 0) -> dict[str, float]:
    """Loss terms on every step of `data` (windows from the start of each episode; z sampled with `seed`)."""
    c = model.config
    seq_len, batch_size = seq_len or c.seq_len, batch_size or c.batch_size
    counts = (data.lengths.cpu() + seq_len - 1) // seq_len
    ids = torch.repeat_interleave(torch.arange(len(data)), counts)
    starts = torch.cat([torch.arange(int(n)) * seq_len for n in counts])
    g = torch.Generator(device=data.mu.device).manual_seed(seed)
    model.eval()
    sums: dict[str, float] = {}
    total = 0.0
    for b in range(0, len(ids), batch_size):
        batch = make_batch(data, ids[b:b + batch_size], starts[b:b + batch_size], seq_len, g)
        n = float(batch.mask.sum())
        for k, v in model.loss(batch).items():
            sums[k] = sums.get(k, 0.0) + float(v) * n
        total += n
    return {k: v / total for k, v in sums.items()}


def split_episodes(data: EncodedEpisodes, held_out: float, seed: int) -> tuple[EncodedEpisodes, EncodedEpisodes | None]:
    """Random split by episode: (training, held-out); held-out is None when held_out is 0 or there is one episode."""
    if not 0 <= held_out < 1:
        raise SettingsError(f"held_out is the fraction of episodes kept for evaluation, in [0, 1), got {held_out}.")
    n_held = min(max(round(len(data) * held_out), 1 if held_out > 0 else 0), len(data) - 1)
    if n_held == 0:
        return data, None
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    return data.subset(order[n_held:].sort().values), data.subset(order[:n_held].sort().values)



def train_mdnrnn(dataset: EncodedEpisodes | str | Path, config: MDNRNNConfig | None = None,
                 out_path: str | Path | None = None, epochs: int = 20, seed: int = 0, device: str = "auto",
                 held_out: float = 0.05, resume: bool = True, progress: bool = True) -> tuple[MDNRNN, list[dict]]:
    """Train M on encoded episodes; returns the model and one history row per epoch.

    Each epoch visits every training episode once (ceil(T / seq_len) random windows of it), in batches of
    config.batch_size, with a fresh z = mu + sigma * eps per batch. After each epoch it scores the held-out
    episodes and, with out_path, writes a checkpoint there; calling again with the same arguments resumes
    from it (a larger `epochs` trains on). config=None takes the paper's defaults with Z and A from the data.
    """
    data = dataset if isinstance(dataset, EncodedEpisodes) else load_encoded(dataset)
    c = config or MDNRNNConfig(z_size=data.z_size, action_size=data.action_size)
    if (c.z_size, c.action_size) != (data.z_size, data.action_size):
        raise ShapeError(f"The config expects z_size={c.z_size} and action_size={c.action_size} but the data has "
                         f"{data.z_size} and {data.action_size}: build the config with those.")
    dev = pick_device(device)
    data = smooth_rewards(data, c.reward_smoothing)
    train, held = split_episodes(data, held_out, seed)
    train, held = train.to(dev), held.to(dev) if held is not None else None

    torch.manual_seed(seed)
    model = MDNRNN(c).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=c.lr)
    index_gen = torch.Generator().manual_seed(seed)
    noise_gen = torch.Generator(device=dev).manual_seed(seed + 1)
    history: list[dict] = []
    if out_path is not None and resume and Path(out_path).exists():
        ckpt = read_checkpoint(out_path, dev)
        try:  # a checkpoint from before a config field existed was made with that field's default
            check_same_config(out_path, {**asdict(MDNRNNConfig()), **ckpt["config"], "seed": ckpt.get("seed")},
                              {**asdict(c), "seed": seed})
        except CourseError as error:
            raise CourseError(f"{error} Or pass resume=False (--no-resume) to start over.") from None
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        index_gen.set_state(ckpt["index_generator"].cpu())  # generator states are CPU byte tensors
        noise_gen.set_state(ckpt["noise_generator"].cpu())
        history = list(ckpt["history"])

    n_windows = int(((train.lengths + c.seq_len - 1) // c.seq_len).sum())
    n_batches = math.ceil(n_windows / c.batch_size)
    bar = tqdm(total=max(epochs - len(history), 0) * n_batches, desc="MDN-RNN", unit="batch", disable=not progress)
    for epoch in range(len(history), epochs):
        model.train()
        ids, starts = epoch_windows(train, c.seq_len, index_gen)
        sums: dict[str, float] = {}
        steps, start = 0.0, time.perf_counter()
        for b in range(0, len(ids), c.batch_size):
            batch = make_batch(train, ids[b:b + c.batch_size], starts[b:b + c.batch_size], c.seq_len, noise_gen)
            terms = model.loss(batch)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            nn.utils.clip_grad_value_(model.parameters(), c.grad_clip)
            opt.step()
            n = float(batch.mask.sum())
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v.item() * n
            steps += n
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, z_nll=f"{terms['z_nll'].item():.3f}")
        seconds = time.perf_counter() - start
        row = {"epoch": epoch + 1, **{k: v / steps for k, v in sums.items()},
               "timesteps_per_s": steps / seconds, "seconds": seconds}
        if held is not None:
            row.update({f"held_out_{k}": v for k, v in evaluate_mdnrnn(model, held, seed=seed).items()})
        history.append(row)
        if out_path is not None:
            save_mdnrnn(model, out_path, optimizer=opt.state_dict(), history=history, seed=seed,
                        index_generator=index_gen.get_state(), noise_generator=noise_gen.get_state())
    bar.close()
    return model.eval(), history
