"""CarRacing with its road drawn faster: the same pixels, about half the cost of a step.

Gymnasium's CarRacing draws every frame on a 1000 x 800 canvas. For the road it walks all ~400 grass squares and
~600 road tiles in Python, turns each corner into screen coordinates, and draws the few (~90) that lie near the
screen. That walk is most of a real step. Here one numpy pass over all corners finds the polygons near the screen,
and only those go through the game's own drawing function, in the game's order:

    screen corner = R(angle) corner * zoom + translation,   kept if any corner lies within the screen
                                                             widened by MAX_SHAPE_DIM (+ 1 pixel of slack)

The slack makes the kept set a superset of what the game draws; the game's own test then decides, with its own
arithmetic, so every frame is identical to the game's (tests/test_quick_road.py compares them pixel by pixel).
"""

from __future__ import annotations

import numpy as np
from gymnasium.envs.box2d import car_racing
from gymnasium.envs.box2d.car_racing import GRASS_DIM, MAX_SHAPE_DIM, PLAYFIELD, WINDOW_H, WINDOW_W

SLACK = 1.0  # pixels: far above the difference between numpy's and pygame's rotation (~1e-12)


def grass_squares() -> np.ndarray:
    """The game's grass squares in its drawing order: (400, 4, 2) world coordinates."""
    d = GRASS_DIM
    return np.array([[(d * x + d, d * y), (d * x, d * y), (d * x, d * y + d), (d * x + d, d * y + d)]
                     for x in range(-20, 20, 2) for y in range(-20, 20, 2)])


def near_screen(corners: np.ndarray, zoom: float, translation: tuple[float, float], angle: float) -> np.ndarray:
    """Which polygons (N, 4, 2) may touch the screen: a boolean (N,), True for every one the game would draw."""
    cos, sin = np.cos(angle), np.sin(angle)
    x = (corners[..., 0] * cos - corners[..., 1] * sin) * zoom + translation[0]
    y = (corners[..., 0] * sin + corners[..., 1] * cos) * zoom + translation[1]
    reach = MAX_SHAPE_DIM + SLACK
    inside = (x >= -reach) & (x <= WINDOW_W + reach) & (y >= -reach) & (y <= WINDOW_H + reach)
    return inside.any(axis=1)


class QuickRoadCarRacing(car_racing.CarRacing):
    """gymnasium's CarRacing, its road drawn by culling the far polygons in one numpy pass (see the module)."""

    _grass = grass_squares()

    def _road_corners(self) -> np.ndarray:
        """The road tiles' corners (N, 4, 2), made once per track (a new track is a new road_poly list)."""
        if getattr(self, "_corners_of", None) is not self.road_poly or len(self._corners) != len(self.road_poly):
            self._corners_of = self.road_poly
            self._corners = np.array([poly for poly, _ in self.road_poly], np.float64).reshape(-1, 4, 2)
        return self._corners

    def _render_road(self, zoom, translation, angle):
        field = [(PLAYFIELD, PLAYFIELD), (PLAYFIELD, -PLAYFIELD), (-PLAYFIELD, -PLAYFIELD), (-PLAYFIELD, PLAYFIELD)]
        self._draw_colored_polygon(self.surf, field, self.bg_color, zoom, translation, angle, clip=False)
        for i in np.flatnonzero(near_screen(self._grass, zoom, translation, angle)):
            self._draw_colored_polygon(self.surf, [tuple(p) for p in self._grass[i].tolist()], self.grass_color,
                                       zoom, translation, angle)
        for i in np.flatnonzero(near_screen(self._road_corners(), zoom, translation, angle)):
            poly, color = self.road_poly[i]
            self._draw_colored_polygon(self.surf, [(p[0], p[1]) for p in poly], [int(c) for c in color],
                                       zoom, translation, angle)
