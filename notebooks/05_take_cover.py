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
# # 05 · The paper's own dream: VizDoom Take Cover
#
# The train-in-the-dream experiment of "World Models" (Ha & Schmidhuber, 2018), its section "Learning Inside of
# a Dream", was not CarRacing. It was VizDoom **Take Cover**: monsters at the far wall throw fireballs, the agent can only step left or right,
# and it scores one point for every step it stays alive (at most 2,100; above 750 on average counts as
# solved). The paper trained the controller **only inside M's dream** and then let it play the real game.
#
# **The goal of this notebook:** see a controller that learned only in M's dream play the real game, and see
# when the dream can be cheated instead. It uses the package code of notebooks 01 to 04: the same VAE (now
# z = 64), the same MDN-RNN (now 512 units, predicting the next code and whether the agent dies, with no
# reward head, as the paper's Take Cover M), the same kind of controller and the same CMA-ES.
#
# In this notebook you will
# 1. see the real game and the score of a random policy;
# 2. count V, M and C for Take Cover, and write C's action rule yourself;
# 3. read the **measured** temperature table next to the paper's, see how much of it is luck, and meet the
#    paper's remedy when a dream is not honest enough: iterative training;
# 4. watch one controller in its dream and in reality, animated;
# 5. see the "cheating" a low temperature allows: a dream where the fireballs never come; then pick the
#    temperature yourself, and play M's dream with the arrow keys.

# %%
# The course's package, wmcourse. Missing here? Run `%pip install wmcourse-0.1.0-py3-none-any.whl` (see docs/install.md), then restart the kernel.
RETRAIN = False  # True: rerun the whole pipeline (about an hour and a half on 2 CPU cores; resumable)


import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

from wmcourse.lessons import n05_take_cover as lesson
from wmcourse import worldmodels
from wmcourse.experiments import takecover

FAST = lesson.fast_mode()  # True under `make test`: shorter episodes, fewer dreams, same code
SEED = 0
torch.manual_seed(SEED)
if RETRAIN:
    lesson.run_command(takecover.SHIP_COMMAND)
V, M, starts = takecover.load_shipped_models()
results = takecover.load_shipped_results()
settings = results["config"]
print("fast mode" if FAST else "full mode")

# %% [markdown]
# ## The one-minute explanation
#
# 1. **V** squeezes each 64x64 frame into 64 numbers z. **M** learns from random play (a random action held
#    for 1 to 10 steps) how z moves: where the fireballs go, and when the game ends (its done head). It is
#    never told any reward.
# 2. **The dream** is M alone. Its "reward" is simply one point per step until M says the game is over, so
#    a dream's return is how long the agent survived in M's imagination.
# 3. **C** reads z and M's memory (h and the LSTM cell c), and one number decides: left, stay or right.
#    CMA-ES evolves C's numbers inside the dream.
# 4. **Reality** is the test: the same C, with V and M as its eyes and memory, plays the real game.
# 5. **Temperature** τ sets how wild the dream is. Too tame (τ = 0.1), and the dream stops throwing
#    fireballs: C learns to survive a game that does not exist.
#
# ## An analogy: fire drills
# A fire drill where the alarm never rings teaches nothing; one where the drill officer sets off a few
# more alarms than a real building ever would teaches people to react. A dream slightly harder than reality
# (τ a little above 1) is the second kind of drill.

# %% [markdown]
# ## 1. The real game, and what a random policy scores
#
# The course wraps vizdoom's `VizdoomTakeCover-v1` so that it looks like the paper's: the screen only
# (240x320), resized to 64x64, one action in [-1, 1] read in thirds, and an episode cut at 2,100 steps. Two
# differences remain. The authors' code crops the screen before resizing it; the course resizes the whole
# screen (vizdoom's configuration for this scenario draws no status bar). And the paper's game was
# `DoomTakeCover-v0` from ppaquette's gym-doom package, whose settings (not the paper's text) set the
# difficulty: gym-doom sets Doom's skill level 5 for this scenario, vizdoom's own configuration, which the
# course uses, skill 4. So compare the course's scores with the paper's by their shape, not digit by digit.
#
# A random policy (each step a uniformly random third) sets the floor:

# %%
random_row = results["random"]
print(f"random policy, measured: {random_row['real_mean']:.0f} ± {random_row['real_std']:.0f} "
      f"over {random_row['real_episodes']} real episodes")
print(f"random policy, the paper: {lesson.paper.VIZDOOM_RANDOM[0]} ± {lesson.paper.VIZDOOM_RANDOM[1]}")
returns = np.asarray(random_row["real_returns"])
lesson.return_histogram(returns, "random policy in the real Take Cover: steps survived")
plt.show()

# %% [markdown]
# A random policy survives about 214 steps here, 210 in the paper: that is the bar. Most episodes end within
# a few hundred steps, because a policy that does not look dodges only by luck.
#
# <details><summary>How this was measured</summary>
#
# 100 real episodes with seeds from 1,000,000, the same episodes that score every controller in section 3,
# two copies of the game at once. Stored in `data/takecover_results.json`; the course's Take Cover results
# are collected in the [results appendix](../docs/results.md), section "Take Cover".
# </details>

# %% [markdown]
# ## 2. V, M and C for Take Cover
#
# The paper's appendix gives the sizes; the package builds them from the same classes as CarRacing's:

# %%
print(f"V: {lesson.count_parameters(V):,} parameters, z = {V.config.z_size}")
print(f"M: {lesson.count_parameters(M):,} parameters (the paper: 1,678,785); LSTM {M.config.hidden}, "
      f"{M.config.K} Gaussians per dimension, reward head: {M.reward_head is not None}, "
      f"done head: {M.done_head is not None}")

# %% [markdown]
# <details><summary><b>Question:</b> the paper's Take Cover M reads one input more than the course's: the authors' code feeds it the previous step's done flag beside z and the action. Yet the two counts agree exactly. Why? (click)</summary>
#
# Two differences of the same size cancel. The extra input costs the paper's LSTM 4 × 512 = 2,048 weights
# (one per gate and unit). PyTorch's LSTM keeps two bias vectors where the authors' TensorFlow cell keeps one
# (notebook 02): another 4 × 512 = 2,048 numbers. Counted the TensorFlow way, the course's M has 1,676,737
# parameters; add the done-flag input and you reach the paper's 1,678,785. Matching totals do not prove
# matching models: count by parts.
# </details>

# %% [markdown]
# <details><summary><b>Think further:</b> CarRacing's controller reads only [z, h]; this one also reads the LSTM's cell c. What might c carry that h does not, in a game where one fireball ends everything? (click)</summary>
#
# $h$ is the LSTM's output, squashed by tanh and gated; $c$ is its long-term store, which the gates can keep
# almost unchanged for many steps. A fireball seen some frames ago, or how long the agent has been standing
# at one spot, may sit in $c$ before it shows in $h$. Giving C both costs 512 more numbers, still few for
# CMA-ES. (The paper's parameter table gives 1,088 for this controller: the authors' Take Cover controller has
# 1,088 weights and no bias. The course's adds one bias, 1,089 numbers.)
# </details>

# %%
params, c_config, details = takecover.load_shipped_controller(1.15)
print(f"C: reads {c_config.input_size} numbers ([z, h, c]), {c_config.action_size} output, squash {c_config.squash!r}")

# %% [markdown]
# **Exercise 1.** Write C's action rule: raw outputs `o` (a numpy array) to actions -1 (left), 0 (stay),
# +1 (right), by thirds of $\tanh(o)$.

# %%
def to_action(o):
    ...  # your code


lesson.thirds_action.check(to_action)
# lesson.thirds_action.hint()
# lesson.thirds_action.solution()

# %% [markdown]
# V only sees what it was trained on. Here is a real episode played by the controller evolved at τ = 1.15,
# and what V makes of its frames (encode, then decode): the world as C sees it. Fireballs are a few pixels
# wide at 64x64; if V blurs them away, no controller can dodge them.

# %%
real_steps = 300 if FAST else lesson.TAKE_COVER_MAX_STEPS
wm = worldmodels.agent.WorldModelAgent(V, M, params, c_config)
real = worldmodels.agent.drive_real(wm, seed=settings["eval_seed"], max_steps=real_steps, env_id=lesson.TAKE_COVER)
shown = np.linspace(0, len(real["frames"]) - 1, 8).astype(int)
lesson.frame_grid([real["frames"][shown], worldmodels.vae.decode_latents(V, real["z"][shown])], ["real", "V's view"],
                 [f"step {t}" for t in shown], suptitle="one real episode, and V's reconstruction of it")
plt.show()
print(f"survived {len(real['rewards'])} steps" + (" (cut short in fast mode)" if FAST else ""))

# %% [markdown]
# ### Exercise 2: write the dream yourself
#
# The dream is the heart of the method: M stands in for the game, and C plays inside M's imagination. Write
# the loop that plays `len(z0)` dreams at once, from the start codes `z0` (V's codes of real first frames).
# Each step, for every dream:
#
# 1. C sees the features $[z, h, c]$ (the code, M's memory $h$ and its cell $c$) and picks an action:
#    `action = policy(features)`.
# 2. M reads $z_t$ and $a_t$ and updates its memory: `out, (h, c) = m.step(z, action, (h, c))`.
# 3. Every dream still in the game earns one point: Take Cover's M has no reward head, so a dream's score is
#    the number of steps it survived.
# 4. M's done head ends a game where `torch.sigmoid(out.done_logit) > 0.5`. An ended dream earns nothing
#    more; keep it in the batch anyway (a mask says which dreams still count), because C's population is
#    matched to the rows of the batch by position.
# 5. The next $z$ is a **sample** of M's mixture at temperature $\tau$ (notebook 03): for each dimension a
#    component $k$ with weights $\pi^{1/\tau}$ (normalised), then $\mu_k + \sigma_k\sqrt{\tau}\,\varepsilon$.
#    `out.log_pi`, `out.mu` and `out.log_sigma` have shape (dreams, 64, 5): five Gaussians per dimension.
#
# The checker runs your function on a made-up M whose every number it knows, so it can tell you which part is
# off (and any correct way of writing it passes, `torch.distributions` included).

# %%
lesson.draw_dream_loop()
plt.show()

# %%
def dream_rollout(m, policy, z0, tau, max_steps):
    h, c = m.initial_state(len(z0))
    z = z0
    score = torch.zeros(len(z0))
    alive = torch.ones(len(z0), dtype=torch.bool)
    for _ in range(max_steps):
        ...  # your code: one step of every dream (steps 1 to 5 above)
    return score


lesson.dream_rollout.check(dream_rollout)
# lesson.dream_rollout.hint()
# lesson.dream_rollout.solution()

# %% [markdown]
# **Exercise 3.** CMA-ES needs one number per candidate. Your rollout plays the whole population at once,
# `dreams` dreams per candidate, candidate by candidate: rows `c * dreams` to `c * dreams + dreams - 1` are
# candidate `c`'s. Write `fitness(scores, population, dreams)`: each candidate's score, as the paper scored a
# candidate by its rollouts (16 of them).

# %%
def fitness(scores, population, dreams):
    ...  # your code: one number per candidate


lesson.fitness_exercise.check(fitness)
# lesson.fitness_exercise.hint()
# lesson.fitness_exercise.solution()

# %% [markdown]
# Now your dream does real work. CMA-ES (notebook 04) proposes a population of controllers; your rollout
# plays all of them at once, a few dreams each, at $\tau = 1.15$; a controller's fitness is its mean score.
# Then the controller CMA-ES settles on plays the **real** game, on the same episodes as a random policy.
# (Until your rollout passes the checker, the cell uses the course's, which is the solution.)

# %%
rollout = dream_rollout if lesson.dream_rollout.problem(dream_rollout) is None else lesson.reference_rollout
score_of = fitness if lesson.fitness_exercise.problem(fitness) is None else lesson.reference_fitness
print("evolving with", "your dream_rollout" if rollout is dream_rollout else "the course's rollout (yours is not finished)",
      "and", "your fitness" if score_of is fitness else "the course's fitness")
search = lesson.LEARNER_SEARCH_FAST if FAST else lesson.LEARNER_SEARCH
my_params, my_config, my_history = lesson.evolve_with(rollout, M, starts, tau=1.15, fitness=score_of, **search)
mine, random_returns = lesson.real_survival(V, M, my_params, my_config, episodes=lesson.learner_episodes(FAST))
lesson.learner_result_figure(my_history, mine, random_returns)
plt.show()

# %% [markdown]
# Left: how long the population survives in the dream, generation by generation. Right: your controller in the
# real game, beside a random policy on the same episodes. A controller that never saw the real game survives
# longer in it than random play: what it learned about fireballs in M's dream carries over. A short search
# like this one gets only part of the way; the full-size search below (population 64, 16 dreams each) is what
# clears 750.
#
# <details><summary>How this was measured</summary>
#
# The search and the real episodes run right here, in this cell: CMA-ES from zeros with σ = 0.1, the settings
# in `lesson.LEARNER_SEARCH` (`LEARNER_SEARCH_FAST` in fast mode), real episodes with seeds from 7,000,000,
# which no other result of the course uses. The test suite checks that the course's rollout, with the fast
# settings, survives longer in reality than random play on these episodes.
# </details>

# %% [markdown]
# ## 3. The measured temperature table
#
# For each τ, one controller was evolved in M's dream at that temperature (CMA-ES, the whole population
# batched in one dream), then scored in new dreams at the same τ and in 100 real episodes it never trained on.
# Left: measured by this course. Right: the paper's numbers, as the paper reports them (on gym-doom's
# `DoomTakeCover-v0`, section 1).

# %%
lesson.take_cover_tau_figure(results, solved=takecover.SOLVED)
plt.show()

# %% [markdown]
# The course's table has the paper's shape. At τ = 0.1 and 0.5 the controllers survive nearly all 2,100
# steps in the dream but only 288 and 193 in the game: barely above the random policy's 214, and below it.
# They learned to exploit M, not to dodge. At τ = 1.0, 1.15 and 1.3 controllers that never saw a real frame
# while they were searched survive 759 to 813 steps, 3.5 to 3.8 times as long as random, at the 750 that
# counts as solved.
#
# <details><summary>How this was measured</summary>
#
# One training run (seed 0): `python -m wmcourse takecover --out runs/TakeCover --ship data`, about 88 minutes
# on 2 shared CPU cores. Data: 3,000 episodes of a random action held for 1 to 10 steps (978,062 frames; the
# paper: 10,000 episodes). V: 3,000 batches of 100 frames. M: 12 epochs of 512-step windows in batches of 25,
# done steps weighted ×10 in its loss (the paper: 20 epochs; the authors' code: 500-step windows, batches of
# 100, the ×10 weight). C: CMA-ES for 30 generations of 16 candidates × 8 dreams (the paper: 64 × 16), initial
# step size 0.1 (the authors' code's). Each final controller: 128 new dreams at its τ, and 100 real episodes
# with seeds from 1,000,000, far from the seeds of the training data. Stored in
# `data/takecover_results.json`; see the [results appendix](../docs/results.md), section "Take Cover".
# </details>

# %% [markdown]
# **Read the spread too.** One controller's survival varies by about ± 400 steps from one episode to the
# next, so a mean over 100 episodes is uncertain by about ± 43 steps (427 / √100 at τ = 1.15). The τ = 1.15
# controller is therefore *at* the threshold, not comfortably above it, and the order of τ = 1.0, 1.15 and
# 1.3 is within the noise. The paper's τ = 1.15 controller scored 1,092 ± 556, trained on 10,000 random
# episodes where the course used 3,000 (about 3.3 times the data) and searched with a larger population.
#
# <details><summary><b>Question:</b> which column should you trust to choose τ, and why not the other? (click)</summary>
#
# The real one, measured on episodes the controller never trained on. The dream score is what C was
# optimised for: it says how well C exploits M, not how well it plays. In the paper the best dream scores
# (τ = 0.1 and 0.5) went with the worst real ones. But choosing τ by its real score is again a choice made on
# the episodes that report it, so a careful study keeps a second set of real episodes for the final number,
# as the section "When to stop" does below.
# </details>
#
# <details><summary><b>Question:</b> the real scores have a large spread (± several hundred). Why is
# survival time so noisy, even for one fixed controller? (click)</summary>
#
# Where the monsters aim and when they fire is random, and one fireball ends the game. A controller that
# dodges well most of the time still meets a volley it cannot escape sooner or later: survival times
# are closer to a geometric distribution (a constant risk per step) than to a bell curve around the mean.
# </details>

# %% [markdown]
# ### How much of the table is luck?
#
# A row of the table is one CMA-ES search, made in the dream of one M, trained on one set of random episodes.
# Each is a draw. First the search: the same V and M were searched again at τ = 1.15 from two more CMA-ES
# seeds, and each controller played the same 100 real episodes.

# %%
searches = [row for row in results["rows"] if row["tau"] == 1.15] + results["controller_seeds"]
for row in searches:
    print(f"tau = 1.15, CMA-ES seed {row.get('controller_seed', settings['seed'])}: dream {row['dream_mean']:5.0f}, "
          f"real {row['real_mean']:4.0f} ± {row['real_std']:.0f} over {row['real_episodes']} episodes")
real_means = np.array([row["real_mean"] for row in searches])
print(f"across {len(searches)} searches: real {real_means.mean():.0f} ± {real_means.std():.0f} "
      f"(one V and M: the data, V and M were trained once)")

# %% [markdown]
# The three searches land close together (on the shipped run: 759, 743 and 804, ± 26): the search adds little
# spread. Now the training run: the whole pipeline was run from two more training seeds, each with new random
# episodes, a new V, a new M and new controllers, at τ = 1.15 and at the cheating τ = 0.1.

# %%
over_seeds = takecover.load_training_seeds()
# the two temperatures every training seed measured; its rounds of iterative training come later in this section
before_rounds = {**over_seeds, "chosen_across_seeds": {}, "runs": [{**run, "rounds": []} for run in over_seeds["runs"]]}
lesson.take_cover_seeds_figure(before_rounds, solved=takecover.SOLVED)
plt.show()

# %% [markdown]
# **The training run changes the story.** At τ = 0.1 every training seed cheats: a near-perfect dream, a real
# score near random. At τ = 1.15 only seed 0, the shipped run, transfers; seeds 1 and 2 score about 2,000 steps
# in their dreams and 183 and 188 in the game, no better than random. Whether M's dream is honest enough to
# transfer depends on the training run as well as on τ. The paper reports one result per τ and does not say
# how many runs stand behind it.
#
# <details><summary>How this was measured</summary>
#
# Seeds 1 and 2: `python -m wmcourse takecover --out runs/TakeCover_seed1 --seed 1 --taus 1.15 0.1` (and
# `--seed 2 --out runs/TakeCover_seed2`), the shipped run's settings otherwise; each collected its own 3,000
# random episodes (955,723 and 972,359 frames). Each run, with the rounds of iterative training below, took
# about 5 hours, three runs sharing 2 CPU cores. Every controller played the same 100 real episodes as the
# table. Gathered by `python scripts/takecover_training_seeds.py runs/TakeCover runs/TakeCover_seed1
# runs/TakeCover_seed2 --fixed-policies` into `data/takecover_training_seeds.json`; see the
# [results appendix](../docs/results.md), section "Take Cover".
# </details>

# %% [markdown]
# ### A dream with a safe wall
#
# Why did seeds 1 and 2 fail? Three policies that see nothing (always left, always stay, always right) should
# die about as soon in M's dream as in the game, if the dream is as dangerous as the game. Here they are in
# each training seed's dream (τ = 1.15, the M the table's controllers were searched in) and in the real game:

# %%
table = ["| training seed | always left: dream / game | always stay: dream / game | always right: dream / game |",
         "|---|---|---|---|"]
for run in over_seeds["runs"]:
    for entry in run.get("fixed_policies", []):
        if entry["round"] == 0:  # M before any round of iterative training
            table.append(f"| {run['seed']} | " + " | ".join(f"{r['dream_mean']:.0f} / {r['real_mean']:.0f}"
                                                          for r in entry["rows"]) + " |")
display(Markdown("\n".join(table)))

# %% [markdown]
# In seed 1's dream a policy that always runs right lives 2,078 steps; in seed 2's, one that always runs left
# lives 1,953; in the game both die within 200 (173 and 188). Each of these M made one wall safe, and the
# controllers found it. Seed 0's M has no safe wall. Measure that now, on the shipped M:

# %%
survival = takecover.fixed_policy_survival(M, starts, tau=1.15, dreams=8 if FAST else 32,
                                          real_episodes=2 if FAST else 10)
for row in survival:
    print(f"{row['policy']:13s} dream (tau 1.15) {row['dream_mean']:6.0f} ± {row['dream_std']:<5.0f} "
          f"real {row['real_mean']:6.0f} ± {row['real_std']:.0f}")

# %% [markdown]
# **Where a safe wall comes from.** Random play that picks a new action every step jitters around the middle of
# the room, so an M trained on it never sees the walls, and a controller that runs to one finds a dream with no
# fireballs. A first run of this experiment did exactly that, and every temperature's controller failed in
# reality. The authors' code draws a random action and *holds* it for 1 to 10 steps, which carries the agent
# across the room and against both walls; the shipped run used that policy, and the table turned. Training
# seeds 1 and 2 show that even held random play does not always show M enough.
#
# <details><summary>How this was measured</summary>
#
# The held random policy is `rollouts.HoldPolicy` in the package. The first run (not shipped): `python -m
# wmcourse takecover --out runs/TakeCover1 --episodes 1000 --policy random --episodes-per-shard 50 --vae-steps
# 1000 --mdnrnn-epochs 20 --mdnrnn-seq-len 256 --workers 3`: 1,000 episodes of a new random action every step,
# M on 256-step windows. No τ transferred (best real score 246); an M trained longer on the same data let
# "always right" live 2,050 steps in its dream against 173 in the game. The shipped run changed three things at
# once (the data policy, three times the episodes, 512-step windows) and does not say which mattered most.
# Numbers and commands: the [results appendix](../docs/results.md), section "Take Cover".
# </details>

# %% [markdown]
# ### The paper's remedy: iterate
#
# For a world model that has not seen enough, the paper gives an **iterative training** procedure
# ([glossary](../docs/glossary.md#iterative-training)): play the current controller in the real environment,
# add what it saw to M's data, train M on, evolve the controller again in the new dream, and repeat until the
# task is solved. In the paper's procedure M also learns to predict the reward and the agent's own action; the
# course runs a simplified version, in which M stays what it was (the next code and done). Notebooks 06 and 07
# use the same simplified loop. C still learns only in the dream: within a round, no real score chooses a
# controller.
#
# The paper did not need it for Take Cover; seeds 1 and 2 do. Their controllers run to the wall their dream
# makes safe, and their own real episodes are the data that shows M the fireballs there.

# %%
lesson.draw_iterative_training()
plt.show()

# %% [markdown]
# Each training seed ran three rounds. Below, its real score after each round, to the right of the table's two
# temperatures; then the blind policies in each seed's dream after one round; then, across the three seeds,
# each number of rounds.

# %%
lesson.take_cover_seeds_figure({**over_seeds, "chosen_across_seeds": {}}, solved=takecover.SOLVED)
plt.show()
table = ["| training seed | always left: dream / game | always stay: dream / game | always right: dream / game |",
         "|---|---|---|---|"]
for run in over_seeds["runs"]:
    for entry in run.get("fixed_policies", []):
        if entry["round"] == 1:  # M after one round of iterative training
            table.append(f"| {run['seed']} | " + " | ".join(f"{r['dream_mean']:.0f} / {r['real_mean']:.0f}"
                                                          for r in entry["rows"]) + " |")
display(Markdown("\n".join(table)))
for name, row in takecover.spreads_by_name(over_seeds).items():
    if name.startswith("round"):  # "round 1": tau 1.15 after one round
        print(f"{name}: real {row['mean']:.0f} ± {row['std']:.0f} across {len(row['real_means'])} training seeds; "
              f"above {takecover.SOLVED:.0f} for {row['solved']} of them")

# %% [markdown]
# **Rounds take the safe walls away, but no number of rounds suits every seed.** After one round the walls of
# seeds 1 and 2 are no longer safe in their new dreams (the table), and after two rounds both seeds' controllers
# clear 750. But a round can also break a controller that worked: seed 0's fell below the random policy after
# its second round and recovered in its third, while seeds 1 and 2 fell back below 750 in theirs.
#
# <details><summary>How this was measured</summary>
#
# Round by round, on the table's 100 real episodes. Round 1: "always right" in seed 1's new dream lives 115
# steps (it was 2,078), "always left" in seed 2's 187 (it was 1,953); the new controllers scored 303 and 273.
# Round 2: seeds 1 and 2 scored 851 and 771. Seed 0 scored 783 after one round and 177 after two; a third round
# gave 652, 725 and 687 (seeds 0, 1 and 2).
#
# A round (`--rounds N` on the same command; its settings fixed before any round was scored): play the last
# τ = 1.15 controller for 600 real episodes, with Gaussian noise of standard deviation 0.3 on its action before
# the action is read in thirds; train M 4 more epochs on the random episodes and every round's together;
# evolve a new controller at τ = 1.15 in the new dream; score it on the table's 100 real episodes. Real steps
# collected: seed 1 106,581 then 193,377; seed 2 112,332 then 164,151; seed 0 440,772 then 469,457 (its
# controller survives longest, so its rounds collect the most). Seeds 1 and 2 got a second round because
# their first scored below 750 on the same 100 episodes that report it: the paper's "until solved", but a
# choice made on the evaluation episodes. Seed 0's second round was run afterwards, so that every seed has the
# same two rounds, and every seed's third round was decided before any third round was scored. The rows
# "round N" above use the table's 100 episodes; the next section scores on fresh ones. Commands: the
# [results appendix](../docs/results.md), section "Take Cover".
# </details>

# %% [markdown]
# ### When to stop
#
# The paper's loop stops when the task is solved, and telling when is itself a look at reality. Made on the
# episodes that report the score, that look picks the luckiest controller, so here it gets real episodes of
# its own: every round's controller (round 0 is the table's) plays a set of held-out real episodes, the one
# that lives longest there is kept, and only that one plays a set of fresh episodes that nothing else used.
# Reality only says which round to keep; C still learns only in the dream.

# %%
for run in over_seeds["runs"]:
    print(takecover.describe_selection(run["seed"], run["selection"]))
kept = takecover.spreads_by_name(over_seeds)["chosen round"]
print(f"the kept rounds on fresh episodes: {kept['mean']:.0f} ± {kept['std']:.0f} across {len(kept['real_means'])} "
      f"training seeds; above {takecover.SOLVED:.0f} for {kept['solved']} of them")

# %% [markdown]
# The kept controllers score **762 ± 67 across the three seeds on fresh episodes**, two of three above 750,
# and the worst seed (667) survives about three times as long as a random policy. Without rounds the same
# recipe gave 377 ± 270, one of three. Two cautions. The best of four noisy means is
# biased up: seed 2's kept controller lived 796 steps on the held-out episodes and 667 on the fresh ones, which
# is why the kept one is scored again. And three seeds are few: they say the recipe with a held-out stop
# transferred on every seed tried, not how often it clears 750.
#
# <details><summary>How this was measured</summary>
#
# Seed 0 kept round 1, seeds 1 and 2 kept round 2. `--select 50` on the same command: each round's controller
# played 50 held-out real episodes (seeds from 4,000,000); the kept one played 100 fresh episodes (seeds from
# 2,000,000). The rule was fixed before its
# first held-out episode. The look cost 50 episodes for each of four controllers, about 100,000 real steps per
# seed, less than most rounds collect. Choices in each run's `selection.json`, gathered into
# `data/takecover_training_seeds.json`; see the [results appendix](../docs/results.md), section "Take Cover".
# </details>

# %% [markdown]
# ## 4. One controller, in its dream and in reality
#
# Left: the real episode from section 2. Right: a dream of the same controller at its own τ, started from
# the code of the same first frame, decoded by V. In the dream every frame is M's imagination: fireballs
# appear, fly and hit only if M says so.

# %%
tau = details["tau"]
in_dream = worldmodels.agent.drive_dream(M, params, c_config, torch.as_tensor(real["z"][0]), tau=tau,
                          max_steps=real_steps, seed=SEED)
dream_frames = worldmodels.vae.decode_latents(V, in_dream["z"])
print(f"real: survived {len(real['rewards'])} steps; dream at tau = {tau:g}: survived {len(in_dream['rewards'])} steps")
anim = lesson.animate_side_by_side({"real": real["frames"], f"dream, tau = {tau:g}": dream_frames},
                                  max_frames=40 if FAST else 150)
anim

# %% [markdown]
# M's done head, read along the **real** episode: the probability M gave to "the game ends now" at every
# step. A dream ends when it crosses 0.5. If it stays low right up to the real death, M did not see that
# fireball coming; if it fires long before, the dream kills C more eagerly than reality does.

# %%
lesson.predicted_done_plot(real["predicted_done"])
plt.show()

# %% [markdown]
# ## 5. Cheating at low temperature: the fireballs that never come
#
# The controller evolved at τ = 0.1 lives in a tame dream. Below, its dream at τ = 0.1 and its real game, side
# by side, then its survival in many dreams at both temperatures: the same controller, the same M.

# %%
params01, c_config01, details01 = takecover.load_shipped_controller(0.1)
real01 = worldmodels.agent.drive_real(worldmodels.agent.WorldModelAgent(V, M, params01, c_config01), seed=settings["eval_seed"],
                          max_steps=real_steps, env_id=lesson.TAKE_COVER)
dream01 = worldmodels.agent.drive_dream(M, params01, c_config01, torch.as_tensor(real01["z"][0]), tau=0.1,
                            max_steps=real_steps, seed=SEED)
anim = lesson.animate_side_by_side({"real": real01["frames"], "dream, tau = 0.1": worldmodels.vae.decode_latents(V, dream01["z"])},
                                  max_frames=40 if FAST else 150)
anim

# %%
dreams, dream_steps = (16, 300) if FAST else (64, lesson.TAKE_COVER_MAX_STEPS)
for t in (0.1, 1.15):
    lived = worldmodels.dream.dream_score(M, starts, params01, c_config01, t, dreams, dream_steps, seed=SEED)
    print(f"tau = 0.1 controller in dreams at tau = {t:<4g}: survives {lived.mean():6.0f} ± {lived.std():.0f} steps "
          f"({dreams} dreams of at most {dream_steps})")
row01 = next(r for r in results["rows"] if r["tau"] == 0.1)
print(f"... and in reality (shipped, {row01['real_episodes']} episodes): {row01['real_mean']:.0f} ± {row01['real_std']:.0f}")

# %% [markdown]
# <details><summary><b>Question:</b> why does a low τ make the dream tame? Nothing in M was trained to be kind. (click)</summary>
#
# A fireball appearing is a rare event in any one step: in M's mixture it is a low-weight component. At
# τ = 0.1 the weights become $\pi_k^{10}$ (normalised), so the likeliest component, "nothing new happens",
# takes nearly all the mass, and the spread shrinks by $\sqrt{0.1}$. The monsters stop shooting because
# shooting was never the single likeliest next frame. The paper saw the same: at τ = 0.1 its agent scored
# a near-perfect 2,100 in the dream and worse than random in reality.
# </details>
#
# <details><summary><b>Question:</b> a controller that moves constantly to one wall and stays there would
# survive a while in the real game. Would CMA-ES find it in a tame dream? In a wild one? (click)</summary>
#
# In a tame dream any policy survives, so there is no pressure towards anything in particular: CMA-ES
# drifts. In a wilder dream, policies that escape M's fireballs survive longer and are selected. Whether
# the wall trick works in reality depends on the real monsters' aim; whether it is found depends on
# whether M's dream pays for it.
# </details>

# %% [markdown]
# ### Pick the temperature yourself
#
# The course ships one controller for each temperature of the table, each evolved only in M's dream at that τ.
# Pick a τ on the slider. The top row is that controller in its own dream at the same τ (M's codes, decoded by
# V); the bottom row is the same controller in one real episode, from the same start as section 4's (a τ is
# played the first time you pick it, which takes a moment). Each row says how many steps it survived. The frames
# are spread over the whole episode; move the step slider for a close-up, eight frames eight steps apart, where
# you can follow a fireball. The slider opens at τ = 1.15: move it to 0.1 first, then back to 1.15.

# %%
picker = lesson.TemperaturePicker(V, M, seed=settings["eval_seed"], max_steps=real_steps,
                                  played={tau: (real, in_dream), 0.1: (real01, dream01)})
picker

# %% [markdown]
# At τ = 0.1 the monsters and their fireballs fade out of the dream, and the controller lives there until the
# episode's cap. In the real game the fireballs come, and it dies after a few hundred steps: it learned to
# survive a game that does not exist. At τ = 1.15 fireballs fly in the dream too, and the controller that
# learned to dodge them lives longer in the real game. One episode is one draw; the table in section 3 gives
# the averages over 100.
#
# ### Drive the dream yourself
#
# Now play M's dream yourself, as the paper's interactive article lets its reader take over from its agent: put
# the mouse over the picture and step left or right with the arrow keys (or the buttons; *stay* waits one step).
# Your score is the steps you survive until M's done head ends the game; the τ slider dreams your same moves
# again at another temperature, and *C drives* hands the game to the controller evolved at τ = 1.15. The dream
# moves one step a key press (start the *clock* to play on). Try to survive by standing still at τ = 0.1, then at
# τ = 1.15, and compare with how long *C drives* lasts: a dream you survive without dodging cannot teach dodging.

# %%
params, c_config, details = takecover.load_shipped_controller(1.15)  # C, evolved in the dream at tau = 1.15
driver = lesson.DoomDriver(V, M, starts, params, c_config, tau=details["tau"], seed=SEED)
lesson.DriveWidget(driver)

# %% [markdown]
# ## Open questions
# Two experiments to run yourself: change one setting, re-run the cell, and look.
#
# **What happens if your controller is evolved in a tame dream?** In the cell after Exercise 3 where your rollout
# evolves a controller, change `tau=1.15` in `lesson.evolve_with(...)` to `tau=0.1` and re-run it (about as long
# as the first time). Look at both panels: the search in the dream on the left, your controller beside random
# play in the real game on the right.
#
# <details><summary>Hint</summary>
#
# Section 5 shows what the shipped τ = 0.1 controller does in its dream and in the game. Does your controller
# go the same way: a dream curve that climbs easily, a real game no better than random? A short search is one
# draw: add `seed=1` to the call and run it again before you believe a difference.
# </details>
#
# **What happens to the blind policies in a tamer dream?** In the cell of "A dream with a safe wall" that
# measures the three policies that see nothing on the shipped M, change `tau=1.15` in
# `takecover.fixed_policy_survival(...)` to `tau=0.1` and re-run it. Compare the dream column with the real one.
#
# <details><summary>Hint</summary>
#
# The real column does not depend on τ: only the dream changes. If a policy that sees nothing lives as long in a
# dream as a clever one, what is left there for CMA-ES to select? Think of the question about why a low τ makes
# the dream tame (section 5).
# </details>

# %% [markdown]
# ## Self-check
# - [ ] I can name how the paper's Take Cover M differs from its CarRacing M (z = 64 instead of 32, an LSTM of
#       512 instead of 256, a done head where the CarRacing M predicted z only; neither had a reward head),
#       and how C differs (it reads [z, h, c], one output read in thirds).
# - [ ] I can say what the dream "pays" when M has no reward head, and why that is Take Cover's real reward.
# - [ ] I read the measured temperature table and can compare it with the paper's, row by row, with its noise.
# - [ ] I can say why one training run is not enough, what iterative training changed, and why the round to
#       keep is chosen on held-out episodes and scored on fresh ones.
# - [ ] I saw a dream at τ = 0.1 and can explain why its fireballs never come.
# - [ ] I know which numbers here were measured by this course and which are the paper's.

# %% [markdown]
# ## Formulas used
# | what | formula |
# |---|---|
# | C's action | $a = \text{thirds}(\tanh(w \cdot [z, h, c] + b))$; thirds$(x) = -1$ if $x < -\frac13$, $+1$ if $x > \frac13$, else 0 |
# | C's size | $(\lvert z \rvert + \lvert h \rvert + \lvert c \rvert) \times \text{outputs} + \text{outputs}$ (weights, then one bias per output) |
# | M's step | $h_{t+1} = \text{LSTM}([z_t, a_t], h_t)$; from $h_{t+1}$: the mixture over $z_{t+1}$ and $p_t = \sigma(w_d \cdot h_{t+1} + b_d)$, the probability that the game ends at step $t$ |
# | dream return | $\hat{R} = \min(t^* + 1, 2100)$, $t^* = $ the first $t$ with $p_t > 0.5$ (one point per step survived, the last one included) |
# | M's done loss | $-[10\, d_t \log p_t + (1 - d_t) \log(1 - p_t)]$ (the ×10 on the rare done steps is the authors' code's) |
# | temperature | $\pi_k \propto \pi_k^{1/\tau}$, $\sigma \to \sigma \sqrt{\tau}$ |
#
# **What to remember:** a controller trained only in M's dream can play the real game, if the dream is honest
# enough; a dream score is not a real score; a too-tame dream (low τ) or an M that never saw part of the world
# can be cheated; one training run is one draw, and real episodes that choose must not also report.
#
# **Next:** notebook 06 takes the same recipe to CarRacing, puts the dream's controller in the real car beside its
# dream, and finds where the dream breaks and what mends it.
