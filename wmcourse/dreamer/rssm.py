"""The RSSM, Dreamer's world model: a deterministic memory h and a stochastic, discrete state z.

    h_t = GRU(h_{t-1}, [z_{t-1}, a_{t-1}])     deterministic path: what happened stays remembered
                                               (the course's convention everywhere: h_{t+1} = f(h_t, z_t, a_t))
    p(z_t | h_t)                               prior: the guess before seeing x_t (all that imagination has)
    q(z_t | h_t, x_t)                          posterior: the guess after seeing x_t (used on real data)
    s_t = [h_t, z_t]                           the model state every head and the actor read

z is G groups of a K-way categorical (DreamerV3: 32 x 32; CartPole needs far less, 8 x 8 here), each group
mixed with 1% uniform noise so no class ever has probability 0 (the KL stays finite), sampled as a one-hot
vector with straight-through gradients:

    z = onehot(sample) + probs - sg(probs)     forward: exactly the one-hot; backward: d z / d probs = 1

Straight-through is a biased estimate: for a loss f, its expected gradient sum_k p_k f'(e_k) . dp/dlogits
differs from the exact gradient d/dlogits sum_k p_k f(e_k) unless f is linear (`straight_through_bias`).

The loss on a sequence of real steps (DreamerV3's, with its scales):

    L = L_pred + 0.5 * max(1, KL[sg(q) || p]) + 0.1 * max(1, KL[q || sg(p)])
    L_pred = ||dec(s_t) - symlog(x_t)||^2 + (rew(s_t) - symlog(r_t))^2 - log P(cont_t | s_t)

The first KL term ("dynamics") trains only the prior towards the posterior; the second ("representation")
trains only the posterior, five times more gently, towards the prior. Each is clipped below at 1 nat
(free bits): once the two agree to within a nat, nothing pushes them closer. symlog(x) = sign(x) ln(|x| + 1)
squashes large targets so one scale of loss fits every task; symexp is its inverse.

Time convention (as in DreamerV3): step t holds x_t, the reward r_t received on arriving at x_t, whether
x_t is the first of an episode (is_first) and whether it is terminal (is_terminal); a_{t-1} is the action
that led to it (zeros on a first step). On is_first the state (h, z, a) is reset to zeros.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import OneHotCategorical

from ..errors import SettingsError, ShapeError
from ..worldmodels.mdn import sample_component

# --- symlog ----------------------------------------------------------------------------------------------

def symlog(x: Tensor) -> Tensor:
    """symlog(x) = sign(x) * ln(|x| + 1): the identity near 0, a logarithm far from it, odd, and invertible."""
    return torch.sign(x) * torch.log1p(torch.abs(x))


def symexp(x: Tensor) -> Tensor:
    """symexp(x) = sign(x) * (exp(|x|) - 1), the inverse of symlog."""
    return torch.sign(x) * torch.expm1(torch.abs(x))


# --- discrete latents with straight-through gradients ------------------------------------------------------

def unimix_logits(logits: Tensor, unimix: float = 0.01) -> Tensor:
    """Log of (1 - unimix) * softmax(logits) + unimix / K over the last axis (K classes).

    DreamerV3 mixes 1% of a uniform distribution into every categorical, so no class has probability 0 and
    KL divergences between prior and posterior can never be infinite."""
    if not 0.0 <= unimix < 1.0:
        raise SettingsError(f"unimix must be in [0, 1), got {unimix}.")
    if unimix == 0.0:
        return torch.log_softmax(logits, dim=-1)
    probs = (1.0 - unimix) * torch.softmax(logits, dim=-1) + unimix / logits.shape[-1]
    return torch.log(probs)


def straight_through(one_hot: Tensor, probs: Tensor) -> Tensor:
    """one_hot + (probs - sg(probs)): the value of `one_hot`, the gradient of `probs`.

    Forward, probs - sg(probs) is exactly zero, so the result is the discrete sample (the brackets matter:
    (one_hot + probs) - probs would round 1 to 0.99999994 in float32). Backward, one_hot and sg(probs) are
    constants, so d result / d probs is the identity: the gradient flows as if the network had output the
    probabilities themselves (a biased but low-variance estimate)."""
    if one_hot.shape != probs.shape:
        raise ShapeError(f"one_hot and probs must have the same shape, got {tuple(one_hot.shape)} and "
                         f"{tuple(probs.shape)}.")
    return one_hot + (probs - probs.detach())


def sample_one_hot(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """A one-hot draw from softmax(logits) over the last axis, as OneHotCategorical(logits=logits).sample()
    (mdn.sample_component's inverse-CDF draw, which accepts a generator)."""
    index = sample_component(logits.detach(), 1.0, generator).unsqueeze(-1)
    return torch.zeros_like(logits).scatter_(-1, index, 1.0)


def sample_straight_through(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """A one-hot sample of softmax(logits) whose gradient is that of the probabilities (see straight_through)."""
    return straight_through(sample_one_hot(logits, generator), torch.softmax(logits, dim=-1))


def straight_through_bias(logits: Tensor, loss) -> tuple[Tensor, Tensor]:
    """The exact gradient and the straight-through gradient in expectation, for one categorical, by enumeration.

    logits (K,); loss: a function of a K-vector z returning a scalar. Both are computed exactly, summing over
    the K classes instead of sampling:

        exact = d/dlogits  sum_k p_k loss(e_k)                          (the gradient of the expected loss)
        st    = sum_k p_k  [d loss(z)/dz at z = e_k] . d p / d logits   (what straight-through gives on average)

    They agree when the loss is linear in z; for any other loss straight-through is biased. Returns (exact, st).
    """
    if logits.dim() != 1:
        raise ShapeError(f"Expected the logits of one categorical, shape (K,), got {tuple(logits.shape)}.")
    logits = logits.detach().clone().requires_grad_(True)
    probs = torch.softmax(logits, dim=-1)
    eye = torch.eye(logits.shape[0], dtype=logits.dtype)
    values = torch.stack([torch.as_tensor(loss(e)).reshape(()) for e in eye])
    exact = torch.autograd.grad((probs * values).sum(), logits, retain_graph=True)[0]
    st = torch.zeros_like(exact)
    for k, e in enumerate(eye):
        z = straight_through(e, probs)
        st = st + probs[k].detach() * torch.autograd.grad(loss(z), logits, retain_graph=True)[0]
    return exact, st


def categorical_kl(logits_q: Tensor, logits_p: Tensor) -> Tensor:
    """KL[q || p] of G independent K-way categoricals, summed over the groups: (..., G, K) -> (...).

    KL[q || p] = sum_g sum_k q_gk (log q_gk - log p_gk)."""
    log_q = torch.log_softmax(logits_q, dim=-1)
    log_p = torch.log_softmax(logits_p, dim=-1)
    return (log_q.exp() * (log_q - log_p)).sum(dim=(-2, -1))


def library_kl(logits_q: Tensor, logits_p: Tensor) -> Tensor:
    """The same KL through torch.distributions (the check on categorical_kl)."""
    from torch.distributions import kl_divergence

    return kl_divergence(OneHotCategorical(logits=logits_q), OneHotCategorical(logits=logits_p)).sum(-1)


class KLTerms(NamedTuple):
    loss: Tensor  # dyn_scale * dyn + rep_scale * rep, averaged over the batch
    dyn: Tensor   # max(free, KL[sg(q) || p]) per step: trains the prior
    rep: Tensor   # max(free, KL[q || sg(p)]) per step: trains the posterior
    kl: Tensor    # KL[q || p] per step, unclipped, for the record


def kl_balanced_loss(post_logits: Tensor, prior_logits: Tensor, dyn_scale: float = 0.5, rep_scale: float = 0.1,
                     free_nats: float = 1.0) -> KLTerms:
    """DreamerV3's balanced KL with free bits, for logits of shape (..., G, K):

        loss = dyn_scale * max(free, KL[sg(q) || p]) + rep_scale * max(free, KL[q || sg(p)])

    sg() stops the gradient, so the first term moves only the prior p and the second only the posterior q.
    Both are the same number; only where the gradient goes differs. Below `free_nats` a term is flat (its
    gradient is zero): the free bits."""
    if post_logits.shape != prior_logits.shape or post_logits.dim() < 2:
        raise ShapeError(f"Expected posterior and prior logits of the same shape (..., groups, classes), got "
                         f"{tuple(post_logits.shape)} and {tuple(prior_logits.shape)}.")
    dyn = categorical_kl(post_logits.detach(), prior_logits).clamp_min(free_nats)
    rep = categorical_kl(post_logits, prior_logits.detach()).clamp_min(free_nats)
    with torch.no_grad():
        kl = categorical_kl(post_logits, prior_logits)
    return KLTerms((dyn_scale * dyn + rep_scale * rep).mean(), dyn, rep, kl)


# --- the model -----------------------------------------------------------------------------------------

@dataclass
class RSSMConfig:
    obs_size: int = 4          # CartPole's state
    action_size: int = 2       # one-hot discrete actions
    deter: int = 64            # h, the GRU's size (DreamerV3's smallest model: 512)
    groups: int = 8            # z: groups of categoricals (DreamerV3: 32)
    classes: int = 8           # classes per group (DreamerV3: 32)
    hidden: int = 64           # width of every MLP
    embed: int = 32            # size of the encoder's output
    unimix: float = 0.01       # uniform mix in every categorical
    dyn_scale: float = 0.5
    rep_scale: float = 0.1
    free_nats: float = 1.0

    @property
    def stoch(self) -> int:
        return self.groups * self.classes

    @property
    def feat(self) -> int:
        return self.deter + self.stoch


def mlp(inp: int, out: int, hidden: int, layers: int = 2) -> nn.Sequential:
    """`layers` hidden layers of Linear -> LayerNorm -> SiLU (DreamerV3's block), then a linear output."""
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(inp if i == 0 else hidden, hidden), nn.LayerNorm(hidden), nn.SiLU()]
    mods.append(nn.Linear(hidden if layers else inp, out))
    return nn.Sequential(*mods)


class State(NamedTuple):
    h: Tensor  # (B, deter)
    z: Tensor  # (B, groups * classes), one-hot per group


class Observed(NamedTuple):
    """What `observe` returns for a (B, T) batch."""

    h: Tensor             # (B, T, deter)
    z: Tensor             # (B, T, stoch), posterior samples
    post_logits: Tensor   # (B, T, G, K)
    prior_logits: Tensor  # (B, T, G, K)
    last: State           # the state after the last step (to carry on from)


class RSSM(nn.Module):
    """The recurrent state-space model with its encoder and decoder of the state and its reward and continue heads."""

    def __init__(self, config: RSSMConfig | None = None):
        super().__init__()
        c = self.config = config or RSSMConfig()
        self.encoder = mlp(c.obs_size, c.embed, c.hidden)
        self.img_in = nn.Sequential(nn.Linear(c.stoch + c.action_size, c.hidden), nn.LayerNorm(c.hidden), nn.SiLU())
        self.gru = nn.GRUCell(c.hidden, c.deter)
        self.prior_net = mlp(c.deter, c.stoch, c.hidden, layers=1)
        self.post_net = mlp(c.deter + c.embed, c.stoch, c.hidden, layers=1)
        self.decoder = mlp(c.feat, c.obs_size, c.hidden)
        self.reward_head = mlp(c.feat, 1, c.hidden)
        self.cont_head = mlp(c.feat, 1, c.hidden)

    # state bookkeeping
    def initial(self, batch: int) -> State:
        p = next(self.parameters())
        return State(p.new_zeros(batch, self.config.deter), p.new_zeros(batch, self.config.stoch))

    def _logits(self, flat: Tensor) -> Tensor:
        c = self.config
        return unimix_logits(flat.reshape(*flat.shape[:-1], c.groups, c.classes), c.unimix)

    def prior_logits(self, h: Tensor) -> Tensor:
        """p(z_t | h_t) as logits (..., G, K), 1% uniform mixed in."""
        return self._logits(self.prior_net(h))

    def post_logits(self, h: Tensor, embed: Tensor) -> Tensor:
        """q(z_t | h_t, x_t) as logits (..., G, K), 1% uniform mixed in."""
        return self._logits(self.post_net(torch.cat([h, embed], -1)))

    def sample(self, logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Straight-through one-hot sample of (..., G, K) logits, flattened to (..., G * K)."""
        return sample_straight_through(logits, generator).flatten(-2)

    def step_h(self, state: State, action: Tensor) -> Tensor:
        """h_t = GRU(h_{t-1}, [z_{t-1}, a_{t-1}])."""
        return self.gru(self.img_in(torch.cat([state.z, action], -1)), state.h)

    def imagine_step(self, state: State, action: Tensor, generator: torch.Generator | None = None) -> State:
        """One step of the dream: the next h, then z drawn from the prior (no observation)."""
        h = self.step_h(state, action)
        return State(h, self.sample(self.prior_logits(h), generator))

    def observe_step(self, state: State, action: Tensor, obs: Tensor, is_first: Tensor,
                     generator: torch.Generator | None = None) -> tuple[State, Tensor]:
        """One real step: reset where is_first, advance h, then z from the posterior. Returns (state, post logits)."""
        keep = (1.0 - is_first.float()).unsqueeze(-1)
        state = State(state.h * keep, state.z * keep)
        h = self.step_h(state, action * keep)
        logits = self.post_logits(h, self.encoder(symlog(obs)))
        return State(h, self.sample(logits, generator)), logits

    def observe(self, obs: Tensor, prev_actions: Tensor, is_first: Tensor, state: State | None = None,
                generator: torch.Generator | None = None) -> Observed:
        """Run the posterior along real sequences: obs (B, T, obs), prev_actions (B, T, A) (a_{t-1}),
        is_first (B, T)."""
        c = self.config
        if obs.dim() != 3 or obs.shape[-1] != c.obs_size:
            raise ShapeError(f"Expected observations of shape (batch, time, {c.obs_size}), got {tuple(obs.shape)}.")
        if prev_actions.shape[:2] != obs.shape[:2] or prev_actions.shape[-1] != c.action_size:
            raise ShapeError(f"Expected previous actions of shape {tuple(obs.shape[:2]) + (c.action_size,)} "
                             f"(one-hot), got {tuple(prev_actions.shape)}.")
        B, T, _ = obs.shape
        state = state or self.initial(B)
        embed = self.encoder(symlog(obs))
        keep = 1.0 - is_first.float()
        hs, zs, posts = [], [], []
        for t in range(T):
            k = keep[:, t, None]
            state = State(state.h * k, state.z * k)
            h = self.step_h(state, prev_actions[:, t] * k)
            logits = self.post_logits(h, embed[:, t])
            state = State(h, self.sample(logits, generator))
            hs.append(h)
            zs.append(state.z)
            posts.append(logits)
        h = torch.stack(hs, 1)
        return Observed(h, torch.stack(zs, 1), torch.stack(posts, 1), self.prior_logits(h), state)

    def loss(self, obs: Tensor, prev_actions: Tensor, rewards: Tensor, is_first: Tensor, is_terminal: Tensor,
             generator: torch.Generator | None = None) -> tuple[Tensor, dict[str, float], Observed]:
        """The world-model loss on a (B, T) batch of real steps (see the module docstring), its parts, and the
        states."""
        out = self.observe(obs, prev_actions, is_first, generator=generator)
        feat = torch.cat([out.h, out.z], -1)
        decoder = (self.decoder(feat) - symlog(obs)).pow(2).sum(-1)
        reward = (self.reward_head(feat).squeeze(-1) - symlog(rewards)).pow(2)
        cont = F.binary_cross_entropy_with_logits(self.cont_head(feat).squeeze(-1), 1.0 - is_terminal.float(),
                                                  reduction="none")
        c = self.config
        kl = kl_balanced_loss(out.post_logits, out.prior_logits, c.dyn_scale, c.rep_scale, c.free_nats)
        total = decoder.mean() + reward.mean() + cont.mean() + kl.loss
        parts = {"decoder": decoder.mean().item(), "reward": reward.mean().item(), "cont": cont.mean().item(),
                 "kl": kl.kl.mean().item(), "dyn": kl.dyn.mean().item(), "rep": kl.rep.mean().item()}
        return total, parts, out

    def heads(self, feat: Tensor) -> tuple[Tensor, Tensor]:
        """Predicted reward (symexp of the head, in the task's own units) and P(continue) for model states."""
        return symexp(self.reward_head(feat).squeeze(-1)), torch.sigmoid(self.cont_head(feat).squeeze(-1))

    def config_dict(self) -> dict:
        return asdict(self.config)
