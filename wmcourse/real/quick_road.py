"""CarRacing with its road and score drawn faster: the same pixels, less than half the cost of a step.

Gymnasium's CarRacing draws every frame on a 1000 x 800 canvas. For the road it walks all ~400 grass squares and
~600 road tiles in Python, turns each corner into screen coordinates, and draws the few (~90) that lie near the
screen. That walk is most of a real step. Here one numpy pass over all corners finds the polygons near the screen,
and only those go through the game's own drawing function, in the game's order:

    screen corner = R(angle) corner * zoom + translation,   kept if any corner lies within the screen
                                                             widened by MAX_SHAPE_DIM (+ 1 pixel of slack)

The slack makes the kept set a superset of what the game draws; the game's own test then decides, with its own
arithmetic, so every frame is identical to the game's (tests/test_quick_road.py compares them pixel by pixel).

The game also loads its font from disk for every frame, to write the score in the corner: a new font renders
its glyphs from scratch, about 1.2 CPU-ms a step. Here one font is loaded per environment and kept.
"""

from __future__ import annotations

import numpy as np
import pygame
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

    def _render(self, mode: str):
        """The frame the car's driver sees (mode "state_pixels"), drawn as the game's own `_render` draws it, with
        one font kept for the score; every other mode is the game's own."""
        if mode != "state_pixels" or "t" not in self.__dict__:
            return super()._render(mode)
        if getattr(self, "_font", None) is None:
            pygame.font.init()
            self._font = pygame.font.Font(pygame.font.get_default_font(), 42)
        self.surf = pygame.Surface((WINDOW_W, WINDOW_H))
        angle = -self.car.hull.angle
        scale, zoom_in = car_racing.SCALE, car_racing.ZOOM  # the first second zooms in; the game's arithmetic
        zoom = 0.1 * scale * max(1 - self.t, 0) + zoom_in * scale * min(self.t, 1)
        scroll = pygame.math.Vector2((-self.car.hull.position[0] * zoom, -self.car.hull.position[1] * zoom))
        shift = scroll.rotate_rad(angle)
        translation = (WINDOW_W / 2 + shift[0], WINDOW_H / 4 + shift[1])
        self._render_road(zoom, translation, angle)
        self.car.draw(self.surf, zoom, translation, angle, False)
        self.surf = pygame.transform.flip(self.surf, False, True)
        self._render_indicators(WINDOW_W, WINDOW_H)
        text = self._font.render(f"{self.reward:04.0f}", True, (255, 255, 255), (0, 0, 0))
        corner = text.get_rect()
        corner.center = (60, WINDOW_H - WINDOW_H * 2.5 / 40.0)
        self.surf.blit(text, corner)
        return self._create_image_array(self.surf, (car_racing.STATE_W, car_racing.STATE_H))
