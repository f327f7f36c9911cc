"""What every notebook control shares: one guard for callbacks, figure-backed controls, sliders, and the
drive-the-dream widget (the drivers are in drive.py).
"""

from __future__ import annotations

import functools
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import clear_output, display

from .. import runtime
from ..worldmodels import vae as _vae
from .animate import png_bytes


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


def decode_code(model: _vae.ConvVAE, z: np.ndarray) -> np.ndarray:
    """One code z (z_size,) -> the frame the decoder draws for it, uint8 (64, 64, 3)."""
    return _vae.decode_latents(model, np.asarray(z, np.float32).reshape(1, -1))[0]


def show_in(output: W.Output, figure: plt.Figure) -> plt.Figure:
    """Replace what an Output area shows with a matplotlib figure (closed afterwards, so it is not drawn twice)."""
    with output:
        clear_output(wait=True)
        display(figure)
    plt.close(figure)
    return figure


def as_latents(z):
    import torch

    return torch.as_tensor(np.asarray(z, np.float32))


def strip(frames: np.ndarray, gap: int = 2) -> np.ndarray:
    """Frames (N, H, W, 3) side by side in one image, with white gaps."""
    frames = np.asarray(frames, np.uint8)
    n, h, w, c = frames.shape
    out = np.full((h, n * w + (n - 1) * gap, c), 255, np.uint8)
    for i, frame in enumerate(frames):
        out[:, i * (w + gap):i * (w + gap) + w] = frame
    return out


ARROWS = {"ArrowLeft": "◀", "ArrowRight": "▶", "ArrowUp": "▲ gas", "ArrowDown": "▼ brake"}


def status_html(status: dict) -> str:
    """A driver's status (wmcourse.lessons.drive: CarDriver.status, CartPoleDriver.status, DoomDriver.status) as one
    line of HTML."""
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
    """Take the wheel inside M's dream (a wmcourse.lessons.drive driver: CarDriver, CartPoleDriver or DoomDriver).

    Put the mouse over the picture and use the arrow keys (keyboard events through ipyevents), or the buttons.
    With the clock stopped, each key press is one step; with the clock running, the world steps every
    `interval_ms` with the keys held. The clock runs in the kernel (a thread), so the pace does not wait for a
    message from the browser each frame; one lock keeps it and the controls from stepping the driver at once. The tau
    slider re-dreams the drive at the new temperature; "C drives" hands the wheel to the controller; reset starts again
    from a real frame. `fps` is the kernel's frame rate (step, decode and PNG encoding of the last 30 frames). The
    models run on `threads` torch threads: one is several times faster than two for a batch of one on a busy 2-core
    machine (`python -m wmcourse bench --drive`)."""

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
        doom = isinstance(driver, drive.DoomDriver)
        keys = drive.KEYS if isinstance(driver, drive.CarDriver) else (drive.LEFT, drive.RIGHT)
        labels = (ARROWS if isinstance(driver, drive.CarDriver) else
                  {drive.LEFT: "◀ left", drive.RIGHT: "right ▶"} if doom else
                  {drive.LEFT: "◀ push left", drive.RIGHT: "push right ▶"})
        self.keys = keys  # the keys this driver reads; other keys are ignored
        self.buttons = {}
        for key in keys:
            button = W.Button(description=labels[key], layout=W.Layout(width="110px"))
            button.on_click(guarded(self.errors, functools.partial(self._button, key)))
            self.buttons[key] = button
        if doom:  # Take Cover's third move: a step with no key held
            self.buttons["stay"] = W.Button(description="stay", layout=W.Layout(width="110px"),
                                            tooltip="one step without moving")
            self.buttons["stay"].on_click(guarded(self.errors, self._stay))
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
        pad = [self.buttons[k] for k in ((drive.LEFT, "stay", drive.RIGHT) if doom else keys)]
        columns = 3 if doom else 2
        controls.append(W.GridBox(pad, layout=W.Layout(grid_template_columns=f"repeat({columns}, 115px)")))
        # the frames travel at their own size (a 64x64 PNG is about 6 kB) and the browser enlarges them, pixels sharp
        sharp = W.HTML("<style>.wm-drive-picture img { image-rendering: pixelated; }</style>")
        self.picture = W.VBox([sharp, self.image], layout=W.Layout(border="2px solid #d1d5db", padding="2px"))
        self.keyboard = Event(source=self.picture, watched_events=["keydown", "keyup"], prevent_default_action=True)
        self.keyboard.on_dom_event(guarded(self.errors, self.on_key))
        hint = ("<small>mouse over the picture, then the arrow keys (or the buttons: "
                f"{burst if isinstance(driver, drive.CarDriver) else 1} steps a click); start the clock to drive "
                "continuously</small>")
        if doom:
            hint = ("<small>mouse over the picture, then the left and right arrow keys (or the buttons: one step a "
                    "click; <i>stay</i> steps without moving); start the clock to play continuously (no key held: "
                    "stay)</small>")
        self.widget = W.VBox([W.HBox([self.picture, W.VBox(controls)]), W.HTML(hint), self.errors])
        for part, name in ((self.widget, "wm-drive"), (self.picture, "wm-drive-picture"),
                           (self.status, "wm-drive-status"), (self.clock, "wm-drive-clock")):
            part.add_class(name)  # names for the browser test (and for anyone styling the notebook)
        self.show()

    # --- what the controls do (plain methods: tests call them) --------------------------------------------

    def on_key(self, event: dict) -> None:
        """An ipyevents keyboard event: an arrow key the driver reads, held down, steps once (clock stopped) and is
        remembered; other keys are ignored."""
        key, kind = event.get("key"), event.get("type") or event.get("event")
        if key not in self.keys:
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

    def _stay(self, _button=None) -> None:
        """One step with no key held (Take Cover's "stay")."""
        with self._lock, runtime.torch_threads(self.threads):
            self.driver.step(())
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


class FigureControl:
    """Controls above an Output area that shows a figure; every callback guarded. Subclasses define figure()."""

    def _build(self, controls: list[W.Widget]) -> None:
        self.output, self.errors = W.Output(), error_area()
        for control in controls:
            control.observe(guarded(self.errors, lambda _: self.show()), names="value")
        self.widget = W.VBox([W.HBox(controls), self.output, self.errors])
        self.show()

    def show(self) -> plt.Figure:
        self.figure = self.figure_now()
        return show_in(self.output, self.figure)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def slider(kind, description: str, width: str = "360px", **kwargs):
    return kind(description=description, continuous_update=False, style={"description_width": "initial"},
                layout=W.Layout(width=width), **kwargs)
