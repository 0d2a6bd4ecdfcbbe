"""The three networks fpaudit ships: an MLP, a CNN with BatchNorm and pooling, a small ViT.

Each is written so that torch.onnx.export (torch 1.13) emits only operators from fpaudit's
supported list, with static shapes everywhere except the batch axis: reshapes put -1 in the
batch position and spell every other size out, so no Shape/Gather/Unsqueeze/Concat chains appear.
"""
import math

from deps import require

torch = require("torch")
nn = torch.nn


class MLP(nn.Module):
    """Flatten, 784 -> 256 -> 128 -> 10 with ReLU. Exports as Flatten + Gemm/Relu."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.net(x)


def conv_block(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class CNN(nn.Module):
    """Three 3x3 conv-BN-ReLU stages (16, 32, 64 channels), 2x2 max pooling after the first two,
    2x2 average pooling after the third (7x7 -> 3x3; floor mode drops the last row and column),
    Flatten, Linear 576 -> 10. The convs have no bias: BN's shift replaces it."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_block(1, 16), nn.MaxPool2d(2),    # 28x28 -> 14x14
            *conv_block(16, 32), nn.MaxPool2d(2),   # 14x14 -> 7x7
            # count_include_pad=False changes nothing without padding, but with the default (True)
            # torch 1.13 exports AvgPool2d as an all-zero Pad followed by AveragePool.
            *conv_block(32, 64), nn.AvgPool2d(2, count_include_pad=False),   # 7x7 -> 3x3
            nn.Flatten(),
        )
        self.head = nn.Linear(64 * 3 * 3, 10)

    def forward(self, x):
        return self.head(self.features(x))


class Attention(nn.Module):
    """Multi-head self-attention from plain Linear, reshape, transpose, matmul and softmax."""

    def __init__(self, tokens, dim, heads):
        super().__init__()
        self.tokens, self.dim, self.heads, self.d_head = tokens, dim, heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.scale = 1.0 / math.sqrt(self.d_head)

    def forward(self, x):                                              # [N, T, D]
        T, H, Dh = self.tokens, self.heads, self.d_head
        qkv = self.qkv(x).reshape(-1, T, 3, H, Dh).permute(2, 0, 3, 1, 4)  # [3, N, H, T, Dh]
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale       # [N, H, T, T]
        attn = torch.softmax(scores, dim=-1)
        out = torch.matmul(attn, v)                                       # [N, H, T, Dh]
        out = out.transpose(1, 2).reshape(-1, T, self.dim)                # [N, T, D]
        return self.proj(out)


class Block(nn.Module):
    """Pre-LayerNorm encoder block: x + MHSA(LN(x)), then x + MLP(LN(x)) with exact (erf) GELU."""

    def __init__(self, tokens, dim, heads, mlp_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(tokens, dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """Patch embedding (Conv, kernel = stride = patch), learned positional embedding, pre-LN
    encoder blocks, final LayerNorm, mean over tokens (no class token), Linear head."""

    def __init__(self, patch=7, dim=64, depth=3, heads=4, mlp_dim=128):
        super().__init__()
        self.grid = 28 // patch
        self.tokens, self.dim = self.grid * self.grid, dim
        self.patch_embed = nn.Conv2d(1, dim, patch, stride=patch)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.tokens, dim))
        self.blocks = nn.Sequential(*[Block(self.tokens, dim, heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def forward(self, x):                                             # [N, 1, 28, 28]
        x = self.patch_embed(x)                                       # [N, D, g, g]
        x = x.reshape(-1, self.dim, self.tokens).transpose(1, 2)      # [N, T, D]
        x = self.blocks(x + self.pos_embed)
        return self.head(self.norm(x).mean(dim=1))


def build(name):
    return {"mlp": MLP, "cnn": CNN, "vit": ViT}[name]()


def macs_per_image(model, name):
    """Multiply-adds per image of the layers that carry them (Linear, Conv, attention matmuls),
    counted by hooks on one forward pass; normalisation and activations are not counted."""
    counts = []

    def linear_hook(m, inp, out):
        counts.append(out.numel() // out.shape[0] * m.in_features)

    def conv_hook(m, inp, out):
        k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        counts.append(out.numel() // out.shape[0] * k)

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in handles:
        h.remove()
    total = sum(counts)
    if isinstance(model, ViT):  # Q K^T and attn V: 2 * T * T * D per block
        total += len(model.blocks) * 2 * model.tokens * model.tokens * model.dim
    return total
