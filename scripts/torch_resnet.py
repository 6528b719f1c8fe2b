"""The PyTorch twins of bnlab's residual networks, shared by scripts/pytorch_golden.py (the goldens) and
Benchmarks/pytorch_reference.py (bench, crosscheck, replay):

  * resnet(): Sources/NN/ResidualNetwork.swift, He et al. 2016's CIFAR ResNet with torchvision's
    BasicBlock (torchvision/models/resnet.py) and attribute names, as an nn.Sequential of named modules;
  * FixupResNet: Sources/NN/ResidualNetwork+Fixup.swift, a transcription of FixupResNet in the authors'
    cifar/models/fixup_resnet_cifar.py (github.com/hongyi-zhang/Fixup, commit f3fa449f) with its sizes as
    arguments; scripts/pytorch_golden.py check_fixup_reference() holds it to their ResNet-20 bit for bit.
"""
import math
from collections import OrderedDict

import torch
import torch.nn as nn


def conv3x3(in_planes, out_planes, stride=1):
    """3x3 convolution with padding (the authors' conv3x3)"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def plain_conv(in_planes, out_planes, kernel_size, stride, padding, bias):
    return nn.Conv2d(in_planes, out_planes, kernel_size, stride=stride, padding=padding, bias=bias)


def conv_before(conv, norm_module, in_planes, out_planes, kernel_size, stride, padding):
    """The conv a norm follows: a bias only without a norm; a norm with a `tie(conv)` method (the
    Cross-Iteration BN twin, which reads the conv's weight as mmdet's ResNet passes `self.conv1.weight`)
    is given it."""
    c = conv(in_planes, out_planes, kernel_size, stride, padding, norm_module is None)
    if hasattr(norm_module, "tie"):
        norm_module.tie(c)
    return c


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock (expansion 1), with the norm and the activation given:
    out = act(bn1(conv1(x))); out = bn2(conv2(out)); y = act(out + (downsample(x) or x)).
    A conv has a bias only where no norm follows it (torchvision: bias=False, always with a norm).
    norm_act: the norms are timm normalization-activation layers, `norm(C, shape, apply_act)`: bn1 with
    its nonlinearity (no act after it), bn2 without (apply_act=False), as timm's post-activation blocks
    with a norm-act layer (resnetv2.Bottleneck(preact=False), byobnet.BasicBlock); the act after the
    addition stays."""

    def __init__(self, inplanes, planes, stride, norm, sample_shape, act, downsample, conv=plain_conv, norm_act=False):
        super().__init__()
        site = (lambda apply_act: norm(planes, sample_shape, apply_act)) if norm_act else (lambda _: norm(planes, sample_shape))
        bn1, bn2 = site(True), site(False)
        self.norm_act = norm_act
        self.conv1 = conv_before(conv, bn1, inplanes, planes, 3, stride, 1)
        self.bn1 = bn1 if bn1 is not None else nn.Identity()
        self.relu = act()
        self.conv2 = conv_before(conv, bn2, planes, planes, 3, 1, 1)
        self.bn2 = bn2 if bn2 is not None else nn.Identity()
        self.downsample = downsample

    def forward(self, x):
        out = self.bn1(self.conv1(x))
        if not self.norm_act:
            out = self.relu(out)
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def resnet(in_channels, height, width, classes, blocks, widths, stem, norm, act, dropout=0.0, conv=plain_conv,
           norm_act=False):
    """bnlab's ResidualNetwork.make (Sources/NN/ResidualNetwork.swift) as an nn.Sequential of named
    modules, torchvision's ResNet attribute names: conv1 bn1 relu layer1..S avgpool flatten [dropout] fc.
    norm(C, (C, H, W)) gives a site's norm module or None; with norm_act, norm(C, (C, H, W), apply_act)
    gives a timm normalization-activation layer: with its nonlinearity at the stem (no relu module after
    it) and a block's bn1, without it at bn2 and the projection's norm (BasicBlock). conv(in, out, k,
    stride, padding, bias) makes each conv (MABN: the authors' centred conv)."""
    layers = OrderedDict()
    h, w = height, width
    stem_norm = norm(stem, (stem, h, w), True) if norm_act else norm(stem, (stem, h, w))
    layers["conv1"] = conv_before(conv, stem_norm, in_channels, stem, 3, 1, 1)
    if stem_norm is not None:
        layers["bn1"] = stem_norm
    if not norm_act:
        layers["relu"] = act()
    c = stem
    for i, (count, out) in enumerate(zip(blocks, widths)):
        stage = []
        for j in range(count):
            stride = 2 if i > 0 and j == 0 else 1
            h, w = (h - 1) // stride + 1, (w - 1) // stride + 1
            downsample = None
            if stride != 1 or c != out:
                projection_norm = norm(out, (out, h, w), False) if norm_act else norm(out, (out, h, w))
                projection = conv_before(conv, projection_norm, c, out, 1, stride, 0)
                downsample = nn.Sequential(*[m for m in (projection, projection_norm) if m is not None])
            stage.append(BasicBlock(c, out, stride, norm, (out, h, w), act, downsample, conv, norm_act))
            c = out
        layers[f"layer{i + 1}"] = nn.Sequential(*stage)
    layers["avgpool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten()
    if dropout > 0:
        layers["dropout"] = nn.Dropout(dropout)
    layers["fc"] = nn.Linear(c, classes)
    return nn.Sequential(layers)


class FixupBlock(nn.Module):
    """AuthorsFixupBasicBlock with the activation given and O - C zero channels in the shortcut,
    which is there wherever the shape changes (stride or channels)."""

    def __init__(self, inplanes, planes, stride, act):
        super().__init__()
        self.bias1a = nn.Parameter(torch.zeros(1))
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bias1b = nn.Parameter(torch.zeros(1))
        self.relu = act()
        self.bias2a = nn.Parameter(torch.zeros(1))
        self.conv2 = conv3x3(planes, planes)
        self.scale = nn.Parameter(torch.ones(1))
        self.bias2b = nn.Parameter(torch.zeros(1))
        self.pad = planes - inplanes
        self.downsample = nn.AvgPool2d(1, stride=stride) if stride != 1 or inplanes != planes else None

    def forward(self, x):
        identity = x
        out = self.conv1(x + self.bias1a)
        out = self.relu(out + self.bias1b)
        out = self.conv2(out + self.bias2a)
        out = out * self.scale + self.bias2b
        if self.downsample is not None:
            identity = self.downsample(x + self.bias1a)
            identity = torch.cat((identity, identity.new_zeros((identity.shape[0], self.pad) + identity.shape[2:])), 1)
        out = out + identity
        return self.relu(out)


class FixupResNet(nn.Module):
    """AuthorsFixupResNet with in_channels, blocks per stage, widths, stem width, classes, the
    activation and a dropout before bias2 given; the authors' init."""

    def __init__(self, in_channels, blocks, widths, stem, classes, act=nn.ReLU, dropout=0.0):
        super().__init__()
        self.num_layers = sum(blocks)
        self.conv1 = conv3x3(in_channels, stem)
        self.bias1 = nn.Parameter(torch.zeros(1))
        self.relu = act()
        c = stem
        for i, (count, out) in enumerate(zip(blocks, widths)):
            stage = []
            for j in range(count):
                stage.append(FixupBlock(c, out, 2 if i > 0 and j == 0 else 1, act))
                c = out
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.stages = len(blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.bias2 = nn.Parameter(torch.zeros(1))
        self.fc = nn.Linear(c, classes)
        for m in self.modules():
            if isinstance(m, FixupBlock):
                nn.init.normal_(m.conv1.weight, mean=0, std=math.sqrt(2 / (m.conv1.weight.shape[0] * math.prod(m.conv1.weight.shape[2:]))) * self.num_layers ** (-0.5))
                nn.init.constant_(m.conv2.weight, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.weight, 0)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.relu(self.conv1(x) + self.bias1)
        for i in range(self.stages):
            x = getattr(self, f"layer{i + 1}")(x)
        x = self.dropout(self.avgpool(x).flatten(1))
        return self.fc(x + self.bias2)
