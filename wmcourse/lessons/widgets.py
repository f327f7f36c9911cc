"""Interactive controls for the notebooks (ipywidgets).

Each control's callback is a plain function of this module that returns what it shows (a figure or an
array), so tests call it directly: an exception inside an ipywidgets callback would not fail a cell.
Every callback is connected through `guarded`, which shows a callback's traceback in the widget's own
error area (and keeps it there), so a learner sees what went wrong instead of a control that does nothing.
"""

from __future__ import annotations

import functools
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import clear_output, display

from .. import checkpoint, runtime
from ..worldmodels import vae as _vae
from . import plots
from .animate import png_bytes

if TYPE_CHECKING:
    import torch

# --- every callback goes through one guard --------------------------------------------------------------


def error_area() -> W.Output:
    """The Output area where a widget shows the tracebacks of its callbacks (empty, so invisible, until one raises)."""
    return W.Output(layout=W.Layout(max_height="320px", overflow="auto"))


def guarded(errors: W.Output, callback: Callable) -> Callable:
    """`callback`, wrapped so that an exception it raises is shown in `errors` (its full traceback, kept until the
    learner clears it) instead of vanishing into the browser's log; it then returns None."""

    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Exception:  # noqa: BLE001 - shown to the learner, in the widget
            errors.append_stderr(f"{getattr(callback, '__qualname__', callback)} raised:\n{traceback.format_exc()}")
            return None

    return run


# --- notebook 01: latent traversal and the latent-size switch ---------------------------------------------


def decode_code(model: _vae.ConvVAE, z: np.ndarray) -> np.ndarray:
    """One code z (z_size,) -> the frame the decoder draws for it, uint8 (64, 64, 3)."""
    return _vae.decode_latents(model, np.asarray(z, np.float32).reshape(1, -1))[0]


def traversal_frames(model: _vae.ConvVAE, z: np.ndarray, dim: int, values: np.ndarray) -> np.ndarray:
    """Decode z with dimension `dim` swept over `values`, the others held: uint8 (len(values), 64, 64, 3)."""
    codes = np.repeat(np.asarray(z, np.float32).reshape(1, -1), len(values), axis=0)
    codes[:, dim] = values
    return _vae.decode_latents(model, codes)


def traversal_figure(model: _vae.ConvVAE, z: np.ndarray, dims: list[int], values: np.ndarray,
                     kl: np.ndarray | None = None) -> plt.Figure:
    """One row per latent dimension: decode(z) first, then the decoded frame as that dimension sweeps `values`
    (set to each value in turn, every other dimension held at its value in z)."""
    start = decode_code(model, z)
    rows = [[start, *traversal_frames(model, z, d, values)] for d in dims]
    labels = [f"z[{d}]" + (f"\nKL {kl[d]:.2f}" if kl is not None else "") for d in dims]
    columns = ["decode(z)", *(f"z[j] = {v:+.1f}" for v in values)]
    return plots.frame_grid(rows, labels, columns, size=1.1,
                            suptitle="Latent traversal: one dimension j moves, the others stay put")


def _show_in(output: W.Output, figure: plt.Figure) -> plt.Figure:
    """Replace what an Output area shows with a matplotlib figure (closed afterwards, so it is not drawn twice)."""
    with output:
        clear_output(wait=True)
        display(figure)
    plt.close(figure)
    return figure


def _labelled(title: str, image: W.Image) -> W.VBox:
    return W.VBox([W.HTML(f"<b>{title}</b>"), image], layout=W.Layout(align_items="center"))


class LatentTraversal:
    """One slider per latent dimension, decoding live. It starts from the code mu(x) of a real frame x.

    `sliders[i]` drives dimension `order[i]` (most informative first when per-dimension KLs are given);
    `decoded` holds the frame drawn for the current sliders. Display it as the last line of a cell.
    """

    def __init__(self, model: _vae.ConvVAE, frame: np.ndarray, kl: np.ndarray | None = None, limit: float = 4.0,
                 columns: int = 4, scale: int = 4, seed: int = 0):
        self.model, self.frame = model, np.asarray(frame)
        mu, _ = _vae.encode_frames(model, self.frame[None])
        self.start = mu[0]
        z_size = len(self.start)
        self.order = list(np.argsort(-kl)) if kl is not None else list(range(z_size))
        self._rng = np.random.default_rng(seed)
        self._hold = False
        self.errors = error_area()
        style = {"description_width": "initial"}
        self.sliders = []
        for d in self.order:
            label = f"z[{d}]" + (f" ({kl[d]:.1f})" if kl is not None else "")
            slider = W.FloatSlider(value=float(np.clip(self.start[d], -limit, limit)), min=-limit, max=limit,
                                   step=0.05, description=label, readout_format=".2f", style=style,
                                   layout=W.Layout(width="230px"))
            slider.observe(guarded(self.errors, self._changed), names="value")
            self.sliders.append(slider)
        self.original = W.Image(value=png_bytes(self.frame, scale), format="png")
        self.image = W.Image(format="png")
        self.scale = scale
        reset = W.Button(description="back to the frame's code", icon="undo")
        reset.on_click(guarded(self.errors, lambda _: self.set_code(self.start)))
        prior = W.Button(description="random code from N(0, I)", icon="random")
        prior.on_click(guarded(self.errors, lambda _: self.set_code(self._rng.standard_normal(z_size))))
        note = ("sliders sorted by the dimension's mean KL on held-out frames (in brackets, nats): "
                "the last ones carry almost nothing" if kl is not None else "")
        self.widget = W.VBox([
            W.HBox([_labelled("real held-out frame x", self.original), _labelled("decode(z), live", self.image)]),
            W.HBox([reset, prior]),
            W.HTML(f"<small>{note}</small>"),
            W.GridBox(self.sliders, layout=W.Layout(grid_template_columns=f"repeat({columns}, 240px)")),
            self.errors,
        ])
        self.update()

    def code(self) -> np.ndarray:
        """The code z that the sliders spell, in dimension order (z_size,)."""
        z = np.zeros(len(self.sliders), np.float32)
        for d, slider in zip(self.order, self.sliders):
            z[d] = slider.value
        return z

    def set_code(self, z: np.ndarray) -> None:
        """Move every slider to the code z at once, then decode once."""
        self._hold = True
        try:
            for d, slider in zip(self.order, self.sliders):
                slider.value = float(np.clip(z[d], slider.min, slider.max))
        finally:
            self._hold = False
        self.update()

    def update(self) -> np.ndarray:
        self.decoded = decode_code(self.model, self.code())
        self.image.value = png_bytes(self.decoded, self.scale)
        return self.decoded

    def _changed(self, _change) -> None:
        if not self._hold:
            self.update()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def latent_size_figure(model: _vae.ConvVAE, frames: np.ndarray, result: dict | None = None) -> plt.Figure:
    """Held-out frames above, this model's reconstructions below; its measured held-out error in the title."""
    z = model.config.z_size
    title = f"z = {z}  ({checkpoint.count_parameters(model):,} parameters)"
    if result is not None:
        title += (f": held-out MSE {result['mse_per_pixel']:.4f} per pixel, KL {result['kl_nats_per_frame']:.1f} "
                  f"nats per frame ({result['frames']:,} frames)")
    return plots.reconstruction_grid(frames, {f"z = {z}": _vae.reconstruct(model, frames)}, suptitle=title)


class LatentSizeSwitch:
    """Toggle buttons over VAEs that differ only in the size of z; each shows its reconstructions of the same
    held-out frames and its measured error. `model` is the one shown, `figure` its last figure."""

    def __init__(self, models: dict[int, _vae.ConvVAE], frames: np.ndarray, results: dict[int, dict] | None = None,
                 start: int | None = None):
        self.models, self.frames, self.results = dict(sorted(models.items())), frames, results or {}
        self.buttons = W.ToggleButtons(options=[(f"z = {z}", z) for z in self.models],
                                       value=start if start is not None else max(self.models),
                                       description="latent size")
        self.output, self.errors = W.Output(), error_area()
        self.buttons.observe(guarded(self.errors, lambda change: self.show(change["new"])), names="value")
        self.widget = W.VBox([self.buttons, self.output, self.errors])
        self.show(self.buttons.value)

    def show(self, z: int) -> plt.Figure:
        self.model = self.models[z]
        self.figure = latent_size_figure(self.model, self.frames, self.results.get(z))
        return _show_in(self.output, self.figure)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# --- notebooks 02 and 03: M's predictions and the temperature slider --------------------------------------

def _as_latents(z) -> "torch.Tensor":
    import torch

    return torch.as_tensor(np.asarray(z, np.float32))


def prediction_rows(mdnrnn_model, vae_model: _vae.ConvVAE, z, actions, frames: np.ndarray, start: int,
                    horizon: int = 8, samples: int = 2, seed: int = 0, tau: float = 1.0) -> dict[str, np.ndarray]:
    """Real frames start+1 .. start+horizon of an episode and what M predicts for them (decoded by V):

    M reads the real latents z (T + 1, Z) and actions (T, A) up to step `start`, then feeds back its own guesses
    (wmcourse.worldmodels.probes.predict_ahead). Rows: "real", "V's reconstruction", "M: likeliest", "M: sample 1", ...;
    each uint8 (horizon, 64, 64, 3)."""
    import torch

    from ..worldmodels import probes

    z, actions = _as_latents(z), _as_latents(actions)
    rows = {"real": np.asarray(frames[start + 1:start + horizon + 1]),
            "V's reconstruction": _vae.decode_latents(vae_model, z[start + 1:start + horizon + 1])}
    likeliest = probes.predict_ahead(mdnrnn_model, z, actions, start, horizon, mode="likeliest")[0]
    rows["M: likeliest"] = _vae.decode_latents(vae_model, likeliest)
    if samples:
        g = torch.Generator().manual_seed(seed)
        drawn = probes.predict_ahead(mdnrnn_model, z, actions, start, horizon, mode="sample", samples=samples, tau=tau,
                                     generator=g)
        for i in range(samples):
            rows[f"M: sample {i + 1}"] = _vae.decode_latents(vae_model, drawn[i])
    return rows


def prediction_figure(mdnrnn_model, vae_model: _vae.ConvVAE, z, actions, frames: np.ndarray, start: int,
                      horizon: int = 8, samples: int = 2, seed: int = 0) -> plt.Figure:
    """prediction_rows as a grid: one column per step ahead."""
    rows = prediction_rows(mdnrnn_model, vae_model, z, actions, frames, start, horizon, samples, seed)
    return plots.frame_grid(list(rows.values()), list(rows), [f"t+{k}" for k in range(1, horizon + 1)], size=1.3,
                            suptitle=f"M predicts steps {start + 1} to {start + horizon} from the real past up to "
                                     f"step t = {start} and the real actions")


class PredictionExplorer:
    """A slider over the start step t of a held-out episode: real frames t+1 .. t+horizon above what M predicts
    for them. `figure` is the last figure shown."""

    def __init__(self, mdnrnn_model, vae_model: _vae.ConvVAE, z, actions, frames: np.ndarray, start: int = 100,
                 horizon: int = 8, samples: int = 2):
        self.args = (mdnrnn_model, vae_model, z, actions, frames)
        self.horizon, self.samples = horizon, samples
        last = len(actions) - horizon
        self.slider = W.IntSlider(value=min(start, last), min=0, max=last, step=1, description="start step t",
                                  continuous_update=False, style={"description_width": "initial"},
                                  layout=W.Layout(width="500px"))
        self.seed = W.IntSlider(value=0, min=0, max=99, description="sample seed", continuous_update=False)
        self.output, self.errors = W.Output(), error_area()
        self.slider.observe(guarded(self.errors, lambda _: self.show()), names="value")
        self.seed.observe(guarded(self.errors, lambda _: self.show()), names="value")
        self.widget = W.VBox([W.HBox([self.slider, self.seed]), self.output, self.errors])
        self.show()

    def show(self) -> plt.Figure:
        self.figure = prediction_figure(*self.args, start=self.slider.value, horizon=self.horizon,
                                        samples=self.samples, seed=self.seed.value)
        return _show_in(self.output, self.figure)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def dream_frames(mdnrnn_model, vae_model: _vae.ConvVAE, z0, actions, tau: float, seed: int = 0,
                 every: int = 8, frames: int = 8) -> np.ndarray:
    """A dream decoded: start from the latent z0 (Z,) of a real frame, roll M forward under `actions` (T, A)
    sampling at temperature tau (wmcourse.worldmodels.dream.dream_sequence, with a generator seeded by `seed`), and decode
    every `every`-th latent (z0 first): uint8 (frames, 64, 64, 3). Needs T >= every * (frames - 1)."""
    import torch

    from ..worldmodels.dream import dream_sequence

    steps = every * (frames - 1)
    actions = _as_latents(actions)
    if len(actions) < steps:
        raise ValueError(f"{frames} frames {every} steps apart need {steps} actions, got {len(actions)}.")
    g = torch.Generator().manual_seed(seed)
    dream = dream_sequence(mdnrnn_model, _as_latents(z0), actions[:steps], tau=tau, generator=g)
    return _vae.decode_latents(vae_model, dream[::every])


def strip(frames: np.ndarray, gap: int = 2) -> np.ndarray:
    """Frames (N, H, W, 3) side by side in one image, with white gaps."""
    frames = np.asarray(frames, np.uint8)
    n, h, w, c = frames.shape
    out = np.full((h, n * w + (n - 1) * gap, c), 255, np.uint8)
    for i, frame in enumerate(frames):
        out[:, i * (w + gap):i * (w + gap) + w] = frame
    return out


def dream_grid_figure(mdnrnn_model, vae_model: _vae.ConvVAE, z0, actions, real_frames: np.ndarray,
                      taus=(0.3, 1.0, 1.5, 2.0), seed: int = 0, every: int = 8, frames: int = 8) -> plt.Figure:
    """The real frames every `every` steps above one dream per temperature, each from the same real start frame
    and under the same real actions and the same random seed."""
    rows = [np.asarray(real_frames[:every * (frames - 1) + 1:every])]
    rows += [dream_frames(mdnrnn_model, vae_model, z0, actions, tau, seed, every, frames) for tau in taus]
    return plots.frame_grid(rows, ["real"] + [f"dream\ntau = {tau:g}" for tau in taus],
                            [f"step {every * i}" for i in range(frames)], size=1.3,
                            suptitle="Same start frame, same actions, same seed: only the temperature changes")


class TauDream:
    """A temperature slider (and a seed) that re-samples and decodes a dream live, under the real frames.

    The dream starts from the code of a real held-out frame and follows the real recorded actions, so the
    strip above is what really happened. `frames` holds the decoded dream currently shown."""

    def __init__(self, mdnrnn_model, vae_model: _vae.ConvVAE, z0, actions, real_frames: np.ndarray | None = None,
                 tau: float = 1.0, every: int = 8, frames: int = 8, scale: int = 2):
        self.model, self.vae, self.z0, self.actions = mdnrnn_model, vae_model, z0, actions
        self.every, self.n, self.scale = every, frames, scale
        style = {"description_width": "initial"}
        self.tau = W.FloatSlider(value=tau, min=0.05, max=2.5, step=0.05, description="temperature tau",
                                 continuous_update=False, style=style, layout=W.Layout(width="420px"))
        self.seed = W.IntSlider(value=0, min=0, max=99, description="dream seed", continuous_update=False,
                                style=style)
        self.image, self.errors = W.Image(format="png"), error_area()
        self.tau.observe(guarded(self.errors, lambda _: self.update()), names="value")
        self.seed.observe(guarded(self.errors, lambda _: self.update()), names="value")
        steps = ", ".join(str(every * i) for i in range(frames))
        parts = [W.HBox([self.tau, self.seed])]
        if real_frames is not None:
            real = strip(np.asarray(real_frames[:every * (frames - 1) + 1:every]))
            parts += [W.HTML("<b>real</b> (what happened)"), W.Image(value=png_bytes(real, scale), format="png")]
        parts += [W.HTML("<b>dream</b> (M's imagination from the first real frame, same actions)"), self.image,
                  W.HTML(f"<small>steps {steps}</small>"), self.errors]
        self.widget = W.VBox(parts)
        self.update()

    def update(self) -> np.ndarray:
        self.frames = dream_frames(self.model, self.vae, self.z0, self.actions, self.tau.value, self.seed.value,
                                   self.every, self.n)
        self.image.value = png_bytes(strip(self.frames), self.scale)
        return self.frames

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# --- notebooks 03, 06 and 07: drive the dream yourself -------------------------------------------------------

_ARROWS = {"ArrowLeft": "◀", "ArrowRight": "▶", "ArrowUp": "▲ gas", "ArrowDown": "▼ brake"}


def status_html(status: dict) -> str:
    """A driver's status (wmcourse.lessons.drive: CarDriver.status, CartPoleDriver.status) as one line of HTML."""
    parts = []
    for key, value in status.items():
        if isinstance(value, bool) or value is None:
            continue
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        parts.append(f"{key} <b>{shown}</b>")
    line = " · ".join(parts)
    if status.get("done"):
        line += " · <b style='color:#dc2626'>episode over: press reset</b>"
    return f"<span style='font-family:monospace'>{line}</span>"


class DriveWidget:
    """Take the wheel inside M's dream (a wmcourse.lessons.drive driver: CarDriver or CartPoleDriver).

    Put the mouse over the picture and use the arrow keys (keyboard events through ipyevents), or the buttons.
    With the clock stopped, each key press is one step; with the clock running, the world steps every
    `interval_ms` with the keys held. The clock runs in the kernel (a thread), so the pace does not wait for a
    message from the browser each frame; one lock keeps it and the controls from stepping the driver at once. The tau slider re-dreams the drive at the new temperature; "C drives"
    hands the wheel to the controller; reset starts again from a real frame. `fps` is the kernel's frame rate
    (step, decode and PNG encoding of the last 30 frames). The models run on `threads` torch threads: one is
    several times faster than two for a batch of one on a busy 2-core machine (`python -m wmcourse bench --drive`)."""

    def __init__(self, driver, scale: int = 4, interval_ms: int = 40, burst: int = 5, tau_max: float = 2.5,
                 threads: int = 1):
        from ipyevents import Event

        from . import drive

        self.driver, self.scale, self.burst, self.threads = driver, scale, burst, threads
        self.interval = interval_ms / 1000
        self._lock, self._stop, self._thread = threading.RLock(), threading.Event(), None
        self.held: set[str] = set()
        self._times: deque[float] = deque(maxlen=30)
        self.errors = error_area()
        self.image = W.Image(format="png")
        self.status = W.HTML()
        self.fps_label = W.HTML()
        keys = drive.KEYS if isinstance(driver, drive.CarDriver) else (drive.LEFT, drive.RIGHT)
        labels = _ARROWS if isinstance(driver, drive.CarDriver) else {drive.LEFT: "◀ push left",
                                                                      drive.RIGHT: "push right ▶"}
        self.buttons = {}
        for key in keys:
            button = W.Button(description=labels[key], layout=W.Layout(width="110px"))
            button.on_click(guarded(self.errors, functools.partial(self._button, key)))
            self.buttons[key] = button
        style = {"description_width": "initial"}
        self.tau = W.FloatSlider(value=driver.tau, min=0.05, max=tau_max, step=0.05, description="temperature tau",
                                 continuous_update=False, style=style, layout=W.Layout(width="330px"))
        self.tau.observe(guarded(self.errors, self._tau_changed), names="value")
        self.autopilot = W.ToggleButton(value=False, description="C drives", icon="car",
                                        disabled=driver.params is None,
                                        tooltip="hand the wheel to the controller C (and take it back)")
        self.autopilot.observe(guarded(self.errors, self._autopilot_changed), names="value")
        self.reset = W.Button(description="reset", icon="undo", tooltip="start again from a real frame")
        self.reset.on_click(guarded(self.errors, lambda _: self.restart()))
        self.clock = W.ToggleButton(value=False, description="clock", icon="play",
                                    tooltip=f"run the world continuously ({1 / self.interval:.0f} steps a second at "
                                            "most) with the keys held")
        self.clock.observe(guarded(self.errors, self._clock_changed), names="value")
        controls = [self.status, self.fps_label, self.tau, W.HBox([self.autopilot, self.reset]),
                    self.clock]
        self.world = None
        if hasattr(driver, "WORLDS"):
            self.world = W.ToggleButtons(options=list(driver.WORLDS), value=driver.world, description="world",
                                         style={"button_width": "70px"})
            self.world.observe(guarded(self.errors, self._world_changed), names="value")
            controls.insert(2, self.world)
        pad = [self.buttons[k] for k in keys]
        controls.append(W.GridBox(pad, layout=W.Layout(grid_template_columns="repeat(2, 115px)")))
        # the frames travel at their own size (a 64x64 PNG is about 6 kB) and the browser enlarges them, pixels sharp
        sharp = W.HTML("<style>.wm-drive-picture img { image-rendering: pixelated; }</style>")
        self.picture = W.VBox([sharp, self.image], layout=W.Layout(border="2px solid #d1d5db", padding="2px"))
        self.keyboard = Event(source=self.picture, watched_events=["keydown", "keyup"], prevent_default_action=True)
        self.keyboard.on_dom_event(guarded(self.errors, self.on_key))
        hint = ("<small>mouse over the picture, then the arrow keys (or the buttons: "
                f"{burst if isinstance(driver, drive.CarDriver) else 1} steps a click); start the clock to drive "
                "continuously</small>")
        self.widget = W.VBox([W.HBox([self.picture, W.VBox(controls)]), W.HTML(hint), self.errors])
        for part, name in ((self.widget, "wm-drive"), (self.picture, "wm-drive-picture"),
                           (self.status, "wm-drive-status"), (self.clock, "wm-drive-clock")):
            part.add_class(name)  # names for the browser test (and for anyone styling the notebook)
        self.show()

    # --- what the controls do (plain methods: tests call them) --------------------------------------------

    def on_key(self, event: dict) -> None:
        """An ipyevents keyboard event: an arrow key held down steps once (clock stopped) and is remembered."""
        key, kind = event.get("key"), event.get("type") or event.get("event")
        if key not in _ARROWS:
            return
        if kind == "keydown":
            self.held.add(key)
            if not self.clock.value:
                self.tick()
        elif kind == "keyup":
            self.held.discard(key)

    def tick(self) -> np.ndarray:
        """One step of the world with the keys held (or C's action); shows it."""
        with self._lock, runtime.torch_threads(self.threads):
            self.driver.step(set(self.held))
            self._times.append(time.perf_counter())
            return self.show()

    def restart(self) -> np.ndarray:
        with self._lock:
            self.held.clear()
            self.driver.reset()
            self._times.clear()
            return self.show()

    def close(self) -> None:
        """Stop the clock, release the real game if one was opened, and close the controls."""
        self.clock.value = False
        if hasattr(self.driver, "close"):
            self.driver.close()
        self.widget.close()

    def _clock_changed(self, change) -> None:
        if change["new"] and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run_clock, name="wmcourse-drive-clock", daemon=True)
            self._thread.start()
        elif not change["new"] and self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None

    def _run_clock(self) -> None:
        """The clock's thread: a step every `interval` seconds (or as fast as the steps go) until stopped; a step
        that raises stops the clock and shows its traceback."""
        step = guarded(self.errors, self.tick)
        due = time.perf_counter()
        while not self._stop.is_set():
            if step() is None:  # it raised: the traceback is in the error area; the clock stops
                self._stop.set()
                self._thread = None
                self.clock.value = False
                break
            due = max(due + self.interval, time.perf_counter() - self.interval)
            self._stop.wait(max(0.0, due - time.perf_counter()))

    def show(self) -> np.ndarray:
        frame = self.driver.view()
        height, width = frame.shape[:2]
        self.image.layout.width, self.image.layout.height = f"{width * self.scale}px", f"{height * self.scale}px"
        self.image.value = png_bytes(frame, 1)
        self.status.value = status_html(self.driver.status())
        self.fps_label.value = f"<small>kernel: {self.fps:.0f} frames/s</small>" if self.fps else ""
        return frame

    @property
    def fps(self) -> float:
        """Frames a second over the last 30 steps (0 until there are two)."""
        if len(self._times) < 2 or self._times[-1] == self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])

    def _button(self, key: str, _button=None) -> None:
        from . import drive

        steps = self.burst if isinstance(self.driver, drive.CarDriver) else 1
        with self._lock, runtime.torch_threads(self.threads):
            for _ in range(steps):
                self.driver.step(self.held | {key})
            self.show()

    def _tau_changed(self, change) -> None:
        with self._lock, runtime.torch_threads(self.threads):
            self.driver.tau = change["new"]
        self.show()

    def _autopilot_changed(self, change) -> None:
        with self._lock:
            self.driver.set_autopilot(change["new"])
        self.show()

    def _world_changed(self, change) -> None:
        with self._lock, runtime.torch_threads(self.threads):
            self.driver.set_world(change["new"])
        self._times.clear()
        self.show()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# --- one control per notebook (04, 06-08) that teaches something ----------------------------------------------------

class _FigureControl:
    """Controls above an Output area that shows a figure; every callback guarded. Subclasses define figure()."""

    def _build(self, controls: list[W.Widget]) -> None:
        self.output, self.errors = W.Output(), error_area()
        for control in controls:
            control.observe(guarded(self.errors, lambda _: self.show()), names="value")
        self.widget = W.VBox([W.HBox(controls), self.output, self.errors])
        self.show()

    def show(self) -> plt.Figure:
        self.figure = self.figure_now()
        return _show_in(self.output, self.figure)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _slider(kind, description: str, width: str = "360px", **kwargs):
    return kind(description=description, continuous_update=False, style={"description_width": "initial"},
                layout=W.Layout(width=width), **kwargs)


class CMAScrubber(_FigureControl):
    """Notebook 04: a generation slider over a CMA-ES run (its search distribution at that generation, beside
    the best value and the spread of the whole run) and a population-size slider that runs CMA-ES again."""

    def __init__(self, objective, x0: np.ndarray, sigma0: float = 0.4, population: int = 8, generations: int = 80,
                 seed: int = 0, box=((-2, 2), (-1, 3))):
        self.objective, self.x0, self.sigma0, self.seed, self.box = objective, np.asarray(x0), sigma0, seed, box
        self.generations = generations
        self.generation = _slider(W.IntSlider, "generation", value=0, min=0, max=generations - 1)
        self.population = _slider(W.IntSlider, "candidates a generation", value=population, min=4, max=32,
                                  width="300px")
        self.trace, self.traced = [], None
        self._build([self.generation, self.population])

    def figure_now(self) -> plt.Figure:
        from ..worldmodels import evolve

        if self.traced != self.population.value:  # a new population size: run CMA-ES again
            self.trace = evolve.trace_cma(self.objective, self.x0, self.sigma0, self.population.value,
                                          self.generations, self.seed)
            self.traced = self.population.value
        return plots.cma_scrubber_figure(self.trace, self.objective, self.generation.value, self.box)


class RewardGapScrubber(_FigureControl):
    """Notebook 06: a slider along a real drive (wmcourse.worldmodels.agent.drive_real): the frame there, V's view of it, and
    what the game paid against what M's reward head predicted, up to that step."""

    def __init__(self, real: dict, vae_model: _vae.ConvVAE, window: int = 25, start: int | None = None):
        self.real, self.vae, self.window = real, vae_model, window
        last = len(real["rewards"]) - 1
        self.step = _slider(W.IntSlider, "step of the real drive", value=last if start is None else start, min=0,
                            max=last, width="520px")
        self._build([self.step])

    def figure_now(self) -> plt.Figure:
        t = self.step.value
        return plots.reward_gap_at(self.real, t, decode_code(self.vae, self.real["z"][t]), self.window)


class SurvivalExplorer(_FigureControl):
    """Notebook 07: the survival map of a CartPole controller, its dream half recomputed as the dream's
    temperature tau and the done head's threshold move (reality's half stays: it has neither)."""

    def __init__(self, model, params: np.ndarray, features: str, thetas: np.ndarray, theta_dots: np.ndarray,
                 real_steps: np.ndarray, horizon: int = 100, seed: int = 0):
        self.args = (model, params, features)
        self.thetas, self.theta_dots, self.real_steps, self.horizon, self.seed = (thetas, theta_dots, real_steps,
                                                                                  horizon, seed)
        grid = np.zeros((len(thetas) * len(theta_dots), 4), np.float32)
        grid[:, 2], grid[:, 3] = (m.ravel() for m in np.meshgrid(thetas, theta_dots))
        self.starts = grid
        self.tau = _slider(W.FloatSlider, "dream temperature tau", value=1.0, min=0.1, max=2.0, step=0.05)
        self.threshold = _slider(W.FloatSlider, "done when P(done) >", value=0.5, min=0.05, max=0.95, step=0.05)
        self._build([self.tau, self.threshold])

    def figure_now(self) -> plt.Figure:
        from ..worldmodels import cartpole
        from . import cartpole_plots

        self.dreamed = cartpole.dream_survival(*self.args, self.starts, self.horizon, self.tau.value, self.seed,
                                               self.threshold.value)
        return cartpole_plots.survival_maps(self.thetas, self.theta_dots, self.real_steps, self.dreamed,
                                            self.horizon)


class LambdaReturns(_FigureControl):
    """Notebook 08: lambda and gamma sliders on the lambda-return targets of the made-up dream
    (wmcourse.lessons.dreamer_plots.plot_lambda_targets): lambda = 0 and 1 stay drawn for reference."""

    def __init__(self, lam: float = 0.95, gamma: float = 0.99, seed: int = 0):
        self.seed = seed
        self.lam = _slider(W.FloatSlider, "lambda", value=lam, min=0.0, max=1.0, step=0.05, width="300px")
        self.gamma = _slider(W.FloatSlider, "gamma", value=gamma, min=0.8, max=1.0, step=0.005, width="300px",
                             readout_format=".3f")
        self._build([self.lam, self.gamma])

    def figure_now(self) -> plt.Figure:
        from . import dreamer_plots

        lams = sorted({0.0, round(self.lam.value, 3), 1.0})
        return dreamer_plots.plot_lambda_targets(self.seed, gamma=self.gamma.value, lams=lams)


class OpenLoopHorizon(_FigureControl):
    """Notebook 08: a horizon slider over the RSSM's open-loop dream of a real episode (wmcourse.dreamer.probes.
    open_loop_states): the error of each state up to H steps after the last real observation, and the real
    pole beside the dreamed one at step H."""

    def __init__(self, agent, states: np.ndarray, actions: np.ndarray, context: int = 5, seed: int = 0,
                 imagination: int = 15):
        from ..dreamer import probes as dreamer_probes

        self.real = np.asarray(states, np.float32)[context:]
        self.dreamed = dreamer_probes.open_loop_states(agent, states, actions, context, seed)
        self.imagination = imagination
        self.horizon = _slider(W.IntSlider, "steps dreamed H", value=min(imagination, len(self.real)), min=1,
                               max=len(self.real), width="520px")
        self._build([self.horizon])

    def figure_now(self) -> plt.Figure:
        from . import cartpole_plots

        h = self.horizon.value
        error = np.abs(self.dreamed - self.real)
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.2), gridspec_kw={"width_ratios": [1.4, 1]})
        for i, name in enumerate(["x", "x_dot", "theta", "theta_dot"]):
            left.plot(np.arange(1, h + 1), error[:h, i], label=name)
        left.axvline(self.imagination, color="#6b7280", ls=":", label=f"imagination horizon ({self.imagination})")
        left.set_xlim(1, max(h, self.imagination + 1))
        left.set_xlabel("steps dreamed after the last real observation")
        left.set_ylabel("|dream - real|")
        left.legend(fontsize=8)
        left.grid(alpha=0.3)
        pictures = [cartpole_plots.cartpole_image(self.real[h - 1]), cartpole_plots.cartpole_image(self.dreamed[h - 1])]
        right.imshow(strip(np.stack(pictures), gap=4), interpolation="nearest")
        right.set_title(f"step H = {h}: reality (left), Dreamer's dream (right)", fontsize=9)
        right.set_axis_off()
        fig.tight_layout()
        return fig
