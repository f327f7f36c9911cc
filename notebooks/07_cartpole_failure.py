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
# # 07 · The CartPole failure case: reproduced, explained, fixed
#
# A World Model trained on data from a random policy can look excellent in its own dream and fail in
# reality. The paper saw the risk itself: it proposes an iterative loop (collect data with the current
# controller, retrain M, retrain C) for environments where random data does not show enough of the world.
# CartPole-v1 is such an environment. Here we build the paper's kind of agent for it with the course's own
# code, measure the failure, explain it with four measurements you can check, and fix it on most seeds.
#
# In this notebook you will
# 1. meet a World Model for a world of four numbers (V is only a normaliser; M and C are the paper's);
# 2. measure the failure: a controller evolved in the dream of a model trained on random-policy data,
#    scored in the dream and over 100 real episodes;
# 3. see why: what random data covers, how prediction errors compound, how weak the "done" signal is,
#    and how sensitive CartPole is near its failure boundary;
# 4. read the measured table of fixes (the paper's own iterative loop, a learned done head, a wilder dream),
#    each with the real environment steps it used, next to DQN on the same budget of 50,000 real steps.
#
# New terms ([coverage](../docs/glossary.md#coverage), [done head](../docs/glossary.md#done-head-reward-head),
# [DQN](../docs/glossary.md#dqn)) are in the [glossary](../docs/glossary.md).
#
# Run the cells top to bottom (well under a minute on a laptop CPU: everything heavy is loaded from `data/`).

# %% [markdown]
# ## The one-minute explanation
#
# 1. We let a beginner push the cart at random for a while and record what happens. Random pushes drop the
#    pole within about 20 steps, so the recording only ever shows the first moments of an episode.
# 2. M learns the physics from that recording, and the controller practises inside M's dream until it keeps
#    the pole up there for all 500 steps.
# 3. But a good controller soon takes the cart where the recording never went (further along the track, a
#    slow drift, a pole leaning the same way for a long time). There M is guessing, its small errors pile up
#    step after step, and it has no idea where the episode really ends. The dream says "perfect"; reality
#    says "off the track long before the end".
# 4. The fix starts with the paper's own loop: go back to the real world with the new controller, record
#    where it actually goes, retrain M, retrain the controller, and repeat. Measured over seeds, it holds on
#    most of them only once the dream is long enough to tell a good controller from a lucky one (section 4).

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from wmcourse import artefacts, cartpole, cartpole_plots, checkers, checkpoint, dream, evaluate, plots, probes
from wmcourse import cartpole_experiment as experiment
from wmcourse.runtime import fast_mode

FAST = fast_mode()  # True under `make test`: fewer episodes and a tinier live run, same code
SEED = 0
RETRAIN = False  # True: rerun the whole experiment from scratch (about 15 minutes on one CPU core) instead of loading data/
torch.manual_seed(SEED)
torch.set_num_threads(1)
if RETRAIN:
    artefacts.run_command(experiment.COMMAND)
results = experiment.load_cartpole_results()
rows = {row["name"]: row for row in results["rows"]}
print("fast mode" if FAST else "full mode", "| artefacts from", artefacts.data_dir())
print("made by:", results["command"])

# %% [markdown]
# ## An analogy: a map drawn on short walks
#
# You want to plan a long hike, but all you have is a map you drew on short walks around your house. Near
# the door it is accurate. Beyond the garden it is blank paper, and blank paper has no cliffs on it. A route
# planned on that map can look perfect and still walk you off a cliff, because the map never saw that part
# of the world, not because it drew it wrongly. No amount of redrawing the garden fixes that. The fix is to
# walk the planned route, draw what you actually see there, and plan again.
#
# Random-policy data is the map of the garden. The controller's route is the hike.

# %% [markdown]
# ## 1. A World Model of four numbers
# CartPole-v1 observes $s = (x, \dot x, \theta, \dot\theta)$: the cart's position and velocity, the pole's
# angle and angular velocity. An episode **ends** when $|x| > 2.4$ or $|\theta| > 12°$ and is **cut** at
# 500 steps; every step alive pays 1, so the score is the number of steps the pole stayed up (at most 500).
#
# - **V** has nothing to compress: $z_t = (s_t - \text{mean}) / \text{std}$, a normaliser fitted to the data.
# - **M** is the paper's MDN-RNN (`wmcourse.mdnrnn`), small: $h_{t+1} = \text{LSTM}([z_t, \text{onehot}(a_t)], h_t)$,
#   5 Gaussians per state dimension for $z_{t+1}$, and (optionally) a done head
#   $P(\text{done}_t) = \sigma(w \cdot h_{t+1} + b)$ trained with done steps weighted ×10, as for the paper's Doom.
# - **C** is the paper's linear controller on $[z_t, h_t]$; one output, whose sign picks the push:
#   $a_t = [\,w \cdot [z_t, h_t] + b > 0\,]$.
#
# Without a done head, the dream ends when the task's own rule holds for M's *predicted* state.
# A dream starts from the first real state of a recorded episode and pays 1 a step, like the game.

# %%
failure_m, failure_c, failure_features, random_data = experiment.load_shipped("failure")
c_config = cartpole.ControllerSettings(features=failure_features).controller_config(failure_m.config.hidden)
print(f"M: LSTM {failure_m.config.hidden}, {failure_m.config.K} Gaussians per dimension, "
      f"{checkpoint.count_parameters(failure_m.m):,} parameters; done head: {failure_m.m.done_head is not None}")
print(f"C reads {failure_features!r} ({c_config.input_size} numbers): {c_config.n_params} parameters")
print("V's normaliser: mean", failure_m.mean.numpy().round(3), "std", failure_m.std.numpy().round(3))
print(f"M's data: {len(random_data)} random-policy episodes, {random_data.num_steps:,} real steps")

# %% [markdown]
# ## 2. The failure, measured
# The shipped "failure" agent follows the paper's recipe: random-policy data, M trained on it, C evolved with
# CMA-ES **inside M's dream only**. Score it where it was trained and where it matters:

# %%
n_dreams, n_real = (20, 10) if FAST else (100, 100)
failure_dream, _ = cartpole.controller_dream(failure_m, random_data.first_states,
                                            cartpole.ControllerSettings(features=failure_features), seed=SEED)
dream_returns = dream.controller_returns(failure_dream, failure_c, c_config, n_dreams)
failure_policy = cartpole.WorldModelPolicy(failure_m, failure_c, failure_features)
real = evaluate.evaluate(cartpole.ENV_ID, failure_policy, n_real, seed=100_000, num_envs=10, progress=False)
random_policy = evaluate.evaluate(cartpole.ENV_ID, None, n_real, seed=100_000, num_envs=10, progress=False)
print(f"in the dream:   {dream_returns.mean():6.1f} ± {dream_returns.std():.1f} over {n_dreams} dreams")
print(f"in reality:     {real}")
print(f"random policy:  {random_policy}")
failure_runs = cartpole.collect_episodes(failure_policy, 3000, seed=SEED + 1)
print("how its real episodes end:", cartpole.end_causes(failure_runs))

plots.dream_real_histogram(dream_returns, real.returns, "the failure agent (random data, learned done head): "
                           "dream vs reality")
plt.show()

# %% [markdown]
# The dream is sure this controller is nearly perfect; reality disagrees by a wide margin: a large gap
# between the score in the dream and the real score. Every row of the measured table (section 4) shows its
# dream score next to its real score.
#
# <details><summary><b>Question:</b> C was trained only in the dream, with no bug in the code. Why can its dream
# score be so high? (click)</summary>
#
# CMA-ES maximises the dream score, whatever makes it high. If M is wrong somewhere in a way that helps,
# for instance it lets the pole recover from angles it cannot recover from, or it never ends the episode in
# a region it has never seen end, the search finds and uses that. The dream score measures how well C
# exploits M, not how well C balances a pole. Only a real score tells you the latter.
# </details>

# %% [markdown]
# Watch one of those real episodes next to a dream of the same controller from the same real start
# (`wmcourse.animate`; the picture turns red when that world's episode has ended):

# %%
from wmcourse import animate, drive, widgets

real_states = cartpole.play_real(failure_m, failure_c, failure_features, seed=100_000)
dream_states, _ = cartpole.play_dream(failure_m, failure_c, real_states[0], failure_features, seed=SEED,
                                      max_steps=150 if FAST else 300)
print(f"reality: {len(real_states) - 1} steps; the dream: {len(dream_states) - 1} steps "
      f"(cut at {150 if FAST else 300})")
animate.cartpole_animation(real_states, dream_states, every=3, steps=150 if FAST else 300)

# %% [markdown]
# ### Push the pole yourself, in the dream and in reality at once
#
# Both worlds start from the same real state and get the same push each step: the left arrow (or button)
# pushes the cart left, the right arrow right. Reality is on the left, M's dream on the right; each turns red
# when its episode ends: reality by the task's rule, the dream when M's done head says so. Reality's physics keeps
# running after its end, so you can see the pole fall while the dream carries on. **C drives** lets the
# controller push (it acts on the dream, where it was trained); the **tau** slider dreams your pushes again at
# another temperature. How far past reality's end can you keep the dream going?

# %%
widgets.DriveWidget(drive.CartPoleDriver(failure_m, random_data.first_states[:32], failure_c, failure_features,
                                         seed=SEED), scale=2, interval_ms=120)

# %% [markdown]
# ## 3. Why it fails: four measurements
# ### 3a. What random data covers, and what it does not
# Plot every state M was trained on next to the states the controller visits in reality, and (for later)
# the data of the fixed agent, which the iterative loop collected:

# %%
fixed_m, fixed_c, fixed_features, iterative_data = experiment.load_shipped("fixed")
cartpole_plots.coverage_plot({"random-policy data (M's training set)": random_data.states,
                              "the failure controller, in reality": failure_runs.states,
                              "iterative-loop data (the fix)": iterative_data.states})
plt.show()
print(f"share of the controller's real states in cells that M's data visited (>= 3 times): "
      f"{cartpole.coverage(random_data.states, failure_runs.states):.0%} with random data, "
      f"{cartpole.coverage(iterative_data.states, failure_runs.states):.0%} with the iterative data")
print("how the random-policy episodes ended:", cartpole.end_causes(random_data))
print("how the iterative-loop episodes ended:", cartpole.end_causes(iterative_data))
print("longest random episode:", random_data.lengths.max(), "steps; the task asks for 500")

# %% [markdown]
# Random pushes make short episodes that almost all end the same way: the pole falls within a few dozen
# steps while the cart is still near the middle. So random data shows M the first moments of an episode,
# in a small region, and (look at the counts above) almost never a cart leaving the track. A controller that
# balances for a while takes the cart into states M never saw; there M extrapolates.
#
# <details><summary><b>Question:</b> would ten times more random data fix this? (click)</summary>
#
# Not much: more random data draws the same garden more carefully. It adds samples where M already has
# many and almost none where the controller goes. The table below has a row that spends the whole 50,000-step
# budget on random data: compare it with the iterative loop at the same budget.
# </details>

# %% [markdown]
# ### 3b. Errors compound over the horizon
# Take one real episode of the failure controller. Give M only its first state and the real sequence of
# actions, and let it dream the rest (each predicted state is fed back in). Where do dream and reality part?

# %%
states, actions, _ = failure_runs.episode(int(np.argmax(failure_runs.lengths[:-10])))
dreamed = cartpole.dream_along(failure_m, states, actions, samples=8, seed=SEED)
parting = cartpole.parting_step(states, dreamed, failure_m)
cartpole_plots.trajectory_plot(states, dreamed, parting, title="the failure M: same actions, reality vs dream")
plt.show()
print(f"episode of {len(actions)} real steps; dream and reality part (by half a std in some dimension) at step {parting}")

# %% [markdown]
# Each step M makes a small error; the next prediction starts from the wrong state and adds its own. On a
# balancing task the errors do not stay small: an upright pole is unstable, so a small error in the angle
# grows by itself. The same measurement over every start step of the episode, as squared error by steps ahead
# (`probes.horizon_errors`, as in notebook 02; here the "latent" is the normalised state), for the failure M
# and for the fixed one, each next to two guesses that know no physics at all:

# %%
onehot = torch.nn.functional.one_hot(torch.as_tensor(actions), 2).float()
horizon = min(30, len(actions) - 1)
errors = {name: probes.horizon_errors(model.m, model.encode(states), onehot, horizon, mode="likeliest")
          for name, model in (("M trained on random data", failure_m), ("M after the iterative loop", fixed_m))}
plots.horizon_errors_side_by_side(errors)
plt.show()

# %% [markdown]
# ### 3c. The done signal is missing or weak
# The dream must know when the episode ends, or a controller that would fall in reality survives in the
# dream. Two ways to get it, both measured in the table: a **learned done head**, or **the task's rule
# applied to M's predicted state**. The rule is exact, but it judges M's guess of the state, so it is only
# as right as 3b allows. The head learns from the endings in the data, and random data has almost only one
# kind of ending (the pole falling near the middle of the track): it never saw what the cart leaving the
# track looks like. The signal is also *rare*: one done among about twenty steps of random data, one among
# hundreds once the controller is good (this is why M's done steps weigh ×10, and why `cartpole.pieces`
# makes sure every episode's final step is in a training window). Here is one real episode that ended with
# the cart leaving, read by each done head:

# %%
example, left_track = cartpole.ending_example(iterative_data)
s_ep, a_ep, d_ep = iterative_data.episode(example)
heads = {name: cartpole.done_along(model, s_ep, a_ep) for name, model in
         (("done head, random data", failure_m), ("done head, iterative data", fixed_m)) if model.m.done_head is not None}
cartpole_plots.done_along_plot(s_ep, heads, bool(d_ep[-1]), title=f"iterative-data episode {example}: "
                               f"{'the cart left the track' if left_track else 'an ending'} at step {len(a_ep)}")
plt.show()
held_out = cartpole.collect_episodes(fixed_policy := cartpole.WorldModelPolicy(fixed_m, fixed_c, fixed_features),
                            2000 if FAST else 6000, seed=SEED + 2, epsilon=0.3)
fresh = cartpole.Episodes.join([failure_runs, held_out])  # real episodes neither M trained on
print("fresh episodes end:", cartpole.end_causes(fresh))
for name, model in (("random data", failure_m), ("iterative data", fixed_m)):
    if model.m.done_head is not None:
        found = cartpole.done_detection(model, fresh)
        print(f"done head trained on {name:15s}: catches {found['endings_caught']:.0%} of {found['endings']} real endings "
              f"(new episodes), false alarms on {found['false_alarms']:.2%} of the other steps")

# %% [markdown]
# ### 3d. Sensitivity near the failure boundary
# Whether the pole can still be saved depends sharply on the state near the edge: at the same angle, a
# little more angular velocity towards the edge and it is lost. Start the failure agent from a grid of
# angles and angular velocities (cart at rest in the middle) and count the steps it survives, in reality
# and in its dream:

# %%
n = 13 if FAST else 25
thetas, theta_dots, grid = cartpole.survival_grid(n)
real_steps, dream_steps = cartpole.survival(failure_m, failure_c, failure_features, grid, horizon=100, seed=SEED)
cartpole_plots.survival_maps(thetas, theta_dots, real_steps, dream_steps, horizon=100)
plt.show()

# %% [markdown]
# The dream's half of that map depends on two knobs reality does not have: the temperature of M's sampling
# and the threshold at which M's done head ends a dream. Move them. Which one makes the dream agree with
# reality more often, and which one only moves the disagreement elsewhere?

# %%
widgets.SurvivalExplorer(failure_m, failure_c, failure_features, thetas, theta_dots, real_steps, horizon=100,
                         seed=SEED)

# %% [markdown]
# In reality the recoverable starts form a band: lean one way and move back fast enough, and the pole can be
# saved; otherwise not. The band's edges are sharp, so a small error in M near them flips "saved" into
# "lost" or back. Where the dream's map and reality's disagree, the dream is teaching C the wrong lesson.
#
# <details><summary><b>Question:</b> why is a low-dimensional task like CartPole harder for this recipe than
# it looks, compared with CarRacing? (click)</summary>
#
# In CarRacing a small error in M is a slightly wrong picture of the road, and the car keeps going. In
# CartPole the state *is* the task: the pole is unstable, so a small error in the angle grows by itself,
# and the boundary between "saved" and "lost" is sharp. The paper's design (a VAE to compress pixels, a
# stochastic M to capture what cannot be predicted) helps with big, noisy observations; CartPole's four
# numbers are exact and deterministic, so what matters is covering the states the controller will reach.
# </details>

# %% [markdown]
# ## Exercise: the end rule
# The dream without a done head applies the task's own rule to M's predicted state. Write that rule: given
# states of shape (N, 4), return one True/False per row, True where the episode has ended.

# %%
def episode_end(states):
    ...  # your code: |x| > 2.4 or |theta| > 12 degrees (in radians!)


checkers.episode_end.check(episode_end)

# %%
# Stuck? Uncomment one of these:
# checkers.episode_end.hint()
# checkers.episode_end.solution()

# %% [markdown]
# ## 4. The fixes, measured
# Every row is one run from nothing with the same settings (M: LSTM 64, 5 Gaussians; C evolved with CMA-ES,
# population 32, 8 dreams each, 30 generations, only in the dream), scored in its dream and over 100 real
# episodes, and each row is run **once per random seed, with 5 seeds**: one run of a reinforcement
# learner is one draw, and another seed can overturn it. A seed's score is the mean over its 100 real
# episodes; the table gives the mean ± std **across the seeds**, the lowest and highest seed, and every
# seed's own score. Rows not run over seeds yet are shown apart, from one earlier run, and say so. "Real
# steps used" counts every real step that went into M's data; the scoring episodes are a measurement, not
# training. The budget is 50,000 real steps for every learner.
#
# - **Learned done head** vs **the rule on M's state**: how the dream knows the episode ended.
# - **Iterative collection** (the paper's proposal): 10,000 random steps, then 4 rounds of *collect 10,000
#   steps with the current C (10% random actions) → retrain M on all the data → re-evolve C in the dream*.
# - **τ = 1.3**: dream at a higher temperature (mixture weights flattened, noise × $\sqrt{1.3}$), what helped
#   the paper's VizDoom controllers stop exploiting M.
# - **C searched in 2,000-step dreams**: the same loop, but while CMA-ES searches, a dream runs up to 2,000
#   steps instead of the task's 500 (C is still scored over 500, in the dream and in reality). At the cap
#   every decent controller scores the same 500; a longer dream keeps ranking them by how long they stay up.
# - **DQN**: model-free, learning only from real steps, with rl-baselines3-zoo's tuned CartPole settings.

# %%
over_seeds = experiment.load_over_seeds()
print("made by:", over_seeds["command"])
display(Markdown(experiment.format_seeds_table(over_seeds)))
one_seed = [row for row in results["rows"] if row["name"] not in {r["name"] for r in over_seeds["rows"]}]
if one_seed:  # rows not run over seeds yet: shown from the earlier single run, and labelled so
    display(Markdown(f"**Not run over seeds yet**: these rows come from one earlier run (seed {results['seed']}, "
                     f"`{results['command']}`); mean ± std over its 100 real episodes, **one seed**.\n\n"
                     + experiment.format_table({"rows": one_seed})))
fig, axes = plt.subplots(1, 2, figsize=(15, 0.5 * len(over_seeds["rows"]) + 2.5), gridspec_kw={"width_ratios": [1.3, 1]})
cartpole_plots.results_over_seeds_plot(over_seeds["rows"], ax=axes[0])
cartpole_plots.curves_over_seeds_plot(experiment.learning_curves(over_seeds, results), budget=over_seeds["budget"],
                                      ax=axes[1])
axes[1].set_title(f"real score (each seed: mean of {over_seeds['config']['eval_episodes']} episodes) vs real steps")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the table row by row, then look one level deeper: every round of every loop, scored in its dream and in
# reality. A round is one M and one C; the last round of each loop is the row above.

# %%
loops = [row for row in over_seeds["rows"] if len(row.get("rounds", ())) > 1]
for row in loops:
    print(f"{row['label']}: real score of each round, one line per seed (dream score in brackets)")
    for seed in row["seeds"]:
        print(f"  seed {seed}:", "  ".join(f"{r['steps'] // 1000:>2}k {r['real']['per_seed'][str(seed)]:5.1f} "
                                          f"({r['dream']['per_seed'][str(seed)]:3.0f})" for r in row["rounds"]))
if not loops:  # the loops have not been run over seeds yet: the earlier single run's rounds
    print(f"one earlier run (seed {results['seed']}); real score of each round (dream score in brackets):")
    for row in results["rows"]:
        if len(row.get("rounds", ())) > 1:
            print(f"  {row['name']:15s}", "  ".join(f"{r['steps'] // 1000:>2}k {r['real_mean']:5.1f} ({r['dream_mean']:3.0f})"
                                                for r in row["rounds"]))
every_row = [(row["dream"]["per_seed"][str(s)], row["real"]["per_seed"][str(s)])
             for row in over_seeds["rows"] if row["dream"] is not None for s in row["seeds"]]
sure = [real for dream, real in every_row if dream >= 490]
print(f"\nover seeds: {len(sure)} of {len(every_row)} (row, seed) pairs score 490 or more in their dream; "
      f"of those, {sum(real >= 490 for real in sure)} do so in reality")
seed_rows = {row["name"]: row for row in over_seeds["rows"]}
for row in over_seeds["rows"]:
    at_cap = sum(v >= 490 for v in row["real"]["per_seed"].values())
    print(f"{row['label']}: real {row['real']['mean']:.1f} ± {row['real']['std']:.1f} across {row['real']['n']} seeds, "
          f"{at_cap} of them at 490 or more, {row['steps']:,} real steps")
search = experiment.load_search_spread()  # the failure row again, M and its data kept, only the search redone
for seed, reruns in search["runs"].items():
    own = seed_rows[search["variant"]]["real"]["per_seed"][seed]
    print(f"seed {seed}, the same M: the table's C scores {own:.1f} in reality; C evolved again with CMA-ES seed "
          + ", ".join(f"{r['search_seed']}: dream {r['dream_mean']:.0f}, real {r['real_mean']:.1f}" for r in reruns))
print(f"one seed's rows took {min(over_seeds['seconds'].values()) / 60:.0f} to "
      f"{max(over_seeds['seconds'].values()) / 60:.0f} minutes of wall time (one CPU core, shared with other jobs)")

# %% [markdown]
# What the measurements say, and what they do not:
#
# - **The dream promises the cap on every seed; reality rarely keeps the promise.** On random data every
#   controller, on every seed, dreams 497 to 500; in reality only 2 of those 15 reach 490. With the learned
#   done head the real score runs from 126 to 500 across the 5 seeds (263 ± 138): the gap of section 2
#   shows on 4 seeds of 5, and on one seed the controller trained in the dream happened to balance in
#   reality too. The failure is the usual outcome, not a certainty.
# - **More random data does not close the gap.** Five times as much (all 50,000 steps): 256 ± 120 across
#   seeds, no seed at the cap. Random data keeps drawing the garden (section 3a).
# - **Done head or rule: no difference survives the seeds.** 263 ± 138 against 297 ± 157, and the seeds
#   span nearly the same range (126 to 500, and 129 to 500). A single run can make either look better.
# - **Why the spread across seeds is so large: the dream cannot rank controllers at the cap.** Every
#   controller dreams about 500, good and bad alike, so which one CMA-ES ends with is close to luck. The
#   printout above measures it: with M and its data kept, only the search redone with another CMA-ES seed,
#   seed 0's real score moves from 200.5 to 103.9 or 256.2, while the dream says 487 to 500 each time (the
#   controller that dreamed lowest did best in reality). Scoring the candidates again in more dreams would
#   not help: they all reach the cap there too.
# - **DQN reaches the cap on 4 seeds of 5** with the same 50,000 real steps (436 ± 127 across seeds; the
#   fifth seed ends at 181.5), and on the way every seed's curve falls back at least once (at 20,000 steps
#   the seeds score 14 to 148). Unstable, but as reliable as the best World Model row below.
# - **The paper's loop alone is not a reliable fix here.** With the learned done head it ends at 232 ± 136
#   across seeds, the cap on 1 seed of 5, no better than random data. The loop does what it should to the
#   data (section 3a: the iterative data covers the states the controller visits), but look at its rounds
#   printed above: on every seed the real score reaches 500 in some round and falls far below it in another
#   (each seed's lowest round: 107 to 167), while the dream says 500 every time. The last round's controller is a draw from that lottery.
# - **The other loops do better, without a clear winner.** The rule instead of the done head: 440 ± 115, the
#   cap on 3 seeds and 489 on a fourth; τ = 1.3: 351 ± 183, the cap on 3 seeds.
# - **What made the loop hold on most seeds: a dream long enough to rank controllers.** Searching in
#   2,000-step dreams, the loop ends at the cap on 4 seeds of 5 (419 ± 162; the fifth seed ends at 95). It is
#   a partial fix, and the printout says why: the rounds before the last still swing (seed 4 dropped from
#   500 to 95 in its last round), because even 2,000 steps of a dream can be passed by a controller that
#   exploits M. A penalty where an ensemble of Ms disagrees is the next fix worth measuring.
# - **The shipped agent of this notebook's sections 2 and 3** is one earlier run of the loop with a done head
#   (seed 0) that happened to end at the cap; over seeds that row is the lottery described above.

# %% [markdown]
# Check the shipped fixed agent yourself, in reality:

# %%
check = evaluate.evaluate(cartpole.ENV_ID, fixed_policy, 5 if FAST else 20, seed=SEED + 7, num_envs=10, progress=False)
print("the fixed agent (trained only in its dream), in reality:", check)

# %% [markdown]
# ### The loop, live and tiny
# The same code that made the table, at a size that runs here in seconds (its numbers mean little: a few
# thousand real steps and a few dozen optimizer steps). `RETRAIN = True` in the first cell runs the full size.

# %%
tiny_settings = cartpole.ControllerSettings(population=16, rollouts=4, generations=2 if FAST else 6, max_steps=200)
tiny = experiment.ExperimentConfig(controller=tiny_settings, budget=4000, eval_episodes=10, dream_episodes=20,
                                   seed=SEED)
variant = experiment.Variant("tiny_loop", "tiny iterative loop", first_steps=2000, rounds=2, round_steps=2000,
                             train_steps=20 if FAST else 80)
for r in experiment.run_variant(variant, tiny, progress=False):
    print(f"round {r.round}: {r.steps:,} real steps, dream {r.dream_mean:.0f}, real {r.real_mean:.0f}; its data covers "
          f"{cartpole.coverage(r.data.states, held_out.states):.0%} of the states the fixed agent visits")

# %% [markdown]
# <details><summary><b>Question:</b> the iterative loop spends real steps on a controller that is still bad.
# Why is that money well spent, when the same steps of random data helped far less? (click)</summary>
#
# Because the bad controller fails *in the states a better controller will pass through*. Its data shows M
# exactly the places where the dream was wrong (the drift, the long lean, the track's end), and the endings
# that happen there. Random data keeps drawing the garden; the controller's data draws the route.
# </details>
#
# <details><summary><b>Question:</b> DQN learns from the same real steps with no model at all. What does the
# World Model buy, then? (click)</summary>
#
# Look at where the time goes: C never needs a real step to improve; it needs dream steps, which are cheap
# and batched (a whole CMA-ES population at once). With a slow or costly real world (a robot, CarRacing at
# about 100 steps/s) dream steps are the cheap resource and real steps the expensive one. On CartPole
# both are cheap, so the comparison is about real steps, as in the table. Notebook 08 compares against a
# Dreamer agent, which learns its policy in imagination *and* keeps its model up to date on the way.
# </details>

# %% [markdown]
# ## Self-check
# - [ ] I can say why a controller's dream score can be far above its real score, with no bug anywhere.
# - [ ] I can show, with a plot, what random-policy data covers in CartPole and what it misses.
# - [ ] I can explain how one-step errors compound when a model's predictions are fed back in.
# - [ ] I know two ways a dream decides that an episode ended, and what each one needs from the data.
# - [ ] I can describe the paper's iterative loop and why it fixes what more random data does not.
# - [ ] I compared the World Model with DQN at the same number of real steps, and know what each one spends.
#
# ## Formulas used
# | what | formula |
# |---|---|
# | V (a normaliser) | $z_t = (s_t - \text{mean}) / \text{std}$ |
# | M | $h_{t+1} = \text{LSTM}([z_t, \text{onehot}(a_t)], h_t)$, $p(z_{t+1} \mid z_t, a_t, h_t) = \prod_d \sum_k \pi_{dk} \mathcal N(\mu_{dk}, \sigma_{dk}^2)$ from $h_{t+1}$ |
# | done head | $P(\text{done}_t) = \sigma(w \cdot h_{t+1} + b)$, loss $-[10\, d_t \log p_t + (1 - d_t) \log(1 - p_t)]$ |
# | end rule | done when $\lvert x \rvert > 2.4$ or $\lvert \theta \rvert > 12° = 0.2094$ rad |
# | C | $a_t = [\,w \cdot [z_t, h_t] + b > 0\,]$ |
# | temperature | $\pi_k(\tau) \propto \pi_k^{1/\tau}$, $\sigma_k(\tau) = \sigma_k \sqrt{\tau}$ |
# | iterative loop | collect with C → train M on all data → evolve C in M's dream → repeat |
# | DQN target | $y = r + \gamma (1 - d) \max_{a'} Q_{\text{target}}(s', a')$, loss Huber$(Q(s, a) - y)$ |
#
# **Next:** notebook 08 builds a Dreamer-style agent and runs it on the same task and budget.
