"""The course's CarRacing draws the same frames as gymnasium's, faster (wmcourse.real.quick_road)."""

import math

import numpy as np
import pygame
import pytest
from gymnasium.envs.box2d.car_racing import MAX_SHAPE_DIM, WINDOW_H, WINDOW_W, CarRacing

from wmcourse.real import envs
from wmcourse.real.quick_road import QuickRoadCarRacing, grass_squares, near_screen


def frames(env_class, track: int, steps: int) -> np.ndarray:
    """Every observation of an episode on `track` under a fixed random driver (it steers off the road too)."""
    env = env_class()
    obs, _ = env.reset(seed=track)
    actions = np.random.default_rng(track).uniform([-1, 0, 0], [1, 1, 0.3], size=(steps, 3)).astype(np.float32)
    seen = [obs]
    for action in actions:
        obs, *_ = env.step(action)
        seen.append(obs)
    env.close()
    return np.stack(seen)


@pytest.mark.parametrize("track", [3, 2024])
def test_every_frame_is_the_games_own_pixel_for_pixel(track):
    # 120 steps: the opening zoom (its first 50 steps), then the road seen from the car
    quick, game = frames(QuickRoadCarRacing, track, 120), frames(CarRacing, track, 120)
    assert quick.shape == game.shape == (121, 96, 96, 3)
    assert np.array_equal(quick, game)


def drawn_by_the_game(corners: np.ndarray, zoom: float, translation, angle: float) -> np.ndarray:
    """The game's own test (CarRacing._draw_colored_polygon): any corner, rotated by pygame, within the widened
    screen."""
    def near(poly):
        points = [pygame.math.Vector2(tuple(c)).rotate_rad(angle) for c in poly]
        points = [(p[0] * zoom + translation[0], p[1] * zoom + translation[1]) for p in points]
        return any(-MAX_SHAPE_DIM <= x <= WINDOW_W + MAX_SHAPE_DIM and -MAX_SHAPE_DIM <= y <= WINDOW_H + MAX_SHAPE_DIM
                   for x, y in points)
    return np.array([near(p) for p in corners.tolist()])


def test_the_numpy_pass_keeps_every_polygon_the_game_draws_and_few_others():
    rng = np.random.default_rng(0)
    corners = np.concatenate([grass_squares(), rng.uniform(-330, 330, (600, 1, 2)) + rng.uniform(-7, 7, (600, 4, 2))])
    angles = [0.0, math.pi / 2, -math.pi, 3 * math.pi / 2, 40 * math.pi + 0.3, *rng.uniform(-20, 20, 20)]
    kept_total = drawn_total = 0
    for angle in angles:
        zoom = rng.uniform(1.6, 16.2)
        translation = tuple(rng.uniform(-3000, 3000, 2))
        kept = near_screen(corners, zoom, translation, angle)
        drawn = drawn_by_the_game(corners, zoom, translation, angle)
        assert not (drawn & ~kept).any(), f"angle {angle}: the numpy pass dropped a polygon the game draws"
        kept_total, drawn_total = kept_total + kept.sum(), drawn_total + drawn.sum()
    assert drawn_total > 100  # the poses put polygons on the screen
    assert kept_total <= drawn_total * 1.05  # a superset by the 1-pixel slack only, not everything


def test_the_course_makes_the_quick_carracing_and_gymnasiums_on_request():
    env, shipped = envs.make_env("CarRacing-v3"), envs.make_env("CarRacing-v3", as_shipped=True)
    assert type(env.unwrapped) is QuickRoadCarRacing and type(shipped.unwrapped) is CarRacing
    assert env.spec.id == "CarRacing-v3" and env.spec.max_episode_steps == shipped.spec.max_episode_steps == 1000
    vector = envs.make_vector_env("CarRacing-v3", 1)
    assert vector.envs[0].unwrapped.__class__ is QuickRoadCarRacing
    for e in (env, shipped, vector):
        e.close()


def test_one_environment_driving_a_second_track_draws_that_track():
    # eval-agent resets one environment from track to track: the road's corners must follow the new track
    quick, game = QuickRoadCarRacing(), CarRacing()
    rng = np.random.default_rng(0)
    for track in (3, 2024):
        seen = [env.reset(seed=track)[0] for env in (quick, game)]
        assert np.array_equal(*seen)
        for action in rng.uniform([-1, 0, 0], [1, 1, 0.3], size=(60, 3)).astype(np.float32):
            assert np.array_equal(quick.step(action)[0], game.step(action)[0]), f"track {track}"
    quick.close()
    game.close()
