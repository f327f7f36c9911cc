# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Temperature: tame dreams, wild dreams, nightmares
#
# M (notebook 02) predicts a *distribution* over the next latent code. To dream, we sample from it, feed the
# sample back in, and repeat. One knob changes how we sample: the **temperature** $\tau$. Low $\tau$ gives a
# tame, predictable dream; high $\tau$ a wild, noisy one. The paper found that the knob decides whether a
# controller trained in the dream works in reality.
#
# In this notebook you will
# 1. see what $\tau$ does to a mixture of Gaussians ([temperature](../docs/glossary.md#temperature)), and
#    write the tempering yourself;
# 2. drag a $\tau$ slider that re-samples and decodes a CarRacing dream live, next to what really happened;
# 3. measure how jumpy and how divergent the dreams get as $\tau$ grows;
# 4. read the paper's VizDoom result: why a controller trained in a too-tame dream **cheats**, and why a
#    slightly *harder* dream ("nightmare") gave the best real score.
#
# Run the cells top to bottom (about a minute on a laptop CPU).

# %% [markdown]
# ## The one-minute explanation
#
# 1. M's guess for the next moment is a list of possibilities with weights: "70% the road bends left, 30% it
#    goes straight", each with some wobble.
# 2. The temperature changes those odds before we roll the dice. Below 1, the favourite becomes even more
#    of a favourite and the wobble shrinks: the dream always does the most expected thing. Above 1, the
#    long shots get more chances and the wobble grows: the dream gets surprising.
# 3. A controller that practises in a tame dream can learn tricks that only work because the dream is so
#    predictable (in the paper, the monsters stop shooting). Practising in a slightly wilder dream than
#    reality makes those tricks fail, so the controller learns to cope instead.

# %%
# The course's package, wmcourse. Missing here? Run `%pip install wmcourse-0.1.0-py3-none-any.whl` (see docs/install.md), then restart the kernel.
import matplotlib.pyplot as plt
import numpy as np
import torch

from wmcourse.lessons import n03_temperature as lesson
from wmcourse import worldmodels
from wmcourse.shipped import catalogue as shipped

FAST = lesson.fast_mode()  # True under `make test`: fewer dreams, same code
SEED = 0
RETRAIN = False  # True: remake the shipped V and M from scratch (about 45 minutes on 2 cores) instead of loading data/
torch.manual_seed(SEED)
print("fast mode" if FAST else "full mode")
if RETRAIN:
    lesson.run_command(shipped.MAKE_MODELS)

# %% [markdown]
# ## An analogy: a flight simulator with a turbulence knob
#
# Pilots train in simulators. Set the turbulence to zero and a trainee can learn habits that only work in
# perfectly still air: trimming the plane once and letting go. In real air those habits fail. Instructors
# therefore turn the knob *up*: a trainee who can fly in rougher air than the real day will cope with the
# real day. Set it far too high, though, and nothing the trainee does works, so nothing is learned.
# The temperature $\tau$ is that knob for M's dreams.
#
# ## 1. What τ does to a mixture
# For one latent dimension, M predicts weights $\pi_k$, means $\mu_k$ and spreads $\sigma_k$. The paper's
# temperature changes the weights and the spreads, never the means:
# $$\pi_k(\tau) = \frac{\pi_k^{1/\tau}}{\sum_j \pi_j^{1/\tau}} = \text{softmax}\Big(\frac{\log \pi}{\tau}\Big)_k,
# \qquad \sigma_k(\tau) = \sigma_k \sqrt{\tau}.$$
# Dividing the logits by $\tau$ is the same idea as temperature in a language model's softmax; scaling the
# spread by $\sqrt{\tau}$ scales the variance by $\tau$. At $\tau = 1$ nothing changes. Here is one mixture of
# three Gaussians at four temperatures:

# %%
log_pi = torch.log(torch.tensor([0.6, 0.3, 0.1]))
mu = torch.tensor([-1.0, 0.8, 2.5])
log_sigma = torch.log(torch.tensor([0.35, 0.3, 0.4]))
lesson.tempered_mixture_figure(log_pi, mu, log_sigma, taus=(0.3, 1.0, 1.5, 2.0))
plt.show()
for tau in (0.3, 1.0, 1.5, 2.0):
    lp, ls = worldmodels.mdn.temperature(log_pi, log_sigma, tau)
    print(f"tau = {tau:<4g} weights {np.round(lp.exp().numpy(), 3)}  spreads {np.round(ls.exp().numpy(), 3)}")

# %% [markdown]
# At $\tau = 0.3$ the likeliest component takes over 90% of the weight and its peak gets tall and narrow: a
# sample nearly always lands near $-1$. At $\tau = 2$ the weights even out (the rare third component gets
# almost twice its chance) and every bump widens.
#
# <details><summary><b>Question:</b> what is the limit as τ → 0? And as τ → ∞? (click)</summary>
#
# As $\tau \to 0$, $\pi^{1/\tau}$ puts all weight on the largest $\pi_k$ and $\sigma\sqrt{\tau} \to 0$: every
# sample is exactly the mean of the likeliest component, a deterministic dream (the "likeliest" guess of
# notebook 02). As $\tau \to \infty$ the weights become uniform and the spreads infinite: pure noise.
# </details>
#
# ### Exercise 1: the weight at τ = 0.5
# A mixture has two components with weights 0.8 and 0.2. What is the first one's weight at $\tau = 0.5$?

# %%
tempered_weight = ...  # your answer: a number between 0 and 1
lesson.tempered_weight.check(tempered_weight)

# %% [markdown]
# ### Exercise 2: write the temperature
# Shapes follow the package: `log_pi` and `log_sigma` are `(..., D, K)`, `log_pi` normalised over the last
# axis. Return the tempered `(log_pi, log_sigma)`, both still in logs.

# %%
def tempered_mixture(log_pi, log_sigma, tau):
    ...  # your code: return new_log_pi, new_log_sigma


lesson.tempered_mixture.check(tempered_mixture)

# %%
# Stuck? Uncomment one of these:
# lesson.tempered_weight.hint()
# lesson.tempered_mixture.hint()
# lesson.tempered_mixture.solution()

# %% [markdown]
# The package's version is `wmcourse.worldmodels.mdn.temperature`, and `wmcourse.worldmodels.mdn.sample` draws from the tempered
# mixture: first a component $k \sim \pi(\tau)$, then $z = \mu_k + \sigma_k\sqrt{\tau}\,\varepsilon$. Check it
# against `torch.distributions` by sampling: the sample variance should match the library's variance.

# %%
g = torch.Generator().manual_seed(SEED)
n = 20_000 if FAST else 200_000
for tau in (0.3, 1.0, 2.0):
    draws = worldmodels.mdn.sample(log_pi.expand(n, 1, 3), mu.expand(n, 1, 3), log_sigma.expand(n, 1, 3), tau=tau, generator=g)
    library = worldmodels.mdn.mixture_distribution(log_pi[None], mu[None], log_sigma[None], tau=tau)
    print(f"tau = {tau:<4g} sample mean {draws.mean():+.3f} (library {library.mean.item():+.3f}),  "
          f"variance {draws.var():.3f} (library {library.variance.item():.3f})")

# %% [markdown]
# ## 2. Dreaming CarRacing at different temperatures
#
# Take a real held-out episode. Encode one frame with V, hand its code $z_0$ to M, and let M dream forward
# under the actions that the driver really took (`wmcourse.worldmodels.dream.dream_sequence`):
# $$h_{t+1} = \text{LSTM}([z_t, a_t], h_t), \qquad z_{t+1} \sim \sum_k \pi_k(\tau)\,\mathcal{N}\big(\mu_k, \sigma_k^2 \tau\big)\ \text{(per dimension, read from } h_{t+1}).$$
# After the first frame M never sees the real world again. V's decoder turns the dream's codes into pictures.

# %%
V = shipped.load_shipped_vae()
M = shipped.load_shipped_mdnrnn()
episode = shipped.load_heldout_episode(0)
n_frames = 8
every = min(8, len(episode) // n_frames)   # show every 8th step: 8 frames cover 56 steps (about 1 second of play)
span = every * (n_frames - 1)
start = min(100, len(episode) - span)      # 100: after the opening zoom
z_start, _ = worldmodels.vae.encode_frames(V, episode.obs[start:start + 1])
z0 = torch.from_numpy(z_start[0])
dream_actions = torch.from_numpy(episode.action[start:start + span]).float()
real_frames = episode.obs[start:start + span + 1]
print(f"dream from step {start} of a {len(episode)}-step held-out episode, {span} steps under the real actions")
lesson.dream_grid_figure(M, V, z0, dream_actions, real_frames, taus=(0.3, 1.0, 1.5, 2.0), seed=SEED,
                          every=every, frames=n_frames)
plt.show()

# %% [markdown]
# The same start, the same actions, the same random numbers: only $\tau$ differs. Now drag the slider
# yourself. Each move re-samples the dream and decodes it (the seed picks another dream at the same $\tau$):

# %%
lesson.TauDream(M, V, z0, dream_actions, real_frames, tau=1.0, every=every, frames=n_frames)

# %% [markdown]
# <details><summary><b>Question:</b> at low τ the dream looks calm and smooth. Why is that not automatically good? (click)</summary>
#
# A calm dream is the most *expected* future, not the real one. It leaves out the things that make the task
# hard: surprises, bad luck, the road doing what you did not plan for. A controller that practises only on
# expected futures never learns to recover from unexpected ones, and it can learn to rely on M's
# predictability itself (the next section).
# </details>

# %% [markdown]
# ### Drive the dream yourself, and turn the temperature while you drive
#
# The interactive article of "World Models" (Ha & Schmidhuber, 2018) lets its reader override the agent inside
# its dream with the keyboard and move a temperature slider. Here you drive the course's CarRacing dream
# yourself: put the mouse over the picture and use the arrow keys (left and right steer, up is gas, down
# brakes), or the buttons. Each step, M reads your action, updates its memory and samples the next code at
# temperature $\tau$; V decodes it; M's reward head keeps the score and its done head can end the dream. Move the $\tau$
# slider: the drive you made is dreamed again with the same moves and the same dice, only $\tau$ changes.
# Reset starts again from another real frame. Start the clock to drive continuously (`wmcourse.lessons.drive`).

# %%

lesson.DriveWidget(lesson.CarDriver(V, M, shipped.pick_heldout_frames(8, seed=SEED), seed=SEED))

# %% [markdown]
# ## 3. Measured: how wild are the dreams?
# Two numbers per temperature, from 64 dreams (16 in fast mode) that all start at the same real frame and follow
# the same actions:
# - **jumpiness**: the mean squared change of the latent from one step to the next, compared with the same
#   number on the real episode's codes (sampled as M saw them in training);
# - **divergence**: how far the dreams have drifted apart by the last step (variance across dreams).

# %%
taus = [0.1, 0.3, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
spread = worldmodels.probes.dream_spread(M, z0, dream_actions, taus, dreams=16 if FAST else 64, seed=SEED)
real_mu, real_logvar = worldmodels.vae.encode_frames(V, episode.obs[start:start + span + 1])
real_step = worldmodels.probes.sampled_step_size(torch.from_numpy(real_mu), torch.from_numpy(real_logvar), seed=SEED)
lesson.dream_spread_plot(spread, real_step=real_step)
plt.show()
for tau, step, var in zip(spread["tau"], spread["step"], spread["spread"]):
    print(f"tau = {tau:<5g} jumpiness {step:.3f}   divergence {var:.3f}")
print(f"real episode: jumpiness {real_step:.3f}")

# %% [markdown]
# Both numbers grow steadily with $\tau$. On the shipped M we measured the real episode's jumpiness at 1.37,
# between the dreams' at $\tau = 1$ and $\tau = 1.25$ (your printout above may differ a little if you retrained):
# near $\tau = 1$, M's dream moves about as much as the real codes do. At $\tau = 0.1$ the dream barely moves
# (about a tenth of the real episode's jumpiness): a frozen, too-calm world. Remember that picture for the next
# section.

# %% [markdown]
# ## 4. Nightmares: the paper's VizDoom result
#
# In VizDoom *Take Cover* the agent must dodge fireballs; it survives longer the better it dodges (above 750
# time steps counts as solved). The paper trained its controller **entirely inside M's dream**, at several
# temperatures, then scored it both in the dream and in the real game (gym-doom's `DoomTakeCover-v0`). Its
# table, as bars (`wmcourse.paper.VIZDOOM_TAU_TABLE`; the grey band is a random policy in the real game):

# %%
lesson.tau_table_plot(lesson.paper.tau_rows(), "the paper (Ha & Schmidhuber 2018): VizDoom Take Cover, C trained in the dream",
                     solved=lesson.paper.VIZDOOM_SOLVED, random=lesson.paper.VIZDOOM_RANDOM)
plt.show()

# %% [markdown]
# In the paper's table, the controllers trained in the tamest dreams ($\tau$ = 0.1 and 0.5) score near the
# 2,100-step cap in the dream and below a random policy in the real game: at $\tau = 0.1$ the monsters in the
# dream stop shooting (a mode collapse), and the controller exploits that. The best real score came from a
# dream a little wilder than M's own ($\tau$ = 1.15). **A dream score is not a real score.** Notebook 05 sets up
# Take Cover and measures this table with the course's own code, after notebook 04 has taught the search
# (CMA-ES) that trains these controllers.

# %% [markdown]
# <details><summary><b>Question:</b> the paper's CarRacing controller was evolved in the real game, not the dream. Would you expect a tau effect there too? (click)</summary>
#
# Only for a controller trained *in the dream*. In the paper's CarRacing experiment M's samples were never
# used for training C (C saw the real game, with V and M as its eyes and memory), so $\tau$ did not matter;
# its CarRacing M had no reward or done output, so its dream could not have scored a controller anyway.
# Whether $\tau$ matters for a CarRacing controller trained in the dream is a question this course measures
# itself, in notebook 06.
# </details>

# %% [markdown]
# ## Open questions
# Two experiments to run yourself: change one setting, re-run the cell, and look.
#
# **What happens when two components tie?** In the first cell of section 1, change the weights
# `[0.6, 0.3, 0.1]` to `[0.45, 0.45, 0.1]` and re-run it. Watch the printed weights at τ = 0.3, and the
# figure.
#
# <details><summary>Hint</summary>
#
# $\pi^{1/\tau}$ treats equal weights equally, so you should see the first two weights stay equal at every τ:
# at low τ they share the mass between them and the third one loses it. The limit τ → 0 then gives two
# likeliest futures, not one. What would a "tame" dream look like where M is torn between two outcomes?
# </details>
#
# **What happens on another episode?** In the first cell of section 2, change
# `shipped.load_heldout_episode(0)` to `load_heldout_episode(1)` (there are four held-out episodes, 0 to 3),
# then re-run the cells of sections 2 and 3 (seconds). Does the real episode's jumpiness still fall between
# the dreams' at τ = 1 and τ = 1.25?
#
# <details><summary>Hint</summary>
#
# The comparison under section 3 was read on episode 0 only. A start on a straight and a start in a bend may
# give M different amounts of uncertainty, and a different real jumpiness. If the place where dream and
# reality cross moves from episode to episode, what does that say about choosing one τ for a whole game?
# </details>

# %% [markdown]
# ## Self-check
# - [ ] I can write the temperature: logits divided by $\tau$ (then normalised), spreads times $\sqrt{\tau}$.
# - [ ] I can say what a dream looks like at $\tau \to 0$ and at large $\tau$, and I saw it on CarRacing.
# - [ ] I can explain why a controller trained in a too-tame dream can score high in the dream and low in
#       reality (it exploits the model), using the paper's VizDoom table.
# - [ ] I know that in the paper a dream a little wilder than M's own ($\tau$ = 1.15) gave the best real score,
#       and that notebook 05 measures that table.
# - [ ] I know which numbers here are the paper's (VizDoom) and which are measured by this course.

# %% [markdown]
# ## Formulas used
# | what | formula |
# |---|---|
# | tempered weights | $\pi_k(\tau) = \pi_k^{1/\tau} / \sum_j \pi_j^{1/\tau} = \text{softmax}(\log\pi/\tau)_k$ |
# | tempered spreads | $\sigma_k(\tau) = \sigma_k\sqrt{\tau}$, i.e. $\log\sigma_k + \tfrac12\log\tau$ |
# | one dream step | $h_{t+1} = \text{LSTM}([z_t, a_t], h_t)$; $k \sim \pi(\tau)$; $z_{t+1} = \mu_k + \sigma_k\sqrt{\tau}\,\varepsilon$ |
# | jumpiness | $\frac{1}{T D}\sum_t \lVert z_{t+1} - z_t\rVert^2$ |
#
# **What to remember:** temperature divides the mixture's logits by $\tau$ and scales its spreads by
# $\sqrt{\tau}$; a too-tame dream can be cheated, and in the paper a slightly harder dream than reality gave the
# best real score.
#
# **Next:** notebook 04 introduces CMA-ES, the evolution strategy that trains the controller, first on toy
# functions and then inside the dream.
