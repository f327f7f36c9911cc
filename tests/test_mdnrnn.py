"""The MDN-RNN: parameter count, shapes, step() against the sequence pass, masking, training, save/load, resume,
the encoded-data format, dreaming and the train-mdnrnn command."""

import pytest
import torch

from wmcourse import checkpoint
from wmcourse.cli import main as cli
from wmcourse.errors import CourseError, MissingArtefactError, SettingsError, ShapeError
from wmcourse.worldmodels import dream, latents, mdnrnn
from wmcourse.worldmodels import train_mdnrnn as mdnrnn_training
from wmcourse.worldmodels.mdnrnn import MDNRNN, MDNRNNConfig

SMALL = MDNRNNConfig(z_size=4, action_size=2, hidden=32, K=3, lr=1e-2, batch_size=16, seq_len=16,
                     predict_reward=True, predict_done=True)


@pytest.fixture(scope="module")
def data():
    return latents.synthetic_episodes(40, z_size=4, action_size=2, min_len=5, max_len=30, seed=0)


def test_parameter_count_against_the_paper():
    """The paper: 422,368. PyTorch's LSTM keeps two bias vectors (b_ih, b_hh) where TF keeps one: +4 x 256."""
    model = MDNRNN(MDNRNNConfig())
    count = checkpoint.count_parameters(model)
    print(f"MDN-RNN (z 32, a 3, LSTM 256, K 5): {count:,} parameters; the paper's TF count 422,368")
    assert count == 423_392
    assert count - model.lstm.bias_hh_l0.numel() == 422_368 == mdnrnn.paper_parameter_count(model.config)
    assert mdnrnn.paper_parameter_count(SMALL) == checkpoint.count_parameters(MDNRNN(SMALL)) - 4 * SMALL.hidden


def test_output_shapes():
    model = MDNRNN(SMALL)
    out, (h, c) = model(torch.randn(3, 7, 4), torch.randn(3, 7, 2))
    assert out.log_pi.shape == out.mu.shape == out.log_sigma.shape == (3, 7, 4, 3)
    assert out.reward.shape == out.done_logit.shape == (3, 7)
    assert h.shape == c.shape == (3, 32)
    out, _ = MDNRNN(MDNRNNConfig(z_size=4, action_size=2, hidden=32, K=3))(torch.randn(3, 7, 4), torch.randn(3, 7, 2))
    assert out.reward is None and out.done_logit is None


def test_wrong_shapes_get_a_clear_error():
    model = MDNRNN(SMALL)
    with pytest.raises(ShapeError, match=r"\(B, T, 4\)"):
        model(torch.randn(3, 7, 5), torch.randn(3, 7, 2))
    with pytest.raises(ShapeError, match="one step"):
        model.step(torch.randn(3, 1, 4), torch.randn(3, 1, 2))


def test_step_matches_the_sequence_pass():
    torch.manual_seed(0)
    model = MDNRNN(SMALL)
    z, a = torch.randn(5, 9, 4), torch.randn(5, 9, 2)
    seq, final = model(z, a)
    state = model.initial_state(5)
    for t in range(9):
        out, state = model.step(z[:, t], a[:, t], state)
        for got, want in zip(out, seq):
            torch.testing.assert_close(got, want[:, t])
    torch.testing.assert_close(state[0], final[0])
    torch.testing.assert_close(state[1], final[1])


def test_batches_pad_and_mask_episodes(data):
    ids = torch.tensor([0, 1, 2])
    batch = latents.make_batch(data, ids, torch.zeros(3, dtype=torch.long), 40, torch.Generator().manual_seed(0))
    assert batch.z.shape == batch.next_z.shape == (3, 40, 4) and batch.actions.shape == (3, 40, 2)
    lengths = data.lengths[ids]
    assert batch.mask.sum(1).tolist() == lengths.tolist()  # every window holds its whole (shorter) episode
    torch.testing.assert_close(batch.next_z[:, :-1], batch.z[:, 1:])  # one sample per observation
    ep = data.episode(1)
    T = len(ep["actions"])
    torch.testing.assert_close(batch.actions[1, :T], ep["actions"])
    assert (batch.z[1, : T + 1] - ep["mu"]).abs().max() < 0.5  # z = mu + sigma * eps, sigma = 0.05


def test_steps_after_a_done_are_masked():
    ep = latents.synthetic_episodes(1, min_len=12, max_len=12, seed=1).episode(0)
    ep["dones"] = torch.zeros(12, dtype=torch.bool)
    ep["dones"][4] = True  # a done inside the stored episode: nothing after it is scored
    one = latents.EncodedEpisodes.from_episodes([ep])
    batch = latents.make_batch(one, torch.tensor([0]), torch.tensor([0]), 12)
    assert batch.mask[0].tolist() == [True] * 5 + [False] * 7


def test_loss_ignores_whatever_is_in_the_padding(data):
    torch.manual_seed(0)
    model = MDNRNN(SMALL)
    batch = latents.make_batch(data, torch.arange(8), torch.zeros(8, dtype=torch.long), 40,
                               torch.Generator().manual_seed(0))
    pad = ~batch.mask
    assert pad.any()
    junk = lambda x: torch.where(pad.view(*pad.shape, *[1] * (x.ndim - 2)), 100 * torch.randn_like(x) + 7, x)  # noqa: E731
    altered = batch.replace(z=junk(batch.z), actions=junk(batch.actions), next_z=junk(batch.next_z),
                            rewards=junk(batch.rewards), dones=torch.where(pad, 1 - batch.dones, batch.dones))
    before, after = model.loss(batch), model.loss(altered)
    for k in before:
        torch.testing.assert_close(before[k], after[k])
    model.zero_grad()
    after["loss"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_done_loss_weighs_done_steps_like_the_paper(data):
    model = MDNRNN(SMALL)
    batch = latents.make_batch(data, torch.arange(8), torch.zeros(8, dtype=torch.long), 40)
    out, _ = model(batch.z, batch.actions)
    p, d, m = torch.sigmoid(out.done_logit), batch.dones, batch.mask
    manual = -(1 + 9 * d) * (d * p.log() + (1 - d) * (1 - p).log())  # restart_factor 10 in the paper's code
    torch.testing.assert_close(model.loss(batch)["done_bce"], manual[m].mean())


def test_short_training_lowers_the_loss(data, tmp_path):
    torch.manual_seed(0)
    before = mdnrnn_training.evaluate_mdnrnn(MDNRNN(SMALL), data, seed=0)
    model, history = mdnrnn_training.train_mdnrnn(data, SMALL, tmp_path / "m.pt", epochs=6, seed=0, progress=False,
                                                  held_out=0.2)
    assert len(history) == 6 and history[-1]["timesteps_per_s"] > 0
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["held_out_z_nll"] < history[0]["held_out_z_nll"]
    after = mdnrnn_training.evaluate_mdnrnn(model, data, seed=0)
    assert after["z_nll"] < before["z_nll"] - 0.1 and after["loss"] < before["loss"]


def test_resume_gives_the_same_model_as_one_run(data, tmp_path):
    one, h_one = mdnrnn_training.train_mdnrnn(data, SMALL, tmp_path / "a.pt", epochs=2, seed=3, progress=False)
    mdnrnn_training.train_mdnrnn(data, SMALL, tmp_path / "b.pt", epochs=1, seed=3, progress=False)
    two, h_two = mdnrnn_training.train_mdnrnn(data, SMALL, tmp_path / "b.pt", epochs=2, seed=3, progress=False)
    for p, q in zip(one.parameters(), two.parameters()):
        torch.testing.assert_close(p, q)
    assert [r["loss"] for r in h_one] == [r["loss"] for r in h_two]
    with pytest.raises(CourseError, match="seed: 3 -> 4"):
        mdnrnn_training.train_mdnrnn(data, SMALL, tmp_path / "b.pt", epochs=3, seed=4, progress=False)


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = MDNRNN(SMALL)
    path = mdnrnn.save_mdnrnn(model, tmp_path / "m.pt")
    loaded = mdnrnn.load_mdnrnn(path)
    assert loaded.config == SMALL
    z, a = torch.randn(2, 5, 4), torch.randn(2, 5, 2)
    for got, want in zip(loaded(z, a)[0], model(z, a)[0]):
        torch.testing.assert_close(got, want)
    with pytest.raises(MissingArtefactError, match="train-mdnrnn"):
        mdnrnn.load_mdnrnn(tmp_path / "nothing.pt")


def test_encoded_format_round_trip_file_and_folder(data, tmp_path):
    latents.save_encoded(tmp_path / "all.npz", data)
    back = latents.load_encoded(tmp_path / "all.npz")
    for k in ("mu", "logvar", "actions", "rewards", "dones", "lengths"):
        assert torch.equal(getattr(back, k), getattr(data, k))
    (tmp_path / "parts").mkdir()
    latents.save_encoded(tmp_path / "parts" / "0.npz", data.subset(range(10)))
    latents.save_encoded(tmp_path / "parts" / "1.npz", data.subset(range(10, 40)))
    joined = latents.load_encoded(tmp_path / "parts")
    assert torch.equal(joined.mu, data.mu) and torch.equal(joined.lengths, data.lengths)
    with pytest.raises(MissingArtefactError, match="encoded episodes"):
        latents.load_encoded(tmp_path / "missing.npz")


def test_malformed_episodes_get_a_clear_error(data):
    ep = data.episode(0)
    ep["mu"] = ep["mu"][:-1]  # the final observation is missing
    with pytest.raises(ShapeError, match="final observation"):
        latents.EncodedEpisodes.from_episodes([ep])
    with pytest.raises(ShapeError, match="z_size=32"):
        mdnrnn_training.train_mdnrnn(data, MDNRNNConfig(), epochs=1, progress=False)


def test_dream_sequence(data):
    torch.manual_seed(0)
    model = MDNRNN(SMALL)
    z0, actions = data.mu[0], data.actions[:10]
    dreamt = dream.dream_sequence(model, z0, actions, tau=1.0, generator=torch.Generator().manual_seed(0))
    assert dreamt.shape == (11, 4) and torch.equal(dreamt[0], z0)
    again = dream.dream_sequence(model, z0, actions, tau=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(dreamt, again)
    batch = dream.dream_sequence(model, z0.expand(6, 4), actions.expand(6, 10, 2), tau=1.15)
    assert batch.shape == (6, 11, 4) and not torch.equal(batch[0], batch[1])
    # a cold dream: with tau near 0 the sampled z are close to the likeliest component's mean
    out, _ = model.step(z0[None], actions[:1])
    cold = dream.dream_sequence(model, z0, actions[:1], tau=1e-4)[1]
    best = out.log_pi[0].argmax(-1, keepdim=True)
    torch.testing.assert_close(cold, out.mu[0].gather(-1, best).squeeze(-1), atol=0.05, rtol=0)
    with pytest.raises(ShapeError):
        dream.dream_sequence(model, z0, actions[None])


def test_dream_speed_is_measured():
    model = MDNRNN(MDNRNNConfig())
    rate = dream.dream_steps_per_second(model, batch_size=1024, steps=10)
    print(f"dream of 1,024 rollouts: {rate:,.0f} steps/s")
    assert rate > 1000


def test_a_bfloat16_m_dreams_what_the_fp32_m_dreams():
    """The bench's bf16 dream (a bfloat16 copy of M, the mixture sampled in float32) keeps the dreams' statistics
    within twice fp32's own sampling noise, and that noise shrinks as the batch grows, as sampling noise does."""
    model = MDNRNN(MDNRNNConfig(z_size=8, hidden=32, K=3))
    gaps = dream.dream_statistics_gaps(model, ("bf16",), batch_size=4096, steps=10)
    noise = gaps["fp32"]
    assert 0 < noise < 0.15
    assert dream.dream_statistics_gaps(model, (), batch_size=64, steps=10)["fp32"] > 2 * noise
    assert gaps["bf16"] <= dream.SAME_DREAMS * noise
    assert dream.dream_steps_per_second(model, batch_size=64, steps=3, precision="bf16") > 0
    with pytest.raises(SettingsError, match="fp32, bf16, compiled"):
        dream.dream_steps_per_second(model, precision="fp16")


def test_train_mdnrnn_command(data, tmp_path, capsys):
    latents.save_encoded(tmp_path / "enc.npz", data)
    out = tmp_path / "m.pt"
    argv = ["train-mdnrnn", "--data", str(tmp_path / "enc.npz"), "--out", str(out), "--epochs", "1", "--hidden", "16",
            "--mixtures", "2", "--seq-len", "16", "--batch-size", "8", "--predict-done", "--device", "cpu"]
    assert cli.main(argv) == 0
    model = mdnrnn.load_mdnrnn(out)
    assert model.config.hidden == 16 and model.config.K == 2 and model.config.predict_done and model.config.z_size == 4
    assert "saved" in capsys.readouterr().out
    assert cli.main(["train-mdnrnn", "--data", str(tmp_path / "none.npz"), "--out", str(out)]) == 2
    assert "No encoded episodes" in capsys.readouterr().err


def test_smooth_rewards_is_the_mean_of_the_next_k_within_each_episode():
    from wmcourse.worldmodels.latents import EncodedEpisodes, smooth_rewards

    lengths = [3, 2]
    data = EncodedEpisodes.from_episodes([
        {"mu": torch.zeros(T + 1, 2), "logvar": torch.zeros(T + 1, 2), "actions": torch.zeros(T, 1),
         "rewards": torch.tensor(r, dtype=torch.float32), "dones": torch.zeros(T, dtype=torch.bool)}
        for T, r in zip(lengths, ([1.0, 2.0, 6.0], [4.0, 8.0]))])
    out = smooth_rewards(data, 2)
    assert torch.allclose(out.rewards, torch.tensor([1.5, 4.0, 6.0, 6.0, 8.0]))  # never mixes two episodes
    assert smooth_rewards(data, 1) is data
    with pytest.raises(ValueError, match="at least 1"):
        smooth_rewards(data, 0)


def test_the_bench_can_count_cpu_seconds_instead_of_wall_seconds(capsys):
    """On a shared machine the CPU clock says what a step costs: the bench prints rates per CPU second and their
    ratio, and a CPU-clock rate is a real positive rate too."""
    from wmcourse.experiments import benchmark

    model = MDNRNN(MDNRNNConfig(z_size=8, hidden=32, K=3))
    assert dream.dream_steps_per_second(model, batch_size=64, steps=3, clock=benchmark.CLOCKS["cpu"]) > 0
    assert benchmark.real_steps_per_second("CartPole-v1", steps=50, clock="cpu") > 0
    assert cli.main(["bench", "--env", "CartPole-v1", "--steps", "50", "--dream-batch", "16", "--dream-steps", "2",
                     "--precision", "fp32", "--clock", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "steps/CPU-s" in out and "steps per CPU second" in out and "(by CPU time)" in out
