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
# The experiment that gave "World Models" (Ha & Schmidhuber, 2018) its title was not CarRacing. It was
# VizDoom **Take Cover**: monsters at the far wall throw fireballs, the agent can only step left or right,
# and it scores one point for every step it stays alive (at most 2,100; above 750 on average counts as
# solved). The paper trained the controller **only inside M's dream** and then let it play the real game.
#
# This notebook runs that experiment with the same package code as CarRacing: the same VAE (now z = 64), the
# same MDN-RNN (now 512 units, with a done head and no reward head), the same linear controller and the same
# CMA-ES. Everything it shows was measured by `python -m wmcourse takecover` (the command and its settings
# are printed below) or is measured live in this notebook.
#
# In this notebook you will
# 1. see the real game and the score of a random policy;
# 2. count V, M and C for Take Cover, and write C's action rule yourself;
# 3. read the **measured** temperature table next to the paper's;
# 4. watch one controller in its dream and in reality, animated;
# 5. see the "cheating" a low temperature allows: a dream where the fireballs never come.

# %%
RETRAIN = False  # True: rerun the whole pipeline (about the wall time printed below; resumable)


import matplotlib.pyplot as plt
import numpy as np
import torch

from wmcourse import agent, artefacts, checkers, checkpoint, mdnrnn, paper, plots, takecover, tau_sweep, vae
from wmcourse.envs import TAKE_COVER, TAKE_COVER_MAX_STEPS
from wmcourse.runtime import fast_mode

FAST = fast_mode()  # True under `make test`: shorter episodes, fewer dreams, same code
SEED = 0
torch.manual_seed(SEED)
if RETRAIN:
    artefacts.run_command(takecover.SHIP_COMMAND)
V, M, starts = takecover.load_shipped_models()
results = takecover.load_shipped_results()
settings = results["config"]
print("fast mode" if FAST else "full mode", f"| made by: {results['command']}")

# %% [markdown]
# ## The one-minute explanation
#
# 1. **V** squeezes each 64x64 frame into 64 numbers z. **M** learns from random play (a random action held
#    for 1 to 10 steps) how z moves: where the fireballs go, and when the game ends (its done head). It is
#    never told any reward.
# 2. **The dream** is M alone. Its "reward" is simply one point per step until M says the game is over, so
#    a dream's return is how long the agent survived in M's imagination.
# 3. **C** reads z and M's memory (h and the LSTM cell c), and one number decides: left, stay or right.
#    CMA-ES evolves C's 1,089 numbers inside the dream.
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
# (240x320, resized whole to 64x64), one action in [-1, 1] read in thirds, and an episode cut at 2,100
# steps. A random policy (each step a uniformly random third) was measured over the same real episodes as
# every controller below:

# %%
random_row = results["random"]
print(f"random policy, measured: {random_row['real_mean']:.0f} ± {random_row['real_std']:.0f} "
      f"over {random_row['real_episodes']} real episodes")
print(f"random policy, the paper: {paper.VIZDOOM_RANDOM[0]} ± {paper.VIZDOOM_RANDOM[1]}")
returns = np.asarray(random_row["real_returns"])
plots.return_histogram(returns, "random policy in the real Take Cover: steps survived")
plt.show()

# %% [markdown]
# ## 2. V, M and C for Take Cover
#
# The paper's appendix gives the sizes; the package builds them from the same classes as CarRacing's:

# %%
print(f"V: {checkpoint.count_parameters(V):,} parameters, z = {V.config.z_size}")
print(f"M: {checkpoint.count_parameters(M):,} parameters (TensorFlow's count: {mdnrnn.paper_parameter_count(M.config):,}); "
      f"LSTM {M.config.hidden}, {M.config.K} Gaussians per dimension, "
      f"reward head: {M.reward_head is not None}, done head: {M.done_head is not None}")
params, c_config, details = takecover.load_shipped_controller(1.15)
print(f"C: reads {c_config.input_size} numbers ([z, h, c]), {c_config.action_size} output, squash {c_config.squash!r}")

# %% [markdown]
# **Exercise 1.** How many numbers does Take Cover's controller have? It computes
# $a = \text{thirds}(\tanh(w \cdot [z, h, c] + b))$ with z of 64 numbers and M's LSTM of 512 units.

# %%
answer = ...  # your number
checkers.take_cover_parameters.check(answer)
# checkers.take_cover_parameters.hint()
# checkers.take_cover_parameters.solution()

# %% [markdown]
# **Exercise 2.** Write C's action rule: raw outputs `o` (a numpy array) to actions -1 (left), 0 (stay),
# +1 (right), by thirds of $\tanh(o)$.

# %%
def to_action(o):
    ...  # your code


checkers.thirds_action.check(to_action)
# checkers.thirds_action.hint()
# checkers.thirds_action.solution()

# %% [markdown]
# V only sees what it was trained on. Here is a real episode played by the controller evolved at τ = 1.15,
# and what V makes of its frames (encode, then decode): the world as C sees it. Fireballs are a few pixels
# wide at 64x64; if V blurs them away, no controller can dodge them.

# %%
real_steps = 300 if FAST else TAKE_COVER_MAX_STEPS
wm = agent.WorldModelAgent(V, M, params, c_config)
real = agent.drive_real(wm, seed=settings["eval_seed"], max_steps=real_steps, env_id=TAKE_COVER)
shown = np.linspace(0, len(real["frames"]) - 1, 8).astype(int)
plots.frame_grid([real["frames"][shown], vae.decode_latents(V, real["z"][shown])], ["real", "V's view"],
                 [f"step {t}" for t in shown], suptitle="one real episode, and V's reconstruction of it")
plt.show()
print(f"survived {len(real['rewards'])} steps" + (" (cut short in fast mode)" if FAST else ""))

# %% [markdown]
# ## 3. The measured temperature table
#
# For each τ, `python -m wmcourse takecover` evolved one controller in M's dream at that temperature
# (CMA-ES, the whole population batched in one dream), then scored it in new dreams at the same τ and in
# real episodes, on seeds far from the ones the data came from. Left: measured here. Right: the paper's
# numbers, as the paper reports them.

# %%
plots.take_cover_tau_figure(results, solved=takecover.SOLVED)
plt.show()
print(f"settings: {settings['generations']} generations x {settings['population']} candidates x "
      f"{settings['rollouts']} dreams (paper: 64 x 16); data: {settings['episodes']:,} random episodes, "
      f"policy {settings.get('policy', 'random')!r} "
      f"(paper: 10,000); real score over {settings['real_episodes']} episodes")
print(f"{'tau':>5} {'dream (here)':>15} {'real (here)':>15}   {'dream (paper)':>14} {'real (paper)':>14}")
for row in results["rows"]:
    p = paper.VIZDOOM_TAU_TABLE.get(row["tau"])
    ours = f"{row['dream_mean']:6.0f} ± {row['dream_std']:<4.0f} {row['real_mean']:6.0f} ± {row['real_std']:<4.0f}"
    theirs = f"{p[0]:6.0f} ± {p[1]:<4.0f}  {p[2]:6.0f} ± {p[3]:<4.0f}" if p else ""
    print(f"{row['tau']:>5g} {ours}   {theirs}")
print(f"wall time of the whole run on 2 shared CPU cores: {results['total_seconds'] / 60:.0f} min")

# %%
best = max(results["rows"], key=lambda row: row["real_mean"])
gaps = {row["tau"]: row["dream_mean"] - row["real_mean"] for row in results["rows"]}
print(f"best real score: tau = {best['tau']:g}, {best['real_mean']:.0f} ± {best['real_std']:.0f} "
      f"({'above' if best['real_mean'] > takecover.SOLVED else 'below'} the {takecover.SOLVED:.0f} that counts as solved; "
      f"random policy {random_row['real_mean']:.0f})")
print("dream score minus real score, by tau: " + ", ".join(f"{t:g}: {g:+.0f}" for t, g in gaps.items()))

# %% [markdown]
# One row is one search. The same V and M were searched again at τ = 1.15 with other CMA-ES seeds (the
# command's `--controller-seeds`), and each controller scored on the same 100 real episodes: how much of the
# row is the luck of one search?

# %%
searches = [row for row in results["rows"] if row["tau"] == 1.15] + results["controller_seeds"]
for row in searches:
    print(f"tau = 1.15, CMA-ES seed {row.get('controller_seed', settings['seed'])}: dream {row['dream_mean']:5.0f}, "
          f"real {row['real_mean']:4.0f} ± {row['real_std']:.0f} over {row['real_episodes']} episodes")
real_means = np.array([row["real_mean"] for row in searches])
print(f"across {len(searches)} searches: real {real_means.mean():.0f} ± {real_means.std():.0f} "
      f"(one V and M: the data, V and M were trained once)")

# %% [markdown]
# A search is one source of luck; the training run is another. The whole pipeline was run twice more from
# other seeds: new random episodes, a new V, a new M and new controllers, at τ = 1.15 and at the cheating
# τ = 0.1 (the script that gathers them is `scripts/takecover_training_seeds.py`). The bars on the right are
# the rounds of iterative training and the round each seed kept, described below the printout:

# %%
over_seeds = takecover.load_training_seeds()
plots.take_cover_seeds_figure(over_seeds, solved=takecover.SOLVED)
plt.show()
for run in over_seeds["runs"]:
    shown = [r for r in sorted(run["rows"], key=lambda r: r["tau"]) if f"{r['tau']:g}" in over_seeds["across_seeds"]]
    print(f"training seed {run['seed']} ({run['frames']:,} frames, {run['total_seconds'] / 60:.0f} min): " + "; ".join(
        f"tau {r['tau']:g} dream {r['dream_mean']:.0f}, real {r['real_mean']:.0f} ± {r['real_std']:.0f}" for r in shown))
for run in over_seeds["runs"]:
    for r in run["rounds"]:
        print(f"training seed {run['seed']}, after round {r['round']} (+{r['real_steps_collected']:,} real steps): "
              f"tau {r['tau']:g} dream {r['dream_mean']:.0f}, real {r['real_mean']:.0f} ± {r['real_std']:.0f}")
for name, row in takecover.spreads_by_name(over_seeds).items():  # "round 1": tau 1.15 after one round
    print(f"{name}: real {row['mean']:.0f} ± {row['std']:.0f} across {len(row['real_means'])} training seeds; "
          f"above {takecover.SOLVED:.0f} for {row['solved']} of them")
for run in over_seeds["runs"]:
    for entry in run.get("fixed_policies", []):
        print(f"training seed {run['seed']}, M of round {entry['round']}, policies that see nothing (dream / game): "
              + "; ".join(f"{r['policy']} {r['dream_mean']:.0f} / {r['real_mean']:.0f}" for r in entry["rows"]))

# %% [markdown]
# **The seeds change the story.** Training seed 0, the shipped run, transfers at τ = 1.15. Training seeds 1
# and 2, with the same command and settings, do not: their controllers scored about 2,000 steps in the dream
# and 183 and 188 in the game, no better than random. Their M repeated the first run's flaw, the one
# described below, each at one wall. In seed 1's dream a policy that always runs right lives 2,078 steps; in
# seed 2's, one that always runs left lives 1,953; in the game both die within 200. The cheating at
# τ = 0.1 is the one result every seed shares. So the shipped table is one draw in three: whether M's
# dream is honest enough to transfer depends on the training run as well as on τ. The paper reported a
# single run too.
#
# **The paper's remedy: iterate.** For a world model that has not seen enough, the paper gives an iterative
# training procedure: play the current controller in the real environment, add what it saw to M's data, train
# M on, evolve the controller again in the new dream, and go back to the real environment if the task is not
# solved yet. The paper did not need it for Take Cover; seeds 1 and 2 do. Their controllers run to the wall
# their dream makes safe, and their own real episodes are the data that shows M the fireballs there.
#
# A round (`--rounds N` on the same command; its settings were fixed before any round was scored):
# - collect 600 real episodes of the last τ = 1.15 controller, with Gaussian noise of std 0.3 on its action
#   before the action is read in thirds;
# - train M 4 more epochs, on the random episodes and every round's together;
# - evolve a new controller at τ = 1.15 in the new dream, and score it on the table's 100 real episodes.
#
# C still learns only in the dream: within a round, no real score chooses a controller. What the rounds did
# (measured with `scripts/takecover_training_seeds.py --fixed-policies`, its numbers printed below):
# - **Round 1 took the safe walls away.** In seed 1's new dream "always right" lives 115 steps (it was
#   2,078); in seed 2's, "always left" lives 187 (it was 1,953). The game gives 173 and 188. But the new
#   controllers scored only 303 and 273 in the game. Seed 1's still scored 1,624 in its dream: it had found
#   another weakness, one no constant policy shows.
# - **Round 2 closed the gap.** Seeds 1 and 2 scored 851 ± 413 and 771 ± 451, above 750, after 193,377 and
#   164,151 more real steps. Their data, at about 1.25 million frames each, is still below the paper's 10,000
#   random episodes (about 2 million).
# - **Seed 0**, solved without a round, kept its score after one (783 ± 445; it was 759) and lost it after
#   two: 177 ± 47 in the game, 471 in its dream. Each round draws a new M and a new controller, and a round can
#   make things worse.
#
# Read this with care. Seeds 1 and 2 got a second round because their first was scored below 750, on the
# same 100 episodes that report it: the paper's "repeat until solved", but a choice made on the evaluation
# episodes. Seed 0's second round was run afterwards, so that every seed has the same two rounds. Scored
# again on 100 fresh episodes that nothing else used (`eval-agent --seed 2000000`, in the README), the
# round-2 controllers gave 172 ± 52 (seed 0), 798 ± 420 and 667 ± 403: **546 ± 270 across the three seeds**,
# one of three above 750 (the table's episodes: 599 ± 301, two of three). Without rounds the same command gave
# 377 ± 270. Seed 2 fell from 771 to 667 on the fresh episodes (each 100-episode mean is uncertain by about
# ± 40): the reason to score a choice on episodes it was not made on. So iterating mended the two failed
# seeds and broke the one that worked: two fixed rounds do not make the recipe reliable either.
#
# **A third round, and when to stop.** Every seed then ran a third round, decided before any third round was
# scored. On the table's episodes it gave 652 (seed 0), 725 and 687: seed 0 came back from 177, and seeds 1 and
# 2 fell back from 851 and 771. No fixed number of rounds suits all three seeds. The paper's loop does not fix
# one: it runs until the task is solved, and telling when is itself a look at reality. Made on the episodes
# that report the score, that look picks the luckiest controller; so here it has episodes of its own.
# `--select 50` on the same command plays every round's controller (round 0 is the table's) for 50 held-out
# real episodes (seeds from 4,000,000), keeps the one that lives longest there, and plays only that one on
# 100 fresh episodes (seeds from 2,000,000). The rule was fixed before its first held-out episode. C still
# learns only in the dream; reality only says which round to keep.

# %%
for run in over_seeds["runs"]:
    print(takecover.describe_selection(run["seed"], run["selection"]))
kept = takecover.spreads_by_name(over_seeds)["chosen round"]
print(f"the kept rounds on fresh episodes: {kept['mean']:.0f} ± {kept['std']:.0f} across {len(kept['real_means'])} "
      f"training seeds; above {takecover.SOLVED:.0f} for {kept['solved']} of them")

# %% [markdown]
# Seed 0 kept round 1 and seeds 1 and 2 kept round 2: **762 ± 67 across the three seeds on fresh episodes,
# two of three above 750**, and the worst seed (667) survives three times as long as a random policy. Without
# rounds the same command gave 377 ± 270, one of three. The look cost 50 real episodes per controller, about
# 100,000 real steps per seed, less than most rounds collect. Two cautions. Seed 2's kept controller lived 796
# steps on the held-out episodes and 667 on the fresh ones: the best of four noisy means is biased up, which
# is why the kept round is scored again. And three seeds are few: the spread says the recipe with a held-out
# stop transfers on every seed tried, not how often it clears 750.

# %% [markdown]
# How dangerous is M's dream? Three policies that see nothing (always left, always stay, always right) die
# about as soon in the dream as in the game if the dream is as dangerous as the game. Measured now:

# %%
survival = takecover.fixed_policy_survival(M, starts, tau=1.15, dreams=8 if FAST else 32,
                                          real_episodes=4 if FAST else 10)
for row in survival:
    print(f"{row['policy']:13s} dream (tau 1.15) {row['dream_mean']:6.0f} ± {row['dream_std']:<5.0f} "
          f"real {row['real_mean']:6.0f} ± {row['real_std']:.0f}")

# %% [markdown]
# **Reading the measured table.** Two things to look for. First, the paper's cheating at low τ: a dream score
# near the 2,100 cap with a real score no better than random. Second, whether any temperature *transfers*: a
# real score well above the random policy's. The shipped run shows both, the paper's shape. At τ = 0.1 and
# 0.5 the dream is nearly always survived to the cap, and in reality the same controllers live little longer
# than the random policy. At τ = 1.0, 1.15 and 1.3 the controllers, which never saw a real frame while they
# were searched, survive several times longer than random, at or above the 750 that counts as solved.
#
# Read the spread too. One controller's survival varies by ± 400 steps from episode to episode, so the mean
# of 100 episodes is uncertain by about ± 43 steps (the standard deviation over $\sqrt{100}$): the τ = 1.15
# controller is *at* the threshold, not comfortably above it, and the ranking of τ = 1.0, 1.15 and 1.3 is
# within that noise. And it is one training run (one seed for the data, V, M and C): the other training
# seeds above show how much another run can differ. The paper's τ = 1.15 controller scored 1,092 ± 556
# with ten times the data and the paper's full training budget.
#
# **What made the dream honest.** A first run of this notebook (its numbers and command are in the README's
# results table) collected 1,000 episodes of a *new* random action every step and trained M on windows of
# 256 steps. Every τ's controller failed in reality (at best 246), and that M let a policy that always runs
# right live 2,050 steps in the dream against 173 in the game. Random play that changes its mind every step
# jitters around the middle of the room; M never saw the walls, so a controller that ran to one found a
# dream with no fireballs. The authors' published code draws a random action and *holds* it for 1 to 10
# steps (`rollouts.HoldPolicy`), which carries the agent across the room and against both walls. The shipped
# run used that policy for 3,000 episodes and trained M on windows of 512 steps (the paper's 500): the
# policies that see nothing above now die in the dream about as soon as in the game, and the table turned.
# Three things changed at once (the data policy, three times the episodes, longer windows); this run does
# not say which mattered most.

# %% [markdown]
# <details><summary><b>Question:</b> which column should you trust to choose τ, and why not the other? (click)</summary>
#
# The real one, measured on episodes the controller never trained on. The dream score is what C was
# optimised for: it says how well C exploits M, not how well it plays. In the paper the best dream scores
# (τ = 0.1 and 0.5) went with the worst real ones. Choosing τ by its real score is still choosing on the
# evaluation episodes, which is why a careful study would hold out a second set of real episodes for the
# final number.
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
# ## 4. One controller, in its dream and in reality
#
# Left: the real episode from section 2. Right: a dream of the same controller at its own τ, started from
# the code of the same first frame, decoded by V. In the dream every frame is M's imagination: fireballs
# appear, fly and hit only if M says so.

# %%
tau = details["tau"]
dream = agent.drive_dream(M, params, c_config, torch.as_tensor(real["z"][0]), tau=tau,
                          max_steps=real_steps, seed=SEED)
dream_frames = vae.decode_latents(V, dream["z"])
print(f"real: survived {len(real['rewards'])} steps; dream at tau = {tau:g}: survived {len(dream['rewards'])} steps")
anim = plots.animate_side_by_side({"real": real["frames"], f"dream, tau = {tau:g}": dream_frames},
                                  max_frames=40 if FAST else 150)
anim

# %% [markdown]
# M's done head, read along the **real** episode: the probability M gave to "the game ends now" at every
# step. A dream ends when it crosses 0.5. If it stays low right up to the real death, M did not see that
# fireball coming; if it fires long before, the dream kills C more eagerly than reality does.

# %%
plots.predicted_done_plot(real["predicted_done"])
plt.show()

# %% [markdown]
# ## 5. Cheating at low temperature: the fireballs that never come
#
# The controller evolved at τ = 0.1 lives in a tame dream. Below, its dream at τ = 0.1 and its real game, side
# by side, then its survival in many dreams at both temperatures: the same controller, the same M.

# %%
params01, c_config01, details01 = takecover.load_shipped_controller(0.1)
real01 = agent.drive_real(agent.WorldModelAgent(V, M, params01, c_config01), seed=settings["eval_seed"],
                          max_steps=real_steps, env_id=TAKE_COVER)
dream01 = agent.drive_dream(M, params01, c_config01, torch.as_tensor(real01["z"][0]), tau=0.1,
                            max_steps=real_steps, seed=SEED)
anim = plots.animate_side_by_side({"real": real01["frames"], "dream, tau = 0.1": vae.decode_latents(V, dream01["z"])},
                                  max_frames=40 if FAST else 150)
anim

# %%
dreams, dream_steps = (16, 300) if FAST else (64, TAKE_COVER_MAX_STEPS)
for t in (0.1, 1.15):
    lived = tau_sweep.dream_score(M, starts, params01, c_config01, t, dreams, dream_steps, seed=SEED)
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
# ## Self-check
# - [ ] I can name the three differences between Take Cover's world model and CarRacing's (z = 64, LSTM 512,
#       a done head and no reward head) and the one in C (it reads [z, h, c], one output read in thirds).
# - [ ] I can say what the dream "pays" when M has no reward head, and why that is Take Cover's real reward.
# - [ ] I read the measured temperature table and can compare it with the paper's, row by row.
# - [ ] I saw a dream at τ = 0.1 and can explain why its fireballs never come.
# - [ ] I know which numbers here were measured by this course and which are the paper's.
#
# ## Formulas used
# | what | formula |
# |---|---|
# | C's action | $a = \text{thirds}(\tanh(w \cdot [z, h, c] + b))$; thirds$(x) = -1$ if $x < -\frac13$, $+1$ if $x > \frac13$, else 0 |
# | C's size | $64 + 512 + 512 = 1{,}088$ weights $+ 1$ bias |
# | dream return | $\hat{R} = \min(T_\text{done}, 2100)$, $T_\text{done} = $ first $t$ with $\sigma(w_d \cdot h_t + b_d) > 0.5$ |
# | M's done loss | $-[10\, d_t \log p_t + (1 - d_t) \log(1 - p_t)]$ |
# | temperature | $\pi_k \propto \pi_k^{1/\tau}$, $\sigma \to \sigma \sqrt{\tau}$ |
#
# **Next:** notebook 06 takes the same recipe to CarRacing, puts the dream's controller in the real car beside its
# dream, and finds where the dream breaks and what mends it.
