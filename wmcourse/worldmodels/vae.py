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

V is trained by wmcourse.worldmodels.train_vae, measured by wmcourse.worldmodels.probes; the shipped ones load from
wmcourse.shipped.catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ..checkpoint import load_torch, save_torch
from ..errors import ShapeError
from ..real.envs import FRAME_SIZE, frames_to_tensor
from ..runtime import pick_device

FORMAT = "wmcourse.vae/1"
TRAIN_COMMAND = "python -m wmcourse train-vae --out {path}"


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
                             "(N, 64, 64, 3) go through wmcourse.real.envs.frames_to_tensor "
                             "(or use vae.encode_frames).")
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


# --- saving and loading ------------------------------------------------------------------------------------

def save_vae(model: ConvVAE, path: str | Path, half: bool = False, training: dict | None = None) -> Path:
    """Write config + weights (float16 with half=True: half the size, for shipping in data/).

    `training` (optimizer state, step, history) is stored too when given, so training can resume.
    """
    state = {k: (v.half() if half and v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
    extra = {} if training is None else {"training": training}
    return save_torch(path, FORMAT, model.config, state_dict=state, **extra)


def read_checkpoint(path: str | Path) -> dict:
    """The raw checkpoint save_vae wrote: {"format", "config", "state_dict"[, "training"]}, on the CPU."""
    return load_torch(path, FORMAT, TRAIN_COMMAND.format(path=path), kind="VAE")


def load_vae(path: str | Path, device: str | torch.device = "cpu") -> ConvVAE:
    """A VAE saved by save_vae or train_vae, in float32 and eval mode, on `device`."""
    blob = read_checkpoint(path)
    model = ConvVAE(VAEConfig(**blob["config"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
    return model.to(pick_device(str(device))).eval()
