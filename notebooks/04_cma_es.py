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
# # 04 · C: evolving the controller with CMA-ES
#
# The controller C is tiny: one layer from $[z_t, h_t]$ (32 + 256 numbers) to the 3 actions, **867**
# parameters (the paper's text writes it as linear, $a_t = W [z_t, h_t] + b$; its appendix bounds the actions
# with tanh, as the course's code does). The paper did not train it with gradients. It *evolved* it with
# **CMA-ES** ([glossary](../docs/glossary.md#cma-es)), the Covariance Matrix Adaptation Evolution Strategy:
# guess many controllers, keep what the better ones have in common, guess again.
#
# In this notebook you will
# 1. see why a gradient-free search suits this problem;
# 2. watch CMA-ES on a 2-D toy function: its search distribution moves, stretches and shrinks;
# 3. write the simplest evolution strategy yourself (with a checker) and race it against `cma`;
# 4. measure what CMA-ES costs at 867 parameters, and why it would not scale to millions;
# 5. run the real thing for a few generations: a whole population of controllers scored in one batched
#    dream, and the evolution curve of the controller the course ships.
#
# Run the cells top to bottom (well under a minute on a laptop CPU).

# %%
# The course's package, wmcourse. Missing here? Run `%pip install wmcourse-0.1.0-py3-none-any.whl` (see docs/install.md), then restart the kernel.
RETRAIN = False  # True: evolve the shipped CarRacing controllers again (the first search alone: about 5.5 minutes; see section 4)

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from wmcourse.lessons import n04_cma_es as lesson
from wmcourse import worldmodels
from wmcourse.shipped import catalogue as shipped

FAST = lesson.fast_mode()  # True under `make test`: fewer generations, same code
SEED = 0
torch.manual_seed(SEED)
if RETRAIN:
    lesson.run_command(shipped.MAKE_CONTROLLER)
print("fast mode" if FAST else "full mode", "| artefacts from", lesson.data_dir())

# %% [markdown]
# ## The one-minute explanation
#
# 1. We want the 867 numbers of C that make the car drive best. The only thing we can ask is: "how well
#    does *this* controller drive?" — a score from a whole episode.
# 2. So we guess. Draw 64 controllers around a centre, score each one, and move the centre towards the
#    ones that scored well.
# 3. CMA-ES also learns the *shape* of the cloud it draws from: if good controllers lie along some
#    direction, the cloud stretches that way; if it is close to the top, the cloud shrinks.
# 4. It needs no gradient, so the score can come from anything: a real game, a dream with random
#    sampling inside it, a count of tiles visited.
#
# ## An analogy: a search party in fog
# A search party looks for the lowest point of a foggy valley. No one can see the slope, but each searcher
# can read an altimeter. Each round they spread out around the leader, report their heights, and the leader
# moves to the average of the lowest few. A good leader also notices that the low reports lie along a line
# (a riverbed) and sends the next round along that line, and pulls everyone closer when they are nearly
# there. That leader is CMA-ES: the spread is its covariance, the pull is its step size.

# %% [markdown]
# ## Why not gradient descent?
#
# <details><summary><b>Question:</b> the score of a controller is the total reward of a 1000-step dream.
# What stands in the way of backpropagating through it? (think, then click)</summary>
#
# - **Sampling.** Each dream step draws the next $z$ from M's mixture: first a *component* (a discrete choice),
#   then a Gaussian sample. The component choice has no gradient, and the reparameterisation trick of
#   notebook 01 does not cover it.
# - **Length.** A gradient through 1000 LSTM steps explodes or vanishes; the return is a sum over all of them.
# - **Ends.** The episode ends when the done head crosses 0.5: a step function, flat almost everywhere.
# - **The real game** (scored at the end) is a black box: Box2D physics gives no gradients at all.
#
# An evolution strategy only needs the number at the end. With 867 parameters it can afford to learn a
# full 867 × 867 covariance; with millions it could not (see the measurement below).
# </details>

# %% [markdown]
# ## 1. CMA-ES on a banana-shaped valley
#
# Rosenbrock's function $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$ has its minimum at $(1, 1)$, at the end of a
# long curved valley: hard for a method that steps the same size in every direction. Each generation
# CMA-ES draws 8 candidates from $N(m, \sigma^2 C)$, then updates
#
# - the mean $m$: a weighted average of the best half of the candidates;
# - the covariance $C$: towards the directions in which the good candidates lay (and the path the mean took);
# - the step size $\sigma$: longer when successive moves point the same way, shorter when they cancel.
#
# The red ellipse holds about 86% of the search distribution (2 standard deviations).

# %%
trace = worldmodels.evolve.trace_cma(worldmodels.evolve.rosenbrock, x0=np.array([-1.5, 2.5]), sigma0=0.4, population=8, generations=80,
                         seed=SEED)
lesson.cma_search_figure(trace, worldmodels.evolve.rosenbrock, generations=[0, 4, 10, 20, 35, 60], box=((-2, 2), (-1, 3)))
plt.show()
print(f"after {len(trace)} generations ({8 * len(trace)} evaluations): best f = {trace[-1].best:.2e}, "
      f"mean = {np.round(trace[-1].mean, 4)}")

# %% [markdown]
# The same run in motion, one frame per generation (`wmcourse.lessons.animate`): watch the ellipse turn into the
# valley, stretch along it, and shrink at the end.

# %%

lesson.cma_animation(trace[:30] if FAST else trace, worldmodels.evolve.rosenbrock)

# %% [markdown]
# Now scrub through the run yourself. The left panel is one generation; the right one the whole run: the best
# value found so far and the spread of the search distribution ($\det(\sigma^2 C)^{1/4}$, a length). Change
# the number of candidates a generation and CMA-ES runs again: does a bigger population need fewer
# generations? Fewer evaluations?

# %%
lesson.CMAScrubber(worldmodels.evolve.rosenbrock, x0=np.array([-1.5, 2.5]), sigma0=0.4, generations=40 if FAST else 80,
                    seed=SEED)

# %% [markdown]
# <details><summary><b>Question:</b> around generation 10-20 the ellipse is long and thin and bent along the
# valley. Why is that the right shape, and what happens to it at the end? (click)</summary>
#
# The good candidates lie along the valley floor, so CMA-ES learns a covariance whose long axis follows it:
# it searches where improvement is possible and barely at all across the steep walls. Near $(1, 1)$ there is
# nothing left to gain far away, the steps stop agreeing with each other, and $\sigma$ shrinks: the ellipse
# collapses onto the minimum, which is how CMA-ES converges to many digits.
# </details>

# %% [markdown]
# ## 2. Exercise: the simplest evolution strategy
#
# Write an evolution strategy with a **round** cloud of **fixed** size: each generation draw `population`
# candidates $x_i = m + \sigma \epsilon_i$ with `eps = rng.standard_normal((population, len(mean)))`, score
# them all at once with `objective(candidates)`, and move $m$ to the mean of the `elite` candidates with the
# **lowest** objective. Return the best value seen so far after each generation (a list). The checker follows
# your search with the same random numbers and checks the first update of the mean exactly.

# %%
def my_simple_es(objective, x0, sigma, population, elite, generations, seed):
    rng = np.random.default_rng(seed)
    mean, best, curve = np.asarray(x0, float), np.inf, []
    ...  # your loop here: sample, score, keep the elite, move the mean, record the best so far
    return curve


lesson.simple_es.check(my_simple_es)
# lesson.simple_es.hint()
# lesson.simple_es.solution()

# %% [markdown]
# Now race **your** ES against CMA-ES on the banana valley, same start, same 8 candidates a generation.
# (Until your ES passes the checker, the cell races the package's `evolve.simple_es`, the same algorithm.)

# %%
race_es = my_simple_es if lesson.simple_es.problem(my_simple_es) is None else None
print("racing", "your my_simple_es" if race_es else "the package's evolve.simple_es (yours is not finished yet)")
lesson.es_race_figure(x0=np.array([-1.5, 2.5]), seed=SEED, es=race_es)
plt.show()

# %% [markdown]
# <details><summary><b>Question:</b> why does every fixed sigma lose, one way or the other? (click)</summary>
#
# A large sigma moves fast but cannot settle: near the minimum almost every sample lands on the valley
# walls, so the best value stalls at the scale of sigma. A small sigma could settle but crawls along the
# 3-unit valley. CMA-ES starts large and shrinks $\sigma$ as it gets close, and stretches along the
# valley: it needs no tuning of the step.
# </details>

# %% [markdown]
# ## 3. Why CMA-ES suits a few hundred parameters, measured
#
# CMA-ES keeps an $n \times n$ covariance and decomposes it now and then (cost $\sim n^3$). We time its own
# bookkeeping (ask + tell, with a dummy score) at several sizes, 64 candidates a generation.

# %%
sizes = [10, 100, 867] if FAST else [10, 100, 867, 2000]
overhead = {n: worldmodels.evolve.cma_overhead_seconds(n, 5 if FAST else 20) for n in sizes}
for n, s in overhead.items():
    print(f"n = {n:>5,} parameters: {s * 1000:7.1f} ms per generation, covariance {n * n:>10,} numbers")
print("the paper's C: 867 parameters. A million parameters would need a covariance of 10^12 numbers.")

# %% [markdown]
# At 867 parameters cma's bookkeeping is a small fraction of a generation; almost all the time goes into
# the 64 × 16 = 1,024 rollouts that score the candidates. That is why the course batches the whole population
# into one dream (next section).

# %% [markdown]
# ## 4. The real thing: evolving C inside M's dream
#
# Each candidate is scored by the mean return of several dreams of the shipped MDN-RNN, started from the
# latents of real CarRacing frames. The batched dream (`wmcourse.worldmodels.dream.BatchedDream`) steps **all**
# population × rollouts dreams as one tensor: one LSTM step for all of them, one mixture sample, one
# controller product (`torch.baddbmm` over the population). Here is a short run, small enough for a laptop.

# %%
M = shipped.load_shipped_mdnrnn()
starts = worldmodels.agent.start_latents(shipped.load_shipped_heldout_encoded())
settings = worldmodels.evolve.EvolveConfig(population=8 if FAST else 16, rollouts=2 if FAST else 4,
                               generations=3 if FAST else 8, seed=SEED)
max_steps = 100 if FAST else 300
start = time.perf_counter()
world, c_config = worldmodels.dream.controller_dream(M, starts, tau=1.0, max_steps=max_steps, seed=settings.seed)
demo = worldmodels.evolve.evolve_in_dream(world, c_config, settings)
seconds = time.perf_counter() - start
steps = settings.population * settings.rollouts * max_steps * settings.generations
print(f"{settings.generations} generations of {settings.population} candidates x {settings.rollouts} dreams x "
      f"{max_steps} steps: at most {steps:,} dream steps in {seconds:.1f} s ({steps / seconds:,.0f} steps/s)")
lesson.evolution_curve(demo.history, f"a short evolution in the dream ({max_steps}-step dreams)")
plt.show()

# %% [markdown]
# ### The shipped controller's evolution
#
# The controller the course ships was evolved the same way at the paper's population size, 64 candidates each
# scored by 16 rollouts, for **27 generations**, and the rollouts were **dreams** of the shipped M, not real
# games. The paper's CarRacing controller was evolved in the real environment for **1,800 generations** (its
# appendix: 900.46 over 1,024 rollouts); notebook 00 measured what that many real steps would cost here.
#
# <details><summary>How this was measured</summary>
#
# `bash scripts/evolve_carracing_controller.sh` (seed 0): CMA-ES with population 64, each candidate the mean
# return of 16 dreams of 1,000 steps at τ = 1.0, started from real first frames, initial step size
# $\sigma_0 = 0.1$ (the authors' code's), 27 generations. The dream's reward and end come from M's reward and
# done heads (notebook 02). The command and its measured figures are recorded in `data/manifest.json`; the
# course's CarRacing results are in the [results appendix](../docs/results.md), section "CarRacing".
#
# Time: this search is at most $27 \times 64 \times 16 \times 1{,}000 \approx 2.8 \times 10^7$ dream steps,
# about 5.5 minutes at the batched dream rate measured on a 2-core CPU (84,149 steps/s,
# [performance](../docs/performance.md)). The `RETRAIN` flag runs the whole CarRacing controller pipeline,
# which then also scores controllers in the real game and runs the iterative training of notebook 06; that
# whole pipeline was not timed (the measured times of its longest parts are in the same page, "What
# retraining costs").
# </details>

# %%
params, shipped_config, details = shipped.load_shipped_controller()
print(f"{shipped_config.n_params} parameters; evolved at tau = {details['tau']}")
lesson.evolution_curve(details["history"], "the shipped controller: its score in the dream, per generation")
plt.show()

# %% [markdown]
# The population's dream score rises over the generations, and the best candidate of the last generation
# scores far above its mean. But notice what this curve is: the score **in the dream**. Whether the same
# controller can drive the real car is a different question, and notebook 06 measures it.
#
# <details><summary><b>Question:</b> the population mean rises for many generations. Name two reasons the
# dream score could rise without the real driving getting better. (click)</summary>
#
# (1) M's reward head may pay for things that earn nothing in reality (a state M wrongly thinks is on new
# track); CMA-ES finds whatever M pays for. (2) The controller may steer the dream into states M never saw
# in its training data, where its predictions are arbitrary and can be kind. Both are "exploiting the
# model", the paper's "cheating" in VizDoom. Notebook 06 measures how much of the dream score survives.
# </details>

# %% [markdown]
# ## Open questions
# Two experiments to run yourself: change one setting, re-run the cell, and look.
#
# **What happens if CMA-ES starts with a tiny or a huge step?** In the first cell of section 1, change
# `sigma0=0.4` in `evolve.trace_cma(...)` to `sigma0=0.02`, then to `sigma0=3.0`, and re-run it. Look at the
# first generations' ellipses and at the best value it prints after 80 generations.
#
# <details><summary>Hint</summary>
#
# A fixed step size could not recover from a bad choice (your race in section 2). CMA-ES adapts σ: does it
# grow a step that was too small, and shrink one that was too large, quickly enough to reach $(1, 1)$? How
# many generations does each start waste?
# </details>
#
# **What happens if the dream is tamer?** In the first cell of section 4, change `tau=1.0` in
# `dream.controller_dream(...)` to `tau=0.1` and re-run it (seconds to a minute). Compare the evolution curve
# with the one at τ = 1.0.
#
# <details><summary>Hint</summary>
#
# Notebook 03 showed that at τ = 0.1 the dream barely moves. Does the population's dream score rise higher,
# or faster, in a world that never surprises it? A few generations of a small population are one draw: change
# `seed=SEED` in `evolve.EvolveConfig(...)` too before you believe a difference. And remember what the curve
# measures: a dream score. Notebook 05 measures what a tame dream's controller does in the real game.
# </details>

# %% [markdown]
# ## Self-check
# - [ ] I can say why the controller is evolved rather than trained by backpropagation through the dream.
# - [ ] I can describe one CMA-ES generation: sample from $N(m, \sigma^2 C)$, score, update $m$, $C$, $\sigma$.
# - [ ] I wrote a simple ES and saw why a fixed step size loses to an adaptive one.
# - [ ] I know why CMA-ES is fine at 867 parameters and hopeless at millions.
# - [ ] I know the score on the evolution curve is a dream score, not a real one.

# %% [markdown]
# ## Formulas used
# | what | formula |
# |---|---|
# | controller | paper's text $a_t = W [z_t, h_t] + b$; appendix and course: bounded by tanh; $W \in \mathbb{R}^{3 \times 288}$, 867 parameters |
# | CMA-ES sample | $x_i = m + \sigma \, y_i$, $y_i \sim N(0, C)$, $i = 1..\lambda$ ($\lambda = 64$) |
# | mean update | $m \leftarrow \sum_{i=1}^{\mu} w_i \, x_{i:\lambda}$ (the $\mu$ best, weighted) |
# | simple ES | $x_i = m + \sigma \epsilon_i$, $m \leftarrow \frac{1}{k} \sum_{\text{elite}} x_i$ ($\sigma$ fixed) |
# | fitness | $F(x) = \frac{1}{16} \sum_{j=1}^{16} R_j(x)$, the mean return of 16 dreams |
# | Rosenbrock | $f(x, y) = (1 - x)^2 + 100 (y - x^2)^2$, minimum $(1, 1)$ |
#
# **What to remember:** CMA-ES needs only a score, not a gradient; it adapts the mean, shape and size of its
# search cloud; it suits C's few hundred numbers and would not scale to millions; and a rising dream score says
# nothing yet about the real game.
#
# **Next:** notebook 05 evolves a controller entirely inside M's dream of the paper's own game, VizDoom Take Cover,
# and plays it in the real game: where training in the dream works, and why the temperature decides it.
