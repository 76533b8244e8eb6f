#!/usr/bin/env python3
"""PyTorch reference for one NAS-Bench-201 supernet search step, as `s2d bench search` measures it.

The same supernet, optimisers and step order as the C# (src/SearchToDeploy), so that the ms/step of TorchSharp and
of PyTorch can be compared on the same machine:

* supernet (Nas/Supernets/Nb201/Nb201Supernet.cs, xautodl's TinyNetworkDarts): stem conv3x3(3->C) + BN; 3 stages of
  N search cells at C, 2C, 4C, with NAS-Bench-201's residual block (ReLU-conv3x3 s2-BN, ReLU-conv3x3-BN, shortcut
  avgpool2x2 + conv1x1) between stages; BN + ReLU, global pooling, linear classifier. One alpha [6, 5] shared by every
  cell, mixed by softmax; PC methods add beta [6] (edge normalisation, softmax over each node's incoming edges).
* cells: nodes 1..3, node i = sum_{j<i} edge(i<-j)(node j), ops none, skip_connect, nor_conv_1x1, nor_conv_3x3
  (ReLU-Conv-BN; conv bias exactly when BN is not affine), avg_pool_3x3 (count_include_pad=False, no BN).
  Partial channels (K > 1): the first C/K channels go through the ops, the rest bypass them, then channel_shuffle(K).
  `--cell fused` (default, what `s2d bench search` times) computes each node's outgoing convolutions as one conv
  (1x1 filters as zero-padded 3x3 filters) + one BN with the op weights folded into its affine transform
  (Nb201/FusedNb201Cell.cs); `--cell reference` is the edge-by-edge cell (Nb201SearchCell.cs, its `--reference` row).
  Both compute the same function (`--check` verifies it in float64).
* random features (RF methods, Nas/Supernets/RandomFeatures.cs): every convolution (stem, cells, residual blocks)
  is re-drawn He-normal (fan-in, ReLU gain) and frozen; BN affine parameters (on in the cells), the classifier and
  alpha/beta train.
* optimisers (Runs/Search/SearchPresets.cs, paper preset, SearchSession.cs): weights: SGD, Nesterov momentum 0.9,
  lr 0.025 (RF: 0.25; the benchmark uses the initial lr, no schedule), weight decay 5e-4 on the group "everything but
  BN affine parameters" and 5e-4 (RF: 0) on the BN group (BatchNorm2d's and the fused cells' stacked BN parameters), gradient-norm clip 5. alpha/beta: Adam
  lr 3e-4, betas (0.5, 0.999), weight decay 1e-3 (L2, PyTorch semantics).
* one step (Nas/Strategies/DartsStrategy.cs, Architect.cs, WeightStep.cs; first order, alpha warm-up off): zero
  alpha's grads; loss on the architecture batch; backward into alpha/beta only; loss.item(); Adam step ("arch ms").
  Zero the weights' grads; loss on the training batch; backward into the trainable weights only; loss.item()
  ("weight ms"). Clip, SGD step. "step ms" is all of it, between two device synchronisations.

Runs on PyTorch 1.13 (CPU) and 2.x (CUDA); needs only torch and numpy. See bench/README.md.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")  # alpha's columns, in this order
NONE, SKIP, CONV1, CONV3, POOL = range(5)
EDGES = 6


def edge_index(to, frm):
    """Nb201Arch.EdgeIndex: edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2."""
    return to * (to - 1) // 2 + frm


# The outgoing edges (edge index, target node) of each source node 0..2 (Nb201Layout.Outgoing).
OUTGOING = [[(edge_index(i, j), i) for i in range(j + 1, 4)] for j in range(3)]
# Each intermediate node's incoming edges as (start, count) in beta (Nb201Supernet.NodeEdges).
NODE_EDGES = [(0, 1), (1, 2), (3, 3)]

METHODS = ("rf-pcdarts", "pc-darts", "rf-darts", "darts")

CIFAR_MEAN = (0.49139968, 0.48215827, 0.44653124)
CIFAR_STD = (0.24703233, 0.24348505, 0.26158768)


def paper_preset(method):
    """SearchPresets.Create("paper", "nas-bench-201", method) as SearchBenchmark.OptionsFor uses it (first order,
    no drop-path, no alpha warm-up), and SearchOptions.SupernetConfig(10)."""
    rf = method.startswith("rf-")
    pc = method.endswith("pcdarts") or method == "pc-darts"
    return dict(
        method=method, channels=16, layers=5, classes=10,
        partial_k=4 if pc else 1, edge_normalisation=pc, bn_affine=rf,
        bn_track_running_stats=True, bn_momentum=0.1,
        random_features=rf, frozen_init="kaiming-normal" if rf else None, train_classifier=True if rf else None,
        lr=0.25 if rf else 0.025, momentum=0.9, nesterov=True, weight_decay=5e-4, bn_weight_decay=0.0 if rf else 5e-4,
        grad_clip=5.0, arch_lr=3e-4, arch_betas=(0.5, 0.999), arch_weight_decay=1e-3, arch_eps=1e-8,
    )


# ---------------------------------------------------------------------------------------------------------------
# Kernels. By default the natural PyTorch calls, which s2d also takes on CUDA; --s2d-kernels takes the ones s2d takes
# on the CPU for the same maths: dense k>1 convolutions with output channels padded to a multiple of 16 (Ops/Conv.cs,
# a oneDNN workaround) and 3x3 average pooling as two band-matrix products (Ops/AvgPool.cs).

class Kernels:
    s2d = False


_BANDS = {}


def _band(size, like, transposed):
    key = (size, like.dtype, str(like.device), transposed)
    m = _BANDS.get(key)
    if m is None:
        a = np.zeros((size, size))
        for i in range(size):
            lo, hi = max(0, i - 1), min(size - 1, i + 1)
            a[i, lo:hi + 1] = 1.0 / (hi - lo + 1)
        m = torch.tensor(a.T if transposed else a, dtype=like.dtype, device=like.device).contiguous()
        _BANDS[key] = m
    return m


def avg_pool3x3(x):
    """3x3 average pooling, stride 1, padding 1, count_include_pad=False."""
    if Kernels.s2d:
        return torch.matmul(torch.matmul(_band(x.shape[2], x, False), x), _band(x.shape[3], x, True))
    return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    cout, k = weight.shape[0], weight.shape[2]
    if Kernels.s2d and k > 1 and cout % 16 != 0:
        zeros = torch.zeros((16 - cout % 16,) + tuple(weight.shape[1:]), dtype=weight.dtype, device=weight.device)
        y = F.conv2d(x, torch.cat([weight, zeros], 0), None, stride, padding).narrow(1, 0, cout)
        return y.contiguous() if bias is None else y + bias.view(1, -1, 1, 1)
    return F.conv2d(x, weight, bias, stride, padding)


def new_filters(shape):
    """nn.Conv2d's default initialisation (Kaiming-uniform, a = sqrt(5)); stacked banks keep one block's fan-in."""
    w = torch.empty(shape)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    return w


# ---------------------------------------------------------------------------------------------------------------
# Ops (Nas/Ops).

class Conv(nn.Module):
    """Ops.Conv: a dense convolution, PyTorch's default initialisation, bias optional."""

    def __init__(self, cin, cout, k, stride=1, padding=0, bias=False):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(new_filters((cout, cin, k, k)))
        if bias:
            bound = 1 / math.sqrt(cin * k * k)
            self.bias = nn.Parameter(torch.empty(cout).uniform_(-bound, bound))
        else:
            self.bias = None

    def conv_weights(self):
        return [self.weight]

    def conv_biases(self):
        return [] if self.bias is None else [self.bias]

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, padding, affine, track, momentum, bias):
        super().__init__()
        self.conv = Conv(cin, cout, k, stride, padding, bias=bias)
        self.bn = nn.BatchNorm2d(cout, momentum=momentum, affine=affine, track_running_stats=track)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x)))


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction block between stages (affine BN, no conv biases)."""

    def __init__(self, cin, cout, momentum):
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, 2, 1, True, True, momentum, bias=False)
        self.conv_b = ReLUConvBN(cout, cout, 3, 1, 1, True, True, momentum, bias=False)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2), Conv(cin, cout, 1))

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class Identity(nn.Module):
    def forward(self, x):
        return x


class AvgPool3(nn.Module):
    def forward(self, x):
        return avg_pool3x3(x)


class Zero(nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)


# ---------------------------------------------------------------------------------------------------------------
# The edge-by-edge cell (Supernets/MixedOp.cs, Nb201/Nb201SearchCell.cs).

class MixedOp(nn.Module):
    def __init__(self, channels, k, cfg):
        super().__init__()
        self.channels, self.k = channels, k
        c = channels // k
        affine, track, mom = cfg["bn_affine"], cfg["bn_track_running_stats"], cfg["bn_momentum"]
        self.ops = nn.ModuleList([
            Zero(),
            Identity(),
            ReLUConvBN(c, c, 1, 1, 0, affine, track, mom, bias=not affine),
            ReLUConvBN(c, c, 3, 1, 1, affine, track, mom, bias=not affine),
            AvgPool3(),
        ])

    def forward(self, x, w):
        xp = x[:, :self.channels // self.k] if self.k > 1 else x
        total = None
        for i, op in enumerate(self.ops):
            if i == NONE:
                continue  # adds zero
            y = op(xp) * w[i]
            total = y if total is None else total + y
        return total

    def bypass(self, x):
        return x[:, self.channels // self.k:]


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class ReferenceCell(nn.Module):
    def __init__(self, cfg, channels):
        super().__init__()
        self.k = cfg["partial_k"]
        self.edges = nn.ModuleList([MixedOp(channels, self.k, cfg) for _ in range(EDGES)])

    def forward(self, x, weights, edge_weights, mixing=None):
        nodes = [x]
        for i in range(1, 4):
            op_sum, bypass_sum = None, None
            for j in range(i):
                e = edge_index(i, j)
                y = self.edges[e](nodes[j], weights[e])
                b = self.edges[e].bypass(nodes[j]) if self.k > 1 else None
                if edge_weights is not None:
                    y = y * edge_weights[e]
                    if b is not None:
                        b = b * edge_weights[e]
                op_sum = y if op_sum is None else op_sum + y
                if b is not None:
                    bypass_sum = b if bypass_sum is None else bypass_sum + b
            nodes.append(op_sum if bypass_sum is None else channel_shuffle(torch.cat([op_sum, bypass_sum], 1), self.k))
        return nodes[3]


# ---------------------------------------------------------------------------------------------------------------
# The fused cell (Nb201/FusedNb201Cell.cs, Nb201Mixing.cs).

class NodeConvs(nn.Module):
    """The nor_conv_3x3 and nor_conv_1x1 filters of all edges leaving one node, stacked ([3x3 of each outgoing
    edge..., 1x1 of each...]), and one BN over all their output channels: affine parameters, or conv biases when
    BN is not affine. Its BN parameters are plain Parameters of this module, not of an nn.BatchNorm2d, as in C#
    (which marks them with IBatchNormAffine so that they get the BN weight decay)."""

    def __init__(self, edges, cp, affine, track):
        super().__init__()
        per = edges * cp
        self.conv3_weight = nn.Parameter(new_filters((per, cp, 3, 3)))
        self.conv1_weight = nn.Parameter(new_filters((per, cp, 1, 1)))
        if affine:
            self.bias = None
            self.bn_weight = nn.Parameter(torch.ones(2 * per))
            self.bn_bias = nn.Parameter(torch.zeros(2 * per))
        else:
            b3, b1 = 1 / math.sqrt(cp * 9), 1 / math.sqrt(cp)
            self.bias = nn.Parameter(torch.cat([torch.empty(per).uniform_(-b3, b3), torch.empty(per).uniform_(-b1, b1)]))
            self.bn_weight, self.bn_bias = None, None
        if track:
            self.register_buffer("running_mean", torch.zeros(2 * per))
            self.register_buffer("running_var", torch.ones(2 * per))
        else:
            self.running_mean, self.running_var = None, None

    def conv_weights(self):
        return [self.conv3_weight, self.conv1_weight]

    def conv_biases(self):
        return [] if self.bias is None else [self.bias]

    def convolve(self, x):
        filters = torch.cat([self.conv3_weight, F.pad(self.conv1_weight, [1, 1, 1, 1])], 0)
        return conv2d(x, filters, self.bias, 1, 1)


class Mixing:
    """What the fused cells of one stage need from alpha and beta, computed once per forward pass."""

    def __init__(self, weights, edge_weights, channels, k):
        cp = channels // k
        scaled = weights if edge_weights is None else weights * edge_weights.unsqueeze(1)
        self.pool = [scaled[e, POOL] for e in range(EDGES)]
        if k == 1:
            self.whole = [scaled[e, SKIP] for e in range(EDGES)]
        else:
            self.whole = []
            for e in range(EDGES):
                skip = scaled[e, SKIP].expand(cp)
                beta = (torch.ones(channels - cp, dtype=scaled.dtype, device=scaled.device) if edge_weights is None
                        else edge_weights[e].expand(channels - cp))
                self.whole.append(torch.cat([skip, beta], 0).view(1, channels, 1, 1))
        self.conv_scale = []
        for j in range(3):
            index = torch.tensor([e for e, _ in OUTGOING[j]], device=scaled.device)
            rows = scaled.index_select(0, index)
            self.conv_scale.append(torch.cat([rows[:, CONV3], rows[:, CONV1]], 0).repeat_interleave(cp))


class FusedCell(nn.Module):
    def __init__(self, cfg, channels):
        super().__init__()
        self.k = cfg["partial_k"]
        self.cp = channels // self.k
        self.track, self.momentum = cfg["bn_track_running_stats"], cfg["bn_momentum"]
        for j in range(3):
            self.add_module("node%d" % j, NodeConvs(len(OUTGOING[j]), self.cp, cfg["bn_affine"], self.track))

    def conv_bn(self, xp, p, scale):
        conv = p.convolve(F.relu(xp))
        # scale * (gamma * xhat + b) = (scale * gamma) * xhat + scale * b
        w = scale if p.bn_weight is None else p.bn_weight * scale
        b = None if p.bn_bias is None else p.bn_bias * scale
        return F.batch_norm(conv, p.running_mean, p.running_var, w, b, self.training or not self.track, self.momentum, 1e-5)

    def forward(self, x, weights, edge_weights, mixing):
        nodes, convs, pooled = [x], [None] * 3, [None] * 3
        for i in range(1, 4):
            src = i - 1  # the node just finished feeds all later nodes: its ReLU, convolutions and pooling, once
            xp = nodes[src].narrow(1, 0, self.cp) if self.k > 1 else nodes[src]
            convs[src] = self.conv_bn(xp, getattr(self, "node%d" % src), mixing.conv_scale[src]).split(self.cp, 1)
            pooled[src] = avg_pool3x3(xp)
            nodes.append(self.node(i, nodes, convs, pooled, mixing))
        return nodes[3]

    def node(self, i, nodes, convs, pooled, mix):
        whole, part = None, None
        for j in range(i):
            e, n = edge_index(i, j), i - j - 1  # n: the edge's position among node j's outgoing edges
            whole = nodes[j] * mix.whole[e] if whole is None else torch.addcmul(whole, nodes[j], mix.whole[e])
            part = convs[j][n] if part is None else part + convs[j][n]
            part = part + convs[j][len(OUTGOING[j]) + n]
            part = torch.addcmul(part, pooled[j], mix.pool[e])
        if self.k == 1:
            return whole + part
        whole.narrow(1, 0, self.cp).add_(part)
        return channel_shuffle(whole, self.k)


# ---------------------------------------------------------------------------------------------------------------
# The supernet (Nb201/Nb201Supernet.cs).

class Nb201Supernet(nn.Module):
    def __init__(self, cfg, fused):
        super().__init__()
        c, mom = cfg["channels"], cfg["bn_momentum"]
        self.cfg = cfg
        self.stem = nn.Sequential(Conv(3, c, 3, padding=1), nn.BatchNorm2d(c, momentum=mom))
        cells = []
        for stage in range(3):
            cs = c << stage
            if stage > 0:
                cells.append(ResNetBasicBlock(cs // 2, cs, mom))
            for _ in range(cfg["layers"]):
                cells.append(FusedCell(cfg, cs) if fused else ReferenceCell(cfg, cs))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.BatchNorm2d(c * 4, momentum=mom)
        self.classifier = nn.Linear(c * 4, cfg["classes"])
        self.arch_parameters = nn.Parameter(1e-3 * torch.randn(EDGES, len(OPS)))
        self.arch_betas = nn.Parameter(1e-3 * torch.randn(EDGES)) if cfg["edge_normalisation"] else None

    def arch_params(self):
        return [self.arch_parameters] + ([] if self.arch_betas is None else [self.arch_betas])

    def forward(self, x):
        w = self.arch_parameters.softmax(-1)
        b = None
        if self.arch_betas is not None:
            b = torch.cat([self.arch_betas.narrow(0, s, n).softmax(0) for s, n in NODE_EDGES], 0)
        mixing = {}
        feature = self.stem(x)
        for cell in self.cells:
            if isinstance(cell, ResNetBasicBlock):
                feature = cell(feature)
            else:
                ch = feature.shape[1]
                if isinstance(cell, FusedCell) and ch not in mixing:
                    mixing[ch] = Mixing(w, b, ch, self.cfg["partial_k"])
                feature = cell(feature, w, b, mixing.get(ch))
        out = F.adaptive_avg_pool2d(F.relu(self.lastact(feature)), 1).flatten(1)
        return self.classifier(out)


def apply_random_features(net, train_classifier):
    """RandomFeatures.Apply with FrozenInit.KaimingNormal."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (Conv, NodeConvs)):
                for w in m.conv_weights():
                    nn.init.kaiming_normal_(w, a=0, mode="fan_in", nonlinearity="relu")
                    w.requires_grad_(False)
                for b in m.conv_biases():
                    b.requires_grad_(False)
            elif isinstance(m, nn.Linear) and not train_classifier:
                m.weight.requires_grad_(False)
                m.bias.requires_grad_(False)
    left = [n for n, p in net.named_parameters() if p.dim() == 4 and p.requires_grad]
    if left:
        raise RuntimeError("random features: trainable convolution weights left: %s" % left)


def count_parameters(net):
    """RandomFeatures.Count: elements of trainable weights, frozen weights, architecture parameters."""
    arch = set(id(p) for p in net.arch_params())
    t = f = a = 0
    for p in net.parameters():
        if id(p) in arch:
            a += p.numel()
        elif p.requires_grad:
            t += p.numel()
        else:
            f += p.numel()
    return t, f, a


def weight_groups(net, cfg):
    """SearchSession.WeightGroups: the BN affine parameters (of nn.BatchNorm2d modules and the fused cells' stacked
    BN parameters alike) get the BN weight decay, every other trainable weight the weight decay."""
    arch = set(id(p) for p in net.arch_params())
    bn = set()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            for p in (m.weight, m.bias):
                if p is not None:
                    bn.add(id(p))
        if isinstance(m, NodeConvs):
            for p in (m.bn_weight, m.bn_bias):
                if p is not None:
                    bn.add(id(p))
    weights = [p for p in net.parameters() if p.requires_grad and id(p) not in arch]
    groups = [dict(params=[p for p in weights if id(p) not in bn], weight_decay=cfg["weight_decay"]),
              dict(params=[p for p in weights if id(p) in bn], weight_decay=cfg["bn_weight_decay"])]
    return weights, [g for g in groups if g["params"]]


def build(cfg, fused, seed):
    torch.manual_seed(seed)
    net = Nb201Supernet(cfg, fused)
    if cfg["random_features"]:
        apply_random_features(net, cfg["train_classifier"])
    return net


# ---------------------------------------------------------------------------------------------------------------
# Data.

def cifar_batches(data_root, count, batch, seed):
    """`count` batches of real CIFAR-10 training images with the search's train transform (random crop 32 with
    4 pixels of zero padding, horizontal flip, normalisation), as float32 NCHW and int64 labels."""
    folder = os.path.join(data_root, "cifar-10-batches-bin")
    if not os.path.isdir(folder):
        folder = data_root
    raw = np.concatenate([np.fromfile(os.path.join(folder, "data_batch_%d.bin" % i), dtype=np.uint8).reshape(-1, 3073)
                          for i in range(1, 6) if os.path.exists(os.path.join(folder, "data_batch_%d.bin" % i))])
    if raw.size == 0:
        raise SystemExit("no data_batch_*.bin under %s" % folder)
    rng = np.random.default_rng(seed)
    mean = np.array(CIFAR_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array(CIFAR_STD, dtype=np.float32).reshape(1, 3, 1, 1)
    out = []
    for _ in range(count):
        idx = rng.choice(len(raw), batch, replace=False)
        labels = raw[idx, 0].astype(np.int64)
        images = raw[idx, 1:].reshape(batch, 3, 32, 32).astype(np.float32)
        padded = np.pad(images, ((0, 0), (0, 0), (4, 4), (4, 4)))
        x = np.empty_like(images)
        for n in range(batch):
            dy, dx = rng.integers(0, 9, size=2)
            img = padded[n, :, dy:dy + 32, dx:dx + 32]
            x[n] = img[:, :, ::-1] if rng.random() < 0.5 else img
        x = (x / 255.0 - mean) / std
        out.append((torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(labels)))
    return out


def random_batches(count, batch, seed):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(batch, 3, 32, 32, generator=g), torch.randint(0, 10, (batch,), generator=g))
            for _ in range(count)]


# ---------------------------------------------------------------------------------------------------------------
# The step.

def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def zero_grads(params):
    """Gradients.Zero / Adam.ZeroGrad: zero the existing gradients in place (not set them to None)."""
    for p in params:
        if p.grad is not None:
            p.grad.zero_()


def search_step(net, arch, weights, adam, sgd, grad_clip, xt, yt, xa, ya, device):
    """One first-order DARTS step; returns (arch ms, weight ms, step ms, arch loss, weight loss)."""
    sync(device)
    t0 = time.perf_counter()
    # Architect.Step (first order): alpha's gradient of the loss on the architecture batch, Adam step.
    zero_grads(arch)
    loss = F.cross_entropy(net(xa), ya)
    torch.autograd.backward([loss], inputs=arch)
    arch_loss = loss.item()
    adam.step()
    t1 = time.perf_counter()
    # WeightStep.Gradient: zero the weights' gradients, their gradient of the loss on the training batch.
    zero_grads(weights)
    t2 = time.perf_counter()
    loss = F.cross_entropy(net(xt), yt)
    torch.autograd.backward([loss], inputs=weights)
    weight_loss = loss.item()
    t3 = time.perf_counter()
    # WeightStep.Update: clip the global norm, SGD step.
    torch.nn.utils.clip_grad_norm_(weights, grad_clip)
    sgd.step()
    sync(device)
    t4 = time.perf_counter()
    return (t1 - t0) * 1e3, (t3 - t2) * 1e3, (t4 - t0) * 1e3, arch_loss, weight_loss


def optimiser_kwargs(foreach):
    return {} if foreach == "auto" else dict(foreach=(foreach == "on"))


def run(args):
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False (torch %s)" % torch.__version__)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    Kernels.s2d = args.s2d_kernels
    cfg = paper_preset(args.method)

    net = build(cfg, fused=(args.cell == "fused"), seed=args.seed)
    trainable, frozen, architecture = count_parameters(net)
    net.to(device)  # after the random features, as SearchSession.Create
    net.train()
    arch = net.arch_params()
    weights, groups = weight_groups(net, cfg)
    sgd = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"], nesterov=cfg["nesterov"], **optimiser_kwargs(args.foreach))
    adam = torch.optim.Adam(arch, lr=cfg["arch_lr"], betas=cfg["arch_betas"], eps=cfg["arch_eps"],
                            weight_decay=cfg["arch_weight_decay"], **optimiser_kwargs(args.foreach))

    total = args.warmup + args.steps
    batches = (cifar_batches(args.data_root, 2 * total, args.batch, args.seed) if args.data_root
               else random_batches(2 * total, args.batch, args.seed))
    batches = [(x.to(device), y.to(device)) for x, y in batches]

    cpu_model = _cpu_model()
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model
    print("torch %s, %s (%s), %d torch threads, python %s" % (torch.__version__, device, device_name, torch.get_num_threads(),
                                                               platform.python_version()))
    print("supernet: C=%d, %d cells per stage, K=%d, edge normalisation %s, BN affine %s, %s cells, first-order steps, float32; "
          "parameters: %s trainable, %s frozen, %s architecture"
          % (cfg["channels"], cfg["layers"], cfg["partial_k"], "on" if cfg["edge_normalisation"] else "off",
             "on" if cfg["bn_affine"] else "off", args.cell, format(trainable, ","), format(frozen, ","), format(architecture, ",")))
    print("method %s, batch %d, %s data, %d warm-up + %d measured steps%s"
          % (args.method, args.batch, "CIFAR-10" if args.data_root else "random", args.warmup, args.steps,
             ", s2d kernels" if args.s2d_kernels else ""))

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    rows = []
    for i in range(total):
        (xt, yt), (xa, ya) = batches[2 * i], batches[2 * i + 1]
        r = search_step(net, arch, weights, adam, sgd, cfg["grad_clip"], xt, yt, xa, ya, device)
        if i >= args.warmup:
            rows.append(r)
        if args.verbose:
            print("step %d%s: %.1f ms (arch %.1f + weight %.1f), losses %.4f / %.4f"
                  % (i, " (warm-up)" if i < args.warmup else "", r[2], r[0], r[1], r[3], r[4]))
    step_ms = statistics.median(r[2] for r in rows)
    arch_ms = statistics.median(r[0] for r in rows)
    weight_ms = statistics.median(r[1] for r in rows)
    images = 2.0 * args.batch / (step_ms / 1000)
    print("%s nb201 %s: %.1f ms/step (arch %.1f + weight %.1f), %.1f images/s (median of %d)"
          % ("PyTorch", args.method, step_ms, arch_ms, weight_ms, images, len(rows)))

    result = dict(
        framework="pytorch", torch_version=torch.__version__, python_version=platform.python_version(),
        device=str(device), device_name=device_name, cpu=cpu_model, torch_threads=torch.get_num_threads(),
        cuda_version=torch.version.cuda, **(_cuda_settings() if device.type == "cuda" else {}),
        space="nas-bench-201", method=args.method, cell=args.cell, s2d_kernels=args.s2d_kernels, foreach=args.foreach,
        data="cifar10" if args.data_root else "random", batch=args.batch, warmup=args.warmup, steps=args.steps, seed=args.seed,
        step_ms=step_ms, arch_ms=arch_ms, weight_ms=weight_ms, images_per_s=images,
        step_ms_all=[r[2] for r in rows], arch_ms_all=[r[0] for r in rows], weight_ms_all=[r[1] for r in rows],
        last_arch_loss=rows[-1][3], last_weight_loss=rows[-1][4],
        parameters=dict(trainable=trainable, frozen=frozen, architecture=architecture),
        config=dict(cfg, arch_betas=list(cfg["arch_betas"])),
    )
    if device.type == "cuda":
        result["cuda_peak_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 1e6
    else:
        try:
            import resource
            result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        except ImportError:
            pass
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        print("wrote %s" % args.json)
    return result


def _cuda_settings():
    """The cuDNN / TF32 settings the step ran with (libtorch's defaults unless changed: s2d changes none)."""
    def get(f):
        try:
            return f()
        except Exception:  # an attribute this torch version lacks or refuses (the fp32_precision API of torch >= 2.9)
            return None
    return dict(
        cudnn_version=get(torch.backends.cudnn.version),
        cudnn_benchmark=get(lambda: torch.backends.cudnn.benchmark),
        cudnn_allow_tf32=get(lambda: torch.backends.cudnn.allow_tf32),
        matmul_allow_tf32=get(lambda: torch.backends.cuda.matmul.allow_tf32),
        float32_matmul_precision=get(torch.get_float32_matmul_precision),
        cudnn_conv_fp32_precision=get(lambda: torch.backends.cudnn.conv.fp32_precision),
    )


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ---------------------------------------------------------------------------------------------------------------
# --check: the fused cell computes the reference cell's function (float64, CPU).

def copy_reference_into_fused(ref, fused):
    fstate = fused.state_dict()
    rstate = ref.state_dict()
    new = {}
    for name in fstate:
        if name in rstate:
            new[name] = rstate[name]
    for ci, (rc, fc) in enumerate(zip(ref.cells, fused.cells)):
        if not isinstance(rc, ReferenceCell):
            continue
        for j in range(3):
            edges = [e for e, _ in OUTGOING[j]]
            p = "cells.%d.node%d." % (ci, j)
            conv3 = [rc.edges[e].ops[CONV3] for e in edges]
            conv1 = [rc.edges[e].ops[CONV1] for e in edges]
            both = conv3 + conv1
            new[p + "conv3_weight"] = torch.cat([m.conv.weight for m in conv3])
            new[p + "conv1_weight"] = torch.cat([m.conv.weight for m in conv1])
            if getattr(fc, "node%d" % j).bn_weight is not None:
                new[p + "bn_weight"] = torch.cat([m.bn.weight for m in both])
                new[p + "bn_bias"] = torch.cat([m.bn.bias for m in both])
            else:
                new[p + "bias"] = torch.cat([m.conv.bias for m in both])
            if (p + "running_mean") in fstate:
                new[p + "running_mean"] = torch.cat([m.bn.running_mean for m in both])
                new[p + "running_var"] = torch.cat([m.bn.running_var for m in both])
    missing = [n for n in fstate if n not in new and not n.endswith("num_batches_tracked")]
    if missing:
        raise RuntimeError("--check: no reference value for %s" % missing[:5])
    fused.load_state_dict({n: v.detach().clone() for n, v in new.items()}, strict=False)


def check(args):
    torch.set_num_threads(args.threads or torch.get_num_threads())
    # s2d's kernels against torch's, alone.
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 8, 9, 7, generator=g, dtype=torch.float64)
    w = torch.randn(12, 8, 3, 3, generator=g, dtype=torch.float64)
    b = torch.randn(12, generator=g, dtype=torch.float64)
    results = []
    for s2d in (False, True):
        Kernels.s2d = s2d
        results.append((avg_pool3x3(x), conv2d(x, w, None, 1, 1), conv2d(x, w, b, 2, 1)))
    err = max(float((a - c).abs().max()) for a, c in zip(*results))
    ok = err < 1e-12
    print("check kernels: s2d's avg pooling and padded convolutions vs torch's, max difference %.1e: %s" % (err, "ok" if ok else "FAILED"))
    methods = METHODS if args.method == "all" else (args.method,)
    for s2d in (False, True):
        Kernels.s2d = s2d
        for method in methods:
            cfg = paper_preset(method)
            ref = build(cfg, fused=False, seed=args.seed).double()
            fused = build(cfg, fused=True, seed=args.seed + 1).double()
            with torch.no_grad():  # alpha and beta far from uniform, so that every op's weight matters
                ref.arch_parameters.normal_()
                if ref.arch_betas is not None:
                    ref.arch_betas.normal_()
                for m in ref.modules():
                    if isinstance(m, nn.BatchNorm2d) and m.affine:
                        m.weight.uniform_(0.5, 1.5)
                        m.bias.uniform_(-0.5, 0.5)
            copy_reference_into_fused(ref, fused)
            counts_ref, counts_fused = count_parameters(ref), count_parameters(fused)
            g = torch.Generator().manual_seed(3)
            x = torch.randn(4, 3, 32, 32, generator=g, dtype=torch.float64)
            y = torch.randint(0, 10, (4,), generator=g)
            out = {}
            for name, net in (("reference", ref), ("fused", fused)):
                net.train()
                loss = F.cross_entropy(net(x), y)
                arch = net.arch_params()
                grads = torch.autograd.grad(loss, arch + [net.classifier.weight, net.stem[1].weight])
                out[name] = [loss.detach()] + list(grads) + [net.lastact.running_mean.clone()]
            err = max(float((a - b).abs().max() / (b.abs().max() + 1e-30)) for a, b in zip(out["reference"], out["fused"]))
            good = err < 1e-9 and counts_ref == counts_fused
            ok &= good
            print("check %-10s %s: fused vs reference max relative difference %.1e (loss, alpha/beta grads, classifier and "
                  "stem-BN grads, BN running mean); parameters %s / %s: %s"
                  % (method, "s2d kernels" if s2d else "torch kernels", err, counts_ref, counts_fused, "ok" if good else "FAILED"))
    Kernels.s2d = False
    return ok


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch reference of `s2d bench search --space nas-bench-201`: one supernet search step")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--batch", type=int, default=64, help="batch size of each half (default 64, the paper preset's)")
    p.add_argument("--steps", type=int, default=20, help="measured steps (median reported)")
    p.add_argument("--warmup", type=int, default=3, help="steps run before measuring")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's own)")
    p.add_argument("--method", default="rf-pcdarts", choices=METHODS + ("all",), help="search method (all: --check only)")
    p.add_argument("--cell", default="fused", choices=("fused", "reference"),
                   help="fused (default; what `s2d bench search` times) or the edge-by-edge reference cell (its --reference row)")
    p.add_argument("--s2d-kernels", action="store_true",
                   help="take s2d's CPU kernels for the same maths: convs padded to 16 output channels, avg pooling as matmuls")
    p.add_argument("--foreach", default="auto", choices=("auto", "on", "off"),
                   help="optimisers' multi-tensor kernels (auto: torch's default; s2d steps parameter by parameter, i.e. off)")
    p.add_argument("--cudnn-benchmark", action="store_true", help="torch.backends.cudnn.benchmark = True (default False, as libtorch/s2d)")
    p.add_argument("--data-root", default=None, help="folder holding cifar-10-batches-bin: real CIFAR-10 batches (default: random tensors)")
    p.add_argument("--seed", type=int, default=1, help="torch seed of the supernet (s2d bench search: 1)")
    p.add_argument("--json", default=None, help="write the results as one JSON object to this file")
    p.add_argument("--check", action="store_true", help="verify in float64 that the fused and reference cells agree, then stop")
    p.add_argument("--verbose", action="store_true", help="print every step")
    args = p.parse_args(argv)
    if args.check:
        return 0 if check(args) else 1
    if args.method == "all":
        p.error("--method all is for --check only")
    if args.steps < 1 or args.warmup < 0 or args.batch < 1:
        p.error("--steps must be >= 1, --warmup >= 0, --batch >= 1")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
