"""V, the vision model: a convolutional VAE that squeezes each 64x64x3 frame into a small code z.

    encoder  q(z | x) = N(mu(x), diag(sigma^2(x)))     x: 64x64x3 -> conv 32, 64, 128, 256 (k4 s2) -> 2x2x256
    decoder  x_hat = g(z)                               z -> dense 1x1x1024 -> deconv 128 k5, 64 k5, 32 k6, 3 k6
    loss     -ELBO = E_q ||x - g(z)||^2 + beta * KL(q(z | x) || N(0, I))

exactly as the paper's CarRacing model (4,348,547 parameters at z = 32). As in the original code the
reconstruction term is the squared error summed over pixels (mean over the batch), and the TOTAL KL of each
frame (summed over its dimensions) is floored at kl_tolerance * z_size nats ("free bits": 0.5 x 32 = 16 nats
per frame at z = 32), so the encoder is not pushed to squeeze below that. The floor is on the frame's total:
one dimension may carry 3 nats and another none, with no per-dimension floor anywhere. Every shipped VAE with
free bits was trained with this loss; training logs the floored KL (the term in the loss) and the raw KL.

The average KL bounds the information the code carries from above:

    E_x KL(q(z|x) || p(z)) = I(x; z) + KL(q(z) || p(z))      q(z) = E_x q(z|x), the aggregate posterior
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from tqdm.auto import tqdm

from .envs import FRAME_SIZE, frames_to_tensor
from .errors import CourseError, MissingArtefactError, ShapeError
from .runtime import pick_device

FORMAT = "wmcourse.vae/1"


@dataclass(frozen=True)
class VAEConfig:
    """The VAE's size and training settings; the defaults are the paper's CarRacing values."""

    z_size: int = 32  # 64 for VizDoom
    width: float = 1.0  # multiplies every layer's channel count (0.5: a quarter of the parameters)
    beta: float = 1.0  # weight of the KL term (1: the plain ELBO)
    kl_tolerance: float = 0.5  # free bits: KL floored at kl_tolerance * z_size nats per frame
    lr: float = 1e-4
    batch_size: int = 100

    @property
    def channels(self) -> tuple[int, int, int, int]:
        """Encoder channels (32, 64, 128, 256) times width; the decoder mirrors them."""
        return tuple(max(1, round(c * self.width)) for c in (32, 64, 128, 256))


class ConvVAE(nn.Module):
    """The paper's conv VAE. Input (N, 3, 64, 64) in [0, 1]; output x_hat, mu, logvar."""

    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = config
        c1, c2, c3, c4 = config.channels
        self.encoder = nn.Sequential(  # 64 -> 31 -> 14 -> 6 -> 2
            nn.Conv2d(3, c1, 4, stride=2), nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2), nn.ReLU(),
            nn.Conv2d(c2, c3, 4, stride=2), nn.ReLU(),
            nn.Conv2d(c3, c4, 4, stride=2), nn.ReLU(),
            nn.Flatten(),
        )
        self.fc_mu = nn.Linear(4 * c4, config.z_size)
        self.fc_logvar = nn.Linear(4 * c4, config.z_size)
        self.fc_decode = nn.Linear(config.z_size, 4 * c4)
        self.decoder = nn.Sequential(  # 1 -> 5 -> 13 -> 30 -> 64
            nn.ConvTranspose2d(4 * c4, c3, 5, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(c3, c2, 5, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(c2, c1, 6, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(c1, 3, 6, stride=2), nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, 3, 64, 64) in [0, 1] -> mu, logvar (N, z_size): the parameters of q(z | x)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, FRAME_SIZE, FRAME_SIZE):
            raise ShapeError(f"The VAE takes images (N, 3, 64, 64) in [0, 1], got {tuple(x.shape)}. uint8 frames "
                             "(N, 64, 64, 3) go through wmcourse.envs.frames_to_tensor (or use vae.encode_frames).")
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, z_size) -> x_hat (N, 3, 64, 64) in [0, 1]."""
        if z.ndim != 2 or z.shape[1] != self.config.z_size:
            raise ShapeError(f"The decoder takes codes z of shape (N, {self.config.z_size}), got {tuple(z.shape)}.")
        h = self.fc_decode(z)
        return self.decoder(h[:, :, None, None])

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, generator)), mu, logvar


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_vae(config: VAEConfig = VAEConfig(), seed: int = 0) -> ConvVAE:
    """A freshly initialised VAE; the same seed gives the same weights (torch's global RNG is left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ConvVAE(config)


# --- the formulas -------------------------------------------------------------------------------------

def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample of N(mu, sigma^2) that gradients flow through:

        z = mu + sigma * eps,   sigma = exp(logvar / 2),   eps ~ N(0, I)

    The randomness sits in eps, which has no parameters, so dz/dmu = 1 and dz/dsigma = eps.
    """
    sigma = torch.exp(0.5 * logvar)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + sigma * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) for each latent dimension (same shape as mu), in nats:

        KL = -1/2 * (1 + log sigma^2 - mu^2 - sigma^2)

    Zero only when mu = 0 and sigma = 1, i.e. when the code says nothing about the frame.
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def elbo_loss(x: torch.Tensor, x_hat: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
              beta: float = 1.0, kl_tolerance: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The negative ELBO as the original code trains it: (total, reconstruction, KL), each a batch mean.

        reconstruction = sum over pixels and channels of (x - x_hat)^2
        KL             = max(sum over dimensions of KL_j, kl_tolerance * z_size)      (free bits, per frame)
        total          = reconstruction + beta * KL

    Below the floor the KL term is constant, so it exerts no pull until a frame's code carries more than
    kl_tolerance * z_size nats in total (however they are spread over the dimensions).
    """
    reconstruction = (x - x_hat).pow(2).sum(dim=(1, 2, 3)).mean()
    kl = floored_kl(frame_kl(mu, logvar), kl_tolerance * mu.shape[1]).mean()
    return reconstruction + beta * kl, reconstruction, kl


def frame_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The raw KL of each frame, summed over its latent dimensions: sum_j KL_j, shape (N,), in nats."""
    return kl_divergence(mu, logvar).sum(dim=-1)


def floored_kl(kl: torch.Tensor, floor: float) -> torch.Tensor:
    """Free bits on a frame's total KL: max(sum_j KL_j, floor). Below the floor it is constant (no gradient)."""
    return torch.clamp(kl, min=floor)


# --- frames in, frames out ------------------------------------------------------------------------------

def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def encode_frames(model: ConvVAE, frames: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """uint8 frames (N, 64, 64, 3) -> mu, logvar as float32 arrays (N, z_size), in batches."""
    x = frames_to_tensor(frames)
    device, outs = _device_of(model), []
    for start in range(0, len(x), batch_size):
        mu, logvar = model.encode(x[start:start + batch_size].to(device))
        outs.append((mu.float().cpu(), logvar.float().cpu()))
    z = model.config.z_size
    mu = torch.cat([m for m, _ in outs]) if outs else torch.zeros(0, z)
    logvar = torch.cat([lv for _, lv in outs]) if outs else torch.zeros(0, z)
    return mu.numpy(), logvar.numpy()


@torch.no_grad()
def decode_latents(model: ConvVAE, z: np.ndarray | torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Codes z (N, z_size) -> uint8 frames (N, 64, 64, 3), ready to show."""
    z = torch.as_tensor(np.asarray(z, np.float32) if not torch.is_tensor(z) else z, dtype=torch.float32)
    if z.ndim != 2 or z.shape[1] != model.config.z_size:
        raise ShapeError(f"Expected codes z of shape (N, {model.config.z_size}), got {tuple(z.shape)}; "
                         "a single code needs z[None].")
    device, outs = _device_of(model), []
    for start in range(0, len(z), batch_size):
        outs.append(model.decode(z[start:start + batch_size].to(device)).float().cpu())
    x = torch.cat(outs) if outs else torch.zeros(0, 3, FRAME_SIZE, FRAME_SIZE)
    return (x.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()


def reconstruct(model: ConvVAE, frames: np.ndarray) -> np.ndarray:
    """uint8 frames -> their reconstructions decode(mu) (no sampling), uint8 (N, 64, 64, 3)."""
    mu, _ = encode_frames(model, frames)
    return decode_latents(model, mu)


@torch.no_grad()
def evaluate_reconstruction(model: ConvVAE, frames: np.ndarray, batch_size: int = 256) -> float:
    """Mean squared error per pixel value, in [0, 1] units, of decode(mu(x)) on held-out frames:

        MSE = mean over frames, pixels and channels of (x - x_hat)^2

    (times 64*64*3 = 12,288 it is the reconstruction term of the loss, without sampling).
    """
    x = frames_to_tensor(frames)
    if len(x) == 0:
        raise ShapeError("evaluate_reconstruction needs at least one frame, got none.")
    device, total = _device_of(model), 0.0
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size].to(device)
        mu, _ = model.encode(batch)
        total += float((model.decode(mu) - batch).pow(2).sum())
    return total / x.numel()


@torch.no_grad()
def mean_kl(model: ConvVAE, frames: np.ndarray, batch_size: int = 256) -> float:
    """Mean KL(q(z|x) || N(0, I)) per frame, in nats: an upper bound on the information z carries about the frame
    (E_x KL = I(x; z) + KL(q(z) || p(z)))."""
    mu, logvar = encode_frames(model, frames, batch_size)
    return float(kl_divergence(torch.from_numpy(mu), torch.from_numpy(logvar)).sum(-1).mean())


# --- saving and loading ------------------------------------------------------------------------------------

def save_vae(model: ConvVAE, path: str | Path, half: bool = False, training: dict | None = None) -> Path:
    """Write config + weights (float16 with half=True: half the size, for shipping in data/).

    `training` (optimizer state, step, history) is stored too when given, so training can resume.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
    blob = {"format": FORMAT, "config": asdict(model.config), "state_dict": state}
    if training is not None:
        blob["training"] = training
    tmp = path.with_name(path.name + ".partial")
    torch.save(blob, tmp)
    tmp.replace(path)
    return path


def _read(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise MissingArtefactError(f"No VAE checkpoint at {path}. Train one with:\n"
                                   f"    python -m wmcourse train-vae --out {path}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CourseError(f"{path} is not a wmcourse VAE checkpoint (expected format {FORMAT!r}).")
    return blob


def load_vae(path: str | Path, device: str | torch.device = "cpu") -> ConvVAE:
    """A VAE saved by save_vae or train_vae, in float32 and eval mode, on `device`."""
    blob = _read(path)
    model = ConvVAE(VAEConfig(**blob["config"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
    return model.to(pick_device(str(device))).eval()


# --- training -------------------------------------------------------------------------------------------

@contextlib.contextmanager
def torch_threads(n: int | None):
    """Use n CPU threads inside the block and restore the previous number after (None: leave it)."""
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _epoch_batches(frames_source: np.ndarray | str | Path, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """One shuffled pass over the frames (an in-memory uint8 array, or a rollout folder read shard by shard)."""
    if isinstance(frames_source, np.ndarray):
        order = np.random.default_rng(seed).permutation(len(frames_source))
        for start in range(0, len(order), batch_size):
            yield frames_source[order[start:start + batch_size]]
    else:
        from .rollouts import iter_frame_batches

        yield from iter_frame_batches(frames_source, batch_size, seed=seed)


def _batches_per_epoch(frames_source: np.ndarray | str | Path, batch_size: int) -> int:
    if isinstance(frames_source, np.ndarray):
        x = frames_source
        if x.ndim != 4 or x.shape[1:] != (FRAME_SIZE, FRAME_SIZE, 3) or x.dtype != np.uint8 or len(x) == 0:
            raise ShapeError(f"Expected training frames (N, 64, 64, 3) uint8 with N > 0, got {x.shape} {x.dtype}. "
                             "Raw 96x96 CarRacing frames go through wmcourse.envs.preprocess_frames first.")
        return -(-len(frames_source) // batch_size)
    from .rollouts import count_frames

    return -(-count_frames(frames_source) // batch_size)


def train_vae(frames_source: np.ndarray | str | Path, config: VAEConfig = VAEConfig(),
              out_path: str | Path | None = None, epochs: int = 1, steps: int | None = None, seed: int = 0,
              device: str = "auto", checkpoint_every: int = 500, threads: int | None = None,
              progress: bool = True) -> dict[str, list[float]]:
    """Train a VAE on frames with Adam; return the loss history {"step", "loss", "reconstruction", "kl", "kl_raw"}
    ("kl": the floored KL the loss uses; "kl_raw": the KL before the floor, both batch means in nats per frame).

    frames_source: uint8 frames (N, 64, 64, 3), or a rollout folder (read a few shards at a time).
    Runs `steps` optimizer steps if given, else `epochs` passes. With out_path, a checkpoint (weights,
    optimizer, step, noise generator, history) is written every `checkpoint_every` steps and at the end,
    and a run that finds one there continues from it: the result is the same as an uninterrupted run.
    """
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
    blob = _read(path)
    if blob["config"] != asdict(config):
        changed = ", ".join(f"{k}: {blob['config'].get(k)!r} -> {v!r}" for k, v in asdict(config).items()
                            if blob["config"].get(k) != v)
        raise CourseError(f"{path} holds a VAE trained with other settings ({changed}). "
                          "Use another --out path, or delete it to start again.")
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


# --- encoding rollouts for M ------------------------------------------------------------------------------

def encode_episodes(model: ConvVAE, episodes: list, num_actions: int | None = None) -> dict[str, np.ndarray]:
    """Rollout episodes (wmcourse.rollouts.Episode) -> the encoded format M trains on (see wmcourse.mdnrnn):

        mu, logvar  (sum (T_i + 1), Z)  every observation of each episode, its final one included
        actions     (sum T_i, A)        float32 (one-hot when discrete)
        rewards, dones (sum T_i,)       dones = terminated (a time-limit cut is not the end of the world)
        lengths     (E,)

    num_actions: size of a discrete action space (default: the largest action seen + 1, at least 2).
    """
    mus, logvars = zip(*(encode_frames(model, np.concatenate([e.obs, e.final_obs[None]])) for e in episodes))
    actions = [np.asarray(e.action, np.float32) for e in episodes]
    if actions[0].ndim == 1:  # discrete actions: one-hot
        n = num_actions or max(2, int(max(a.max() for a in actions)) + 1)
        actions = [np.eye(n, dtype=np.float32)[a.astype(np.int64)] for a in actions]
    return {"mu": np.concatenate(mus), "logvar": np.concatenate(logvars), "actions": np.concatenate(actions),
            "rewards": np.concatenate([e.reward for e in episodes]).astype(np.float32),
            "dones": np.concatenate([e.terminated for e in episodes]),
            "lengths": np.array([len(e) for e in episodes], np.int64)}


def encode_rollouts(model: ConvVAE, rollout_dir: str | Path, out_dir: str | Path, progress: bool = True) -> list[Path]:
    """Encode every rollout shard into out_dir/encoded_00000.npz, ... (shards already encoded are skipped)."""
    from .rollouts import list_shards, load_shard

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in tqdm(list_shards(rollout_dir), desc="encode rollouts", unit="shard", disable=not progress):
        path = out_dir / shard.name.replace("shard_", "encoded_")
        if not path.exists():
            tmp = path.with_name(path.name + ".partial")  # not *.npz: never mistaken for a finished file
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **encode_episodes(model, load_shard(shard)))
            tmp.replace(path)
        paths.append(path)
    return paths


# --- the shipped models (data/) ---------------------------------------------------------------------------

MAKE_SHIPPED = "bash scripts/train_carracing_models.sh && python scripts/ship_carracing_models.py"
LATENT_SIZES = (4, 8, 16, 32)  # the small VAEs of the latent-size comparison (half width)
HELDOUT = "carracing_heldout"  # 4 real CarRacing episodes (another seed) that no VAE trained on


def shipped_vae_name(z: int = 32, small: bool = False) -> str:
    """File name in data/ of a shipped VAE: the paper's (z=32) or a small half-width one (z in LATENT_SIZES)."""
    if small and z not in LATENT_SIZES:
        raise ValueError(f"The small shipped VAEs have z in {LATENT_SIZES}, got z={z}.")
    if not small and z != 32:
        raise ValueError(f"The full-size shipped VAE has z=32 (the paper's), got z={z}; "
                         f"for other sizes use small=True (z in {LATENT_SIZES}).")
    return f"vae_carracing_small_z{z}.pt" if small else "vae_carracing_z32.pt"


def load_shipped_vae(z: int = 32, small: bool = False, device: str | torch.device = "cpu") -> ConvVAE:
    """A VAE trained on real CarRacing frames, shipped in data/ (an error naming the command if it is missing)."""
    from . import artefacts

    return load_vae(artefacts.require(shipped_vae_name(z, small), MAKE_SHIPPED), device=device)


def load_heldout_frames(max_frames: int | None = None) -> np.ndarray:
    """The held-out CarRacing frames shipped in data/carracing_heldout, uint8 (N, 64, 64, 3)."""
    from . import artefacts, rollouts

    artefacts.require(f"{HELDOUT}/shard_00000.npz", MAKE_SHIPPED)
    return rollouts.load_frames(artefacts.data_dir() / HELDOUT, max_frames=max_frames)


def pick_heldout_frames(n: int = 8, skip: int = 60, seed: int | None = None) -> np.ndarray:
    """n held-out frames spread over every held-out episode, leaving out each episode's first `skip` steps
    (the camera zooms in there); seed=None takes them evenly spaced, a seed takes them at random."""
    from . import artefacts, rollouts

    artefacts.require(f"{HELDOUT}/shard_00000.npz", MAKE_SHIPPED)
    episodes = rollouts.load_episodes(artefacts.data_dir() / HELDOUT)
    pool = np.concatenate([e.obs[min(skip, len(e) // 2):] for e in episodes])
    if seed is None:
        index = np.linspace(0, len(pool) - 1, n).round().astype(int)
    else:
        index = np.sort(np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False))
    return pool[index]


def load_results() -> list[dict]:
    """Every shipped VAE measured on the held-out frames (data/vae_results.json, written by `eval-vae`):
    dicts with vae, frames, z_size, beta, parameters, mse_per_pixel, kl_nats_per_frame."""
    import json

    from . import artefacts

    return json.loads(artefacts.require("vae_results.json", MAKE_SHIPPED).read_text())


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


def shipped_result(results: list[dict], z: int = 32, small: bool = False) -> dict:
    """The measured figures of one shipped VAE."""
    name = shipped_vae_name(z, small)
    for r in results:
        if Path(r["vae"]).name == name:
            return r
    raise KeyError(f"{name} is not in the results table; remake it with:\n    {MAKE_SHIPPED}")


@torch.no_grad()
def kl_per_dimension(model: ConvVAE, frames: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Mean KL(q(z_j|x) || N(0, 1)) of each latent dimension j over the frames, in nats (z_size,).
    A dimension near 0 carries no information about the frame: the decoder ignores it. (Free bits floors the sum
    of these over j, per frame, not each one.)"""
    mu, logvar = encode_frames(model, frames, batch_size)
    return kl_divergence(torch.from_numpy(mu), torch.from_numpy(logvar)).mean(0).numpy()
