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

import torch
import torch.nn as nn
import torch.nn.functional as F

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
# 9. One BatchNorm module called at two places (pytorch/pytorch#1738), and detectron2's remedy


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


# ----------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture directory (default: %(default)s)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    groups = [batchnorm_cases, norm_cases, conv_cases, pool_linear_loss_cases, sgd_cnn_cases,
              optimizer_cases, batchrenorm_cases, shared_bn_cases]
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
