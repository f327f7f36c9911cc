import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from wmcourse.errors import ShapeError
from wmcourse.worldmodels import controller, dream
from wmcourse.worldmodels.mdnrnn import MDNRNN, MDNRNNConfig


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return MDNRNN(MDNRNNConfig(z_size=4, action_size=3, hidden=16, predict_reward=True, predict_done=True, **kw))


def test_dream_env_passes_gymnasiums_checker():
    env = dream.DreamEnv(_model(), torch.randn(10, 4), max_steps=50)
    check_env(env, skip_render_check=True)


def test_dream_env_is_seeded():
    env = dream.DreamEnv(_model(), torch.randn(10, 4), max_steps=20)
    runs = []
    for _ in range(2):
        obs, _ = env.reset(seed=3)
        trace = [obs]
        for _ in range(5):
            obs, *_ = env.step(np.array([0.1, 0.5, 0.0], np.float32))
            trace.append(obs)
        runs.append(np.stack(trace))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_population_returns_batches_like_one_at_a_time():
    model = _model()
    config = controller.ControllerConfig(input_size=4 + 16)
    params = torch.randn(3, config.n_params) * 0.1
    start = torch.randn(8, 4)
    batched = dream.population_returns(dream.BatchedDream(model, start, max_steps=30,
                                                          generator=torch.Generator().manual_seed(1)),
                                       params, config, rollouts=5)
    assert batched.shape == (3,)
    # the same candidate three times scores the same in expectation: with many rollouts the means agree
    same = params[:1].repeat(3, 1)
    means = dream.population_returns(dream.BatchedDream(model, start, max_steps=30,
                                                        generator=torch.Generator().manual_seed(2)),
                                     same, config, rollouts=400)
    assert (means.max() - means.min()) < 0.2 * means.abs().mean() + 0.05


def test_a_dream_ends_when_m_says_done():
    model = _model()
    with torch.no_grad():
        model.done_head.bias.fill_(10.0)  # M is sure every step is the last
        model.reward_head.weight.zero_()
        model.reward_head.bias.fill_(1.0)
    config = controller.ControllerConfig(input_size=20)
    returns = dream.population_returns(dream.BatchedDream(model, torch.randn(4, 4), max_steps=100),
                                       torch.zeros(2, config.n_params), config, 3)
    torch.testing.assert_close(returns, torch.ones(2))  # one step, reward 1, then the dream is over


def test_dream_needs_reward_and_done_heads_and_right_shapes():
    with pytest.raises(ValueError, match="--predict-done"):
        dream.BatchedDream(MDNRNN(MDNRNNConfig(z_size=4, hidden=8)), torch.zeros(2, 4))
    with pytest.raises(ShapeError, match=r"\(N, 4\)"):
        dream.BatchedDream(_model(), torch.zeros(2, 5))


def test_drive_dream_and_drive_real_agree_with_the_batched_dream_and_the_real_env():
    from wmcourse.worldmodels import agent, vae

    model = _model(seed=3)
    config = controller.ControllerConfig(input_size=model.config.z_size + model.config.hidden, action_size=3)
    params = np.random.default_rng(0).normal(0, 0.1, config.n_params).astype(np.float32)
    z0 = torch.randn(model.config.z_size)
    trip = agent.drive_dream(model, params, config, z0, max_steps=25, seed=5)
    T = len(trip["actions"])
    assert trip["z"].shape == (T + 1, model.config.z_size) and np.allclose(trip["z"][0], z0.numpy())
    world = dream.BatchedDream(model, z0.view(1, -1), max_steps=25, generator=torch.Generator().manual_seed(5))
    batched = dream.rollout_returns(world, torch.as_tensor(params).view(1, -1), config, 1)
    assert np.isclose(trip["rewards"].sum(), float(batched[0, 0]), atol=1e-4)  # the same dream, step for step

    v = vae.build_vae(vae.VAEConfig(z_size=model.config.z_size, width=0.125))
    wm = agent.WorldModelAgent(v, model, params, config)
    drive = agent.drive_real(wm, seed=0, max_steps=12)
    assert drive["frames"].shape == (12, 64, 64, 3) and drive["frames"].dtype == np.uint8
    assert drive["rewards"].shape == drive["predicted_rewards"].shape == (12,)
    assert np.all(drive["actions"][:, 1:] >= 0) and np.all(np.abs(drive["actions"][:, 0]) <= 1)


def test_dropout_masks_keep_one_minus_p_of_the_units_and_average_one():
    model = _model(dropout=0.2)
    inputs, heads = model.dropout_masks(4000, torch.Generator().manual_seed(0))
    assert inputs.shape == (4000, 4 + 3) and heads.shape == (4000, 16)
    kept = (heads > 0).float().mean().item()
    assert abs(kept - 0.8) < 0.01                         # each unit kept with probability 1 - p
    assert abs(heads.mean().item() - 1.0) < 0.015         # scaled by 1 / (1 - p): E[mask] = 1
    assert set(heads.unique().tolist()) == {0.0, 1.25}
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        _model(dropout=1.0)


def test_each_dream_keeps_its_own_dropout_mask_for_its_whole_length():
    model = _model(dropout=0.3)
    start = torch.randn(1, 4).repeat(6, 1)
    world = dream.BatchedDream(model, start, max_steps=10, tau=1e-8, generator=torch.Generator().manual_seed(0))
    world.reset(6)
    masks = [m.clone() for m in world.masks]
    assert not torch.equal(masks[1][0], masks[1][1])      # different dreams, different sub-networks of M
    actions = torch.zeros(6, 3)
    z_first = []
    for _ in range(4):
        world.step(actions)
        z_first.append(world.z.clone())
    for held, now in zip(masks, world.masks):
        torch.testing.assert_close(held, now)             # the mask holds for the whole dream
    # tau near 0: each dream follows its own sub-network's most likely path; same start, different dreams
    assert (z_first[-1][0] - z_first[-1][1]).abs().max() > 1e-4
    # one dream replayed through M.step with its mask gives the same path
    z, state = start[:1], model.initial_state(1)
    for _ in range(4):
        out, state = model.step(z, actions[:1], state, (masks[0][:1], masks[1][:1]))
        z = dream.mdn.sample(out.log_pi, out.mu, out.log_sigma, 1e-8)
    torch.testing.assert_close(z, z_first[-1][:1], atol=1e-3, rtol=0)
    world.keep(torch.tensor([True, False, True, False, True, False]))
    torch.testing.assert_close(world.masks[1], masks[1][[0, 2, 4]])


def test_dropout_acts_in_training_and_in_dreams_but_not_in_eval():
    model = _model(dropout=0.5)
    z, a = torch.randn(3, 5, 4), torch.randn(3, 5, 3)
    plain = MDNRNN(MDNRNNConfig(z_size=4, action_size=3, hidden=16, predict_reward=True, predict_done=True))
    plain.load_state_dict(model.state_dict())
    model.eval(), plain.eval()
    torch.testing.assert_close(model(z, a)[0].mu, plain(z, a)[0].mu)   # eval (reality, held-out loss): no dropout
    model.train()
    torch.manual_seed(1)
    assert not torch.allclose(model(z, a)[0].mu, plain(z, a)[0].mu)  # training: fresh masks each sequence
    ones = (torch.ones(3, 7), torch.ones(3, 16))
    torch.testing.assert_close(model(z, a, masks=ones)[0].mu, plain(z, a)[0].mu)  # all-ones masks: the full M


def test_an_ensemble_scores_each_candidate_by_its_worst_member():
    members, start = [_model(seed=s) for s in (1, 2)], torch.randn(6, 4, generator=torch.Generator().manual_seed(0))

    def worlds():
        return [dream.controller_dream(m, start, 1.0, 25, seed=10 + k)[0] for k, m in enumerate(members)]

    config = dream.controller_dream(members[0], start, 1.0, 25)[1]
    params = torch.randn(5, config.n_params, generator=torch.Generator().manual_seed(3))
    each = torch.stack([dream.population_returns(w, params, config, 4) for w in worlds()])
    assert (each[0] != each[1]).any()  # the members disagree, so the minimum is a choice
    np.testing.assert_allclose(dream.worst_member_returns(worlds(), params, config, 4), each.min(dim=0).values)
    with pytest.raises(ValueError, match="at least one"):
        dream.worst_member_returns([], params, config, 4)


def test_an_ensemble_of_one_searches_as_the_plain_dream_does():
    from wmcourse.worldmodels import evolve

    m, start = _model(seed=1), torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    settings = evolve.EvolveConfig(population=6, rollouts=2, generations=2, seed=4)
    plain = evolve.evolve_in_dream(*dream.controller_dream(m, start, 1.0, 20, seed=9), settings, progress=False)
    world, config = dream.controller_dream(m, start, 1.0, 20, seed=9)
    one = evolve.evolve_in_dreams([world], config, settings, progress=False)
    np.testing.assert_array_equal(one.best_params, plain.best_params)
    assert one.history == plain.history
