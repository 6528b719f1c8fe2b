#!/usr/bin/env python3
"""Golden values from PyTorch for the NN layer tests (Tests/NNTests/Fixtures/*.json).

    python3 scripts/pytorch_golden.py [--out DIR]

Writes one JSON file per case:

    {"case": NAME, "torch_version": V, "config": {...}, "scalars": {...},
     "tensors": {NAME: {"shape": [...], "values": [...]}}}

Conventions (shared by every case):
  * everything is computed in float32 on one CPU thread; every case starts from
    torch.manual_seed(seed_of(case)), so a rerun writes byte-identical files;
  * values are float32 numbers printed as Python's repr of the double that holds
    them exactly, which parses back to the same float32;
  * layouts are PyTorch's: Linear weight (out, in), Conv2d weight (out, in, kh, kw),
    activations N C H W row-major;
  * backward: with a fixed random upstream gradient dy of the output's shape,
    dx, dweight, dbias are the gradients of sum(y * dy); they are fresh (not
    accumulated) in every step;
  * integer data (labels, counters) are stored as exact floats (tensors) or numbers
    (scalars).
"""
import argparse
import json
import math
import os
import zlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_resnet import FixupResNet, resnet  # noqa: E402  (shared with Benchmarks/pytorch_reference.py)

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NNTests", "Fixtures")
MAX_BYTES = 200 * 1024


# ----------------------------------------------------------------------------------------------
# Writing


class Case:
    """Collects one fixture: config, scalars and tensors, in insertion order."""

    def __init__(self, name, **config):
        self.name = name
        self.config = config
        self.scalars = {}
        self.tensors = {}
        torch.manual_seed(zlib.crc32(name.encode()))

    def tensor(self, name, t):
        assert name not in self.tensors, f"{self.name}: tensor {name} written twice"
        t = t.detach()
        assert t.dtype in (torch.float32, torch.int64), f"{self.name}: {name} is {t.dtype}"
        values = [float(v) for v in t.double().flatten().tolist()]
        assert all(math.isfinite(v) for v in values), f"{self.name}: {name} is not finite"
        self.tensors[name] = {"shape": list(t.shape), "values": values}

    def scalar(self, name, value):
        assert name not in self.scalars, f"{self.name}: scalar {name} written twice"
        if isinstance(value, torch.Tensor):
            value = float(value.detach().double().item())
        self.scalars[name] = value

    def params(self, prefix, module):
        """Every parameter and buffer of module, by its state_dict name."""
        for key, value in module.state_dict().items():
            if value.dtype == torch.int64 and value.dim() == 0:
                self.scalar(f"{prefix}{key}", int(value.item()))
            else:
                self.tensor(f"{prefix}{key}", value)

    def grads(self, prefix, module):
        for key, p in module.named_parameters():
            self.tensor(f"{prefix}{key}", p.grad)

    def write(self, out_dir):
        def dump(obj):
            return json.dumps(obj, separators=(",", ":"), allow_nan=False)

        lines = ["{"]
        lines.append(f' "case":{dump(self.name)},')
        lines.append(f' "torch_version":{dump(torch.__version__)},')
        lines.append(f' "config":{dump(self.config)},')
        lines.append(f' "scalars":{dump(self.scalars)},')
        lines.append(' "tensors":{')
        items = [f"  {dump(k)}:{dump(v)}" for k, v in self.tensors.items()]
        lines.append(",\n".join(items))
        lines.append(" }")
        lines.append("}")
        text = "\n".join(lines) + "\n"
        assert len(text) <= MAX_BYTES, f"{self.name}: {len(text)} bytes > {MAX_BYTES}"
        path = os.path.join(out_dir, f"{self.name}.json")
        with open(path, "w") as f:
            f.write(text)
        return path


def affine(module):
    """Random non-trivial affine parameters: weight ~ 1 + 0.5 N(0,1), bias ~ 0.5 N(0,1)."""
    with torch.no_grad():
        module.weight.copy_(1 + 0.5 * torch.randn(module.weight.shape))
        module.bias.copy_(0.5 * torch.randn(module.bias.shape))


def forward_backward(case, prefix, module, x, y_fn=None):
    """y = module(x); dy random; records x, dy, y, dx and every parameter gradient."""
    x = x.clone().requires_grad_(True)
    module.zero_grad(set_to_none=True)
    y = module(x) if y_fn is None else y_fn(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    case.tensor(f"{prefix}x", x)
    case.tensor(f"{prefix}dy", dy)
    case.tensor(f"{prefix}y", y)
    case.tensor(f"{prefix}dx", x.grad)
    for key, p in module.named_parameters():
        case.tensor(f"{prefix}d{key}", p.grad)
    return y


def batch_input(shape, step, min_var=0.05):
    """Per-channel shifted and scaled normal input, different in every step. Drawn again until
    every channel's biased batch variance is at least min_var (far above eps = 1e-5), so that
    with N = 2 the normalization is well-conditioned and float32 results are reproducible."""
    c = shape[1]
    view = [1, c] + [1] * (len(shape) - 2)
    dims = [0] + list(range(2, len(shape)))
    while True:
        shift = (torch.randn(c) + 0.3 * step).view(view)
        scale = (0.5 + torch.rand(c) * 2).view(view)
        x = torch.randn(shape) * scale + shift
        if shape[0] * math.prod(shape[2:]) == 1 or x.var(dims, unbiased=False).min() >= min_var:
            return x


# ----------------------------------------------------------------------------------------------
# 1. BatchNorm


def batchnorm_steps(name, dims, shape, momentum, steps=3):
    cls = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
    c = shape[1]
    case = Case(name, layer=cls.__name__, input_shape=list(shape), num_features=c, eps=1e-5,
                momentum=momentum, steps=steps,
                note="stepK.*: train-mode step K (x, dy, y, dx, dweight, dbias, running stats after "
                     "the step); initial.*: state before step 1; eval.*: eval-mode forward/backward "
                     "after the last step")
    bn = cls(c, eps=1e-5, momentum=momentum)
    affine(bn)
    case.params("initial.", bn)
    for step in range(1, steps + 1):
        bn.train()
        forward_backward(case, f"step{step}.", bn, batch_input(shape, step))
        case.tensor(f"step{step}.running_mean", bn.running_mean)
        case.tensor(f"step{step}.running_var", bn.running_var)
        case.scalar(f"step{step}.num_batches_tracked", int(bn.num_batches_tracked.item()))
    bn.eval()
    forward_backward(case, "eval.", bn, batch_input(shape, steps + 1))
    return case


def batchnorm_untracked_eval(name, dims, shape):
    cls = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
    c = shape[1]
    case = Case(name, layer=cls.__name__, input_shape=list(shape), num_features=c, eps=1e-5,
                track_running_stats=False, mode="eval",
                note="track_running_stats=False: eval mode normalizes with the batch statistics")
    bn = cls(c, eps=1e-5, track_running_stats=False)
    affine(bn)
    case.params("", bn)
    bn.eval()
    forward_backward(case, "", bn, batch_input(shape, 1))
    return case


def batchnorm1d_batch1_error():
    name = "batchnorm1d_batch1_train_error"
    case = Case(name, layer="BatchNorm1d", input_shape=[1, 3], num_features=3, mode="train",
                note="train mode with one value per channel raises ValueError; eval mode works")
    bn = nn.BatchNorm1d(3)
    x = torch.randn(1, 3)
    try:
        bn.train()
        bn(x)
        raise AssertionError("BatchNorm1d on (1, C) in train mode did not raise")
    except ValueError as error:
        case.scalar("error", str(error))
        case.scalar("error_type", type(error).__name__)
    case.tensor("x", x)
    bn.eval()
    case.tensor("eval.y", bn(x))
    return case


def batchnorm_cases():
    cases = []
    for dims, tail in ((1, ()), (2, (4, 4))):
        for n in (2, 5):
            for momentum, tag in ((0.1, "momentum0p1"), (None, "cumulative")):
                name = f"batchnorm{dims}d_n{n}_{tag}"
                cases.append(batchnorm_steps(name, dims, (n, 3) + tail, momentum))
    cases.append(batchnorm_steps("batchnorm2d_n1_momentum0p1", 2, (1, 3, 4, 4), 0.1))
    cases.append(batchnorm_untracked_eval("batchnorm1d_untracked_eval", 1, (5, 3)))
    cases.append(batchnorm_untracked_eval("batchnorm2d_untracked_eval", 2, (2, 3, 4, 4)))
    cases.append(batchnorm1d_batch1_error())
    return cases


# ----------------------------------------------------------------------------------------------
# 2-3. GroupNorm, LayerNorm


def groupnorm(groups):
    shape = (3, 4, 3, 3)
    case = Case(f"groupnorm_g{groups}", layer="GroupNorm", num_groups=groups, num_channels=4,
                input_shape=list(shape), eps=1e-5)
    gn = nn.GroupNorm(groups, 4, eps=1e-5)
    affine(gn)
    case.params("", gn)
    forward_backward(case, "", gn, batch_input(shape, 1))
    return case


def layernorm(name, shape, normalized):
    case = Case(name, layer="LayerNorm", normalized_shape=list(normalized), input_shape=list(shape),
                eps=1e-5)
    ln = nn.LayerNorm(normalized, eps=1e-5)
    affine(ln)
    case.params("", ln)
    forward_backward(case, "", ln, torch.randn(shape) * 1.5 + 0.7)
    return case


def norm_cases():
    return [groupnorm(2), groupnorm(4),
            layernorm("layernorm_chw", (3, 2, 3, 3), (2, 3, 3)),
            layernorm("layernorm_c", (4, 6), (6,))]


# ----------------------------------------------------------------------------------------------
# 4. Conv2d


def conv2d(cin, cout, k, stride, padding, bias=True):
    name = f"conv2d_{cin}to{cout}_k{k}_s{stride}_p{padding}" + ("" if bias else "_nobias")
    shape = (2, cin, 7, 7)
    case = Case(name, layer="Conv2d", in_channels=cin, out_channels=cout, kernel_size=k,
                stride=stride, padding=padding, bias=bias, input_shape=list(shape))
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)
    case.params("", conv)
    forward_backward(case, "", conv, torch.randn(shape))
    return case


def conv_cases():
    return [conv2d(3, 4, 3, 1, 1), conv2d(3, 4, 3, 2, 1), conv2d(2, 3, 5, 2, 2),
            conv2d(1, 2, 3, 1, 0, bias=False)]


# ----------------------------------------------------------------------------------------------
# 5. Pooling, Linear, cross-entropy


def distinct_input(shape):
    """Values (k - n/2)/8 for a random permutation k of 0..n-1: exact in float32, no ties."""
    n = math.prod(shape)
    return ((torch.randperm(n).float() - n // 2) / 8).view(shape)


def pooling(name, module, **config):
    shape = (2, 3, 6, 6)
    case = Case(name, layer=type(module).__name__, input_shape=list(shape), **config)
    forward_backward(case, "", module, distinct_input(shape))
    return case


def linear():
    case = Case("linear_5to4", layer="Linear", in_features=5, out_features=4, input_shape=[3, 5])
    lin = nn.Linear(5, 4)
    case.params("", lin)
    forward_backward(case, "", lin, torch.randn(3, 5))
    return case


def cross_entropy():
    case = Case("cross_entropy_mean", loss="cross_entropy", reduction="mean", input_shape=[6, 4],
                note="loss = mean over rows of logsumexp(logits) - logits[label]; "
                     "dlogits is the gradient of the loss itself (no dy)")
    logits = (torch.randn(6, 4) * 2).requires_grad_(True)
    labels = torch.randint(0, 4, (6,))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    case.tensor("logits", logits)
    case.tensor("labels", labels)
    case.scalar("loss", loss)
    case.tensor("dlogits", logits.grad)
    return case


def pool_linear_loss_cases():
    return [pooling("maxpool2d_k2", nn.MaxPool2d(2), kernel_size=2, stride=2),
            pooling("maxpool2d_k3_s2", nn.MaxPool2d(3, stride=2), kernel_size=3, stride=2),
            pooling("avgpool2d_k2", nn.AvgPool2d(2), kernel_size=2, stride=2),
            pooling("adaptive_avgpool2d_1", nn.AdaptiveAvgPool2d(1), output_size=1),
            linear(), cross_entropy()]


# ----------------------------------------------------------------------------------------------
# 6. A small CNN trained for 3 SGD steps


def small_cnn(bn_momentum):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),       # 0
        nn.BatchNorm2d(4, momentum=bn_momentum),  # 1
        nn.ReLU(),                           # 2
        nn.MaxPool2d(2),                     # 3
        nn.Conv2d(4, 6, 3, padding=1),       # 4
        nn.BatchNorm2d(6, momentum=bn_momentum),  # 5
        nn.ReLU(),                           # 6
        nn.AvgPool2d(2),                     # 7
        nn.Flatten(),                        # 8
        nn.Dropout(p=0.0),                   # 9
        nn.Linear(24, 3),                    # 10
    )


def sgd_cnn(name, nesterov, bn_momentum, steps=3):
    case = Case(name, model="conv(1->4,3x3,pad1) BN2d(4) ReLU MaxPool2d(2) conv(4->6,3x3,pad1) BN2d(6) "
                            "ReLU AvgPool2d(2) Flatten Dropout(0) Linear(24,3)",
                input_shape=[4, 1, 8, 8], loss="cross_entropy(mean)", optimizer="SGD", lr=0.1,
                momentum=0.9, dampening=0.0, weight_decay=5e-4, nesterov=nesterov,
                bn_momentum=bn_momentum, bn_eps=1e-5, steps=steps, mode="train",
                note="initial.* and final.*: state_dict by PyTorch's names (counters in scalars); "
                     "stepK.x/labels: batch K; stepK.loss: loss before update K; stepK.grad.*: "
                     "gradients of that loss; stepK.state.*: state_dict after update K. "
                     "weight_decay applies to every parameter, BN's included")
    model = small_cnn(bn_momentum)
    with torch.no_grad():
        for i in (1, 5):
            affine(model[i])
    model.train()
    case.params("initial.", model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, dampening=0.0, weight_decay=5e-4,
                          nesterov=nesterov, foreach=False)
    for step in range(1, steps + 1):
        x = torch.randn(4, 1, 8, 8)
        labels = torch.randint(0, 3, (4,))
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        case.tensor(f"step{step}.x", x)
        case.tensor(f"step{step}.labels", labels)
        case.scalar(f"step{step}.loss", loss)
        case.grads(f"step{step}.grad.", model)
        opt.step()
        if step < steps:
            case.params(f"step{step}.state.", model)
    case.params("final.", model)
    return case


def sgd_cnn_cases():
    return [sgd_cnn("sgd_cnn_3steps_momentum", False, 0.1),
            sgd_cnn("sgd_cnn_3steps_nesterov", True, 0.1),
            sgd_cnn("sgd_cnn_3steps_cumulative_bn", False, None)]


# ----------------------------------------------------------------------------------------------
# 7. Optimizers on one parameter tensor


def optimizer_case(name, make, note, steps=4, **config):
    case = Case(name, parameter_shape=[5], steps=steps, note=note, **config)
    p = torch.nn.Parameter(torch.randn(5))
    grads = [torch.randn(5) for _ in range(steps)]
    case.tensor("initial.param", p)
    opt = make([p])
    for step, g in enumerate(grads, start=1):
        p.grad = g.clone()
        opt.step()
        case.tensor(f"step{step}.grad", g)
        case.tensor(f"step{step}.param", p)
    return case


def optimizer_cases():
    sgd_note = ("PyTorch SGD: g = grad + wd*p; buf = g on step 1, else momentum*buf + (1-dampening)*g; "
                "g = g + momentum*buf if nesterov else buf; p -= lr*g")
    return [
        optimizer_case("optimizer_sgd_momentum_dampening",
                       lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1,
                                                  weight_decay=0.01, foreach=False),
                       sgd_note, optimizer="SGD", lr=0.1, momentum=0.9, dampening=0.1,
                       weight_decay=0.01, nesterov=False),
        optimizer_case("optimizer_sgd_nesterov",
                       lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.0,
                                                  weight_decay=0.01, nesterov=True, foreach=False),
                       sgd_note, optimizer="SGD", lr=0.1, momentum=0.9, dampening=0.0,
                       weight_decay=0.01, nesterov=True),
        optimizer_case("optimizer_adam",
                       lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                                   weight_decay=0.01, foreach=False),
                       "Adam with L2 weight decay: g = grad + wd*p; m, v bias-corrected; "
                       "p -= lr * mhat / (sqrt(vhat) + eps)",
                       optimizer="Adam", lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01),
        optimizer_case("optimizer_adamw",
                       lambda ps: torch.optim.AdamW(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                                    weight_decay=0.01, foreach=False),
                       "AdamW, decoupled decay: p *= 1 - lr*wd, then the Adam step on grad",
                       optimizer="AdamW", lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01),
    ]


# ----------------------------------------------------------------------------------------------
# 8. Batch Renormalization (Ioffe 2017), a torch reference


class BatchRenorm(nn.Module):
    """Batch Renormalization, Ioffe 2017 ("Batch Renormalization: Towards Reducing Minibatch
    Dependence in Batch-Normalized Models"), Algorithm 1.

    Train (statistics over every axis but the channel axis 1):
        mu_B, var_B = batch mean, biased batch variance; sigma_B = sqrt(var_B + eps)
        sigma = sqrt(running_var + eps)                       (running stats before the update)
        r = clamp(sigma_B / sigma, 1/rmax, rmax)              no gradient
        d = clamp((mu_B - running_mean) / sigma, -dmax, dmax) no gradient
        y = weight * ((x - mu_B) / sigma_B * r + d) + bias
        running_mean = (1 - m) running_mean + m mu_B
        running_var  = (1 - m) running_var  + m var_B * n/(n-1)   (unbiased, as BatchNorm)
    Eval: y = weight * (x - running_mean) / sqrt(running_var + eps) + bias, as BatchNorm.
    """

    def __init__(self, c, rmax, dmax, eps=1e-5, momentum=0.1):
        super().__init__()
        self.rmax, self.dmax, self.eps, self.momentum = rmax, dmax, eps, momentum
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))
        self.last_r = self.last_d = None

    def forward(self, x):
        dims = [0] + list(range(2, x.dim()))
        view = [1, x.shape[1]] + [1] * (x.dim() - 2)
        if not self.training:
            inv = torch.rsqrt(self.running_var + self.eps)
            return self.weight.view(view) * (x - self.running_mean.view(view)) * inv.view(view) \
                + self.bias.view(view)
        mu = x.mean(dims)
        var = x.var(dims, unbiased=False)
        sigma_b = torch.sqrt(var + self.eps)
        with torch.no_grad():
            sigma = torch.sqrt(self.running_var + self.eps)
            r = torch.clamp(sigma_b / sigma, 1 / self.rmax, self.rmax)
            d = torch.clamp((mu - self.running_mean) / sigma, -self.dmax, self.dmax)
            n = x.numel() // x.shape[1]
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(m * mu)
            self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
        self.last_r, self.last_d = r, d
        xhat = (x - mu.view(view)) / sigma_b.view(view) * r.view(view) + d.view(view)
        return self.weight.view(view) * xhat + self.bias.view(view)


def batchrenorm(name, shape, steps=3):
    c = shape[1]
    rmax, dmax = 3.0, 5.0
    case = Case(name, layer="BatchRenorm", input_shape=list(shape), num_features=c, eps=1e-5,
                momentum=0.1, rmax=rmax, dmax=dmax, initial_running_mean=0.5, initial_running_var=2.0,
                steps=steps,
                note="Ioffe 2017; r, d computed without gradient from the running stats before the "
                     "update; running_var stores the unbiased batch variance; channel 0 is wide "
                     "(r clipped at rmax), channel 1 narrow (r clipped at 1/rmax), channel 2 far "
                     "off (d clipped at dmax)")
    brn = BatchRenorm(c, rmax, dmax)
    affine(brn)
    with torch.no_grad():
        brn.running_mean.fill_(0.5)
        brn.running_var.fill_(2.0)
    case.params("initial.", brn)
    view = [1, c] + [1] * (len(shape) - 2)
    scale = torch.tensor([8.0, 0.2, 1.0][:c]).view(view)
    shift = torch.tensor([0.0, 1.0, 12.0][:c]).view(view)
    clipped = {"r_high": 0, "r_low": 0, "d": 0}
    for step in range(1, steps + 1):
        brn.train()
        x = torch.randn(shape) * scale + shift
        forward_backward(case, f"step{step}.", brn, x)
        r, d = brn.last_r, brn.last_d
        case.tensor(f"step{step}.r", r)
        case.tensor(f"step{step}.d", d)
        case.tensor(f"step{step}.running_mean", brn.running_mean)
        case.tensor(f"step{step}.running_var", brn.running_var)
        clipped["r_high"] += int((r == rmax).sum())
        clipped["r_low"] += int((r == torch.tensor(1 / rmax)).sum())
        clipped["d"] += int((d.abs() == dmax).sum())
    assert all(v > 0 for v in clipped.values()), f"{name}: clipping not exercised: {clipped}"
    for key, count in clipped.items():
        case.scalar(f"clipped_{key}", count)
    brn.eval()
    forward_backward(case, "eval.", brn, torch.randn(shape) * scale + shift)
    return case


def check_batchrenorm_reference():
    """With rmax = 1 and dmax = 0 (r = 1, d = 0) the reference must be BatchNorm exactly."""
    torch.manual_seed(0)
    for shape in ((5, 3, 2, 2), (6, 3)):
        x = torch.randn(shape) * 2 + 1
        dy = torch.randn(shape)
        bn = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(3)
        brn = BatchRenorm(3, rmax=1.0, dmax=0.0)
        affine(bn)
        brn.load_state_dict({k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"})
        outs = []
        for module in (bn, brn):
            xi = x.clone().requires_grad_(True)
            y = module(xi)
            y.backward(dy)
            outs.append([y.detach(), xi.grad, module.weight.grad, module.bias.grad,
                         module.running_mean, module.running_var])
        for a, b in zip(*outs):
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-5), "BatchRenorm reference != BatchNorm"


def batchrenorm_cases():
    check_batchrenorm_reference()
    return [batchrenorm("batchrenorm2d_n5", (5, 3, 2, 2)), batchrenorm("batchrenorm1d_n6", (6, 3))]


# ----------------------------------------------------------------------------------------------
# 9. LeakyReLU (torch.nn.LeakyReLU is the reference)


def leaky_relu(name, slope):
    shape = (2, 3, 4, 4)
    case = Case(name, layer="LeakyReLU", negative_slope=slope, input_shape=list(shape),
                note="y = x if x > 0 else slope * x; x holds exact zeros (+0 at every 7th value, -0 at "
                     "index 3), where PyTorch's backward (x > 0) gives dx = slope * dy")
    x = torch.randn(shape)
    flat = x.view(-1)
    flat[::7] = 0.0
    flat[3] = -0.0
    forward_backward(case, "", nn.LeakyReLU(slope), x)
    return case


def activation_cases():
    return [leaky_relu("leaky_relu_0p01", 0.01), leaky_relu("leaky_relu_0p2", 0.2)]


# ----------------------------------------------------------------------------------------------
# 10. The residual network (He et al. 2016, CIFAR family), torchvision's BasicBlock and names:
#     resnet() in scripts/torch_resnet.py


def norm_factory(kind, groups=2, momentum=0.1):
    if kind == "batch":
        return lambda c, shape: nn.BatchNorm2d(c, eps=1e-5, momentum=momentum)
    if kind == "group":
        return lambda c, shape: nn.GroupNorm(groups, c, eps=1e-5)
    if kind == "layer":
        return lambda c, shape: nn.LayerNorm(shape, eps=1e-5)
    return lambda c, shape: None


def randomize_norms(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
            affine(m)


def key_list(model):
    return [[key, list(value.shape)] for key, value in model.state_dict().items()]


def sgd_training(case, model, input_shape, classes, steps, grads_every_step=True):
    """Steps of SGD (lr 0.1, momentum 0.9, weight_decay 5e-4, as sgd_cnn) in train mode from the
    model's current state; then one eval-mode forward of a fresh batch."""
    model.train()
    case.scalar("state_dict_keys", key_list(model))
    case.params("initial.", model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, dampening=0.0, weight_decay=5e-4,
                          foreach=False)
    for step in range(1, steps + 1):
        x = torch.randn(input_shape)
        labels = torch.randint(0, classes, (input_shape[0],))
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        case.tensor(f"step{step}.x", x)
        case.tensor(f"step{step}.labels", labels)
        case.scalar(f"step{step}.loss", loss)
        if grads_every_step or step == 1:
            case.grads(f"step{step}.grad.", model)
        opt.step()
    case.params("final.", model)
    model.eval()
    x = torch.randn(input_shape)
    case.tensor("eval.x", x)
    case.tensor("eval.logits", model(x))
    return case


def sgd_resnet(name, norm, act, act_name, steps=3):
    input_shape = (2, 1, 8, 8)
    case = Case(name, model="resnet blocks=1,1,1 channels=4,8,8 stem=4", norm=norm, groups=2, activation=act_name,
                input_shape=list(input_shape), classes=3, loss="cross_entropy(mean)", optimizer="SGD", lr=0.1,
                momentum=0.9, dampening=0.0, weight_decay=5e-4, nesterov=False, bn_momentum=0.1, eps=1e-5,
                steps=steps, mode="train",
                note="torchvision BasicBlock ResNet-8 (layer1 identity shortcut, layer2 and layer3 projections); "
                     "random norm affines; scalars.state_dict_keys: [key, shape] in state_dict order; "
                     "initial.*/final.*: state_dict; stepK.x/labels/loss (before update K); step1.grad.*; "
                     "eval.x, eval.logits: model.eval() forward after the last step")
    model = resnet(1, 8, 8, 3, [1, 1, 1], [4, 8, 8], 4, norm_factory(norm), act)
    randomize_norms(model)
    return sgd_training(case, model, input_shape, 3, steps, grads_every_step=False)


def resnet_state_dict_keys():
    """Keys and shapes for every norm kind of a net whose stem differs from layer1 (a stride-1
    projection) and with two blocks in layer1 (an identity block after a projection)."""
    case = Case("resnet_state_dict_keys", model="resnet blocks=2,1 channels=4,6 stem=2", input_shape=[2, 1, 6, 6],
                classes=3, groups=2, dropout=0.5,
                note="scalars.KIND: [key, shape] of state_dict() in order, for norm batch, group, layer, none; "
                     "none.state.*, none.x, none.logits: the norm-free net's default-init state and its eval output")
    for kind in ("batch", "group", "layer", "none"):
        model = resnet(1, 6, 6, 3, [2, 1], [4, 6], 2, norm_factory(kind), nn.ReLU, dropout=0.5)
        case.scalar(kind, key_list(model))
    # the net without norms (conv biases) in eval mode: its default-init state, an input and the logits
    case.params("none.state.", model)
    model.eval()
    x = torch.randn(2, 1, 6, 6)
    case.tensor("none.x", x)
    case.tensor("none.logits", model(x))
    return case


def resnet_cases():
    return [sgd_resnet("resnet8_sgd_3steps_batchnorm", "batch", nn.ReLU, "relu"),
            sgd_resnet("resnet8_sgd_3steps_groupnorm_leaky", "group", lambda: nn.LeakyReLU(0.2),
                       "leaky_relu slope=0.2"),
            resnet_state_dict_keys()]


# ----------------------------------------------------------------------------------------------
# 11. Fixup (Zhang, Dauphin & Ma, ICLR 2019). Reference: the authors' code,
#     github.com/hongyi-zhang/Fixup cifar/models/fixup_resnet_cifar.py (commit f3fa449f), copied
#     verbatim below (Authors*), and the transcription bnlab follows (FixupResNet in torch_resnet.py): the
#     same modules with the sizes as arguments, the shortcut's zero channels O - C (theirs: C, with
#     O = 2C wherever they stride), the activation given, bnlab's dropout before bias2.
#     check_fixup_reference() holds the transcription to the authors' ResNet-20 exactly.


def authors_conv3x3(in_planes, out_planes, stride=1):
    """3x3 convolution with padding"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride,
                     padding=1, bias=False)


class AuthorsFixupBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super(AuthorsFixupBasicBlock, self).__init__()
        # Both self.conv1 and self.downsample layers downsample the input when stride != 1
        self.bias1a = nn.Parameter(torch.zeros(1))
        self.conv1 = authors_conv3x3(inplanes, planes, stride)
        self.bias1b = nn.Parameter(torch.zeros(1))
        self.relu = nn.ReLU(inplace=True)
        self.bias2a = nn.Parameter(torch.zeros(1))
        self.conv2 = authors_conv3x3(planes, planes)
        self.scale = nn.Parameter(torch.ones(1))
        self.bias2b = nn.Parameter(torch.zeros(1))
        self.downsample = downsample

    def forward(self, x):
        identity = x

        out = self.conv1(x + self.bias1a)
        out = self.relu(out + self.bias1b)

        out = self.conv2(out + self.bias2a)
        out = out * self.scale + self.bias2b

        if self.downsample is not None:
            identity = self.downsample(x + self.bias1a)
            identity = torch.cat((identity, torch.zeros_like(identity)), 1)

        out += identity
        out = self.relu(out)

        return out


class AuthorsFixupResNet(nn.Module):

    def __init__(self, block, layers, num_classes=10):
        super(AuthorsFixupResNet, self).__init__()
        self.num_layers = sum(layers)
        self.inplanes = 16
        self.conv1 = authors_conv3x3(3, 16)
        self.bias1 = nn.Parameter(torch.zeros(1))
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, 16, layers[0])
        self.layer2 = self._make_layer(block, 32, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 64, layers[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.bias2 = nn.Parameter(torch.zeros(1))
        self.fc = nn.Linear(64, num_classes)

        for m in self.modules():
            if isinstance(m, AuthorsFixupBasicBlock):
                nn.init.normal_(m.conv1.weight, mean=0, std=math.sqrt(2 / (m.conv1.weight.shape[0] * math.prod(m.conv1.weight.shape[2:]))) * self.num_layers ** (-0.5))
                nn.init.constant_(m.conv2.weight, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.weight, 0)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1:
            downsample = nn.AvgPool2d(1, stride=stride)

        layers = []
        layers.append(block(self.inplanes, planes, stride, downsample))
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(block(planes, planes))

        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.relu(x + self.bias1)

        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)

        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        x = self.fc(x + self.bias2)

        return x


def randomize_fixup(model):
    """Given weights with every gradient non-trivial: scales 1 + 0.2 N(0,1), scalar biases 0.1 N(0,1),
    weights N(0,1) * 0.5 / sqrt(fan_in), the fc bias 0.1 N(0,1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("scale"):
                p.copy_(1 + 0.2 * torch.randn(p.shape))
            elif p.dim() <= 1:
                p.copy_(0.1 * torch.randn(p.shape))
            else:
                p.copy_(torch.randn(p.shape) * 0.5 / math.sqrt(p[0].numel()))


def check_fixup_reference():
    """The transcription is the authors' ResNet-20 exactly: the same keys and shapes, the same init
    distribution (zeros where theirs are zero), and with the same weights the same output and gradients."""
    torch.manual_seed(0)
    theirs = AuthorsFixupResNet(AuthorsFixupBasicBlock, [3, 3, 3])
    ours = FixupResNet(3, [3, 3, 3], [16, 32, 64], 16, 10)
    assert [(k, v.shape) for k, v in theirs.state_dict().items()] == \
        [(k, v.shape) for k, v in ours.state_dict().items() if not k.startswith("dropout")]
    for (k, a), b in zip(theirs.state_dict().items(), ours.state_dict().values()):
        assert (a == 0).all() == (b == 0).all(), k
    randomize_fixup(theirs)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 16, 16)
    outs = []
    for model in (theirs, ours):
        model.zero_grad()
        y = model(x)
        y.square().sum().backward()
        outs.append([y.detach()] + [p.grad.clone() for p in model.parameters()])
    for a, b in zip(*outs):
        assert torch.equal(a, b), "Fixup transcription != the authors' FixupResNet"


def sgd_fixup(name, blocks, widths, stem, input_shape, act, act_name, steps=2):
    case = Case(name, model=f"resnet blocks={','.join(map(str, blocks))} channels={','.join(map(str, widths))} stem={stem}",
                norm="fixup", activation=act_name, input_shape=list(input_shape), classes=3, loss="cross_entropy(mean)",
                optimizer="SGD", lr=0.1, momentum=0.9, dampening=0.0, weight_decay=5e-4, nesterov=False, steps=steps,
                mode="train",
                note="Fixup (the authors' fixup_resnet_cifar.py, transcribed: FixupResNet in pytorch_golden.py) with "
                     "given random weights (randomize_fixup: every gradient non-zero); scalars.state_dict_keys: "
                     "[key, shape] in the transcription's order (bias1, bias2 first, as the authors'); "
                     "initial.*/final.*, stepK.x/labels/loss/grad.*, eval.x/eval.logits as resnet8_sgd_*")
    model = FixupResNet(input_shape[1], blocks, widths, stem, 3, act)
    randomize_fixup(model)
    return sgd_training(case, model, input_shape, 3, steps)


def fixup_cases():
    check_fixup_reference()
    return [sgd_fixup("fixup_sgd_2steps", [2, 1, 1], [2, 4, 8], 2, (2, 1, 8, 8), nn.ReLU, "relu"),
            sgd_fixup("fixup_sgd_2steps_padding_leaky", [1, 1], [3, 5], 2, (2, 1, 6, 6), lambda: nn.LeakyReLU(0.1),
                      "leaky_relu slope=0.1")]


# ----------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture directory (default: %(default)s)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    groups = [batchnorm_cases, norm_cases, conv_cases, pool_linear_loss_cases, sgd_cnn_cases,
              optimizer_cases, batchrenorm_cases, activation_cases,
              resnet_cases, fixup_cases]
    names = set()
    for group in groups:
        for case in group():
            assert case.name not in names, f"case {case.name} twice"
            names.add(case.name)
            path = case.write(args.out)
            print(f"{os.path.relpath(path)}  ({os.path.getsize(path)} bytes)")
    print(f"{len(names)} fixtures, torch {torch.__version__}")


if __name__ == "__main__":
    main()
