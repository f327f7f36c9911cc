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
# # 02 · Mixture density networks: predicting more than one future
#
# V (notebook 01) turns each frame into a code $z_t$ of 32 numbers. **M** has to predict the *next* code,
# $z_{t+1}$, from the past and the action. But the future is often not one thing: at a T-junction the car
# may go left or right. A network trained to output one number predicts the **average** of the futures, and
# the average of "left" and "right" is "straight on, into the wall".
#
# In this notebook you will
# 1. see that failure on a toy T-junction, and fix it with a **mixture density network**
#    ([MDN](../docs/glossary.md#mdn)), measured;
# 2. write the mixture's negative log-likelihood yourself, see why it needs `logsumexp`, and use it to judge
#    three forecasts of the T-junction;
# 3. meet the paper's **MDN-RNN** for CarRacing: its parts, its parameter count, its measured held-out NLL;
# 4. watch it predict real held-out frames a few steps ahead, next to what really happened.
#
# Run the cells top to bottom (about a minute on a laptop CPU).

# %% [markdown]
# ## The one-minute explanation
#
# 1. A normal network answers a question with **one number**. Trained with squared error, that number becomes
#    the average of all the answers it has seen for that question.
# 2. When the answers fall into two groups (left turn, right turn), the average lies between them, where no
#    answer ever is. Predicting it is confidently wrong.
# 3. A mixture density network answers with a **recipe for a distribution** instead: "with probability 0.5
#    around here, with probability 0.5 around there, this spread each". Sampling from the recipe gives a
#    left turn or a right turn, never the wall.
# 4. M in World Models is an LSTM (a network with memory) whose output is such a recipe for each of the 32
#    numbers of the next code. Sampling from it, again and again, is what makes a *dream*.

# %%
# The course's package, wmcourse. Missing here? Run `%pip install wmcourse-0.1.0-py3-none-any.whl` (see docs/install.md), then restart the kernel.
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from wmcourse.lessons import n02_mdn as lesson
from wmcourse import worldmodels
from wmcourse.shipped import catalogue as shipped

FAST = lesson.fast_mode()  # True under `make test`: shorter toy fits, same code
SEED = 0
RETRAIN = False  # True: remake the shipped V and M from scratch (about 45 minutes on 2 cores) instead of loading data/
torch.manual_seed(SEED)
print("fast mode" if FAST else "full mode")
if RETRAIN:
    lesson.run_command(shipped.MAKE_MODELS)

# %% [markdown]
# ## An analogy: the weather forecast
#
# Ask a forecaster "how much rain tomorrow?" on a day when a storm will either hit the town (20 mm) or miss it
# (0 mm), each with even odds. A forecaster who must give one number says 10 mm: the one amount that
# will certainly *not* fall. A good forecaster says "50% chance of a storm, about 20 mm if it comes". That
# is a mixture: weights (50/50), and for each outcome a typical value and a spread.
#
# ## 1. The T-junction, a toy problem
#
# Cars drive up to a junction and turn. $x \in [0, 1]$ is how far past the junction a car is, $y$ its
# sideways position: half of them go left, $y \approx -\sqrt{x}$, half go right, $y \approx +\sqrt{x}$.
# Given $x$, there are two right answers for $y$ and none in between.

# %%
x_train, y_train = worldmodels.mdn.bimodal_toy_data(1000, seed=SEED)
x_test, y_test = worldmodels.mdn.bimodal_toy_data(1000, seed=SEED + 1)  # fresh cars, for a fair score
print("x:", tuple(x_train.shape), " y:", tuple(y_train.shape))
print("mean of y for x > 0.5:", round(float(y_train[x_train > 0.5].mean()), 3), "(no car is there)")

# %% [markdown]
# Now fit two models to the same data with the same network body (two hidden tanh layers of 32):
# - **one Gaussian**: the network outputs a mean $\mu(x)$ and a spread $\sigma(x)$. This is ordinary regression
#   with a learned error bar; its mean is exactly what squared-error training would give.
# - **a mixture of K = 5 Gaussians** (an MDN): the network outputs, for each component $k$, a weight
#   $\pi_k(x)$, a mean $\mu_k(x)$ and a spread $\sigma_k(x)$.
#
# Both are trained by minimising the **negative log-likelihood** (NLL) of the data: how surprised the model
# is, on average, by where the cars really are (in nats; lower is better).

# %%
toy_steps = 300 if FAST else 1500
single, single_losses = worldmodels.mdn.fit_single_gaussian(x_train, y_train, steps=toy_steps, seed=SEED)
mixture, mixture_losses = worldmodels.mdn.fit_toy_mdn(x_train, y_train, K=5, steps=toy_steps, seed=SEED)
toy_nll = {"single": single.nll(x_test, y_test), "mixture": mixture.nll(x_test, y_test)}
print(f"held-out NLL, one Gaussian: {toy_nll['single']:.3f} nats")
print(f"held-out NLL, mixture of 5: {toy_nll['mixture']:.3f} nats")

lesson.toy_fits_figure(x_train, y_train, single, mixture, nll=toy_nll, x_slice=0.6)
plt.show()

# %% [markdown]
# Left: the single Gaussian's mean runs down the middle, between the two branches, and its $\sigma$ has to
# grow wide enough to cover both. Middle: the mixture puts nearly all of its weight on two components, one
# per branch (the faint ones carry almost no weight). Right: at $x = 0.6$ the single Gaussian's density
# peaks where no car ever is; the mixture's has a narrow peak on each branch.
#
# The gap in NLL is large. A difference of $\Delta$ nats means that, on average (a geometric mean), the mixture
# gives each held-out car $e^{\Delta}$ times the density that the single Gaussian gives it:

# %%
print(f"e^(NLL difference) = {math.exp(toy_nll['single'] - toy_nll['mixture']):.1f}")

# %% [markdown]
# <details><summary><b>Question:</b> why must the single Gaussian's σ be so large, when each branch is only 0.05 wide? (click)</summary>
#
# Its mean sits in the middle, about $\sqrt{x}$ away from every car. A narrow $\sigma$ would make every car
# look wildly unlikely; the NLL is smallest when $\sigma$ is about the typical distance from the mean, so the
# model learns $\sigma \approx \sqrt{x}$. It is honest about its error, but it cannot say *where* the error is.
# </details>
#
# <details><summary><b>Question:</b> what would a car sampled from the single Gaussian at x = 0.6 do? And one sampled from the mixture? (click)</summary>
#
# From the single Gaussian: land anywhere from about -0.8 to +0.8, most often near 0, straight into the wall
# between the branches. From the mixture: first pick a component by its weight (a branch, 50/50), then a
# position close to that branch. Every sample is a plausible car. A dream made of the single Gaussian's
# samples would be a blur of impossible in-between frames.
# </details>

# %% [markdown]
# ## 2. The mixture NLL, and why logsumexp
#
# For one number $y$, a mixture of $K$ Gaussians gives the density
# $$p(y) = \sum_{k=1}^{K} \pi_k \, \mathcal{N}(y;\, \mu_k, \sigma_k^2), \qquad \sum_k \pi_k = 1 .$$
# The loss is its negative log, averaged over the data (and, for M, over the 32 latent dimensions, each of
# which has its own mixture):
# $$\text{NLL} = -\frac{1}{N}\sum_{n} \log \sum_{k} \exp\!\big(\log \pi_k + \log \mathcal{N}(y_n;\, \mu_k, \sigma_k^2)\big),
# \qquad \log \mathcal{N}(y; \mu, \sigma^2) = -\frac{(y-\mu)^2}{2\sigma^2} - \log \sigma - \tfrac12 \log 2\pi .$$
#
# Written like that, the computation stays in logs until the very end, and the last step,
# $\log \sum_k \exp(a_k)$, is **logsumexp**. Why not compute the densities and add them up? Because far from
# every mean each density is a number like $e^{-800}$, which a computer rounds to 0, and then $\log 0 = -\infty$:

# %%
a = torch.tensor([-800.0, -805.0, -1000.0])  # log pi_k + log N_k for a target far from every mean
naive = torch.log(torch.exp(a).sum())
stable = torch.logsumexp(a, dim=0)
by_hand = a.max() + torch.log(torch.exp(a - a.max()).sum())
print(f"exp(a) = {torch.exp(a).tolist()}   (each underflows to 0)")
print(f"naive log(sum(exp(a))) = {naive.item()}")
print(f"torch.logsumexp(a)     = {stable.item():.4f}")
print(f"max + log(sum(exp(a - max))) = {by_hand.item():.4f}   (the same trick, by hand)")

# %% [markdown]
# Subtracting the largest term first makes the biggest exponent $e^0 = 1$, so the sum can never be 0 (and
# can never overflow either). An infinite loss gives infinite or NaN gradients, and a whole training run
# can die from one unusual frame; logsumexp costs nothing and prevents it.
#
# ### Exercise 1: write the mixture NLL
# Shapes follow the package: parameters `log_pi`, `mu`, `log_sigma` are `(..., D, K)` (D dimensions, each a
# mixture of K Gaussians; `log_pi` already normalised, `log_sigma` the log of the standard deviation) and
# `target` is `(..., D)`. Return one number: the mean over every entry and dimension.

# %%
def mixture_nll(log_pi, mu, log_sigma, target):
    ...  # your code: return -mean over all entries of logsumexp_k [log pi_k + log N(target; mu_k, sigma_k^2)]


lesson.mixture_nll.check(mixture_nll)

# %%
# Stuck? Uncomment one of these:
# lesson.mixture_nll.hint()
# lesson.mixture_nll.solution()

# %% [markdown]
# The package's version is `wmcourse.worldmodels.mdn.mdn_nll`. Hand-written code should agree with the library that
# does the same job: here, `torch.distributions.MixtureSameFamily`. Check on the toy MDN's own predictions:

# %%
with torch.no_grad():
    log_pi, mu, log_sigma = mixture(x_test)
    ours = worldmodels.mdn.mdn_nll(log_pi, mu, log_sigma, y_test)
    library = -worldmodels.mdn.mixture_distribution(log_pi, mu, log_sigma).log_prob(y_test).mean()
print(f"wmcourse.worldmodels.mdn.mdn_nll: {ours:.6f}   torch.distributions: {library:.6f}")

# %% [markdown]
# ### Exercise 2: which forecast explains the cars better?
#
# The loss you just wrote is how M is judged, so look at what it rewards. Here are three made-up forecasts of
# $y$ for cars at $x = 0.6$, drawn over the held-out cars that are really there:
# - **one wide bell**: one Gaussian centred between the branches, as wide as the branches are apart;
# - **both branches**: weight 0.5 on each branch, each bell as narrow as the branch;
# - **sure of right**: the same two bells, with weight 0.98 on the right branch and 0.02 on the left.
#
# Take first **one car** that turned right (the dotted line), then **all the cars** near $x = 0.6$. Which forecast
# has the lowest NLL on the one car, and which the lowest mean NLL on all of them? Decide from the picture and
# the formula before you compute anything.

# %%
forecasts = lesson.junction_forecasts()  # name -> (log_pi, mu, log_sigma), each of shape (1, 1, K)
one_car, cars = lesson.junction_cars(x_test, y_test)  # y of one right-turning car (1, 1); of all cars near x = 0.6 (N, 1)
lesson.junction_figure(forecasts, cars, one_car)
plt.show()

# %%
junction_answer = {"one car": ..., "all cars": ...}  # your answer: names of forecasts, e.g. "one wide bell"
lesson.junction_nll.check(junction_answer)

# %% [markdown]
# Now measure, with your `mixture_nll` from Exercise 1 (or the package's `mdn.mdn_nll` until yours passes):

# %%
nll = mixture_nll if lesson.mixture_nll.problem(mixture_nll) is None else worldmodels.mdn.mdn_nll
print(f"the one car: y = {one_car.item():+.3f};  all the cars: {len(cars)} held-out cars with |x - 0.6| < 0.05")
for name, forecast in forecasts.items():
    on_one, on_all = (float(nll(*(p.expand(len(ys), 1, -1) for p in forecast), ys)) for ys in (one_car, cars))
    print(f"{name:14s} NLL of the one car {on_one:6.2f}   mean NLL of all the cars {on_all:6.2f}")

# %%
# Stuck? Uncomment one of these:
# lesson.junction_nll.hint()
# lesson.junction_nll.solution()

# %% [markdown]
# One outcome rewards the boldest bet that happened to come true; the mean over many outcomes charges every
# car the forecast was sure would not come. That mean is lowest when each branch gets the weight of how often
# cars take it, so training on the NLL teaches a mixture's weights to be honest odds, and each bell to be as
# narrow as the data allows. Remember it for M: its mixture weights are odds learned this way.

# %% [markdown]
# ## 3. M, the MDN-RNN, for CarRacing
#
# M reads one step at a time and keeps a memory. The controller acts first, on the memory $h_t$ it has
# *before* the action; then M reads the code and the action and updates its memory:
# $$h_{t+1} = \text{LSTM}\big([z_t, a_t],\, h_t\big), \qquad
# p(z_{t+1} \mid z_t, a_t, h_t) = \prod_{d=1}^{32} \sum_{k=1}^{5} \pi_{dk}\, \mathcal{N}\big(z_{t+1,d};\, \mu_{dk}, \sigma_{dk}^2\big),$$
# with the weights, means and spreads read from $h_{t+1}$. (The same indices hold in every notebook of the
# course: C reads $h_t$; M makes $h_{t+1}$.)
#
# - input: the code $z_t$ (32 numbers) and the action $a_t$ (steer, gas, brake): 35 numbers;
# - an LSTM with 256 hidden units: the memory (this is what the controller C also reads);
# - a linear **mixture head** from $h_{t+1}$ to a 5-way mixture for **each** of the 32 dimensions of
#   $z_{t+1}$ (as in the authors' code, the dimensions are independent given the memory).

# %% [markdown]
# The course's M also has a **reward head** and a **done head** (two more linear layers on $h_{t+1}$).
# **No model in the paper had a reward head**: the paper's CarRacing M predicted $z$ only (the controller
# alone saw rewards); its VizDoom M predicted $z$ and whether the agent died (done), and the dream's reward
# there was simply the time survived. The course adds both heads so that a CarRacing controller can be evolved
# entirely inside the dream (notebooks 04 and 06), an experiment the paper did not run.
#
# **What M was trained on.** The same 64 real episodes as V (notebook 01), not the paper's 10,000 random
# rollouts: a scripted lane follower and a smooth random walk, taking turns. M can only learn the dynamics
# those two drivers showed it: the road ahead while following it, the grass after leaving it. How the car
# behaves under *another* driver's habits (a controller that brakes late, or spins) is not in the data. That
# is **coverage**, and it decides what a controller trained in M's dream can trust (notebook 06).
#
# <details><summary>How this was measured</summary>
#
# The shipped M was trained by `python -m wmcourse train-mdnrnn --epochs 100 --seq-len 200 --batch-size 32
# --predict-reward --predict-done` (a step of `bash scripts/train_carracing_models.sh`, seed 0) on the 64
# training episodes encoded by the shipped V: 100 epochs of 200-step windows, batches of 32, Adam at lr 1e-3,
# each gradient element clipped to [-1, 1], and a fresh $z = \mu + \sigma\varepsilon$ drawn from V's stored
# $\mu, \sigma$ for every batch. The paper trained its M for 20 epochs on whole 1,000-step episodes of its
# 10,000 rollouts; the authors' code used batches of 100. With 64 episodes, shorter windows and smaller batches
# give about as many optimizer steps. The command, date and measured figures are recorded in
# `data/manifest.json`; results in the [results appendix](../docs/results.md), section "MDN-RNN".
# </details>

# %% [markdown]
# Each Gaussian in a mixture needs three numbers: a weight (a logit), a mean and a log σ. So for each of the 32
# dimensions and each of its 5 components the mixture head outputs three numbers, $32 \times 5 \times 3 = 480$
# a step: a whole distribution over the next code rather than one point. Here is M, and where its parameters are:

# %%
M = shipped.load_shipped_mdnrnn()
c = M.config
lesson.draw_architecture(lesson.mdnrnn_layers(c.z_size, c.action_size, c.hidden, c.K), "M: the MDN-RNN for CarRacing")
plt.show()
parts = worldmodels.mdnrnn.parameter_breakdown(M)
for name, count in parts.items():
    print(f"{name:28s} {count:>9,}")
print(f"{'total':28s} {lesson.count_parameters(M):>9,}")

# %% [markdown]
# ### 422,368 in the paper, 423,392 in PyTorch: why?
# The total above, 423,906, is the course's M, with its reward and done heads ($2 \times 257 = 514$ of it).
# Take them off and count the paper's model in PyTorch, and the same model as the original TensorFlow code
# counts it:

# %%
paper_config = worldmodels.mdnrnn.MDNRNNConfig()  # z 32, actions 3, LSTM 256, K 5, no reward or done head
paper_model = worldmodels.mdnrnn.MDNRNN(paper_config)
ours_count = lesson.count_parameters(paper_model)
tf_count = worldmodels.mdnrnn.paper_parameter_count(paper_config)
print(f"PyTorch count:            {ours_count:,}")
print(f"TensorFlow-style count:   {tf_count:,}   (the paper reports 422,368)")
print(f"difference:               {ours_count - tf_count:,} = one bias vector of 4 gates x 256 = "
      f"{paper_model.lstm.bias_hh_l0.numel():,}")

# %% [markdown]
# PyTorch's `nn.LSTM` keeps two bias vectors, $b_{ih}$ and $b_{hh}$, that only ever appear as their sum
# $b_{ih} + b_{hh}$; the original TensorFlow cell keeps one. Same function, 1,024 extra (redundant) numbers.
# Everything else agrees: LSTM weights $4 \cdot 256 \cdot (35 + 256) = 297{,}984$, the mixture head
# $256 \cdot 480 + 480 = 123{,}360$. The shipped model's reward and done heads add $2 \times 257$:
# $423{,}392 + 514 = 423{,}906$, the total printed above.
#
# <details><summary><b>Question:</b> each of the 32 dimensions gets its own 1-D mixture. What would it cost to predict all 32 jointly, each component a 32-D Gaussian with a full covariance? (click)</summary>
#
# Each of the 5 components would need a weight, a 32-number mean and a symmetric 32 × 32 covariance matrix
# ($32 \cdot 33 / 2 = 528$ free numbers): $5 \times (1 + 32 + 528) = 2{,}805$ outputs instead of
# $32 \times 5 \times 3 = 480$, about 5.8 times as many. The covariance must also stay positive definite
# (usually by predicting a triangular factor), and sampling needs a matrix product each step. Treating each
# dimension as its own 1-D mixture is cheaper and simpler; the LSTM's memory $h_t$ carries what links the
# dimensions over time. (The two are not the same model: 32 separate 5-way mixtures can mix each dimension's
# components freely, while a joint mixture ties all 32 dimensions to one component.)
# </details>

# %% [markdown]
# ### How well does M predict? The measured NLL
# The training run scored M after every epoch on its training windows and on a **validation** set: 5% of its
# training episodes, kept aside from the gradient steps (the plot labels them "held out"). Below, the same z
# NLL (nats per latent dimension) over the epochs, and a baseline that knows nothing about time: one Gaussian
# per dimension fitted to all the latents at once.

# %%
record = shipped.shipped_training_record()
heldout = shipped.load_shipped_heldout_encoded()
baseline_nll = worldmodels.probes.marginal_gaussian_nll(heldout, seed=SEED)
if record["history"]:
    lesson.mdnrnn_history_plot(record["history"], baseline=baseline_nll)
    plt.show()
    last = record["history"][-1]
    print(f"after epoch {last['epoch']}: training z NLL {last['z_nll']:.3f}, "
          f"validation z NLL {last.get('held_out_z_nll', float('nan')):.3f} nats per dimension")
    print(f"after epoch {last['epoch']}: training reward_mse {last.get('reward_mse', float('nan')):.4f}")

# %% [markdown]
# And measured now, on the 4 **held-out** episodes (a separate set, never used in training, not even for
# validation), encoded by V:

# %%
measured = worldmodels.train_mdnrnn.evaluate_mdnrnn(M, heldout, seed=SEED)
print(f"{len(heldout)} held-out episodes, {heldout.num_steps:,} steps")
print(f"M's z NLL:                                  {measured['z_nll']:.3f} nats per dimension")
print(f"one Gaussian per dimension, no memory:      {baseline_nll:.3f} nats per dimension")
print(f"density ratio, M over the baseline, per latent number: e^{baseline_nll - measured['z_nll']:.2f} = "
      f"{math.exp(baseline_nll - measured['z_nll']):.2f}")
for key in ("reward_mse", "done_bce"):
    if key in measured:
        print(f"{key}, held-out episodes: {measured[key]:.4f}")

# %% [markdown]
# A density can exceed 1, so an NLL can be negative: it measures surprise relative to a spread of one unit.
# What matters is the comparison. On the shipped M we measured M, which has memory and sees the actions, about
# 0.4 nats per number less surprised than a model that has neither, so it gives the real next code about 1.5
# times the density, in each of the 32 dimensions (read your own numbers in the printout). Remember the
# direction, not the digits: memory and actions make the next code more predictable.
#
# The last two lines score the other heads: `reward_mse` is the reward head's mean squared error, `done_bce`
# the done head's cross-entropy. The reward head does much worse away from the windows it was trained on:
# its `reward_mse` on the held-out episodes is well above the training one printed under the plot, and the
# plot's middle panel shows the validation curve far above the training curve. It has learned its training
# drives better than the road in general; notebook 06 shows what that costs a controller trained in the dream.
#
# ## 4. M's predictions, seen through V
#
# Numbers are one thing; frames are another. Take a held-out episode, encode every frame with V, and let M
# read the real codes and actions up to step $t$. From there on M sees only **its own guesses** (and the real
# actions): it predicts $z_{t+1}$, feeds that back in, predicts $z_{t+2}$, and so on. V's decoder turns the
# guesses into pictures.
#
# Two kinds of guess: **likeliest** takes, in each dimension, the mean of the component with the largest
# weight; **samples** draw from the whole mixture (two different random futures). For reference the second
# row is V's own reconstruction of the real frame: M can only be as sharp as V.

# %%
V = shipped.load_shipped_vae()
episode = shipped.load_heldout_episode(0)
frames = np.concatenate([episode.obs, episode.final_obs[None]])  # T + 1 frames
z_mu, _ = worldmodels.vae.encode_frames(V, frames)
z_real, actions = torch.from_numpy(z_mu), torch.from_numpy(episode.action).float()
horizon = 8
start = min(120, len(episode) - horizon)  # 120: well after the opening zoom
print(f"episode of {len(episode)} steps; codes {tuple(z_real.shape)}; actions {tuple(actions.shape)}")
lesson.prediction_figure(M, V, z_real, actions, frames, start=start, horizon=horizon, samples=2, seed=SEED)
plt.show()

# %% [markdown]
# Move the slider to start from another step of the episode (a bend, a straight, the grass), and the seed
# to draw other samples:

# %%
lesson.PredictionExplorer(M, V, z_real, actions, frames, start=start, horizon=horizon)

# %% [markdown]
# How fast do the guesses drift from the truth? Over every start step of the episode: the squared error
# of the likeliest guess in latent space, by steps ahead, against two guesses that know no dynamics at all.

# %%
errors = worldmodels.probes.horizon_errors(M, z_real, actions, horizon=horizon * 2, mode="likeliest")
lesson.horizon_error_plot(errors)
plt.show()
for name in ("model", "copy_last", "mean_latent"):
    print(f"{name:12s}", " ".join(f"{e:.3f}" for e in errors[name]))

# %% [markdown]
# On the shipped M we measured (your printout above has the same rows): one step ahead, copying the last code
# is best (0.010 against M's 0.033), because consecutive frames barely differ. From three steps ahead M is
# better, and after 16 steps its error (0.225) is about half that of copying (0.406) and still below that of
# always guessing the average code (0.243). M's guesses drift, but more slowly than "nothing changes".

# %% [markdown]
# <details><summary><b>Question:</b> M's samples differ from each other and from the real frames. Is that a failure? (click)</summary>
#
# Not by itself. From a frame and an action the future is uncertain: what lies round the next bend is not in
# the picture, and M cannot know it. A good M gives *plausible* futures, each of which could happen, in the
# right proportions. The NLL measures exactly that. Later steps drift further, because each guess is built on
# the previous guesses, not on the truth.
# </details>
#
# <details><summary><b>Question:</b> why might "copy the last latent" be hard to beat one step ahead, and what does M offer that it does not? (click)</summary>
#
# At 50 frames a second, consecutive CarRacing frames are nearly identical, so "nothing changes" is a strong
# one-step guess. But it cannot turn with the road, respond to the steering, or produce more than one
# future. M gives a distribution that depends on the action: that is what a controller can practise against.
# </details>

# %% [markdown]
# ## Open questions
# Two experiments to run yourself: change one setting, re-run the cell, and look.
#
# **What happens if the mixture has fewer components?** In the cell that fits the two toy models (section 1),
# change `K=5` in `mdn.fit_toy_mdn(...)` to `K=2`, then to `K=1`, and re-run it and the figure cell. Look at the
# held-out NLLs it prints and at the middle panel.
#
# <details><summary>Hint</summary>
#
# With `K=1` the "mixture" is one Gaussian: `mdn.fit_single_gaussian` is the same function with K = 1, the
# same seed and the same steps, so you should see exactly the single Gaussian's NLL printed twice. Is `K=2`
# enough for a junction with two branches? What would the third, fourth and fifth components be for, and
# what do their weights look like in the figure?
# </details>
#
# **What happens if M's guesses are samples instead of its likeliest guess?** In the cell of section 4 that
# measures errors by steps ahead, change `mode="likeliest"` to `mode="sample"` and re-run it (it averages 8
# sampled futures per start step, so it takes a little longer). Compare M's curve with the two guesses that
# know no dynamics.
#
# <details><summary>Hint</summary>
#
# A sample is one plausible future, not the middle of them, so its squared error to what really happened
# includes M's own uncertainty. Does M still beat "copy the last code" a few steps ahead? Think about which of
# the two a dream uses, and which one the squared error flatters.
# </details>

# %% [markdown]
# ## Self-check
# - [ ] I can explain why a model trained to output one number predicts the average of the futures, and why
#       that is wrong when the futures are two separate branches.
# - [ ] I can write the mixture NLL, with log pi plus the Gaussian's log-density inside a logsumexp.
# - [ ] I know why logsumexp (subtract the max first) and what happens without it.
# - [ ] I can say why one outcome cannot tell a lucky bet from a good forecast, and why the mean NLL over many
#       outcomes makes a mixture's weights match how often each outcome happens.
# - [ ] I can list M's parts and count its parameters, and explain the 1,024 difference from the paper.
# - [ ] I know that no model in the paper had a reward head, and what the course's M was trained on (64
#       episodes of two scripted drivers), and why coverage limits what its dream can teach.
# - [ ] I know what M's held-out NLL was measured against, and what its predicted frames look like a few
#       steps ahead.

# %% [markdown]
# ## Formulas used
# | what | formula |
# |---|---|
# | mixture density | $p(y) = \sum_k \pi_k\, \mathcal{N}(y; \mu_k, \sigma_k^2)$, $\pi = \text{softmax}(\text{logits})$ |
# | Gaussian log-density | $\log \mathcal{N}(y; \mu, \sigma^2) = -\frac{(y-\mu)^2}{2\sigma^2} - \log\sigma - \frac12\log 2\pi$ |
# | mixture NLL | $-\frac{1}{N D}\sum_{n,d} \text{logsumexp}_k\big[\log\pi_{ndk} + \log\mathcal{N}(y_{nd}; \mu_{ndk}, \sigma_{ndk}^2)\big]$ |
# | logsumexp | $\log\sum_k e^{a_k} = m + \log\sum_k e^{a_k - m}$, $m = \max_k a_k$ |
# | MDN-RNN | $h_{t+1} = \text{LSTM}([z_t, a_t], h_t)$, $p(z_{t+1}\mid z_t, a_t, h_t) = \prod_d \sum_k \pi_{dk}\mathcal{N}(\mu_{dk}, \sigma_{dk}^2)$, read from $h_{t+1}$ |
# | parameters | $4 \cdot 256 (35 + 256) + 4 \cdot 256\,[+4 \cdot 256] + 256 \cdot 480 + 480 = 422{,}368\ [423{,}392]$ |
#
# **What to remember:** when the future has several branches, predict a mixture, not a mean; compute its NLL
# with logsumexp; M is an LSTM whose mixture head, read from $h_{t+1}$, gives each of the 32 numbers of the next
# code its own 5-way mixture, and it knows only what its data covered.
#
# **Next:** notebook 03 turns the knob that makes M's dreams tamer or wilder: the temperature $\tau$.
