"""The architectures of the model zoo (tools/zoo/export_zoo.py), at reduced width.

Where Debian's torchvision 0.14 has the architecture with a width parameter, it is used as is
(MobileNetV3-small, EfficientNet-B0, SqueezeNet 1.1). ResNet-18's BasicBlock refuses any width but 64 in
torchvision, so it is written here, block for block as torchvision builds it, with a base width
of 16. The U-Net, the BERT-style encoder, the GPT-style decoder and the GRU model are written
here. The attention blocks use static reshapes with -1 only in the batch position, so the
export has no Shape/Gather/Concat chains (as tools/train/models.py does for the ViT).
"""
import math

import torch
from torch import nn
import torchvision


# ---------------------------------------------------------------------------- ResNet-18
class BasicBlock(nn.Module):
    """torchvision's BasicBlock: two 3x3 convolutions with BatchNorm, identity or 1x1 shortcut."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016; torchvision's layout: 7x7/2 stem, 3x3/2 max pool, four stages
    of two BasicBlocks, global average pool, Linear) with base width `width` instead of 64."""

    def __init__(self, width=16, classes=10):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        stages, c = [], w
        for i, c_out in enumerate([w, 2 * w, 4 * w, 8 * w]):
            stride = 1 if i == 0 else 2
            stages += [BasicBlock(c, c_out, stride), BasicBlock(c_out, c_out, 1)]
            c = c_out
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.pool(self.stages(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


# ---------------------------------------------------------------------------- U-Net
def double_conv(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015) with 3 levels: double 3x3 conv blocks, 2x2 max pool down,
    2x2 stride-2 transposed conv up, skip connections by concatenation, 1x1 conv to per-pixel
    class logits [N, classes, H, W]."""

    def __init__(self, c_in=1, base=8, classes=2):
        super().__init__()
        b = base
        self.enc1, self.enc2, self.enc3 = double_conv(c_in, b), double_conv(b, 2 * b), double_conv(2 * b, 4 * b)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(4 * b, 2 * b, 2, stride=2)
        self.dec2 = double_conv(4 * b, 2 * b)
        self.up1 = nn.ConvTranspose2d(2 * b, b, 2, stride=2)
        self.dec1 = double_conv(2 * b, b)
        self.head = nn.Conv2d(b, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(e3), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.head(d1)


# ---------------------------------------------------------------------------- transformers
class SelfAttention(nn.Module):
    """Multi-head self-attention with an additive mask [T, T] or [N, 1, 1, T] (0 or -10000)."""

    def __init__(self, tokens, dim, heads):
        super().__init__()
        self.tokens, self.dim, self.heads = tokens, dim, heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.scale = 1.0 / math.sqrt(dim // heads)

    def forward(self, x, mask):                                          # x [N, T, D]
        T, H, Dh = self.tokens, self.heads, self.dim // self.heads
        qkv = self.qkv(x).reshape(-1, T, 3, H, Dh).permute(2, 0, 3, 1, 4)  # [3, N, H, T, Dh]
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ k.transpose(-2, -1)) * self.scale + mask
        out = torch.softmax(scores, dim=-1) @ v                            # [N, H, T, Dh]
        return self.proj(out.transpose(1, 2).reshape(-1, T, self.dim))


class EncoderBlock(nn.Module):
    """BERT's post-LN block: x = LN(x + attn(x)); x = LN(x + FFN(x)) with exact GELU."""

    def __init__(self, tokens, dim, heads, ffn):
        super().__init__()
        self.attn = SelfAttention(tokens, dim, heads)
        self.ln1, self.ln2 = nn.LayerNorm(dim, eps=1e-12), nn.LayerNorm(dim, eps=1e-12)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.GELU(), nn.Linear(ffn, dim))

    def forward(self, x, mask):
        x = self.ln1(x + self.attn(x, mask))
        return self.ln2(x + self.ffn(x))


class BertEmbeddings(nn.Module):
    """Word + position + token-type (type 0) embeddings, then LayerNorm (BERT's)."""

    def __init__(self, vocab, tokens, dim):
        super().__init__()
        self.word = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.randn(tokens, dim) * 0.02)
        self.token_type = nn.Parameter(torch.randn(dim) * 0.02)
        nn.init.normal_(self.word.weight, std=0.02)

    def forward(self, ids):
        return self.word(ids)


class BertEncoder(nn.Module):
    """A BERT-style sequence classifier: embeddings + LayerNorm, `depth` post-LN encoder blocks
    with a padding mask, pooler (Linear + tanh on the [CLS] token), Linear head.

    forward(x, attention_mask): x is either int64 token ids [N, T] (embedded here) or float
    word embeddings [N, T, D] (inputs_embeds: what fpaudit, without int64 run-time tensors, can
    run); attention_mask [N, T] is 1 for real tokens, 0 for padding. `baked_mask` fixes the mask
    inside the graph for the single-input inputs_embeds export."""

    def __init__(self, vocab=512, tokens=16, dim=32, heads=4, depth=2, ffn=64, classes=2):
        super().__init__()
        self.tokens = tokens
        self.embeddings = BertEmbeddings(vocab, tokens, dim)
        self.ln = nn.LayerNorm(dim, eps=1e-12)
        self.blocks = nn.ModuleList([EncoderBlock(tokens, dim, heads, ffn) for _ in range(depth)])
        self.pooler = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, classes)
        self.baked_mask = None

    def forward(self, x, attention_mask=None):
        if x.dtype == torch.int64:
            x = self.embeddings(x)
        x = self.ln(x + self.embeddings.position + self.embeddings.token_type)
        if attention_mask is None:
            mask = self.baked_mask                                             # [1, 1, 1, T]
        else:
            mask = (1.0 - attention_mask.to(torch.float32)).reshape(-1, 1, 1, self.tokens) * -10000.0
        for block in self.blocks:
            x = block(x, mask)
        cls = torch.tanh(self.pooler(x[:, 0]))
        return self.head(cls)


class DecoderBlock(nn.Module):
    """GPT-2's pre-LN block: x += attn(LN(x)) under the causal mask; x += MLP(LN(x))."""

    def __init__(self, tokens, dim, heads, ffn):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = SelfAttention(tokens, dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, ffn), nn.GELU(), nn.Linear(ffn, dim))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class GPTDecoder(nn.Module):
    """A GPT-style decoder on float token embeddings [N, T, D] (inputs_embeds): learned position
    embedding, `depth` pre-LN blocks under a causal mask (an additive constant [T, T]: 0 on and
    below the diagonal, -10000 above), final LayerNorm, and the next-token logits of the last
    position through the tied word embedding (its transpose)."""

    def __init__(self, vocab=256, tokens=16, dim=32, heads=4, depth=2, ffn=128):
        super().__init__()
        self.tokens = tokens
        self.word = nn.Parameter(torch.randn(vocab, dim) * 0.02)
        self.position = nn.Parameter(torch.randn(tokens, dim) * 0.01)
        self.blocks = nn.ModuleList([DecoderBlock(tokens, dim, heads, ffn) for _ in range(depth)])
        self.ln_f = nn.LayerNorm(dim)
        self.register_buffer("causal", torch.triu(torch.full((tokens, tokens), -10000.0), diagonal=1))

    def forward(self, x):                                                  # [N, T, D]
        x = x + self.position
        for block in self.blocks:
            x = block(x, self.causal)
        last = self.ln_f(x)[:, self.tokens - 1]                             # [N, D]
        return last @ self.word.t()                                         # [N, vocab]


# ---------------------------------------------------------------------------- GRU
class GRUClassifier(nn.Module):
    """A GRU sequence classifier: one GRU layer over [N, T, F] features, Linear on the last
    hidden state."""

    def __init__(self, features=8, hidden=32, classes=4):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h = self.gru(x)                                                 # h [1, N, hidden]
        return self.head(h[0])


# ---------------------------------------------------------------------------- torchvision
def mobilenet_v3_small():
    """torchvision's MobileNetV3-small at width 0.5, 10 classes."""
    return torchvision.models.mobilenet_v3_small(width_mult=0.5, num_classes=10)


def efficientnet_b0():
    """torchvision's EfficientNet-B0 at width 0.5 and depth 0.5 (its MBConv stages with
    squeeze-and-excitation and SiLU; dropout 0.2, identity in eval), 10 classes."""
    from torchvision.models import efficientnet
    settings, last_channel = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.5, depth_mult=0.5)
    return efficientnet.EfficientNet(settings, 0.2, last_channel=last_channel, num_classes=10)


def squeezenet():
    """torchvision's SqueezeNet 1.1 (its full width: 0.72 M parameters with 10 classes)."""
    return torchvision.models.squeezenet1_1(num_classes=10)
