import numpy as np
import pytest
import torch

from wmcourse.errors import ShapeError, UnknownEnvironmentError
from wmcourse.real import envs


def test_unknown_env_id_names_the_supported_ones():
    with pytest.raises(UnknownEnvironmentError, match="CarRacing-v3.*CartPole-v1"):
        envs.make_env("CarRacing-v9")


def test_wrong_case_suggests_the_right_id():
    with pytest.raises(UnknownEnvironmentError, match="Did you mean 'CartPole-v1'"):
        envs.check_env_id("cartpole-v1")


def test_preprocess_crops_the_dashboard_and_resizes():
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[84:] = 255  # the dashboard rows: must be cropped away
    frame[:42, :, 0] = 200  # top half of the kept rows red
    out = envs.preprocess_frames(frame)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert out[:, :, 1].max() == 0, "dashboard pixels leaked into the preprocessed frame"
    assert out[:30, :, 0].min() == 200 and out[34:, :, 0].max() == 0  # 42 of 84 rows -> 32 of 64


def test_preprocess_keeps_batch_shape():
    assert envs.preprocess_frames(np.zeros((2, 5, 96, 96, 3), np.uint8)).shape == (2, 5, 64, 64, 3)


@pytest.mark.parametrize("bad", [np.zeros((64, 64, 3), np.uint8), np.zeros((96, 96, 3), np.float32),
                                 np.zeros((3, 96, 96), np.uint8)])
def test_preprocess_rejects_wrong_frames_with_a_clear_error(bad):
    with pytest.raises(ShapeError, match=r"\(\.\.\., 96, 96, 3\)"):
        envs.preprocess_frames(bad)


def test_frames_to_tensor():
    frames = np.full((2, 64, 64, 3), 255, np.uint8)
    x = envs.frames_to_tensor(frames)
    assert x.shape == (2, 3, 64, 64) and x.dtype == torch.float32 and torch.all(x == 1.0)
    with pytest.raises(ShapeError, match="frame\\[None\\]"):
        envs.frames_to_tensor(frames[0])


def test_real_carracing_frame_preprocesses():
    env = envs.make_env("CarRacing-v3")
    obs, _ = env.reset(seed=0)
    env.close()
    assert envs.preprocess_frames(obs).shape == (64, 64, 3)


def test_vector_env_resets_in_the_same_step():
    vec = envs.make_vector_env("CartPole-v1", 2)
    vec.reset(seed=0)
    for _ in range(200):
        _, _, terminated, truncated, info = vec.step(np.zeros(2, dtype=np.int64))
        if terminated.any():
            assert "final_obs" in info
            break
    else:
        pytest.fail("always pushing left should end a CartPole episode within 200 steps")
    vec.close()
