"""Same-source program parity: graph neural networks and policy-gradient RL.

The programs below are ordinary PyTorch code written once inside ``build_gnn(torch)`` /
``build_rl(torch)``; the tests run them on real torch and on minitorch_jax with the same weights
and the same numpy data (dropout masks and actions come from numpy) and compare every step.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import assert_same, torch

RTOL, ATOL = 1e-4, 1e-5


# =============================================================================================
# the programs (written once, ``torch`` is either library)
# =============================================================================================
def build_gnn(torch, in_dim=6, hidden=8, n_classes=3, heads=2):
    """A GCN layer followed by a GAT-style layer, trained for node classification with masks."""
    nn, F = torch.nn, torch.nn.functional

    def add_self_loops(edge_index, num_nodes):
        loops = torch.arange(num_nodes, dtype=torch.long)
        return torch.cat([edge_index, torch.stack([loops, loops], dim=0)], dim=1)

    def gcn_norm(edge_index, num_nodes, edge_weight=None):
        edge_index = add_self_loops(edge_index, num_nodes)
        row, col = edge_index[0], edge_index[1]
        if edge_weight is None:
            edge_weight = torch.ones(edge_index.size(1))
        else:
            edge_weight = torch.cat([edge_weight, torch.ones(num_nodes)])
        deg = torch.zeros(num_nodes, dtype=edge_weight.dtype).scatter_add_(0, col, edge_weight)
        deg_inv_sqrt = deg.pow(-0.5)
        deg_inv_sqrt = deg_inv_sqrt.masked_fill(torch.isinf(deg_inv_sqrt), 0.0)
        return edge_index, deg_inv_sqrt[row] * edge_weight * deg_inv_sqrt[col]

    def with_degree_feature(x, edge_index):
        """Preprocessing (once per graph): append log(1 + in-degree) to the node features."""
        deg = torch.bincount(edge_index[1], minlength=x.size(0))
        return torch.cat([x, deg.float().log1p().unsqueeze(-1)], dim=1)

    class GCNConv(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.lin = nn.Linear(in_channels, out_channels, bias=False)
            self.bias = nn.Parameter(torch.zeros(out_channels))

        def forward(self, x, edge_index, norm):
            h = self.lin(x)
            msg = h.index_select(0, edge_index[0]) * norm.view(-1, 1)
            out = torch.zeros_like(h).index_add_(0, edge_index[1], msg)
            return out + self.bias

    class GATConv(nn.Module):
        def __init__(self, in_channels, out_channels, heads, negative_slope=0.2):
            super().__init__()
            self.heads, self.out_channels, self.negative_slope = heads, out_channels, negative_slope
            self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
            self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))
            self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))
            self.bias = nn.Parameter(torch.zeros(out_channels))
            nn.init.xavier_uniform_(self.att_src)
            nn.init.xavier_uniform_(self.att_dst)

        def forward(self, x, edge_index, att_mask=None):
            n = x.size(0)
            src, dst = edge_index[0], edge_index[1]
            h = self.lin(x).view(n, self.heads, self.out_channels)
            a_src = (h * self.att_src).sum(dim=-1)  # (N, H)
            a_dst = (h * self.att_dst).sum(dim=-1)
            e = F.leaky_relu(a_src[src] + a_dst[dst], self.negative_slope)  # (E, H)
            # segment softmax over the incoming edges of every node
            idx = dst.unsqueeze(-1).expand_as(e)
            e_max = torch.full((n, self.heads), float("-inf")).scatter_reduce(
                0, idx, e, reduce="amax", include_self=True)
            e = (e - e_max[dst]).exp()
            denom = torch.zeros(n, self.heads).index_add_(0, dst, e)
            alpha = e / (denom[dst] + 1e-16)
            if att_mask is not None:  # attention dropout, mask fed from numpy
                alpha = alpha * att_mask
            out = torch.zeros(n, self.heads, self.out_channels)
            out = out.index_add_(0, dst, h[src] * alpha.unsqueeze(-1))
            return out.mean(dim=1) + self.bias, alpha

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = GCNConv(in_dim + 1, hidden)
            self.conv2 = GATConv(hidden, n_classes, heads)
            self.p = 0.5

        def forward(self, x, edge_index, norm_edge_index, norm, drop=None, att_mask=None):
            x = F.elu(self.conv1(x, norm_edge_index, norm))
            if self.training and drop is not None:  # inverted dropout, mask fed from numpy
                x = x * drop / (1 - self.p)
            logits, _ = self.conv2(x, add_self_loops(edge_index, x.size(0)), att_mask)
            return logits

    def make_train_step(model, opt):
        def train_step(x, edge_index, norm_edge_index, norm, y, train_mask, drop, att_mask):
            model.train()
            opt.zero_grad()
            out = model(x, edge_index, norm_edge_index, norm, drop, att_mask)
            loss = F.cross_entropy(out[train_mask], y[train_mask])
            loss.backward()
            opt.step()
            return loss
        return train_step

    def evaluate(model, x, edge_index, norm_edge_index, norm, y, masks):
        model.eval()
        with torch.no_grad():
            out = model(x, edge_index, norm_edge_index, norm)
            pred = out.argmax(dim=-1)
            accs = []
            for mask in masks:
                correct = pred[mask].eq(y[mask]).sum().item()
                accs.append(correct / int(mask.sum()))
            val_loss = F.cross_entropy(out[masks[1]], y[masks[1]]).item()
        return out, accs, val_loss

    return dict(Net=Net, GCNConv=GCNConv, GATConv=GATConv, gcn_norm=gcn_norm,
                with_degree_feature=with_degree_feature, make_train_step=make_train_step, evaluate=evaluate)


def build_rl(torch, obs_dim=4, n_actions=3, act_dim=2, hidden=16):
    """REINFORCE with a Categorical policy and an A2C-style actor-critic with a Normal policy."""
    nn, F = torch.nn, torch.nn.functional
    Categorical, Normal = torch.distributions.Categorical, torch.distributions.Normal

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = nn.Linear(obs_dim, hidden)
            self.affine2 = nn.Linear(hidden, n_actions)
            self.saved_log_probs, self.entropies, self.rewards = [], [], []

        def forward(self, x):
            x = F.relu(self.affine1(x))
            return F.softmax(self.affine2(x), dim=1)

    def reinforce_episode(policy, optimizer, states, actions, rewards, gamma=0.99, eps=1e-8):
        """``states``/``actions`` are numpy, ``rewards`` a list of floats (from the environment)."""
        for state, action in zip(states, actions):
            state = torch.from_numpy(state).float().unsqueeze(0)
            probs = policy(state)
            m = Categorical(probs)
            a = torch.tensor([int(action)])
            policy.saved_log_probs.append(m.log_prob(a))
            policy.entropies.append(m.entropy())
            policy.rewards.append(float(rewards[len(policy.saved_log_probs) - 1]))
        R, returns = 0.0, []
        for r in policy.rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        policy_loss = []
        for log_prob, R in zip(policy.saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        optimizer.zero_grad()
        loss = torch.cat(policy_loss).sum() - 0.01 * torch.stack(policy.entropies).mean()
        loss.backward()
        optimizer.step()
        del policy.rewards[:], policy.saved_log_probs[:], policy.entropies[:]
        return loss.item(), returns

    class ActorCritic(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden),
                                      nn.Tanh())
            self.mu = nn.Linear(hidden, act_dim)
            self.log_std = nn.Parameter(torch.full((act_dim,), -0.5))
            self.value = nn.Linear(hidden, 1)

        def forward(self, obs):
            h = self.body(obs)
            dist = Normal(self.mu(h), self.log_std.exp().expand(obs.shape[:-1] + (act_dim,)))
            return dist, self.value(h).squeeze(-1)

    def make_a2c_step(model, optimizer, gamma=0.97, value_coef=0.5, ent_coef=0.01, max_norm=0.5):
        def a2c_step(obs, actions, rewards, dones, last_obs):
            """obs (T, B, obs_dim), actions (T, B, act_dim), rewards/dones (T, B)."""
            model.train()
            dist, values = model(obs)
            with torch.no_grad():
                _, next_value = model(last_obs)
            R = next_value
            returns = []
            for t in reversed(range(rewards.size(0))):
                R = rewards[t] + gamma * R * (1.0 - dones[t])
                returns.append(R)
            returns = torch.stack(returns[::-1])
            advantages = returns - values.detach()
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            log_probs = dist.log_prob(actions).sum(-1)
            entropy = dist.entropy().sum(-1).mean()
            actor_loss = -(log_probs * advantages).mean()
            critic_loss = F.smooth_l1_loss(values, returns)
            loss = actor_loss + value_coef * critic_loss - ent_coef * entropy
            optimizer.zero_grad()
            loss.backward()
            gn = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            return loss, critic_loss.detach(), entropy.detach(), gn

        return a2c_step

    def act(model, obs):
        model.eval()
        with torch.no_grad():
            dist, value = model(obs)
        return dist.mean, dist.stddev, value

    return dict(Policy=Policy, reinforce_episode=reinforce_episode, ActorCritic=ActorCritic,
                make_a2c_step=make_a2c_step, act=act, Categorical=Categorical, Normal=Normal)


# =============================================================================================
# data
# =============================================================================================
N_NODES = 14


def _graph(seed=0):
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < 18:
        a, b = rng.integers(0, N_NODES - 1, 2)  # the last node is isolated
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    e = np.array(sorted(pairs)).T
    edge_index = np.concatenate([e, e[::-1]], axis=1).astype(np.int64)
    x = rng.standard_normal((N_NODES, 6)).astype(np.float32)
    y = rng.integers(0, 3, N_NODES).astype(np.int64)
    perm = rng.permutation(N_NODES)
    masks = [np.zeros(N_NODES, bool) for _ in range(3)]
    masks[0][perm[:6]] = True
    masks[1][perm[6:10]] = True
    masks[2][perm[10:]] = True
    return x, edge_index, y, masks


def _gnn_masks(n_steps, n_edges, seed=1):
    rng = np.random.default_rng(seed)
    drop = [(rng.random((N_NODES, 8)) > 0.5).astype(np.float32) for _ in range(n_steps)]
    att = [((rng.random((n_edges + N_NODES, 2)) > 0.2) / 0.8).astype(np.float32) for _ in range(n_steps)]
    return drop, att


def _gnn_pair():
    t_lib = build_gnn(torch)
    m_lib = build_gnn(mt)
    torch.manual_seed(0)
    t_model = t_lib["Net"]()
    m_model = copy_state(m_lib["Net"](), t_model)
    return t_lib, m_lib, t_model, m_model


def _gnn_inputs(lib, tensor, x, edge_index, y, masks):
    ei = tensor(edge_index)
    norm_ei, norm = lib["gcn_norm"](ei, N_NODES)
    x = lib["with_degree_feature"](tensor(x), ei)
    return x, ei, norm_ei, norm, tensor(y), [tensor(m) for m in masks]


def _rollout(seed=2, T=5, B=3, obs_dim=4, act_dim=2):
    rng = np.random.default_rng(seed)
    obs = rng.standard_normal((T, B, obs_dim)).astype(np.float32)
    actions = (0.6 * rng.standard_normal((T, B, act_dim))).astype(np.float32)
    rewards = rng.standard_normal((T, B)).astype(np.float32)
    dones = (rng.random((T, B)) < 0.2).astype(np.float32)
    last_obs = rng.standard_normal((B, obs_dim)).astype(np.float32)
    return obs, actions, rewards, dones, last_obs


def _params_close(m_model, t_model, what="parameter"):
    t_params = dict(t_model.named_parameters())
    names = [n for n, _ in m_model.named_parameters()]
    assert names == list(t_params), (names, list(t_params))
    for name, p in m_model.named_parameters():
        assert_same(p, t_params[name], RTOL, ATOL, what=f"{what} {name}")


# =============================================================================================
# GNN
# =============================================================================================
def test_gnn_training_matches_torch():
    x, edge_index, y, masks = _graph()
    t_lib, m_lib, t_model, m_model = _gnn_pair()
    t_in = _gnn_inputs(t_lib, torch.from_numpy, x, edge_index, y, masks)
    m_in = _gnn_inputs(m_lib, mt.tensor, x, edge_index, y, masks)
    assert_same(m_in[1], t_in[1], what="edge_index with self loops")
    assert_same(m_in[3], t_in[3], RTOL, ATOL, what="gcn norm")
    assert_same(m_in[0], t_in[0], RTOL, ATOL, what="features with the bincount degree")
    t_opt = torch.optim.Adam(t_model.parameters(), lr=0.01, weight_decay=5e-4)
    m_opt = mt.optim.Adam(m_model.parameters(), lr=0.01, weight_decay=5e-4)
    t_step = t_lib["make_train_step"](t_model, t_opt)
    m_step = m_lib["make_train_step"](m_model, m_opt)
    drops, atts = _gnn_masks(3, edge_index.shape[1])
    for step, (d, a) in enumerate(zip(drops, atts)):
        tl = t_step(*t_in[:5], t_in[5][0], torch.from_numpy(d), torch.from_numpy(a))
        ml = m_step(*m_in[:5], m_in[5][0], mt.tensor(d), mt.tensor(a))
        assert_same(ml, tl, RTOL, ATOL, what=f"loss at step {step}")
    _params_close(m_model, t_model)
    t_out, t_accs, t_vl = t_lib["evaluate"](t_model, *t_in[:5], t_in[5])
    m_out, m_accs, m_vl = m_lib["evaluate"](m_model, *m_in[:5], m_in[5])
    assert_same(m_out, t_out, RTOL, ATOL, what="eval logits")
    assert m_accs == t_accs
    assert m_vl == pytest.approx(t_vl, rel=RTOL)
    # the attention coefficients of every node sum to one over its incoming edges
    conv2 = m_model.conv2
    with mt.no_grad():
        h = mt.randn(N_NODES, 8)
        ei = mt.cat([mt.tensor(edge_index), mt.arange(N_NODES).expand(2, N_NODES)], 1)
        _, alpha = conv2(h, ei)
    sums = mt.zeros(N_NODES, 2).index_add_(0, ei[1], alpha)
    np.testing.assert_allclose(sums.numpy(), 1.0, rtol=1e-5)


def test_gnn_train_step_jit_matches_eager():
    x, edge_index, y, masks = _graph()
    m_lib = build_gnn(mt)
    mt.manual_seed(0)
    m_eager = m_lib["Net"]()
    m_jit = m_lib["Net"]()
    m_jit.load_state_dict(m_eager.state_dict())
    m_in = _gnn_inputs(m_lib, mt.tensor, x, edge_index, y, masks)
    o_e = mt.optim.Adam(m_eager.parameters(), lr=0.01, weight_decay=5e-4)
    o_j = mt.optim.Adam(m_jit.parameters(), lr=0.01, weight_decay=5e-4)
    eager = m_lib["make_train_step"](m_eager, o_e)
    jitted = mt.jit(m_lib["make_train_step"](m_jit, o_j))
    drops, atts = _gnn_masks(3, edge_index.shape[1])
    # a boolean mask's selection has a data-dependent size: compiled, the step says so ...
    other = m_lib["Net"]()
    bad = mt.jit(m_lib["make_train_step"](other, mt.optim.Adam(other.parameters(), lr=0.01)))
    args = (*m_in[:5], m_in[5][0], mt.tensor(drops[0]), mt.tensor(atts[0]))
    bad(*args)  # the first call runs eagerly (it creates the gradients and Adam's state)
    with pytest.raises(RuntimeError, match="boolean mask indexing"):
        bad(*args)
    # ... and the same program given the training nodes' indices compiles once
    train_idx = m_in[5][0].nonzero().squeeze(1)
    for d, a in zip(drops, atts):
        args = (*m_in[:5], train_idx, mt.tensor(d), mt.tensor(a))
        le, lj = eager(*args), jitted(*args)
        np.testing.assert_allclose(float(lj), float(le), rtol=1e-5, atol=1e-6)
    assert jitted.num_compiles == 1, jitted.explain()
    for (n, pj), pe in zip(m_jit.named_parameters(), m_eager.parameters()):
        np.testing.assert_allclose(pj.detach().numpy(), pe.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=n)


def test_gnn_degree_feature_under_jit_is_a_clear_error():
    """bincount's output length depends on the values (as under torch.compile, where it breaks the
    graph): compiled whole, it is reported with the line; fallback='eager' runs it."""
    x, edge_index, y, masks = _graph()
    fn = build_gnn(mt)["with_degree_feature"]
    args = (mt.tensor(x), mt.tensor(edge_index))
    with pytest.raises(mt.jit.JitError, match="bincount"):
        mt.jit(fn)(*args)
    with pytest.warns(UserWarning, match="bincount"):
        out = mt.jit(fn, fallback="eager")(*args)
    np.testing.assert_array_equal(out.numpy(), fn(*args).numpy())


def test_gnn_state_dict_round_trip(tmp_path):
    x, edge_index, y, masks = _graph()
    t_lib, m_lib, t_model, m_model = _gnn_pair()
    m_in = _gnn_inputs(m_lib, mt.tensor, x, edge_index, y, masks)
    t_in = _gnn_inputs(t_lib, torch.from_numpy, x, edge_index, y, masks)
    m_opt = mt.optim.Adam(m_model.parameters(), lr=0.01)
    step = m_lib["make_train_step"](m_model, m_opt)
    drops, atts = _gnn_masks(2, edge_index.shape[1])
    step(*m_in[:5], m_in[5][0], mt.tensor(drops[0]), mt.tensor(atts[0]))
    path = tmp_path / "gnn.pt"
    mt.save(m_model.state_dict(), path)
    fresh = m_lib["Net"]()
    fresh.load_state_dict(mt.load(path))
    for (k, w), v in zip(m_model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(w.cpu().numpy(), v.cpu().numpy(), err_msg=k)  # bit for bit
    out_a, accs_a, _ = m_lib["evaluate"](m_model, *m_in[:5], m_in[5])
    out_b, accs_b, _ = m_lib["evaluate"](fresh, *m_in[:5], m_in[5])
    # (equal weights; a GPU's matmuls may pick another algorithm for arrays of another origin: 1 ulp)
    np.testing.assert_allclose(out_a.cpu().numpy(), out_b.cpu().numpy(), rtol=1e-6, atol=1e-7)
    assert accs_a == accs_b
    # the mt checkpoint loads into the torch model and gives the same logits
    t_model.load_state_dict(torch.load(path))
    t_out, _, _ = t_lib["evaluate"](t_model, *t_in[:5], t_in[5])
    assert_same(out_a, t_out, RTOL, ATOL)


def test_gnn_bad_inputs_raise_like_torch():
    x, edge_index, y, masks = _graph()
    t_lib, m_lib, t_model, m_model = _gnn_pair()
    t_in = list(_gnn_inputs(t_lib, torch.from_numpy, x, edge_index, y, masks))
    m_in = list(_gnn_inputs(m_lib, mt.tensor, x, edge_index, y, masks))
    # wrong number of node features
    bad_x = np.zeros((N_NODES, 6), np.float32)  # the degree feature was not appended
    with pytest.raises(RuntimeError) as te:
        t_model(torch.from_numpy(bad_x), *t_in[1:4])
    with pytest.raises(RuntimeError) as me:
        m_model(mt.tensor(bad_x), *m_in[1:4])
    assert "(14x6 and 7x8)" in str(te.value)  # mt names the layer instead of the matmul operands
    assert "Linear(in_features=7, out_features=8" in str(me.value) and "[14, 6]" in str(me.value)
    # an edge_index of floats is not an index
    with pytest.raises(RuntimeError) as te:
        t_lib["GCNConv"](7, 4)(torch.zeros(N_NODES, 7), t_in[2].float(), t_in[3])
    with pytest.raises(RuntimeError) as me:
        m_lib["GCNConv"](7, 4)(mt.zeros(N_NODES, 7), m_in[2].float(), m_in[3])
    assert str(me.value).startswith(str(te.value))  # mt adds "(got Float)"
    # degrees counted from a float edge_index: torch has no float bincount kernel (regression: mt
    # raised a plain RuntimeError subclass, not NotImplementedError)
    with pytest.raises(NotImplementedError) as te:
        t_lib["with_degree_feature"](t_in[0], t_in[1].float())
    with pytest.raises(NotImplementedError) as me:
        m_lib["with_degree_feature"](m_in[0], m_in[1].float())
    assert str(te.value) in str(me.value) and "bincount" in str(me.value)
    # a node id past the end of the graph
    bad_ei = edge_index.copy()
    bad_ei[1, 0] = N_NODES + 3
    with pytest.raises(RuntimeError) as te:
        t_lib["gcn_norm"](torch.from_numpy(bad_ei), N_NODES)
    with pytest.raises(RuntimeError) as me:
        m_lib["gcn_norm"](mt.tensor(bad_ei), N_NODES)
    assert "scatter" in str(me.value) and "index" in str(me.value)


# =============================================================================================
# RL
# =============================================================================================
def _episode(seed, T=7, obs_dim=4, n_actions=3):
    rng = np.random.default_rng(seed)
    states = rng.standard_normal((T, obs_dim)).astype(np.float32)
    actions = rng.integers(0, n_actions, T)
    rewards = [float(r) for r in rng.standard_normal(T).round(2)]
    return states, actions, rewards


def test_reinforce_matches_torch():
    t_lib, m_lib = build_rl(torch), build_rl(mt)
    torch.manual_seed(0)
    t_pol = t_lib["Policy"]()
    m_pol = copy_state(m_lib["Policy"](), t_pol)
    t_opt = torch.optim.Adam(t_pol.parameters(), lr=1e-2)
    m_opt = mt.optim.Adam(m_pol.parameters(), lr=1e-2)
    for ep in range(3):
        states, actions, rewards = _episode(10 + ep)
        tl, t_ret = t_lib["reinforce_episode"](t_pol, t_opt, states, actions, rewards)
        ml, m_ret = m_lib["reinforce_episode"](m_pol, m_opt, states, actions, rewards)
        assert isinstance(ml, float)
        assert_same(m_ret, t_ret, RTOL, ATOL, what=f"normalised returns, episode {ep}")
        assert ml == pytest.approx(tl, rel=RTOL, abs=ATOL), f"loss at episode {ep}"
        assert m_pol.saved_log_probs == [] and m_pol.rewards == []
    _params_close(m_pol, t_pol)
    s = np.random.default_rng(5).standard_normal((1, 4)).astype(np.float32)
    with torch.no_grad():
        tp = t_pol(torch.from_numpy(s))
    with mt.no_grad():
        mp = m_pol(mt.tensor(s))
    assert_same(mp, tp, RTOL, ATOL)
    t_d, m_d = t_lib["Categorical"](tp), m_lib["Categorical"](mp)
    assert_same(m_d.entropy(), t_d.entropy(), RTOL, ATOL)
    assert_same(m_d.log_prob(mt.tensor([2])), t_d.log_prob(torch.tensor([2])), RTOL, ATOL)


def _a2c_pair():
    t_lib, m_lib = build_rl(torch), build_rl(mt)
    torch.manual_seed(1)
    t_ac = t_lib["ActorCritic"]()
    m_ac = copy_state(m_lib["ActorCritic"](), t_ac)
    t_opt = torch.optim.RMSprop(t_ac.parameters(), lr=7e-3, alpha=0.99, eps=1e-5)
    m_opt = mt.optim.RMSprop(m_ac.parameters(), lr=7e-3, alpha=0.99, eps=1e-5)
    return t_lib, m_lib, t_ac, m_ac, t_opt, m_opt


def test_actor_critic_matches_torch():
    t_lib, m_lib, t_ac, m_ac, t_opt, m_opt = _a2c_pair()
    t_step = t_lib["make_a2c_step"](t_ac, t_opt)
    m_step = m_lib["make_a2c_step"](m_ac, m_opt)
    for it in range(3):
        data = _rollout(seed=20 + it)
        t_res = t_step(*[torch.from_numpy(a) for a in data])
        m_res = m_step(*[mt.tensor(a) for a in data])
        assert_same(list(m_res), list(t_res), RTOL, ATOL, what=f"a2c step {it}")
    _params_close(m_ac, t_ac)
    obs = _rollout(seed=99)[0][0]
    assert_same(list(m_lib["act"](m_ac, mt.tensor(obs))), list(t_lib["act"](t_ac, torch.from_numpy(obs))),
                RTOL, ATOL, what="eval policy")


def test_actor_critic_jit_matches_eager():
    m_lib = build_rl(mt)
    mt.manual_seed(3)
    m_e, m_j = m_lib["ActorCritic"](), m_lib["ActorCritic"]()
    m_j.load_state_dict(m_e.state_dict())
    o_e = mt.optim.RMSprop(m_e.parameters(), lr=7e-3, alpha=0.99, eps=1e-5)
    o_j = mt.optim.RMSprop(m_j.parameters(), lr=7e-3, alpha=0.99, eps=1e-5)
    eager = m_lib["make_a2c_step"](m_e, o_e)
    jitted = mt.jit(m_lib["make_a2c_step"](m_j, o_j))
    for it in range(3):
        data = [mt.tensor(a) for a in _rollout(seed=30 + it)]
        re, rj = eager(*data), jitted(*data)
        for a, b in zip(rj, re):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert jitted.num_compiles == 1, jitted.explain()
    for (n, pj), pe in zip(m_j.named_parameters(), m_e.parameters()):
        np.testing.assert_allclose(pj.detach().numpy(), pe.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=n)


def test_actor_critic_checkpoint_round_trip(tmp_path):
    t_lib, m_lib, t_ac, m_ac, t_opt, m_opt = _a2c_pair()
    m_step = m_lib["make_a2c_step"](m_ac, m_opt)
    m_step(*[mt.tensor(a) for a in _rollout(seed=40)])
    path = tmp_path / "ac.pt"
    mt.save({"model": m_ac.state_dict(), "optim": m_opt.state_dict()}, path)
    ck = mt.load(path)
    fresh = m_lib["ActorCritic"]()
    fresh.load_state_dict(ck["model"])
    obs = mt.tensor(_rollout(seed=41)[0])
    for a, b in zip(m_lib["act"](m_ac, obs), m_lib["act"](fresh, obs)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # a torch-saved checkpoint loads into the mt model
    t_path = tmp_path / "ac_torch.pt"
    torch.save(t_ac.state_dict(), t_path)
    fresh.load_state_dict(mt.load(t_path))
    t_obs = torch.from_numpy(_rollout(seed=41)[0])
    assert_same(list(m_lib["act"](fresh, obs)), list(t_lib["act"](t_ac, t_obs)), RTOL, ATOL)


def test_rl_bad_inputs_raise_like_torch():
    t_lib, m_lib = build_rl(torch), build_rl(mt)
    probs = np.array([[0.2, 0.3, 0.5]], np.float32)
    # an action outside the Categorical's support (validate_args explicit: torch._dynamo, once
    # initialised by any earlier test in this process, turns torch's default validation off)
    with pytest.raises(ValueError) as te:
        t_lib["Categorical"](torch.from_numpy(probs), validate_args=True).log_prob(torch.tensor([3]))
    with pytest.raises(ValueError) as me:
        m_lib["Categorical"](mt.tensor(probs), validate_args=True).log_prob(mt.tensor([3]))
    assert "support" in str(me.value) and "support" in str(te.value)
    # a negative standard deviation
    with pytest.raises(ValueError) as te:
        t_lib["Normal"](torch.zeros(2), torch.tensor([1.0, -1.0]), validate_args=True)
    with pytest.raises(ValueError) as me:
        m_lib["Normal"](mt.zeros(2), mt.tensor([1.0, -1.0]), validate_args=True)
    assert "scale" in str(me.value)
    # an observation with the wrong size into the policy
    torch.manual_seed(0)
    t_pol = t_lib["Policy"]()
    m_pol = copy_state(m_lib["Policy"](), t_pol)
    with pytest.raises(RuntimeError) as te:
        t_pol(torch.zeros(1, 5))
    with pytest.raises(RuntimeError) as me:
        m_pol(mt.zeros(1, 5))
    assert "(1x5 and 4x16)" in str(te.value)
    assert "Linear(in_features=4, out_features=16" in str(me.value) and "[1, 5]" in str(me.value)
