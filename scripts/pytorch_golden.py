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
# 9. Moving Average BatchNorm (Yan et al., ICLR 2020) and its centred conv: the authors' code,
#    megvii-model/MABN MABN.py (BatchNormFunction, MABN2d, CenConv2d), transcribed. The only
#    change: `ctx.saved_variables` (removed from torch 2.x) reads `ctx.saved_tensors`.


class MABNFunction(torch.autograd.Function):
    """megvii-model/MABN MABN.py `BatchNormFunction`, verbatim but for saved_tensors."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_var, eps, momentum, buffer_x2, buffer_gz, iters, buffer_size, warmup_iters):
        ctx.eps = eps
        ctx.buffer_size = buffer_size
        current_iter = iters.item()
        ctx.current_iter = current_iter
        ctx.warmup_iters = warmup_iters

        N, C, H, W = x.size()
        x2 = (x * x).mean(dim=3).mean(dim=2).mean(dim=0)

        buffer_x2[current_iter % buffer_size].copy_(x2)

        if current_iter <= buffer_size or current_iter < warmup_iters:
            var = x2.view(1, C, 1, 1)
        else:
            var = buffer_x2.mean(dim=0).view(1, C, 1, 1)

        z = x /(var + eps).sqrt()
        r = (var + eps).sqrt() / (running_var + eps).sqrt()

        if current_iter <= max(1000, warmup_iters):
            r = torch.clamp(r, 1, 1)
        else:
            r = torch.clamp(r, 1/5, 5)

        y = r * z

        ctx.save_for_backward(z, var, weight, buffer_gz, r)

        running_var.copy_(momentum*running_var + (1-momentum)*var)
        y = weight.view(1,C,1,1) * y + bias.view(1,C,1,1)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        eps = ctx.eps
        buffer_size = ctx.buffer_size
        current_iter = ctx.current_iter
        warmup_iters = ctx.warmup_iters

        N, C, H, W = grad_output.size()
        z, var, weight, buffer_gz, r = ctx.saved_tensors

        y = r * z
        g = grad_output * weight.view(1, C, 1, 1)
        g = g * r
        gz = (g * z).mean(dim=3).mean(dim=2).mean(dim=0)

        buffer_gz[current_iter % buffer_size].copy_(gz)

        if current_iter <= buffer_size or current_iter < warmup_iters:
            mean_gz = gz.view(1, C, 1, 1)
        else:
            mean_gz = buffer_gz.mean(dim=0).view(1, C, 1, 1)

        gx = 1. / torch.sqrt(var + eps) * (g - z * mean_gz)
        return gx, (grad_output * y).sum(dim=3).sum(dim=2).sum(dim=0), grad_output.sum(dim=3).sum(dim=2).sum(dim=0),  None, None, None, None, None, None, None, None, None, None, None


class MABN2d(nn.Module):
    """megvii-model/MABN MABN.py `MABN2d`, verbatim (buffer_size = real_B // B)."""

    def __init__(self, channels, B, real_B, eps=1e-5, momentum=0.98, warmup_iters=100):
        super(MABN2d, self).__init__()
        assert real_B % B == 0
        self.buffer_size = real_B // B
        self.register_parameter('weight', nn.Parameter(torch.ones(channels)))
        self.register_parameter('bias', nn.Parameter(torch.zeros(channels)))
        self.register_buffer('running_var', torch.ones(1, channels, 1, 1))
        self.register_buffer('iters', torch.zeros(1).type(torch.LongTensor))
        self.register_buffer('buffer_x2', torch.zeros(self.buffer_size, channels))
        self.register_buffer('buffer_gz', torch.zeros(self.buffer_size, channels))

        self.eps = eps
        self.momentum = momentum
        self.warmup_iters = warmup_iters

    def forward(self, x):
        if self.training:
            self.iters.copy_(self.iters + 1)
            x = MABNFunction.apply(x, self.weight, self.bias, self.running_var, self.eps,
                                   self.momentum, self.buffer_x2, self.buffer_gz, self.iters,
                                   self.buffer_size, self.warmup_iters)
            return x
        else:
            N, C, H, W = x.size()
            var = self.running_var.view(1, C, 1, 1)
            x = x / (var + self.eps).sqrt()

        return self.weight.view(1,C,1,1) * x + self.bias.view(1,C,1,1)


class CenConv2d(nn.Module):
    """megvii-model/MABN MABN.py `CenConv2d`, verbatim (square kernels, no bias by default)."""

    def __init__(self, in_planes, out_planes, kernel_size=3, stride=1,
                 padding=0, dilation=1, groups=1, bias=False):
        super(CenConv2d, self).__init__()
        self.in_planes = in_planes
        self.out_planes = out_planes
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.weight = nn.Parameter(torch.randn(out_planes, in_planes//groups, kernel_size, kernel_size))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_planes))
        else:
            self.register_parameter('bias', None)

    def forward(self, x):
        weight = self.weight
        weight_mean = weight.mean(dim=1, keepdim=True).mean(dim=2, keepdim=True).mean(dim=3, keepdim=True)
        weight = weight - weight_mean
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def mabn(name, shape, buffer_size, warmup, initial_iters, steps, running_var, note):
    """Train steps in sequence from the given state (iters = initial_iters before step 1), each
    recording x, dy, y, dx, dweight, dbias and every buffer after the step; then one eval step."""
    c = shape[1]
    case = Case(name, layer="MABN2d", input_shape=list(shape), num_features=c, eps=1e-5, momentum=0.98,
                buffer_size=buffer_size, warmup_iters=warmup, initial_iters=initial_iters, steps=steps,
                note=note)
    bn = MABN2d(c, B=1, real_B=buffer_size, warmup_iters=warmup)
    affine(bn)
    with torch.no_grad():
        bn.iters.fill_(initial_iters)
        bn.running_var.copy_(torch.tensor(running_var).view(1, c, 1, 1))
        if initial_iters > 0:  # rows as earlier passes would have left them
            bn.buffer_x2.copy_(0.5 + torch.rand(buffer_size, c))
            bn.buffer_gz.copy_(0.1 * torch.randn(buffer_size, c))
    case.params("initial.", bn)
    for step in range(1, steps + 1):
        bn.train()
        forward_backward(case, f"step{step}.", bn, torch.randn(shape) * 1.5 + 0.2)
        for key in ("running_var", "buffer_x2", "buffer_gz"):
            case.tensor(f"step{step}.{key}", getattr(bn, key))
        case.scalar(f"step{step}.iters", int(bn.iters.item()))
    bn.eval()
    forward_backward(case, "eval.", bn, torch.randn(shape) * 1.5 + 0.2)
    return case


def cenconv2d():
    case = Case("cenconv2d_3to4_k3_p1", layer="CenConv2d", in_channels=3, out_channels=4, kernel_size=3,
                stride=1, padding=1, bias=False,
                note="MABN.py CenConv2d: conv with weight - mean over each output filter (dims 1, 2, 3)")
    conv = CenConv2d(3, 4, kernel_size=3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(0.3 * torch.randn(conv.weight.shape) + 0.1)
    case.params("", conv)
    forward_backward(case, "", conv, torch.randn(2, 3, 5, 5))
    return case


def mabn_cases():
    return [
        mabn("mabn_warmup_then_average", (3, 3, 2, 2), buffer_size=3, warmup=2, initial_iters=0, steps=6,
             running_var=[1.0, 1.0, 1.0],
             note="passes 1-3 normalize with the batch's E[x^2] (t <= buffer), 4-6 with the mean of the "
                  "last 3 passes' E[x^2] and mean_gz likewise; r = 1 (t <= 1000)"),
        mabn("mabn_renormalized", (2, 3, 3, 3), buffer_size=4, warmup=100, initial_iters=998, steps=4,
             running_var=[100.0, 0.001, 1.5],
             note="from iters 998 with buffers as earlier passes left them: passes 999-1000 have r = 1, "
                  "1001-1002 r = clamp(sqrt(var + eps) / sqrt(running_var + eps), 1/5, 5): channel 0 "
                  "clipped at 1/5, channel 1 at 5, channel 2 not clipped"),
        cenconv2d(),
    ]


# ----------------------------------------------------------------------------------------------
# 10. Cross-Iteration BatchNorm (Yao et al., CVPR 2021): the authors' code, Howal/Cross-
#     iterationBatchNorm mmdet/models/utils/CBN.py (CBatchNorm2d), transcribed. Changes: `self.ones`
#     is made on the CPU (the code calls .cuda()); `dropped` counts the entries its mask removes.


class CBatchNorm2d(nn.Module):
    """Howal/Cross-iterationBatchNorm CBN.py `CBatchNorm2d`, verbatim but for the CPU `ones`."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True,
                 buffer_num=0, rho=1.0,
                 burnin=0, two_stage=True,
                 FROZEN=False, out_p=False):
        super(CBatchNorm2d, self).__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats

        self.buffer_num = buffer_num
        self.max_buffer_num = buffer_num
        self.rho = rho
        self.burnin = burnin
        self.two_stage = two_stage
        self.FROZEN = FROZEN
        self.out_p = out_p

        self.iter_count = 0
        self.pre_mu = []
        self.pre_meanx2 = []  # mean(x^2)
        self.pre_dmudw = []
        self.pre_dmeanx2dw = []
        self.pre_weight = []
        self.ones = torch.ones(self.num_features)
        self.dropped = 0

        if self.affine:
            self.weight = nn.Parameter(torch.Tensor(num_features))
            self.bias = nn.Parameter(torch.Tensor(num_features))
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        if self.track_running_stats:
            self.register_buffer('running_mean', torch.zeros(num_features))
            self.register_buffer('running_var', torch.ones(num_features))
        else:
            self.register_parameter('running_mean', None)
            self.register_parameter('running_var', None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
        if self.affine:
            self.weight.data.uniform_()
            self.bias.data.zero_()

    def _update_buffer_num(self):
        if self.two_stage:
            if self.iter_count > self.burnin:
                self.buffer_num = self.max_buffer_num
            else:
                self.buffer_num = 0
        else:
            self.buffer_num = int(self.max_buffer_num * min(self.iter_count / self.burnin, 1.0))

    def forward(self, input, weight):
        y = input.transpose(0, 1)
        return_shape = y.shape
        y = y.contiguous().view(input.size(1), -1)

        # burnin
        if self.training and self.burnin > 0:
            self.iter_count += 1
            self._update_buffer_num()

        if self.buffer_num > 0 and self.training and input.requires_grad:  # some layers are frozen!
            # cal current batch mu and sigma
            cur_mu = y.mean(dim=1)
            cur_meanx2 = torch.pow(y, 2).mean(dim=1)
            cur_sigma2 = y.var(dim=1)
            # cal dmu/dw dsigma2/dw
            dmudw = torch.autograd.grad(cur_mu, weight, self.ones, retain_graph=True)[0]
            dmeanx2dw = torch.autograd.grad(cur_meanx2, weight, self.ones, retain_graph=True)[0]
            # update cur_mu and cur_sigma2 with pres
            mu_all = torch.stack([cur_mu, ] + [tmp_mu + (self.rho * tmp_d * (weight.data - tmp_w)).sum(1).sum(1).sum(1) for tmp_mu, tmp_d, tmp_w in zip(self.pre_mu, self.pre_dmudw, self.pre_weight)])
            meanx2_all = torch.stack([cur_meanx2, ] + [tmp_meanx2 + (self.rho * tmp_d * (weight.data - tmp_w)).sum(1).sum(1).sum(1) for tmp_meanx2, tmp_d, tmp_w in zip(self.pre_meanx2, self.pre_dmeanx2dw, self.pre_weight)])
            sigma2_all = meanx2_all - torch.pow(mu_all, 2)
            self.dropped += int((sigma2_all < 0).sum())

            # with considering count
            re_mu_all = mu_all.clone()
            re_meanx2_all = meanx2_all.clone()
            re_mu_all[sigma2_all < 0] = 0
            re_meanx2_all[sigma2_all < 0] = 0
            count = (sigma2_all >= 0).sum(dim=0).float()
            mu = re_mu_all.sum(dim=0) / count
            sigma2 = re_meanx2_all.sum(dim=0) / count - torch.pow(mu, 2)

            self.pre_mu = [cur_mu.detach(), ] + self.pre_mu[:(self.buffer_num - 1)]
            self.pre_meanx2 = [cur_meanx2.detach(), ] + self.pre_meanx2[:(self.buffer_num - 1)]
            self.pre_dmudw = [dmudw.detach(), ] + self.pre_dmudw[:(self.buffer_num - 1)]
            self.pre_dmeanx2dw = [dmeanx2dw.detach(), ] + self.pre_dmeanx2dw[:(self.buffer_num - 1)]

            tmp_weight = torch.zeros_like(weight.data)
            tmp_weight.copy_(weight.data)
            self.pre_weight = [tmp_weight.detach(), ] + self.pre_weight[:(self.buffer_num - 1)]

        else:
            x = y
            mu = x.mean(dim=1)
            cur_mu = mu
            sigma2 = x.var(dim=1)
            cur_sigma2 = sigma2

        if not self.training or self.FROZEN:
            y = y - self.running_mean.view(-1, 1)
            # TODO: outside **0.5?
            if self.out_p:
                y = y / (self.running_var.view(-1, 1) + self.eps)**.5
            else:
                y = y / (self.running_var.view(-1, 1)**.5 + self.eps)

        else:
            if self.track_running_stats is True:
                with torch.no_grad():
                    self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * cur_mu
                    self.running_var = (1 - self.momentum) * self.running_var + self.momentum * cur_sigma2
            y = y - mu.view(-1, 1)
            # TODO: outside **0.5?
            if self.out_p:
                y = y / (sigma2.view(-1, 1) + self.eps)**.5
            else:
                y = y / (sigma2.view(-1, 1)**.5 + self.eps)

        y = self.weight.view(-1, 1) * y + self.bias.view(-1, 1)
        return y.view(return_shape).transpose(0, 1)


def cbn(name, buffer_num, burnin, two_stage, rho, steps, lr, note):
    """A bias-free conv 2->3 (k3, p1) and its CBN on (2, 2, 4, 4) inputs, as mmdet's ConvModule runs
    them (`norm(conv(x), conv.weight)`), for `steps` train steps, each followed by an SGD step of the
    conv weight (so the compensation has weight changes to undo); then one eval step."""
    case = Case(name, layer="CBatchNorm2d", input_shape=[2, 2, 4, 4], conv_in=2, conv_out=3, kernel_size=3,
                padding=1, eps=1e-5, momentum=0.1, buffer_num=buffer_num, burnin=burnin, two_stage=two_stage,
                rho=rho, steps=steps, lr=lr, note=note)
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
    norm = CBatchNorm2d(3, buffer_num=buffer_num, burnin=burnin, two_stage=two_stage, rho=rho)
    affine(norm)
    case.params("initial.", norm)
    for step in range(1, steps + 1):
        prefix = f"step{step}."
        conv.train(); norm.train()
        case.tensor(prefix + "conv_weight", conv.weight)
        x = (torch.randn(2, 2, 4, 4) * 1.2 + 0.3).requires_grad_(True)
        conv.zero_grad(set_to_none=True); norm.zero_grad(set_to_none=True)
        y = norm(conv(x), conv.weight)
        dy = torch.randn(y.shape)
        y.backward(dy)
        for key, value in (("x", x), ("dy", dy), ("y", y), ("dx", x.grad), ("dconv_weight", conv.weight.grad),
                           ("dweight", norm.weight.grad), ("dbias", norm.bias.grad),
                           ("running_mean", norm.running_mean), ("running_var", norm.running_var)):
            case.tensor(prefix + key, value)
        case.scalar(prefix + "history", len(norm.pre_mu))
        with torch.no_grad():
            conv.weight -= lr * conv.weight.grad
    case.scalar("dropped", norm.dropped)
    conv.eval(); norm.eval()
    case.tensor("eval.conv_weight", conv.weight)
    norm.zero_grad(set_to_none=True)
    forward_backward(case, "eval.", conv, torch.randn(2, 2, 4, 4) * 1.2 + 0.3, y_fn=lambda x: norm(conv(x), conv.weight))
    case.tensor("eval.dweight_norm", norm.weight.grad)
    case.tensor("eval.dbias_norm", norm.bias.grad)
    return case


def cbn_cases():
    return [
        cbn("cbn_two_stage", buffer_num=2, burnin=2, two_stage=True, rho=1.0, steps=6, lr=0.2,
            note="passes 1-2 burn-in (batch statistics, unbiased variance), 3 the current batch only (no "
                 "history yet), 4-6 with the last 1-2 passes compensated to the current conv weight"),
        cbn("cbn_ramp_rho", buffer_num=3, burnin=4, two_stage=False, rho=0.5, steps=6, lr=0.2,
            note="two_stage=False: buffer_num = int(3 * min(t / 4, 1)) = 0, 1, 2, 3, 3, 3; rho 0.5"),
    ]


# ----------------------------------------------------------------------------------------------
# 9. Batch-independent normalization-activation layers, transcribed from timm
#    (huggingface/pytorch-image-models at aa4b5850c1543fa488abf260f18390eda46cf85d; timm is not
#    imported: the modules below are its code with the defaults bnlab uses)

TIMM_COMMIT = "aa4b5850c1543fa488abf260f18390eda46cf85d"


def inv_instance_rms(x, eps: float = 1e-5):
    """timm/layers/filter_response_norm.py, `inv_instance_rms`."""
    rms = x.square().float().mean(dim=(2, 3), keepdim=True).add(eps).rsqrt().to(x.dtype)
    return rms.expand(x.shape)


class FilterResponseNormTlu2d(nn.Module):
    """timm/layers/filter_response_norm.py, `FilterResponseNormTlu2d` (apply_act=True, rms=True;
    eps 1e-5 by default and not learnable; weight 1, bias 0, tau 0 at init)."""

    def __init__(self, num_features, apply_act=True, eps=1e-5, rms=True):
        super().__init__()
        self.apply_act = apply_act
        self.rms = rms
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(num_features))
        self.bias = nn.Parameter(torch.empty(num_features))
        self.tau = nn.Parameter(torch.empty(num_features)) if apply_act else None
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)
        if self.tau is not None:
            nn.init.zeros_(self.tau)

    def forward(self, x):
        assert x.dim() == 4, "expected 4D input"
        x_dtype = x.dtype
        v_shape = (1, -1, 1, 1)
        x = x * inv_instance_rms(x, self.eps)
        x = x * self.weight.view(v_shape).to(dtype=x_dtype) + self.bias.view(v_shape).to(dtype=x_dtype)
        return torch.maximum(x, self.tau.reshape(v_shape).to(dtype=x_dtype)) if self.tau is not None else x


def frn(name, shape, eps):
    c = shape[1]
    case = Case(name, layer="FilterResponseNormTlu2d", reference=f"timm {TIMM_COMMIT} timm/layers/filter_response_norm.py",
                input_shape=list(shape), num_features=c, eps=eps,
                note="one forward/backward; weight ~ 1 + 0.5 N(0,1), bias, tau ~ 0.5 N(0,1); "
                     "scalars.below_tau counts outputs clamped at tau (the TLU's other branch); no "
                     "running state, so train and eval mode must both give these values")
    layer = FilterResponseNormTlu2d(c, eps=eps)
    affine(layer)
    with torch.no_grad():
        layer.tau.copy_(0.5 * torch.randn(c))
    case.params("", layer)
    x = torch.randn(shape) * 1.5 + 0.4
    with torch.no_grad():
        pre = x * inv_instance_rms(x, eps) * layer.weight.view(1, -1, 1, 1) + layer.bias.view(1, -1, 1, 1)
        below = int((pre < layer.tau.view(1, -1, 1, 1)).sum())
    assert 0 < below < x.numel(), f"{name}: TLU branches not both exercised ({below})"
    case.scalar("below_tau", below)
    forward_backward(case, "", layer, x)
    return case


def group_std(x, groups: int = 32, eps: float = 1e-5, flatten: bool = False):
    """timm/layers/evo_norm.py, `group_std` (the GPU version timm uses; biased variance, eps inside
    the square root)."""
    B, C, H, W = x.shape
    x_dtype = x.dtype
    assert C % groups == 0, ""
    if flatten:
        x = x.reshape(B, groups, -1)
        std = x.float().var(dim=2, unbiased=False, keepdim=True).add(eps).sqrt().to(x_dtype)
    else:
        x = x.reshape(B, groups, C // groups, H, W)
        std = x.float().var(dim=(2, 3, 4), unbiased=False, keepdim=True).add(eps).sqrt().to(x_dtype)
    return std.expand(x.shape).reshape(B, C, H, W)


class EvoNorm2dS0(nn.Module):
    """timm/layers/evo_norm.py, `EvoNorm2dS0` (apply_act=True; groups 32 and eps 1e-5 by default;
    weight 1, bias 0, v 1 at init)."""

    def __init__(self, num_features, groups=32, group_size=None, apply_act=True, eps=1e-5):
        super().__init__()
        self.apply_act = apply_act
        if group_size:
            assert num_features % group_size == 0
            self.groups = num_features // group_size
        else:
            self.groups = groups
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(num_features))
        self.bias = nn.Parameter(torch.empty(num_features))
        self.v = nn.Parameter(torch.empty(num_features)) if apply_act else None
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)
        if self.v is not None:
            nn.init.ones_(self.v)

    def forward(self, x):
        assert x.dim() == 4, "expected 4D input"
        x_dtype = x.dtype
        v_shape = (1, -1, 1, 1)
        if self.v is not None:
            v = self.v.view(v_shape).to(x_dtype)
            x = x * (x * v).sigmoid() / group_std(x, self.groups, self.eps)
        return x * self.weight.view(v_shape).to(x_dtype) + self.bias.view(v_shape).to(x_dtype)


def evonorm_s0(name, shape, groups):
    c = shape[1]
    case = Case(name, layer="EvoNorm2dS0", reference=f"timm {TIMM_COMMIT} timm/layers/evo_norm.py",
                input_shape=list(shape), num_features=c, groups=groups, eps=1e-5,
                note="one forward/backward; weight ~ 1 + 0.5 N(0,1), bias ~ 0.5 N(0,1), v ~ N(0,1) (some "
                     "negative); no running state, so train and eval mode must both give these values")
    layer = EvoNorm2dS0(c, groups=groups)
    affine(layer)
    with torch.no_grad():
        layer.v.copy_(torch.randn(c))
    case.params("", layer)
    forward_backward(case, "", layer, torch.randn(shape) * 1.5 + 0.4)
    return case


def instance_std(x, eps: float = 1e-5):
    """timm/layers/evo_norm.py, `instance_std` (biased variance over H, W; eps inside the root)."""
    std = x.float().var(dim=(2, 3), unbiased=False, keepdim=True).add(eps).sqrt().to(x.dtype)
    return std.expand(x.shape)


class EvoNorm2dB0(nn.Module):
    """timm/layers/evo_norm.py, `EvoNorm2dB0` (apply_act=True; momentum 0.1 and eps 1e-3 by default;
    weight 1, bias 0, v 1, running_var 1 at init). Train: biased batch variance (with gradient),
    running_var = running_var * (1 - momentum) + var * momentum * n / (n - 1); eval: running_var."""

    def __init__(self, num_features, apply_act=True, momentum=0.1, eps=1e-3):
        super().__init__()
        self.apply_act = apply_act
        self.momentum = momentum
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(num_features))
        self.bias = nn.Parameter(torch.empty(num_features))
        self.v = nn.Parameter(torch.empty(num_features)) if apply_act else None
        self.register_buffer("running_var", torch.ones(num_features))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)
        if self.v is not None:
            nn.init.ones_(self.v)

    def forward(self, x):
        assert x.dim() == 4, "expected 4D input"
        x_dtype = x.dtype
        v_shape = (1, -1, 1, 1)
        if self.v is not None:
            if self.training:
                var = x.float().var(dim=(0, 2, 3), unbiased=False)
                n = x.numel() / x.shape[1]
                self.running_var.copy_(
                    self.running_var * (1 - self.momentum) +
                    var.detach() * self.momentum * (n / (n - 1)))
            else:
                var = self.running_var
            left = var.add(self.eps).sqrt_().to(x_dtype).view(v_shape).expand_as(x)
            v = self.v.to(x_dtype).view(v_shape)
            right = x * v + instance_std(x, self.eps)
            x = x / left.max(right)
        return x * self.weight.to(x_dtype).view(v_shape) + self.bias.to(x_dtype).view(v_shape)


def evonorm_b0(name, shape, momentum, eps, steps=3):
    c = shape[1]
    case = Case(name, layer="EvoNorm2dB0", reference=f"timm {TIMM_COMMIT} timm/layers/evo_norm.py",
                input_shape=list(shape), num_features=c, eps=eps, momentum=momentum, steps=steps,
                note="initial.*: parameters and running_var (2.0) before step 1; stepK.*: train-mode step K "
                     "(x, dy, y, dx, dweight, dbias, dv, running_var after the step); eval.*: eval-mode "
                     "forward/backward after the last step; scalars.right_wins / left_wins count the values "
                     "where each side of max(left, right) was taken, over all steps")
    layer = EvoNorm2dB0(c, momentum=momentum, eps=eps)
    affine(layer)
    with torch.no_grad():
        layer.v.copy_(torch.randn(c))
        layer.running_var.fill_(2.0)
    case.params("initial.", layer)
    wins = {"right": 0, "left": 0}

    def count(x, training):
        with torch.no_grad():
            var = x.var(dim=(0, 2, 3), unbiased=False) if training else layer.running_var
            left = (var + eps).sqrt().view(1, -1, 1, 1)
            right = x * layer.v.view(1, -1, 1, 1) + instance_std(x, eps)
            wins["right"] += int((right > left).sum())
            wins["left"] += int((right < left).sum())

    for step in range(1, steps + 1):
        layer.train()
        x = batch_input(shape, step)
        count(x, True)
        forward_backward(case, f"step{step}.", layer, x)
        case.tensor(f"step{step}.running_var", layer.running_var)
    layer.eval()
    x = batch_input(shape, steps + 1)
    count(x, False)
    forward_backward(case, "eval.", layer, x)
    assert wins["right"] > 0 and wins["left"] > 0, f"{name}: max branches not both exercised: {wins}"
    case.scalar("right_wins", wins["right"])
    case.scalar("left_wins", wins["left"])
    return case


def timm_norm_act_cases():
    return [frn("frn_n3_c4_3x3", (3, 4, 3, 3), 1e-5), frn("frn_n2_c3_4x5_eps0p001", (2, 3, 4, 5), 1e-3),
            evonorm_s0("evonorm_s0_n2_c8_g4_3x3", (2, 8, 3, 3), 4),
            evonorm_s0("evonorm_s0_n3_c3_g1_2x3", (3, 3, 2, 3), 1),
            evonorm_b0("evonorm_b0_n4_c3_3x3", (4, 3, 3, 3), 0.1, 1e-3),
            evonorm_b0("evonorm_b0_n2_c4_2x2_momentum0p3_eps0p00001", (2, 4, 2, 2), 0.3, 1e-5)]


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
# 9b. DropPath (stochastic depth): timm/layers/drop.py `drop_path` and `DropPath`, transcribed
#     verbatim (timm is not installed here), scale_by_keep=True as timm's default


def drop_path(x, drop_prob: float = 0., training: bool = False, scale_by_keep: bool = True):
    """timm/layers/drop.py, `drop_path`, verbatim."""
    if drop_prob == 0. or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)  # work with diff dim tensors, not just 2D ConvNets
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    """timm/layers/drop.py, `DropPath`, verbatim."""
    def __init__(self, drop_prob: float = 0., scale_by_keep: bool = True):
        super().__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training, self.scale_by_keep)


def drop_path_case(name, shape, drop_prob):
    case = Case(name, layer="DropPath", drop_prob=drop_prob, input_shape=list(shape),
                note="timm's DropPath (scale_by_keep=True): train mode y = x * mask[n], mask = Bernoulli(1 - p) / "
                     "(1 - p) per sample (tensor mask, N values, as drop_path draws it: the same seed drawn again); "
                     "eval.* the same module in eval mode (the identity)")
    module = DropPath(drop_prob)
    x = torch.randn(shape)
    state = torch.get_rng_state()
    forward_backward(case, "", module, x)
    torch.set_rng_state(state)  # draw drop_path's random tensor again, from the same stream
    mask = x.new_empty((shape[0],) + (1,) * (len(shape) - 1)).bernoulli_(1 - drop_prob).div_(1 - drop_prob)
    assert 0 < int((mask == 0).sum()) < shape[0], f"{name}: the mask must drop some samples and keep some"
    case.tensor("mask", mask.flatten())
    module.eval()
    forward_backward(case, "eval.", module, torch.randn(shape))
    return case


def drop_path_cases():
    return [drop_path_case("drop_path_conv_p0p5", (6, 3, 2, 2), 0.5),
            drop_path_case("drop_path_flat_p0p2", (8, 5), 0.2)]


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
# 15. One BatchNorm module called at two places (pytorch/pytorch#1738), and detectron2's remedy


class CycleBatchNormList(nn.ModuleList):
    """detectron2/layers/batch_norm.py CycleBatchNormList (facebookresearch/detectron2), as written
    there: `length` affine-free BatchNorms, one per call in turn, then one shared weight and bias."""

    def __init__(self, length, bn_class=nn.BatchNorm2d, **kwargs):
        self._affine = kwargs.pop("affine", True)
        super().__init__([bn_class(**kwargs, affine=False) for k in range(length)])
        if self._affine:
            channels = self[0].num_features
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))
        self._pos = 0

    def forward(self, x):
        ret = self[self._pos](x)
        self._pos = (self._pos + 1) % len(self)
        if self._affine:
            return ret * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)
        return ret


class SharedBatchNormCNN(nn.Module):
    """The code of pytorch/pytorch#1738: one `self.bn` defined, called after both convolutions."""

    def __init__(self, sharing):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4) if sharing == "shared" else CycleBatchNormList(2, num_features=4)
        self.linear = nn.Linear(16, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn(self.conv2(x))), 2)
        return self.linear(x.flatten(1))


def shared_bn_state(model, sharing):
    """The model's state by the names of bnlab's Sequential twin: conv 0, site 1, ReLU 2, MaxPool 3,
    conv 4, site 5, ReLU 6, MaxPool 7, Flatten 8, Linear 9; the shared weight and bias at site 1; the
    running statistics at site 1 (shared) or at each site (shared-affine: bn.0 at 1, bn.1 at 5)."""
    s = model.state_dict()
    names = {"0.weight": "conv1.weight", "0.bias": "conv1.bias", "4.weight": "conv2.weight",
             "4.bias": "conv2.bias", "9.weight": "linear.weight", "9.bias": "linear.bias",
             "1.weight": "bn.weight", "1.bias": "bn.bias"}
    sites = {"1": "bn."} if sharing == "shared" else {"1": "bn.0.", "5": "bn.1."}
    for index, prefix in sites.items():
        for buffer in ("running_mean", "running_var", "num_batches_tracked"):
            names[f"{index}.{buffer}"] = prefix + buffer
    return {ours: s[theirs] for ours, theirs in names.items()}


def shared_bn_training(sharing, steps=3):
    name = f"shared_bn_{sharing.replace('-', '_')}_3steps"
    case = Case(name, sharing=sharing, input_shape=[4, 1, 8, 8], loss="cross_entropy(mean)", optimizer="SGD",
                lr=0.1, momentum=0.9, bn_momentum=0.1, bn_eps=1e-5, steps=steps,
                model="conv(1->4,3x3,pad1) BN ReLU MaxPool(2) conv(4->4,3x3,pad1) BN ReLU MaxPool(2) "
                      "Linear(16,3), one BN module at both places (shared) or CycleBatchNormList(2) (shared-affine)",
                note="initial.*, stepK.state.*, final.*: state by bnlab's Sequential names (shared_bn_state); "
                     "stepK.grad.*: gradients of stepK.loss by the same names; eval.x / eval.y: eval mode after "
                     "the last step; counters in scalars")
    model = SharedBatchNormCNN(sharing)
    with torch.no_grad():
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
    model.train()

    def record(prefix):
        for key, value in shared_bn_state(model, sharing).items():
            if value.dtype == torch.int64:
                case.scalar(prefix + key, int(value.item()))
            else:
                case.tensor(prefix + key, value)

    record("initial.")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, foreach=False)
    grads = {"0.weight": model.conv1.weight, "0.bias": model.conv1.bias, "1.weight": model.bn.weight,
             "1.bias": model.bn.bias, "4.weight": model.conv2.weight, "4.bias": model.conv2.bias,
             "9.weight": model.linear.weight, "9.bias": model.linear.bias}
    for step in range(1, steps + 1):
        x = torch.randn(4, 1, 8, 8)
        labels = torch.randint(0, 3, (4,))
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        case.tensor(f"step{step}.x", x)
        case.tensor(f"step{step}.labels", labels)
        case.scalar(f"step{step}.loss", loss)
        for key, p in grads.items():
            case.tensor(f"step{step}.grad.{key}", p.grad)
        opt.step()
        if step < steps:
            record(f"step{step}.state.")
    record("final.")
    model.eval()
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        case.tensor("eval.x", x)
        case.tensor("eval.y", model(x))
    return case


def shared_bn_cases():
    return [shared_bn_training("shared"), shared_bn_training("shared-affine")]


# 13. The normalization-activation layers without their nonlinearity (timm's apply_act=False, the
#     transcriptions of section 9, timm at TIMM_COMMIT), as the residual network builds them before
#     each addition: FilterResponseNormTlu2d has no tau and returns the normalized affine;
#     EvoNorm2dS0 and EvoNorm2dB0 have no v and, with it, skip the normalization (timm's
#     `if self.v is not None:`): the affine x * weight + bias only, in train and eval mode alike.


def no_act(name, make, shape, note, steps=2):
    c = shape[1]
    layer = make(c)
    case = Case(name, layer=type(layer).__name__, reference=f"timm {TIMM_COMMIT}", apply_act=False,
                input_shape=list(shape), num_features=c, steps=steps, note=note)
    assert not layer.apply_act and all(k in ("weight", "bias", "running_var") for k in layer.state_dict())
    affine(layer)
    if hasattr(layer, "running_var"):
        with torch.no_grad():
            layer.running_var.fill_(2.0)
    case.params("initial.", layer)
    for step in range(1, steps + 1):
        layer.train()
        forward_backward(case, f"step{step}.", layer, batch_input(shape, step))
        case.params(f"step{step}.state.", layer)
    layer.eval()
    forward_backward(case, "eval.", layer, batch_input(shape, steps + 1))
    return case


def timm_no_act_cases():
    common = ("initial.*: weight, bias (and EvoNorm2dB0's running_var, 2.0); stepK.*: train-mode "
              "forward/backward K (x, dy, y, dx, dweight, dbias) and stepK.state.* the state after it; "
              "eval.*: one eval-mode forward/backward; ")
    return [
        no_act("frn_no_act_n2_c3_3x4", lambda c: FilterResponseNormTlu2d(c, apply_act=False, eps=1e-5), (2, 3, 3, 4),
               common + "y = x / sqrt(mean_HW(x^2) + eps) * weight + bias (no tau, no max)"),
        no_act("evonorm_s0_no_act_n2_c4_g2_3x3", lambda c: EvoNorm2dS0(c, groups=2, apply_act=False), (2, 4, 3, 3),
               common + "y = x * weight + bias (timm skips group_std without v)"),
        no_act("evonorm_b0_no_act_n3_c2_2x3", lambda c: EvoNorm2dB0(c, apply_act=False, momentum=0.1, eps=1e-3),
               (3, 2, 2, 3), common + "y = x * weight + bias in both modes; running_var stays 2.0 (never updated)"),
    ]


# ----------------------------------------------------------------------------------------------
# 14. The residual network with the remedies (twin: resnet() in scripts/torch_resnet.py), each placed
#     as ResidualNetwork.swift says: frn / evonorm_s0 / evonorm_b0 as timm's post-activation blocks
#     with a norm-act layer (with the nonlinearity at the stem's and a block's bn1, apply_act=False at
#     bn2 and downsample.1, the ReLU after the addition; timm's resnetv2.Bottleneck(preact=False),
#     byobnet.BasicBlock); mabn with the authors' centred conv before every MABN2d (megvii-model/MABN
#     cls/networks/resnet.py: all its convs are the weight-centralized Conv2d, bias=False); cbn with
#     each conv's weight handed to its CBatchNorm2d (Howal/Cross-iterationBatchNorm mmdet ResNet:
#     `self.norm1(out, self.conv1.weight)`, `self.downsample[1](identity, self.downsample[0].weight)`).


class TiedCBatchNorm2d(CBatchNorm2d):
    """CBatchNorm2d given the conv before it: forward(x) = CBatchNorm2d.forward(x, conv.weight). The conv
    is held outside the module tree (object.__setattr__), so the state_dict keys stay the authors'
    (conv1.weight, bn1.running_mean, downsample.0.weight, downsample.1.weight)."""

    def tie(self, conv):
        object.__setattr__(self, "tied_conv", conv)

    def forward(self, x):
        return super().forward(x, self.tied_conv.weight)


def centred_conv(in_planes, out_planes, kernel_size, stride, padding, bias):
    assert not bias, "every conv before a MABN2d is bias-free in the authors' ResNet"
    return CenConv2d(in_planes, out_planes, kernel_size=kernel_size, stride=stride, padding=padding)


REMEDY_SETTINGS = {"mabn": dict(buffer_size=2, warmup_iters=0), "cbn": dict(buffer_num=2, burnin=0, momentum=0.1),
                   "eps": 1e-5, "groups": 2, "evonorm_b0_momentum": 0.1}


def remedy_twin(kind, blocks, widths, stem, input_shape, classes):
    eps, groups = REMEDY_SETTINGS["eps"], REMEDY_SETTINGS["groups"]
    args = (input_shape[1], input_shape[2], input_shape[3], classes, blocks, widths, stem)
    if kind == "frn":
        return resnet(*args, lambda c, shape, act: FilterResponseNormTlu2d(c, apply_act=act, eps=eps), nn.ReLU,
                      norm_act=True)
    if kind == "evonorm_s0":
        return resnet(*args, lambda c, shape, act: EvoNorm2dS0(c, groups=groups, apply_act=act, eps=eps), nn.ReLU,
                      norm_act=True)
    if kind == "evonorm_b0":
        return resnet(*args, lambda c, shape, act: EvoNorm2dB0(c, apply_act=act, eps=eps,
                                                                momentum=REMEDY_SETTINGS["evonorm_b0_momentum"]),
                      nn.ReLU, norm_act=True)
    if kind == "mabn":
        m = REMEDY_SETTINGS["mabn"]
        return resnet(*args, lambda c, shape: MABN2d(c, B=1, real_B=m["buffer_size"], eps=eps,
                                                     warmup_iters=m["warmup_iters"]),
                      nn.ReLU, conv=centred_conv)
    if kind == "cbn":
        m = REMEDY_SETTINGS["cbn"]
        return resnet(*args, lambda c, shape: TiedCBatchNorm2d(c, eps=eps, momentum=m["momentum"],
                                                               buffer_num=m["buffer_num"], burnin=m["burnin"]),
                      nn.ReLU)
    raise ValueError(kind)


def randomize_remedies(model):
    """Affines as randomize_norms; FRN's tau ~ 0.5 N(0,1); EvoNorm's v ~ N(0,1) (some negative);
    EvoNorm-B0's running_var ~ 0.5 + U(0,1); MABN2d and CBatchNorm2d keep their initial buffers."""
    for m in model.modules():
        if isinstance(m, (FilterResponseNormTlu2d, EvoNorm2dS0, EvoNorm2dB0, MABN2d, CBatchNorm2d)):
            affine(m)
        with torch.no_grad():
            if isinstance(m, FilterResponseNormTlu2d) and m.tau is not None:
                m.tau.copy_(0.5 * torch.randn(m.tau.shape))
            if isinstance(m, (EvoNorm2dS0, EvoNorm2dB0)) and m.v is not None:
                m.v.copy_(torch.randn(m.v.shape))
            if isinstance(m, EvoNorm2dB0):
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape))


def sgd_resnet_remedy(kind, steps=3):
    blocks, widths, stem, input_shape, classes = [1, 1], [4, 8], 4, (2, 1, 8, 8), 3
    name = f"resnet_{kind}_sgd_{steps}steps"
    config = dict(model="resnet blocks=1,1 channels=4,8 stem=4", norm=kind, activation="relu",
                  input_shape=list(input_shape), classes=classes, loss="cross_entropy(mean)", optimizer="SGD", lr=0.1,
                  momentum=0.9, dampening=0.0, weight_decay=5e-4, nesterov=False, eps=REMEDY_SETTINGS["eps"],
                  steps=steps, mode="train")
    if kind == "evonorm_s0":
        config["groups"] = REMEDY_SETTINGS["groups"]
    if kind == "evonorm_b0":
        config["bn_momentum"] = REMEDY_SETTINGS["evonorm_b0_momentum"]
    if kind in ("mabn", "cbn"):
        config[kind] = REMEDY_SETTINGS[kind]
    case = Case(name, **config,
                note="ResNet (blocks 1,1, channels 4,8, stem 4: layer1 identity, layer2 a strided projection) with "
                     f"norm {kind}, placed as Sources/NN/ResidualNetwork.swift says; random norm parameters "
                     "(randomize_remedies); scalars.state_dict_keys: [key, shape] in state_dict order; "
                     "initial.*/final.*: state_dict (MABN2d's iters a tensor of shape [1]); stepK.x/labels/loss "
                     "(before update K), stepK.grad.* every step; eval.x, eval.logits: model.eval() forward")
    model = remedy_twin(kind, blocks, widths, stem, input_shape, classes)
    randomize_remedies(model)
    return sgd_training(case, model, input_shape, classes, steps, grads_every_step=True)


def resnet_remedy_cases():
    return [sgd_resnet_remedy(kind) for kind in ("frn", "evonorm_s0", "evonorm_b0", "mabn", "cbn")]


# ----------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture directory (default: %(default)s)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    groups = [batchnorm_cases, norm_cases, conv_cases, pool_linear_loss_cases, sgd_cnn_cases,
              optimizer_cases, batchrenorm_cases, mabn_cases, cbn_cases, timm_norm_act_cases, activation_cases,
              resnet_cases, fixup_cases, shared_bn_cases, timm_no_act_cases, resnet_remedy_cases,
              drop_path_cases]
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
