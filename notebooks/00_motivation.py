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
# # 00 · Why learn a model of the world?
#
# *World Models* (Ha & Schmidhuber, 2018) in one sentence: **learn a cheap imitation of the world, practise
# inside it, and bring what you learned back to the real thing.**
#
# In this notebook you will
# 1. meet the two real environments of the course, CarRacing-v3 (pixels) and CartPole-v1 (four numbers);
# 2. measure how well a random policy does in each, so that every later agent has a bar to clear;
# 3. measure what one real step costs on *your* machine, the number that makes a dream worth having;
# 4. see the agent of the paper, **V**ision, **M**emory, **C**ontroller, in one picture.
#
# **What you need.** Python and numpy, basic probability (a mean, a variance, a Gaussian) and gradient descent.
# The course uses a few words from reinforcement learning (a *policy*, an *episode*, a *return*); the one-page
# [primer](../docs/primer.md) explains them, and the [glossary](../docs/glossary.md) defines every term the course
# uses, where you first meet it.
#
# Run the cells top to bottom (about a minute on a laptop CPU).

# %% [markdown]
# ## The one-minute explanation
#
# Imagine explaining World Models to a friend who has just finished school maths:
#
# 1. First we learn a model that **compresses** what the game looks like and **predicts** what it will look
#    like next: see the current picture, guess the next one.
# 2. Then we practise only inside that learned "simulator in the head", trying things over and over to find
#    actions that score well. Practice there is cheap: no physics engine, no rendering, no wear and tear.
# 3. Finally we take the policy found in the simulator back to the real game. If the model is good enough,
#    it works there too; if it is not, the policy may have learned to exploit the model's mistakes
#    (notebooks 05 to 07 show both).

# %%
# The course's package, wmcourse. Missing here? Run `%pip install wmcourse-0.1.0-py3-none-any.whl` (see docs/install.md), then restart the kernel.
import matplotlib.pyplot as plt
import numpy as np

from wmcourse.lessons import n00_motivation as lesson
from wmcourse.experiments import benchmark
from wmcourse import real
from wmcourse import worldmodels

FAST = lesson.fast_mode()  # True under `make test`: fewer episodes, same code
SEED = 0
print("fast mode" if FAST else "full mode")

# %% [markdown]
# ## An analogy: learning to drift in an empty car park
#
# 1. **Collect data:** you drive around at random while a friend films you. You learn nothing yet; you only
#    gather "I did X, the car did Y".
# 2. **Learn the world model:** at home you watch the film (that trains **V**, what scenes look like) and
#    work out the rules (that trains **M**: "steer hard left at speed and the back slides out").
# 3. **Practise in your head:** lying in bed you rehearse thousands of drifts in imagination and keep the
#    habit that goes furthest (that trains **C**).
# 4. **Test for real:** back in the car park, does the habit from your imagination work?
#
# The paper's agent has exactly these three parts:

# %%
lesson.draw_vmc()
plt.show()

# %% [markdown]
# - **V** (a [variational autoencoder](../docs/glossary.md#vae)) squeezes each 64×64 colour frame into a short
#   code $z_t$ of 32 numbers.
# - **M** (an LSTM with a mixture-density output, the [MDN-RNN](../docs/glossary.md#mdn-rnn)) keeps a memory
#   $h_t$ and predicts a *distribution* over the next code $z_{t+1}$, given the action:
#   $h_{t+1} = \text{LSTM}([z_t, a_t], h_t)$.
# - **C** is tiny on purpose: one layer that turns what it reads, call it $x_t$, into the action $a_t$ (what
#   $x_t$ should be is exercise 2). The paper's main text writes it as linear, $a_t = W x_t + b$; its appendix
#   bounds the actions with tanh (steering in [-1, 1], gas and brake in [0, 1]), and so does the course's code:
#   $a_t = \tanh(W x_t + b)$, with gas and brake mapped into [0, 1]. It is trained without gradients by an
#   evolution strategy ([CMA-ES](../docs/glossary.md#cma-es)).
#
# Terms new to you are in the course's [glossary](../docs/glossary.md); the papers it names are in its
# [reference list](../docs/references.md).
#
# <details><summary><b>Question:</b> without looking at the picture, where does the frame go first, and what does M keep from one step to the next? (click)</summary>
#
# The frame goes to V, which turns it into $z_t$. M keeps a memory $h$ and updates it with the code and the
# action: $[z_t, a_t, h_t] \to h_{t+1}$. M's predicted distribution over $z_{t+1}$ is what lets the agent
# *dream*: sample a next code, feed it back, repeat.
# </details>

# %% [markdown]
# The same three parts can play without the world. Give M the first code $z_0$ of a real frame, and from then
# on let M's own *sample* of the next code stand in for V's code of the next real frame: C acts on that, M
# imagines what follows, and its [done head](../docs/glossary.md#done-head-reward-head) (an output that
# predicts whether the episode ends) says when the game is over. That is the **dream**, the course's title
# idea; notebook 04 evolves C inside it, and in notebook 05 you write the dream loop yourself.

# %%
lesson.draw_dream_loop()
plt.show()

# %% [markdown]
# ## The real worlds
#
# ### CarRacing-v3: learning from pixels
# A top-down car on a random track. Each step the agent gets a 96×96 RGB frame and chooses three numbers
# (steer in [-1, 1], gas and brake in [0, 1]). Each new track tile visited earns 1000/N points (N tiles);
# each frame costs 0.1. An episode lasts at most 1000 steps. Above **900** counts as solved.

# %%
raw_frames = real.evaluate.random_policy_frames("CarRacing-v3", at=(0, 50, 100, 150), seed=SEED)  # random driving
lesson.show_frames(list(raw_frames.values()), [f"step {t}" for t in raw_frames], suptitle="CarRacing-v3: raw 96×96 frames")
plt.show()

# %% [markdown]
# The first 50 frames are the camera zooming in. The black strip at the bottom is the dashboard (speed, ABS
# sensors, steering, gyroscope). The authors' code keeps only the top 84 rows and shrinks the result to
# 64×64, which is what V sees:

# %%
small = real.envs.preprocess_frames(np.stack(list(raw_frames.values())))
print("raw:", raw_frames[150].shape, raw_frames[150].dtype, "-> preprocessed:", small.shape, small.dtype)
lesson.show_frames(list(small), [f"step {t}, 64×64" for t in raw_frames], suptitle="what V sees")
plt.show()

# %% [markdown]
# ### CartPole-v1: learning from four numbers
# Push a cart left or right to keep a pole upright. The observation is four numbers (cart position and
# velocity, pole angle and angular velocity); each step upright earns 1; an episode ends when the pole
# tips past 12° or the cart leaves the track, and is cut at **500** steps (the best possible score).
# Notebook 07 shows that a World Model can fail here, and how to fix it.

# %%
cartpole = real.envs.make_env("CartPole-v1", render_mode="rgb_array")
state, _ = cartpole.reset(seed=SEED)
picture = cartpole.render()
cartpole.close()
print("state (x, x_dot, theta, theta_dot):", np.round(state, 3))
lesson.show_frames([picture], ["CartPole-v1, rendered"], size=4)
plt.show()

# %% [markdown]
# ## The bar to clear: a random policy, measured
# Before building anything, measure what doing nothing clever scores. `wmcourse.real.evaluate.evaluate` plays
# full episodes in several copies of the environment at once (gymnasium's vector environments).

# %%
cartpole_random = real.evaluate.evaluate("CartPole-v1", None, episodes=100, seed=SEED, num_envs=4)
print("CartPole-v1, random policy:", cartpole_random)

carracing_episodes = 1 if FAST else 4
carracing_random = real.evaluate.evaluate("CarRacing-v3", None, episodes=carracing_episodes, seed=SEED,
                                          num_envs=min(2, carracing_episodes),
                                          max_steps=300 if FAST else None)  # fast mode: a cut episode
print("CarRacing-v3, random policy:", carracing_random)

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
lesson.return_histogram(cartpole_random.returns, "CartPole-v1, random policy", axes[0])
lesson.return_histogram(carracing_random.returns, "CarRacing-v3, random policy", axes[1])
plt.tight_layout()
plt.show()

# %% [markdown]
# A random driver scores below zero on most tracks: it pays 0.1 for every frame and visits few tiles. That
# is the floor; the paper's full World Model scored **906 ± 21** over 100 random tracks (of CarRacing-v0, the
# game's version then), above the 900 that counts as solved (the model-free A3C baseline reached 591 to 652).
# On CartPole a random policy keeps the pole up for about 20 steps out of a possible 500: remember both numbers
# as the bars every later agent must clear.
#
# <details><summary>How this was measured</summary>
#
# The cell above plays the episodes live on your machine: CartPole-v1 for 100 episodes from seed 0, four
# copies of the environment at once; CarRacing-v3 for only 4 episodes (2 in fast mode), two at once, because
# a real CarRacing episode takes several seconds here. Four tracks give a rough mean. A random driver varies
# little from one track to the next (it rarely gets far on any of them), but a trained controller's score can
# differ by hundreds of points from one track to the next (notebook 06), so a claim about a controller on
# CarRacing needs about 100 tracks. The paper's numbers are
# from its CarRacing table (mean ± standard deviation over 100 random tracks). Every result the course itself
# measured, with its command, is in the [results appendix](../docs/results.md).
# </details>

# %% [markdown]
# ## What does one real step cost?
# The whole point of a dream is that it is cheap. Measure the real side on this machine:

# %%
steps = 200 if FAST else 500
carracing_rate = benchmark.real_steps_per_second("CarRacing-v3", steps=steps, seed=SEED)
cartpole_rate = benchmark.real_steps_per_second("CartPole-v1", steps=20 * steps, seed=SEED)
print("CarRacing-v3:", benchmark.format_rate(carracing_rate))
print("CartPole-v1: ", benchmark.format_rate(cartpole_rate))

# %% [markdown]
# CarRacing runs a Box2D physics engine and draws every frame; CartPole is four lines of arithmetic. (The
# course draws CarRacing's road in one numpy pass where gymnasium loops over every tile in Python, and loads the
# score's font once where gymnasium loads it every frame: the same pixels, and a real step less than half as
# costly as gymnasium's own. Against gymnasium as shipped, a dream step saves more than twice what the rates
# above show.) The
# paper's appendix reports its CarRacing controller's run: 64 candidates a generation, each scored by the
# mean of 16 rollouts in the real environment (an episode lasts at most 1,000 steps), and "after 1800
# generations, an agent was able to achieve an average score of 900.46 over 1024 random rollouts" (a
# different evaluation from the 906 ± 21 above, which the main text's table gives over 100 random tracks). Keep
# those numbers: the first exercise below asks what that search would cost on your machine.
#
# Now the other side: a step of the *dream*. M is an LSTM with 256 units and a mixture head; one dream step
# is one LSTM step plus a draw from the mixture, and a whole CMA-ES population (64 candidates × 16 rollouts
# = 1,024 dreams) steps as one batch. The cost does not depend on what M has learned, so an untrained
# MDN-RNN of the paper's size measures it honestly here (notebook 02 trains the real one).

# %%

paper_size_m = worldmodels.mdnrnn.MDNRNN(worldmodels.mdnrnn.MDNRNNConfig(predict_reward=True, predict_done=True))
dream_rate = worldmodels.dream.dream_steps_per_second(paper_size_m, batch_size=1024, steps=20 if FAST else 100, seed=SEED)
print("dream, 1,024 dreams at once:", benchmark.format_rate(dream_rate))
print(f"one real CarRacing step costs as much as {dream_rate / carracing_rate:,.0f} dream steps")

lesson.step_rate_bars({"real CarRacing": carracing_rate, "dream (batched)": dream_rate})
plt.tight_layout()
plt.show()

# %% [markdown]
# <details><summary><b>Question:</b> if real steps are this expensive, why did the paper still evolve its CarRacing controller in the real environment? (click)</summary>
#
# Because its CarRacing dream could not score a controller. The paper's CarRacing M predicted only the next
# code $z$: it had no reward output and no done output, so a dream made of it could say neither how many
# points a drive earned nor when it ended. The paper therefore evolved its CarRacing controller in the real
# game (with V and M as its eyes and memory) and scored 906 ± 21; it trained *inside* the dream only for
# VizDoom Take Cover, whose M also predicts when the agent dies (notebook 05). This course gives its own
# CarRacing M a reward head and a done head (notebook 02), so that a CarRacing controller can be trained in
# the dream too; notebook 06 measures what that gives.
# </details>

# %% [markdown]
# ## Exercises
# **1. What would the paper's search cost here?** The paper evolved its CarRacing controller for 1,800
# generations of 64 candidates, each scored by 16 rollouts of up to 1,000 steps. Count every rollout as the full
# 1,000 steps. With the two rates you just measured, `carracing_rate` and `dream_rate`, how long would that many
# steps take in one real CarRacing on this machine, **in days**, and in the batched dream, **in hours**?
# Predict the order of magnitude first, then compute.

# %%
real_days = ...    # your answer: the search in one real CarRacing, in days
dream_hours = ...  # your answer: the same number of steps in the batched dream, in hours
budget_exercise = lesson.budget_time(carracing_rate, dream_rate)  # its checker knows your measured rates
budget_exercise.check((real_days, dream_hours))

# %% [markdown]
# <details><summary><b>Think further:</b> the paper's appendix ran its search on 64 CPU cores. How far does that close the gap, and what would you need to run the dream's share as fast? (click)</summary>
#
# With one real game on each core, 64 cores divide the real time by 64 at best; compare that with your dream
# answer, which used one machine. The real game also needs nothing but CPUs, while the dream's speed comes
# from stepping 1,024 dreams as one batch, the kind of work a GPU is built for. The paper still chose
# the real game for CarRacing, because its CarRacing M could not score a controller (the question above).
# </details>

# %% [markdown]
# **2. What should C read?** C decides the action $a_t$ at step $t$. Here are the things the agent could hand
# it: `"frame"` (the 64×64 colour frame), `"z_t"` (V's code of that frame), `"h_t"` (M's memory before the
# action), `"a_t"` (the action), `"z_t+1"` (the next frame's code), `"h_t+1"` (M's memory after the action).
# Which should C read? Answer with a set of names; the checker says what is wrong with a choice.

# %%
c_reads = ...  # your answer: a set of names, e.g. {"frame"}
lesson.controller_inputs.check(c_reads)

# %% [markdown]
# <details><summary><b>Think further:</b> the paper also tried a controller that reads <i>z</i> alone, without M's memory <i>h</i>. How many numbers would it have, and what do the two scores say about what <i>h</i> is worth? (click)</summary>
#
# $3 \times 32 + 3 = 99$ numbers, against $3 \times (32 + 256) + 3 = 867$ for $[z, h]$: almost all of C's
# numbers read $h$. In the paper's CarRacing table the controller on $z$ alone scored 632 ± 251, and the full
# controller on $[z, h]$ 906 ± 21: the memory both raised the mean and made the score far steadier from track to
# track. A frame shows where the car is; only a memory of the last frames says how fast it moves and where it is
# heading.
# </details>
#
# <details><summary><b>Think further:</b> suppose C read the 64×64 colour frame directly, with no V. How many numbers would C have, and why would that hurt the search that trains it? (click)</summary>
#
# $3 \times 12{,}288 + 3 = 36{,}867$ numbers, about 42 times more than with $[z, h]$. C is trained by an
# evolution strategy that guesses whole controllers and keeps what works (notebook 04); the more numbers it
# must guess, the more guesses it needs, and CMA-ES's own bookkeeping grows with the square of the count.
# V's squeeze, 12,288 numbers into 32, is what keeps C small enough to search without gradients.
# </details>

# %%
# Stuck? Uncomment one of these:
# budget_exercise.hint()
# lesson.controller_inputs.solution()

# %% [markdown]
# ## Open questions
# Two experiments to run yourself: change one setting, re-run the cell, and look.
#
# **What happens if the dream runs fewer dreams at once?** In the dream cell of "What does one real step
# cost?", change `batch_size=1024` to `batch_size=64`, then to `batch_size=1`, and re-run it. Look at the
# printed dream rate and at "one real CarRacing step costs as much as ... dream steps".
#
# <details><summary>Hint</summary>
#
# A batched step runs one LSTM step and one mixture draw for every dream at once, and much of its cost is paid
# once per call, whatever the batch. With fewer dreams per call, is the dream still far cheaper than the real
# game? Your answer to exercise 1 assumed the whole population steps as one batch: what would it be now?
# </details>
#
# **What happens if you score the random driver on more tracks?** In the cell of "The bar to clear", set
# `carracing_episodes = 12` and re-run it (a minute or two: each real episode takes seconds). Then change
# `seed=SEED` in the CarRacing line to `seed=1` and run it again. How far does the mean move between the runs,
# compared with the spread of single tracks in the histogram?
#
# <details><summary>Hint</summary>
#
# A mean over a few tracks inherits part of the spread of single tracks. A random driver's spread is small, so
# its mean should move little; a trained controller's scores differ by hundreds of points from one track to the
# next (notebook 06), which is why the course scores its controllers on about 100 tracks. Does your random
# driver still score below zero on most tracks?
# </details>

# %% [markdown]
# ## Self-check
# - [ ] I can say what V, M and C each take in and give out.
# - [ ] I can say what C should read when it acts and why the frame, or anything computed after the action,
#       will not do; why C is kept tiny; and what trains it.
# - [ ] I measured a random policy on both environments and know the scores that count as solved (900, 500).
# - [ ] I know what a real step costs here, can turn step rates into the time a search would take in the game
#       and in the dream, and know why that makes a learned dream attractive.
# - [ ] I know which of the paper's results were trained in the dream (VizDoom) and which were not (CarRacing),
#       and why its CarRacing dream could not score a controller.
#
# ## Formulas used
# | what | formula |
# |---|---|
# | world model (the paper's M) | $P(z_{t+1} \mid a_t, z_t, h_t)$, with $h_{t+1} = \text{LSTM}([z_t, a_t], h_t)$ |
# | controller | paper's text: $a_t = W [z_t, h_t] + b$; its appendix and this course: bounded by tanh; $\lvert a \rvert \cdot (\lvert z \rvert + \lvert h \rvert) + \lvert a \rvert$ parameters |
# | the paper's CMA-ES budget | $1800 \times 64 \times 16 \times 1000 \approx 1.8 \times 10^9$ real steps at most |
# | time of a budget | seconds $=$ steps $/$ (steps per second); a day is 86,400 s, an hour 3,600 s |
#
# **What to remember:** a World Model is V (compress), M (predict) and C (act); a dream step costs a small
# fraction of a real one, and a dream is worth only what its model knows.
#
# **Next:** notebook 01 builds V, the variational autoencoder, and trains it on real CarRacing frames.
