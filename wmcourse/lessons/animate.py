"""Animations: the course's worlds in motion, playable in a notebook and saved as GIFs for the slides.

The paper's interactive article ("World Models", Ha & Schmidhuber 2018) opens with its agent driving inside its
dream. These are the course's own: Take Cover's real game beside its dream (notebook 05); the shipped controller
in real CarRacing, V's view of it and a dream from the same start, in step (notebook 06); the CartPole World Model
balancing in its dream while it fails in reality (notebook 07); CMA-ES's search distribution generation by
generation (notebook 04).

An `Animation` is just its frames (T, H, W, 3) uint8, a caption per frame and the panels' titles. In a notebook
it shows itself as a small JavaScript player (play, pause, a frame slider; the frames embedded as PNG, scaled up
by the browser with sharp pixels: no ffmpeg, no external player); `save_gif` writes the same frames for the
slides (`python -m wmcourse figures`). Frames stay small (64x64 pictures, a few hundred at most), so a player
of 150 CarRacing frames is about 1.5 MB and builds in a fraction of a second.
"""

from __future__ import annotations

import base64
import html as _html
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from ..errors import ShapeError

FPS = 12
GAP = 2  # white pixels between panels


@dataclass
class Animation:
    """Frames (T, H, W, 3) uint8 played at `fps`, shown `scale` times larger; a caption per frame (optional) and
    the titles of the panels laid side by side in each frame, with their widths in pixels (optional)."""

    frames: np.ndarray
    captions: list[str] = field(default_factory=list)
    titles: list[tuple[str, int]] = field(default_factory=list)
    fps: int = FPS
    scale: int = 3

    def __post_init__(self) -> None:
        self.frames = np.asarray(self.frames)
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3 or self.frames.dtype != np.uint8 or not len(self.frames):
            raise ShapeError(f"An animation needs frames (T, H, W, 3) uint8 with T >= 1, got {self.frames.shape} "
                             f"{self.frames.dtype}.")
        if self.captions and len(self.captions) != len(self.frames):
            raise ShapeError(f"{len(self.captions)} captions for {len(self.frames)} frames: give one per frame.")

    def __len__(self) -> int:
        return len(self.frames)

    def _repr_html_(self) -> str:
        return player_html(self)

    def save_gif(self, path: str | Path, scale: int | None = None) -> Path:
        """Write the frames as a looping animated GIF (Pillow through imageio), `scale` times larger."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        k = scale or self.scale
        big = self.frames.repeat(k, axis=1).repeat(k, axis=2)
        iio.imwrite(path, big, extension=".gif", duration=1000 / self.fps, loop=0)
        return path


def _png_uri(frame: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(iio.imwrite("<bytes>", frame, extension=".png")).decode()


def player_html(animation: Animation) -> str:
    """A self-contained HTML player: play/pause, a frame slider, the caption of the frame shown."""
    uid = "wmanim" + uuid.uuid4().hex[:10]
    h, w = animation.frames.shape[1:3]
    k = animation.scale
    frames = json.dumps([_png_uri(f) for f in animation.frames])
    captions = json.dumps([_html.escape(c) for c in animation.captions] or [""] * len(animation))
    titles = "".join(f"<span style='display:inline-block;width:{width * k}px;margin-right:{GAP * k}px;"
                     f"text-align:center;font-weight:bold'>{_html.escape(t)}</span>" for t, width in animation.titles)
    return f"""<div id="{uid}" style="font:13px sans-serif">
<div style="white-space:nowrap">{titles}</div>
<img style="width:{w * k}px;height:{h * k}px;image-rendering:pixelated;display:block" alt="animation">
<div><button data-role="play">pause</button>
<input data-role="slider" type="range" min="0" max="{len(animation) - 1}" value="0" style="width:{min(w * k, 420)}px">
<span data-role="caption" style="font-family:monospace"></span></div>
<script>(function() {{
  const root = document.getElementById("{uid}"), frames = {frames}, captions = {captions};
  const img = root.querySelector("img"), slider = root.querySelector("[data-role=slider]");
  const button = root.querySelector("[data-role=play]"), caption = root.querySelector("[data-role=caption]");
  let i = 0, timer = null;
  function show(j) {{ i = j; img.src = frames[i]; slider.value = i; caption.textContent = captions[i] || ""; }}
  function play() {{ timer = setInterval(() => show((i + 1) % frames.length), {1000 / animation.fps:.1f});
                     button.textContent = "pause"; }}
  function pause() {{ clearInterval(timer); timer = null; button.textContent = "play"; }}
  button.onclick = () => (timer ? pause() : play());
  slider.oninput = () => {{ pause(); show(Number(slider.value)); }};
  show(0); play();
}})();</script></div>"""


def side_by_side(panels: Mapping[str, np.ndarray], captions: Sequence[str] | None = None, fps: int = FPS,
                 scale: int = 3) -> Animation:
    """Pictures side by side and in step: panels maps a title to frames (T, H, W, 3) uint8, every panel the
    same T and the same H."""
    frames = {name: np.asarray(f, np.uint8) for name, f in panels.items()}
    shapes = {(len(f), f.shape[1]) for f in frames.values()}
    if not frames or len(shapes) != 1 or any(f.ndim != 4 or f.shape[-1] != 3 for f in frames.values()):
        raise ShapeError("Expected panels of frames (T, H, W, 3), every panel the same T and H; got "
                         + ", ".join(f"{k}: {v.shape}" for k, v in frames.items()))
    parts = []
    for i, f in enumerate(frames.values()):
        if i:
            parts.append(np.full((*f.shape[:2], GAP, 3), 255, np.uint8))
        parts.append(f)
    return Animation(np.concatenate(parts, axis=2), list(captions or []),
                     [(name, f.shape[2]) for name, f in frames.items()], fps, scale)


def animate_side_by_side(movies: Mapping[str, np.ndarray], every: int | None = None,
                         max_frames: int = 150) -> Animation:
    """Several frame sequences side by side and in step, each (T_i, H, W, 3) uint8 titled by its key; a sequence
    that ends holds its last frame while the others go on. Every `every`-th step is drawn (default: as few as
    cover the longest sequence in max_frames frames). Returns an Animation: a notebook shows it as a
    player that needs nothing from outside (no video encoder, no web font)."""
    if not movies:
        raise ShapeError("Expected at least one frame sequence to animate, got none.")
    for name, frames in movies.items():
        if np.asarray(frames).ndim != 4:
            raise ShapeError(f"{name!r}: expected frames of shape (T, H, W, 3), got {np.asarray(frames).shape}.")
    longest = max(len(f) for f in movies.values())
    every = every or max(1, -(-longest // max_frames))
    steps = np.arange(0, longest, every)[:max_frames]
    panels = {name: np.asarray(frames, np.uint8)[np.minimum(steps, len(frames) - 1)]
              for name, frames in movies.items()}
    captions = ["step " + str(t) + "".join(f"; {name} over" for name, f in movies.items() if t >= len(f))
                for t in steps]
    return side_by_side(panels, captions)


def _pad(frames: np.ndarray, n: int) -> np.ndarray:
    """Hold the last frame so that there are n (an episode that ended stays on screen as it ended)."""
    return frames if len(frames) >= n else np.concatenate([frames, np.repeat(frames[-1:], n - len(frames), 0)])


def _running(values: np.ndarray, n: int) -> np.ndarray:
    """Cumulative sums at steps 0..n-1 (0 first), held after the values run out."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    return total[np.minimum(np.arange(n), len(total) - 1)]


# --- notebook 06: the controller in the real car, V's view and the dream --------------------------------------

def drive_animation(real: Mapping[str, np.ndarray], dream: Mapping[str, np.ndarray], decode: Callable,
                    every: int = 2, steps: int | None = None, fps: int = FPS) -> Animation:
    """The same controller C driving the real car, V's view of it, and C driving M's dream from V's code of the
    same first frame: side by side and in step, with what each world paid so far.

    real, dream: wmcourse.worldmodels.agent.drive_real and drive_dream; every `every`-th step is shown.
    decode: codes (N, Z) -> frames (N, 64, 64, 3), e.g. functools.partial(vae.decode_latents, V)."""
    n = min(len(real["frames"]), steps or len(real["frames"]))
    shown = np.arange(0, n, every)
    dreamed = _pad(decode(dream["z"][:n]), n)
    real_score, dream_score = _running(real["rewards"], n), _running(dream["rewards"], n)
    dream_end = len(dream["rewards"]) if len(dream["dones"]) and dream["dones"][-1] else None
    captions = [f"step {t:3d}: real score {real_score[t]:6.1f} | M pays in its dream {dream_score[t]:6.1f}"
                + (" (the dream ended)" if dream_end is not None and t >= dream_end else "") for t in shown]
    panels = {"real CarRacing": real["frames"][shown], "V's view of it": decode(real["z"][shown]),
              "M's dream, same start": dreamed[shown]}
    return side_by_side(panels, captions, fps=fps)


# --- notebook 07: CartPole balanced in the dream, failing in reality ----------------------------------------

def cartpole_animation(real_states: np.ndarray, dream_states: np.ndarray, every: int = 2, steps: int | None = None,
                       fps: int = FPS) -> Animation:
    """The same controller in real CartPole and in M's dream from the same start state, side by side: each held
    on its last picture once it has ended (tinted red when it ended before the last frame: the pole fell, the
    cart left, or M's done head ended the dream). States: (T + 1, 4) and (U + 1, 4),
    wmcourse.worldmodels.cartpole.play_real and play_dream."""
    from .cartpole_plots import cartpole_image

    n = steps or max(len(real_states), len(dream_states))
    shown = np.arange(0, n, every)
    real_end, dream_end = len(real_states) - 1, len(dream_states) - 1

    def pictures(states: np.ndarray, end: int) -> np.ndarray:
        return np.stack([cartpole_image(states[min(t, end)], ended=t >= end and end < n - 1) for t in shown])

    def said(t: int, end: int, world: str) -> str:
        return f"{world}: step {t}" if t < end or end >= n - 1 else f"{world} ended at step {end}"

    captions = [f"{said(t, real_end, 'reality')} | {said(t, dream_end, 'dream')}" for t in shown]
    return side_by_side({"reality": pictures(real_states, real_end),
                         "M's dream, same start": pictures(dream_states, dream_end)}, captions, fps=fps, scale=2)


# --- notebook 04: a CMA-ES run ---------------------------------------------------------------------------------

def cma_animation(trace: Sequence, objective: Callable[[np.ndarray], np.ndarray], box=((-2, 2), (-1, 3)),
                  fps: int = 6, dpi: int = 72) -> Animation:
    """CMA-ES's search distribution, one frame per generation (wmcourse.worldmodels.evolve.trace_cma's snapshots): the
    candidates drawn, the mean and its path, and the 2-sigma ellipse of N(m, sigma^2 C), over log f.

    The axes, log f and the legend are drawn once; each frame redraws only what moves (matplotlib's blitting),
    so a frame costs a few milliseconds instead of a whole figure."""
    import matplotlib.pyplot as plt


    (x0, x1), (y0, y1) = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
    f = np.log10(objective(np.stack([gx.ravel(), gy.ravel()], axis=1)) + 1e-3).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(4.2, 4.0), dpi=dpi)
    try:
        ax.imshow(f, extent=(x0, x1, y0, y1), origin="lower", cmap="Greys_r", alpha=0.55, aspect="auto")
        ax.plot(1, 1, "*", color="#facc15", ms=12, mec="k", label="optimum")
        trail, = ax.plot([], [], color="#dc2626", lw=0.8, alpha=0.5, animated=True)
        dots = ax.scatter([], [], s=12, color="#2563eb", zorder=3, label="candidates", animated=True)
        ellipse, = ax.plot([], [], color="#dc2626", lw=1.5, label="2-sigma ellipse", animated=True)
        mean, = ax.plot([], [], "x", color="#dc2626", ms=9, mew=2, label="mean m", animated=True)
        heading = ax.text(0.02, 0.97, "", transform=ax.transAxes, fontsize=8, va="top", animated=True)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.legend(fontsize=7, loc="lower left")
        ax.set_title("CMA-ES on Rosenbrock's valley", fontsize=10)
        fig.tight_layout()
        fig.canvas.draw()
        background = fig.canvas.copy_from_bbox(fig.bbox)
        means = np.array([snap.mean for snap in trace])
        frames, captions = [], []
        for g, snap in enumerate(trace):
            fig.canvas.restore_region(background)
            trail.set_data(*means[:g + 1].T)
            dots.set_offsets(snap.candidates)
            ellipse.set_data(*ellipse_points(snap.mean, snap.covariance).T)
            mean.set_data([snap.mean[0]], [snap.mean[1]])
            heading.set_text(f"generation {g}: best so far {snap.best:.3g}")
            for artist in (trail, dots, ellipse, mean, heading):
                ax.draw_artist(artist)
            frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
            captions.append(f"generation {g}: best so far {snap.best:.3g}")
    finally:
        plt.close(fig)
    return Animation(np.stack(frames), captions, [("CMA-ES on Rosenbrock's valley", frames[0].shape[1])], fps, 1)


def ellipse_points(mean: np.ndarray, covariance: np.ndarray, radius: float = 2.0, n: int = 100) -> np.ndarray:
    """Points on the ellipse {m + radius * L u : |u| = 1}, L the Cholesky factor.

    Radius 2 holds ~86% of a 2-D Gaussian."""
    angle = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return (mean[:, None] + radius * np.linalg.cholesky(covariance) @ circle).T


def png_bytes(frame: np.ndarray, scale: int = 4) -> bytes:
    """A uint8 frame as PNG bytes, enlarged `scale` times with sharp pixels (for an ipywidgets Image)."""
    big = np.asarray(frame, np.uint8).repeat(scale, axis=0).repeat(scale, axis=1)
    return iio.imwrite("<bytes>", big, extension=".png")
