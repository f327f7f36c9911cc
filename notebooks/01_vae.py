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
# # 01 · V: the variational autoencoder
#
# The agent of *World Models* never looks at raw pixels when it decides. Its eye, **V**, squeezes each 64×64
# colour frame (12,288 numbers) into a code $z$ of **32** numbers, and everything downstream (the memory M,
# the controller C, the dream) works with $z$. V is a *variational autoencoder* ([VAE](../docs/glossary.md#vae)).
# New terms (ELBO, KL divergence, free bits, reparameterisation) are in the [glossary](../docs/glossary.md).
#
# In this notebook you will
# 1. derive the VAE's loss, the **ELBO**, in five short steps, and see why it becomes
#    "squared error + β · KL";
# 2. see why drawing a random sample blocks gradients, and how $z = \mu + \sigma \epsilon$ fixes it;
# 3. write both formulas yourself, with a checker;
# 4. meet the paper's network (4,348,547 parameters) and watch a tiny one learn;
# 5. look at what a VAE trained on real CarRacing frames does with frames it never saw: reconstructions,
#    the β trade-off measured, sliders over every latent dimension, and a switch between latent sizes.
#
# Run the cells top to bottom (about a minute on a laptop CPU).

# %%
# The course's package, wmcourse. Missing here? Run `%pip install wmcourse-0.1.0-py3-none-any.whl` (see docs/install.md), then restart the kernel.
RETRAIN = False  # True: remake every shipped CarRacing model from scratch (about 45 minutes on a 2-core CPU)

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.distributions import Normal, kl_divergence

from wmcourse.lessons import n01_vae as lesson
from wmcourse import worldmodels
from wmcourse.shipped import catalogue as shipped

FAST = lesson.fast_mode()  # True under `make test`: a shorter demo run, same code
SEED = 0
torch.manual_seed(SEED)
if RETRAIN:
    # collect real rollouts, train the VAEs (the paper's z=32, four small ones, a beta sweep) and the MDN-RNN,
    # measure them on held-out episodes, and copy the results into data/
    lesson.run_command(shipped.MAKE_MODELS)
print("fast mode" if FAST else "full mode", "| artefacts from", lesson.data_dir())

# %% [markdown]
# ## The one-minute explanation
#
# 1. An **autoencoder** is two networks back to back. The *encoder* squeezes a picture into a few numbers,
#    the *code*; the *decoder* paints the picture again from the code. Train both so the painting matches
#    the original, and the code has to keep what matters.
# 2. A **variational** autoencoder makes the code fuzzy on purpose. The encoder does not give one point but
#    a small cloud (a mean and a spread for each number); the decoder must paint well from *any* point of
#    the cloud. So nearby codes mean similar pictures.
# 3. A second term in the loss, the **KL**, pulls every cloud towards one standard bell curve, $N(0, I)$.
#    The codes then fill a known region with no holes, and a code drawn at random decodes to something that
#    looks like the game. That is what lets M *dream* later.
#
# Loss = how badly the painting matches + β · how far the cloud strays from the bell curve.

# %% [markdown]
# ## An analogy: a dispatcher on a crackly radio
#
# A dispatcher (the **encoder**) watches the road and describes it to a sketch artist (the **decoder**)
# by setting 32 dials that are read out over the radio.
# - The radio **crackles**: the artist hears each dial a little off (the sampling noise). So the dispatcher
#   learns to use dial settings where "a bit off" still means "almost the same road": the code becomes smooth.
# - A supervisor (the **KL term**) charges the dispatcher for every dial moved away from its middle position
#   or heard more clearly than the standard crackle. A dial is worth moving only if it helps the artist.
#   Dials that never help stay at the middle: unused.
# - Once trained, anyone can set the dials at random and the artist draws a plausible road: the "dream".
#
# <details><summary><b>Question:</b> what would go wrong without the crackle and without the supervisor? (click)</summary>
#
# That is a plain autoencoder. Without noise, the dispatcher may use wildly different dial settings for two
# almost identical roads, and settings in between mean nothing. Without the supervisor, the codes can drift
# anywhere: there is no region you could draw a random code from and expect a road. Reconstructions may even
# be sharper, but the code space is useless for dreaming.
# </details>

# %% [markdown]
# ## The loss, derived in five short steps
#
# **The story the VAE tells about the data.** First draw a code from a standard bell curve,
# $z \sim p(z) = N(0, I)$; then the decoder $g_\theta$ paints a frame from it, $x \sim p_\theta(x \mid z)$.
# Training should make real frames likely: maximise $\log p_\theta(x) = \log \int p_\theta(x \mid z)\, p(z)\, dz$.
# That integral runs over every possible 32-number code, through a neural network: we cannot compute it.
# So bring in the encoder, $q_\phi(z \mid x) = N(\mu_\phi(x), \operatorname{diag} \sigma^2_\phi(x))$, a guess of
# which codes could have painted $x$.
#
# 1. Multiply and divide by $q$ inside the integral, which turns it into an average over $q$:
#    $$\log p_\theta(x) = \log \mathbb{E}_{z \sim q_\phi(z \mid x)}\left[\frac{p_\theta(x \mid z)\, p(z)}{q_\phi(z \mid x)}\right].$$
# 2. The log of an average is at least the average of the log (Jensen's inequality; log is concave):
#    $$\log p_\theta(x) \;\ge\; \mathbb{E}_{q}\left[\log p_\theta(x \mid z)\right] + \mathbb{E}_{q}\left[\log p(z) - \log q_\phi(z \mid x)\right].$$
# 3. The second average is minus a KL divergence. That gives the **evidence lower bound (ELBO)**:
#    $$\log p_\theta(x) \;\ge\; \underbrace{\mathbb{E}_{q_\phi(z \mid x)}\left[\log p_\theta(x \mid z)\right]}_{\text{reconstruction}} \;-\; \underbrace{\mathrm{KL}\left(q_\phi(z \mid x) \,\|\, p(z)\right)}_{\text{stay close to } N(0, I)}.$$
# 4. How loose is the bound? Exactly $\log p_\theta(x) - \text{ELBO} = \mathrm{KL}\left(q_\phi(z \mid x) \,\|\, p_\theta(z \mid x)\right) \ge 0$:
#    pushing the ELBO up both makes frames likely *and* makes the encoder's guess closer to the
#    [true posterior](../docs/glossary.md#true-posterior) $p_\theta(z \mid x)$, the distribution over codes that
#    Bayes' rule would give.
# 5. Let the decoder's output be a Gaussian around the painted frame, $p_\theta(x \mid z) = N(x;\, g_\theta(z),\, \sigma_x^2 I)$. Then
#    $$\log p_\theta(x \mid z) = -\frac{\lVert x - g_\theta(z) \rVert^2}{2 \sigma_x^2} + \text{const},$$
#    so maximising the ELBO is minimising the **squared error** plus a multiple of the KL. The authors' code
#    uses the summed squared error + KL, which is $\sigma_x^2 = 1/2$; any other $\sigma_x$ only changes the
#    weight of the KL (multiply the loss by $2\sigma_x^2$). Call that weight **β** $= 2\sigma_x^2$:
#    $$\mathcal{L}(x) = \mathbb{E}_{q_\phi(z \mid x)} \lVert x - g_\theta(z) \rVert^2 \;+\; \beta\, \mathrm{KL}\left(q_\phi(z \mid x) \,\|\, N(0, I)\right).$$

# %% [markdown]
# <details><summary><b>Question:</b> the reconstruction term is an average over all codes the encoder might pick. How does training compute it? (click)</summary>
#
# It does not, exactly: it draws **one** sample $z$ per frame and uses $\lVert x - g(z) \rVert^2$ for that sample.
# That estimate is unbiased, and over thousands of [minibatch](../docs/glossary.md#minibatch-and-epoch) steps
# (each gradient step uses a small random batch of frames) its noise averages out. The next sections
# show how to draw that sample so that gradients still flow.
# </details>

# %% [markdown]
# The bound in one picture (illustrative numbers): $\log p(x)$ is what we would like to maximise; the ELBO sits
# below it by exactly $\mathrm{KL}(q(z|x)\,\|\,p(z|x))$, the distance from the encoder's guess to the true
# posterior. Raising the ELBO either raises $\log p(x)$ or closes that gap; it never overshoots.

# %%
lesson.draw_elbo_gap()
plt.show()

# %% [markdown]
# ### The KL term in closed form
#
# Both distributions are Gaussian, so the KL needs no sampling. It is measured in
# [nats](../docs/glossary.md#nat), information counted with natural logarithms (1 nat ≈ 1.44 bits). For one
# dimension, $q = N(\mu, \sigma^2)$ and $p = N(0, 1)$:
#
# $$\log q(z) - \log p(z) = -\tfrac{1}{2}\log \sigma^2 - \frac{(z - \mu)^2}{2\sigma^2} + \frac{z^2}{2}.$$
#
# Average over $z \sim q$, using $\mathbb{E}[(z - \mu)^2] = \sigma^2$ and $\mathbb{E}[z^2] = \sigma^2 + \mu^2$:
#
# $$\mathrm{KL} = -\tfrac{1}{2}\log\sigma^2 - \tfrac{1}{2} + \tfrac{1}{2}(\sigma^2 + \mu^2) = -\tfrac{1}{2}\left(1 + \log\sigma^2 - \mu^2 - \sigma^2\right).$$
#
# The encoder outputs $\log \sigma^2$ (`logvar`) rather than $\sigma$: any real number is a valid log-variance,
# so the network needs no constraint to keep $\sigma$ positive. The 32 dimensions are independent, so their
# KLs add up. Compute it three ways: with the formula above, with `torch.distributions`, and as a brute-force
# average of $\log q(z) - \log p(z)$ over many samples.

# %%
mu = torch.tensor([0.0, 1.0, -2.0, 0.5])
logvar = torch.tensor([0.0, 0.0, -1.0, 1.5])
closed_form = worldmodels.vae.kl_divergence(mu, logvar)
q, p = Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)
by_torch = kl_divergence(q, p)
samples = q.sample((200_000,))
by_sampling = (q.log_prob(samples) - p.log_prob(samples)).mean(0)
for name, value in [("closed form", closed_form), ("torch.distributions", by_torch), ("200k samples", by_sampling)]:
    print(f"{name:>20s}:", np.round(value.numpy(), 3) + 0.0)  # + 0.0 turns -0.0 into 0.0

# %% [markdown]
# <details><summary><b>Question:</b> the first dimension has KL exactly 0. What does that say about the code? (click)</summary>
#
# $\mu = 0$ and $\sigma = 1$: the encoder's cloud *is* the standard bell curve, whatever the frame. A code drawn
# from it says nothing about $x$: the dimension carries zero information, and the decoder learns to ignore it.
# In general the KL is an **upper bound** on the information the code carries, not the information itself.
# Averaged over frames it splits exactly in two:
# $$\mathbb{E}_x\, \mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big) = I(x; z) + \mathrm{KL}\big(q(z) \,\|\, p(z)\big), \qquad q(z) = \mathbb{E}_x\, q(z \mid x),$$
# the mutual information between frame and code, plus how far the codes of all frames together, $q(z)$,
# stray from the prior. Both parts are never negative, so a KL of 0 does mean "no information", and a KL of
# 16 nats means "at most 16 nats". You will see unused dimensions in the trained model below.
# </details>

# %% [markdown]
# ## Why sampling blocks gradients, and the reparameterisation trick
#
# Training needs $\partial \mathcal{L} / \partial \mu$ and $\partial \mathcal{L} / \partial \sigma$, to improve
# the encoder. But a sample drawn from $N(\mu, \sigma^2)$ is just a number that came out of a random number
# generator: torch does not (cannot) say how it would change if $\mu$ moved.

# %%
mu = torch.tensor([0.5], requires_grad=True)
logvar = torch.tensor([-1.0], requires_grad=True)

z = Normal(mu, torch.exp(0.5 * logvar)).sample()
print("z drawn with .sample():", z, "| requires_grad:", z.requires_grad, "-> backward() cannot reach mu or logvar")

# %% [markdown]
# The fix: move the randomness *out of the way*. Draw the noise from a fixed distribution with no parameters,
# $\epsilon \sim N(0, I)$, and build the sample from it with ordinary arithmetic:
#
# $$z = \mu + \sigma \odot \epsilon, \qquad \sigma = \exp\left(\tfrac{1}{2} \log\sigma^2\right).$$
#
# $z$ has exactly the distribution $N(\mu, \sigma^2)$, and now $\partial z / \partial \mu = 1$ and
# $\partial z / \partial \sigma = \epsilon$. torch's `rsample()` ("reparameterised sample") draws this way: it
# draws $\epsilon$ itself and returns $\mu + \sigma\epsilon$ with the gradient path kept. Take a toy loss
# $L = (z - 2)^2$ and check that the gradients torch computes through `rsample()` are the ones the chain rule
# predicts (the noise it drew is $\epsilon = (z - \mu) / \sigma$):

# %%
torch.manual_seed(SEED)
sigma = torch.exp(0.5 * logvar)
z = Normal(mu, sigma).rsample()  # torch draws the noise and builds z from mu and sigma
eps = ((z - mu) / sigma).detach()  # the noise it drew
loss = (z - 2) ** 2
loss.backward()
dL_dz = 2 * (z - 2)
print(f"z drawn with .rsample(): {z.item():.3f} | requires_grad: {z.requires_grad}; L = {loss.item():.3f}")
print(f"dL/dmu     : torch {mu.grad.item():+.4f}   chain rule dL/dz * 1                  = {dL_dz.item():+.4f}")
print(f"dL/dlogvar : torch {logvar.grad.item():+.4f}   chain rule dL/dz * eps * sigma / 2  = "
      f"{(dL_dz * eps * sigma / 2).item():+.4f}")

# %% [markdown]
# The same trick as a picture: on the left the random draw sits on the path from the loss back to the
# encoder, and the gradient stops there; on the right the randomness $\epsilon$ enters from the side, as an
# input with no parameters, and the path through $z = \mu + \sigma\epsilon$ is plain arithmetic.

# %%
lesson.draw_reparameterisation()
plt.show()

# %% [markdown]
# <details><summary><b>Question:</b> is there any other way to get a gradient through a random sample? (click)</summary>
#
# Yes: the score-function (REINFORCE) estimator, $\nabla_\phi \mathbb{E}_q[f(z)] = \mathbb{E}_q[f(z)\, \nabla_\phi \log q_\phi(z)]$,
# works even for discrete $z$, but its variance is so high that it needs many samples or clever baselines. The
# reparameterisation trick uses the gradient of $f$ itself, which for a continuous $z$ is far less noisy. (Dreamer,
# notebook 08, uses discrete codes and a third way: straight-through gradients.)
# </details>

# %% [markdown]
# ## Exercises
# **1.** Write the reparameterisation. `eps` is given (same shape as `mu`), so your function draws no noise of its own.

# %%
def reparameterize(mu, logvar, eps):
    """z = mu + sigma * eps, where logvar = log sigma^2."""
    return ...  # your code: torch operations only


lesson.reparameterization.check(reparameterize)

# %% [markdown]
# **2.** Write the KL of $N(\mu, \sigma^2)$ from $N(0, 1)$ for every latent dimension (or summed over the last axis).

# %%
def kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, 1)), in nats."""
    return ...  # your code


lesson.kl_term.check(kl)

# %%
# Stuck? Uncomment one of these:
# lesson.reparameterization.hint()
# lesson.kl_term.solution()

# %% [markdown]
# ## The paper's network
#
# A [convolution](../docs/glossary.md#convolution-stride-transposed-convolution) slides a small filter (here
# 4×4 pixels) over the image and outputs one number per position and filter; with **stride** 2 it moves two
# pixels at a time, so each layer halves the width and height. Four convolutions (32, 64, 128, 256 filters,
# kernel 4, stride 2) shrink the 64×64×3 frame to 2×2×256 = 1,024 numbers; two dense layers turn those into
# $\mu$ and $\log\sigma^2$, 32 each. The decoder mirrors it: a dense layer to 1,024 numbers, seen as a 1×1 image
# with 1,024 channels, then four **transposed convolutions** (the reverse: each input number paints a
# filter-sized patch of the output, the patches spaced by the stride, so the image grows; kernels 5, 5, 6, 6)
# grow it back to 64×64×3, with a sigmoid so every pixel lies in [0, 1].

# %%
model = worldmodels.vae.ConvVAE(worldmodels.vae.VAEConfig())  # the paper's CarRacing settings: z = 32
lesson.draw_architecture(lesson.vae_layers(model.config.z_size), "V: the paper's convolutional VAE (z = 32)")
plt.show()
print(f"\nparameters: {lesson.count_parameters(model):,}  (the paper: 4,348,547)")

x = torch.zeros(1, 3, 64, 64)
shapes = [f"frame {tuple(x.shape[1:])}"]
for layer in model.encoder:
    x = layer(x)
    if not isinstance(layer, torch.nn.ReLU):
        shapes.append(f"{type(layer).__name__} {tuple(x.shape[1:])}")
print("\nencoder: " + " -> ".join(shapes) + f" -> mu, logvar ({model.config.z_size},) each")
x = model.fc_decode(torch.zeros(1, model.config.z_size))[:, :, None, None]
shapes = [f"z ({model.config.z_size},) -> dense {tuple(x.shape[1:])}"]
for layer in model.decoder:
    x = layer(x)
    if isinstance(layer, torch.nn.ConvTranspose2d):
        shapes.append(f"{tuple(x.shape[1:])}")
print("decoder: " + " -> ".join(shapes))

# %% [markdown]
# ### Free bits: 16 nats per frame that cost nothing
#
# ([Free bits](../docs/glossary.md#free-bits) in the glossary.) The authors' code does not use the KL as it is. It floors the **total** KL of each frame, summed over its 32
# dimensions, at `kl_tolerance` × `z_size` = 0.5 × 32 = **16 nats**:
#
# $$\mathcal{L} = \lVert x - g(z) \rVert^2 + \beta \max\left(\textstyle\sum_j \mathrm{KL}_j,\; 0.5 \cdot 32\right).$$
#
# The floor is on the sum, not on each dimension: one dimension may carry 5 nats and another none, and
# nothing in the loss cares how the 16 nats are spread. (The 0.5 is only how the authors' code writes the
# floor, `kl_tolerance` times the number of dimensions.) Every shipped VAE that uses free bits was trained with
# exactly this loss (`wmcourse.worldmodels.vae.elbo_loss`).
#
# Below the floor the KL term is a constant, so its gradient is **zero**: the encoder may store up to 16 nats
# (about 23 bits) per frame without paying anything. Why? Early in training the
# decoder is still useless, so the cheapest way to lower the loss is to make every code equal to the prior
# (KL = 0) and let the decoder paint the average frame. Codes that collapse like that may never recover
# ("posterior collapse"). With the floor, there is no pull towards the prior until the codes carry real
# information. See the zero gradient for yourself:

# %%
mu = torch.full((1, 32), 0.3, requires_grad=True)
logvar = torch.zeros(1, 32, requires_grad=True)
kl_frame = worldmodels.vae.kl_divergence(mu, logvar).sum(dim=1)
floored = torch.clamp(kl_frame, min=0.5 * 32)
floored.sum().backward()
side = "below" if kl_frame.item() < 0.5 * 32 else "above"
print(f"KL of this frame: {kl_frame.item():.2f} nats, {side} the floor of 16: the term contributes {floored.item():.2f}")
pull = mu.grad.abs().max().item()
print("gradient on mu from the KL term:", pull, "(no pull towards the prior)" if pull == 0 else "(a pull towards the prior)")

# %% [markdown]
# ## Watch one learn (a tiny run)
#
# `wmcourse.worldmodels.train_vae.train_vae` is the training loop behind every shipped model:
# [Adam](../docs/glossary.md#adam) (gradient descent with a step size adapted to each parameter), minibatches,
# the loss above, a checkpoint you can resume. Here it trains a quarter-width VAE for a few steps on a few hundred frames, only
# to see the loss fall, and throws it away. (The shipped models trained on tens of thousands of real frames;
# the flag in the first cell retrains them.)

# %%
demo_steps = 30 if FAST else 80
demo_frames = shipped.load_heldout_frames(max_frames=300)
demo_config = worldmodels.vae.VAEConfig(width=0.25, batch_size=32, lr=1e-3)
history = worldmodels.train_vae.train_vae(demo_frames, demo_config, steps=demo_steps, seed=SEED, device="cpu")
print(f"{lesson.count_parameters(worldmodels.vae.ConvVAE(demo_config)):,} parameters; loss {history['loss'][0]:.0f} -> "
      f"{history['loss'][-1]:.0f} after {demo_steps} steps")
lesson.training_curve(history, f"A quarter-width VAE, {demo_steps} steps on {len(demo_frames)} frames")
plt.show()

# %% [markdown]
# Two KL curves: the **raw** KL of the codes (dashed) and the KL **in the loss**, after the floor (solid).
# While the raw KL is below 16 the floored one is flat at 16: the young codes carry less than the free 16
# nats, so the KL term costs a constant and exerts no pull. Nearly all the learning is in the reconstruction
# term, and the raw KL grows freely until it reaches the floor.

# %% [markdown]
# ## The real thing: a VAE trained on CarRacing
#
# The shipped model is the paper's network, trained on real CarRacing frames. The frames below come from
# **held-out** episodes: the VAE never saw them. Top row: the frame; bottom row: $g(\mu(x))$, the decoding of
# the centre of its cloud.
#
# **What it was trained on, and why that matters.** Not the paper's data. The paper collected 10,000 rollouts
# with a random policy (the authors' code drove them with a randomly initialised controller). The shipped V
# saw **64 episodes** of two scripted drivers, taking turns: a noisy lane follower that steers towards the grey road ahead, and a smooth random walk that often
# leaves the road for the grass. The lane follower is not what the paper did; it is there so that V sees the
# road along whole tracks, which a random driver rarely reaches. This is the lesson of the whole course in
# miniature: **a model knows only what its data covers.** V rebuilds road and grass well because both drivers
# showed it plenty of them; a frame that neither driver produced (a spin at high speed, the car far off the
# track) is one V has never been asked to rebuild. Notebooks 06 and 07 measure what that costs when a
# controller goes where the data did not.
#
# <details><summary>How this was measured</summary>
#
# Training data: 64 real CarRacing-v3 episodes (63,598 frames) collected with seed 0 in four shards of 16
# episodes, the drivers alternating (`wmcourse.real.rollouts`, policy `mix`); V trained 3 epochs on them (an
# epoch is one pass over every training frame; the paper's appendix trained V for 1 epoch on its 10,000
# rollouts; the authors' code runs 10). Held-out data: 4
# more episodes of the same drivers collected with seed 1 (4,000 frames, shipped in `data/carracing_heldout`);
# the error and KL printed below are means over all 4,000. The commands, dates and measured figures of every
# shipped model are in `data/manifest.json` (made by `bash scripts/train_carracing_models.sh`, the flag in the
# first cell), and the course's measured results are collected in the [results appendix](../docs/results.md).
# </details>

# %%
v = shipped.load_shipped_vae(z=32)
results = shipped.load_vae_results()
paper = shipped.shipped_result(results, z=32)
frames = shipped.pick_heldout_frames(n=8)
reconstructions = worldmodels.vae.reconstruct(v, frames)
lesson.reconstruction_grid(frames, reconstructions, suptitle="Held-out CarRacing frames and their reconstructions (z = 32)")
plt.show()
print(f"{lesson.count_parameters(v):,} parameters; measured on {paper['frames']:,} held-out frames: "
      f"MSE {paper['mse_per_pixel']:.4f} per pixel value (in [0, 1] units), KL {paper['kl_nats_per_frame']:.1f} nats per frame")

# %% [markdown]
# Look at what survives the squeeze to 32 numbers: where the road runs and how it bends, the car. What gets
# lost is detail: the red and white kerbs, the lighter squares of grass, the sharpest bends. That blur is the
# squared error at work: when unsure, the best guess under $\lVert x - g \rVert^2$ is the average of the
# possibilities.
#
# A VAE is also a **generator**: draw codes from the prior $N(0, I)$ and decode them. These frames never existed:

# %%
prior_codes = torch.randn(8, v.config.z_size, generator=torch.Generator().manual_seed(SEED))
lesson.show_frames(list(worldmodels.vae.decode_latents(v, prior_codes)), [f"z ~ N(0, I) #{i}" for i in range(8)], size=1.6,
                  suptitle="Decoded random codes: what V imagines")
plt.show()

# %% [markdown]
# Most look like a piece of track seen from above; some are odd blends, codes that no real frame would be
# encoded to. Keep that in mind for the dreams of notebook 03.

# %% [markdown]
# <details><summary><b>Question:</b> why does it matter for World Models that random codes decode to plausible frames? (click)</summary>
#
# Because M will *generate* codes: in a dream, M samples $z_{t+1}$ and C reacts to it without any real frame
# behind it. If the code space had holes, the dream would wander into codes that mean nothing, and the
# controller would learn to react to nonsense. The KL term is what fills the space.
# </details>

# %% [markdown]
# ## The β trade-off, measured
#
# β sets the exchange rate between the two terms. The models below are the same half-width network trained on
# the same frames for the same number of steps, **without** free bits, with β = 0.25, 1, 4; each point is
# measured on the held-out frames: how much the code carries (KL, nats per frame) against how well the frame
# comes back (MSE per pixel value).
#
# <details><summary>How this was measured</summary>
#
# Three half-width VAEs (about 1.1 million parameters each), z = 32, each trained 1 epoch on the same 64
# training episodes with seed 0, with the plain KL term (no floor) times β; each scored on the 4,000 held-out
# frames. One run per β. Commands in `data/manifest.json`; results in the
# [results appendix](../docs/results.md), section "VAE".
# </details>

# %%
sweep = shipped.beta_sweep_results(results)
for r in sweep:
    print(f"beta {r['beta']:>5g}: KL {r['kl_nats_per_frame']:7.2f} nats/frame   MSE {r['mse_per_pixel']:.5f}")
lesson.beta_tradeoff(sweep)
plt.show()

# %% [markdown]
# Large β makes information expensive: the codes carry fewer nats and the reconstructions get worse (more blur,
# then only the average frame). Small β buys sharper reconstructions with codes that stray further from the
# prior. This is a *rate-distortion* curve: rate is the KL, distortion the error.
#
# <details><summary><b>Question:</b> which β would you want for World Models, and what does free bits do to this picture? (click)</summary>
#
# The authors' code uses β = 1 with the 16-nat floor. The controller can only steer by what $z$ keeps (where the road
# is, how it curves, where the car is), so β must not be so large that the road blurs away. But M has to model
# and sample $z$, which is easier when the codes stay regular, close to the prior. Free bits splits the
# difference: the first 16 nats per frame are free, so the codes always keep some information, and only beyond
# that does β = 1 push back.
# </details>

# %% [markdown]
# ## Inside the code: one slider per latent dimension
#
# Which of the 32 numbers does the trained VAE actually use? The mean KL of each dimension over held-out frames
# tells: a dimension near 0 carries nothing (its cloud is the prior whatever the frame).

# %%
kl_dims = worldmodels.probes.kl_per_dimension(v, shipped.load_heldout_frames(max_frames=600 if FAST else 2000))
lesson.kl_per_dimension_bars(kl_dims)
plt.show()
active = np.argsort(-kl_dims)
print(f"total: {kl_dims.sum():.1f} nats per frame (the free-bits floor, on this total: 0.5 x 32 = 16); "
      f"{(kl_dims > 0.1).sum()} of 32 dimensions carry more than 0.1 nats")
print("dimensions by information, most first:", active[:10].tolist(), "...")

# %% [markdown]
# <details><summary><b>Question:</b> compare the total with the floor. What does that tell you about how the encoder spends its information? (click)</summary>
#
# Below 16 nats per frame the KL is free; above it, each extra nat must buy at least as much in squared error.
# The shipped model sits close to the floor: it takes what is free and little more. And it spends those nats
# on a dozen or so dimensions rather than spreading them thinly: a dimension either carries a useful amount
# (a nat or more) or is left at the prior and ignored by the decoder. Nothing asks each dimension for 0.5
# nats: the floor is on the total, so the encoder is free to concentrate. The unused dimensions are spare
# capacity; the smaller VAEs below show how much of it was needed.
# </details>

# %% [markdown]
# **Latent traversal:** start from the code $\mu(x)$ of one real held-out frame, move one dimension at a time
# from -3 to +3 (the range the prior covers), and decode. The most informative dimensions first:

# %%
start_frame = frames[3]
start_code = worldmodels.vae.encode_frames(v, start_frame[None])[0][0]
lesson.traversal_figure(v, start_code, dims=active[:5].tolist(), values=np.linspace(-3, 3, 7), kl=kl_dims)
plt.show()

# %% [markdown]
# Now drive it yourself. Each slider is one dimension of $z$ (sorted by KL, the number in brackets); the right
# image is decoded live. Try the top sliders first, then the last ones, which should do almost nothing.
# "random code" draws $z \sim N(0, I)$: a frame the VAE imagines.

# %%
traversal = lesson.LatentTraversal(v, start_frame, kl=kl_dims)
traversal

# %% [markdown]
# <details><summary><b>Question:</b> does each slider have one clear meaning ("the curve of the road", "the car's angle")? (click)</summary>
#
# Rarely. Nothing in the loss asks the dimensions to line up with things a human would name; the KL only asks
# the code as a whole to look like $N(0, I)$, and any rotation of $N(0, I)$ looks the same. Some dimensions
# happen to move one thing (the road bending, grass appearing at a side), others mix several. Larger β pushes
# towards more separated factors (the idea of β-VAE), at the price of blur. For World Models the meaning does
# not matter: M and C only need the information to be *in* $z$.
# </details>

# %% [markdown]
# ## How many numbers does $z$ need?
#
# Four smaller VAEs (half width, the same training) differ only in the size of $z$: 4, 8, 16 or 32 numbers.
# Switch between them: each shows its reconstructions of the same held-out frames and its held-out error,
# measured on every held-out frame.
#
# <details><summary>How this was measured</summary>
#
# Four half-width VAEs with free bits (β = 1, each frame's total KL floored at half a nat times the size of
# $z$), each trained 2 epochs on the same 64 training episodes with seed 0, one run per size; each scored on the
# 4,000 held-out frames. Commands in `data/manifest.json`; results in the
# [results appendix](../docs/results.md), section "VAE".
# </details>

# %%
small_results = shipped.latent_size_results(results)
small_models = {z: shipped.load_shipped_vae(z=z, small=True) for z in shipped.LATENT_SIZES}
switch = lesson.LatentSizeSwitch(small_models, frames[:6], small_results)
switch

# %%
lesson.latent_size_errors(small_results)
plt.show()
for z, r in small_results.items():
    print(f"z = {z:2d}: MSE {r['mse_per_pixel']:.5f} per pixel value, KL {r['kl_nats_per_frame']:5.1f} nats per frame")

# %% [markdown]
# <details><summary><b>Question:</b> the paper picked 32 for CarRacing and 64 for VizDoom. What do the measured errors say about 32 here, and what would 64 cost? (click)</summary>
#
# Read the numbers above: the error falls from 4 to 8 to 16, and then **rises** again at 32 (z = 16: 0.00306,
# z = 32: 0.00328 per pixel value). On this data, at this width and this short training, **z = 16 beats
# z = 32**; 32 buys nothing that the held-out error can see. (One training run per size: a gap this small
# could shrink or flip with other seeds or longer training, but it gives no support for "more is better".)
# With 4 numbers the VAE keeps only the coarsest layout, roughly where the road is; the exact curve ahead and
# the car's position relative to the kerb, which a driver needs, blur away. Each extra number is one more
# that M must learn to predict (with 5 Gaussians per dimension) and C must read, and past the point where the
# frames' detail is captured, extra dimensions go unused (KL near 0), as the bar chart of the z = 32 model
# shows. The paper chose 32 and 64 without reporting such a comparison; VizDoom's frames have more going on
# (walls, several fireballs).
# </details>

# %% [markdown]
# ## Open questions
# Two experiments to run yourself: change one setting, re-run the cell, and look.
#
# **What happens at the free-bits floor?** In the cell of "Free bits" that shows the zero gradient, change the
# `0.3` in `mu = torch.full((1, 32), 0.3, ...)` to `1.5` and re-run it. Before you do, predict from the KL
# formula: at what value of $\mu$ (with $\log\sigma^2 = 0$ in all 32 dimensions) does this frame's KL reach
# the 16-nat floor?
#
# <details><summary>Hint</summary>
#
# With $\sigma = 1$ each dimension's KL is $\mu^2 / 2$, so the frame's is $32 \cdot \mu^2 / 2 = 16\mu^2$: the
# floor is reached at $\mu = 1$. At 1.5 the KL is above the floor, so you should see the KL term contribute
# its real value and a gradient on `mu` that is no longer 0: from there on the term pulls the code back
# towards the prior.
# </details>
#
# **What happens without free bits?** In the cell of "Watch one learn", add `kl_tolerance=0.0` to
# `vae.VAEConfig(...)` and re-run it (seconds to a minute). Compare the two KL curves with the run you had.
#
# <details><summary>Hint</summary>
#
# With no floor the KL in the loss *is* the raw KL, so you should see the two curves lie on top of each
# other. Does the raw KL still climb as high in the same number of steps, now that every nat costs from the
# first step? A short run on a few hundred frames is one draw: try another `SEED` before you believe a
# difference.
# </details>

# %% [markdown]
# ## Self-check
# - [ ] I can derive the ELBO from $\log p(x)$ in a few lines, and say what the gap is.
# - [ ] I know why a Gaussian decoder turns the reconstruction term into a squared error, and where β comes from.
# - [ ] I can write the KL of $N(\mu, \sigma^2)$ from $N(0, 1)$ from memory, and know when it is zero.
# - [ ] I can explain why `.sample()` blocks gradients and why $z = \mu + \sigma \epsilon$ does not.
# - [ ] I know what free bits does (a 16-nat floor on each frame's *total* KL, not on each dimension) and why the authors' code uses it.
# - [ ] I know that the KL bounds the information in the code from above, and what else it contains.
# - [ ] I know what V was trained on here (64 episodes of two scripted drivers, not the paper's 10,000 rollouts) and why coverage matters.
# - [ ] I have seen what β and the size of $z$ do to real reconstructions, measured on held-out frames.

# %% [markdown]
# ## Formulas used
# | what | formula |
# |---|---|
# | ELBO | $\log p(x) \ge \mathbb{E}_{q(z \mid x)}[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))$ |
# | gap of the bound | $\log p(x) - \text{ELBO} = \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$ |
# | Gaussian decoder | $-\log p(x \mid z) = \lVert x - g(z) \rVert^2 / (2\sigma_x^2) + \text{const}$ |
# | loss | $\mathcal{L} = \lVert x - g(z) \rVert^2 + \beta \max(\sum_j \mathrm{KL}_j,\; 0.5 \cdot z_\text{size})$ |
# | KL to $N(0, 1)$ | $\mathrm{KL}_j = -\tfrac{1}{2}(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2)$ |
# | KL and information | $\mathbb{E}_x \mathrm{KL}(q(z \mid x) \,\|\, p(z)) = I(x; z) + \mathrm{KL}(q(z) \,\|\, p(z)) \ge I(x; z)$ |
# | reparameterisation | $z = \mu + \sigma \odot \epsilon$, $\sigma = \exp(\tfrac{1}{2}\log\sigma^2)$, $\epsilon \sim N(0, I)$ |
# | held-out error | MSE per pixel value $= \frac{1}{N \cdot 12288} \sum \lVert x - g(\mu(x)) \rVert^2$ |
#
# **What to remember:** V's loss is squared error plus β times a KL that keeps codes near $N(0, I)$; the
# reparameterisation $z = \mu + \sigma\epsilon$ lets gradients through the sample; and V knows only the frames
# its data showed it.
#
# **Next:** notebook 02 builds M, the mixture density network that predicts the next $z$.
