"""SmoothQuant for the feed-forward layers of a sentence-transformers model, before int8 export.

Dynamic int8 quantisation gives each activation tensor one scale, so the few input channels of a
feed-forward layer that run large leave the rest with little resolution. Dividing channel k of the
input by s_k and multiplying row k of the weight by s_k is the same function in fp32; with
s_k = max|x_k|^alpha / max|w_k|^(1 - alpha) the activations get flatter and the weights take the
difficulty, where per-channel weight scales absorb it (Xiao et al., "SmoothQuant", ICML 2023).

Only the Linear layers whose input is not shared are smoothed: the feed-forward pair (in_features !=
out_features). Query/key/value read the same tensor as the residual path, and wrapping them would
also break the attention pattern that ONNX Runtime fuses.

Only the export imports this module (it needs torch; the query path never does).
"""
from __future__ import annotations

from importlib import resources

import torch


def calibration_texts(limit: int = 64) -> list[str]:
    """Abstracts of the bundled seed listing: real scientific text, on every machine, offline."""
    from ..ingest.listing import read_listing

    text = resources.files("recommender.data").joinpath("seed_listing.txt").read_text(encoding="utf-8")
    papers, _skipped = read_listing(text, "seed_listing.txt")
    return [p.text for p in papers][:limit]


class Smoothed(torch.nn.Module):
    """x -> linear(x / s): the division is one elementwise Mul in the exported graph."""

    def __init__(self, linear: torch.nn.Linear, inverse_scale: torch.Tensor):
        super().__init__()
        self.linear = linear
        self.register_buffer("inverse_scale", inverse_scale.to(linear.weight.dtype))

    def forward(self, x):
        return self.linear(x * self.inverse_scale)


def smooth_feed_forward(st, texts: list[str], alpha: float) -> int:
    """Smooth, in place, every feed-forward Linear of the model's transformer; returns how many."""
    model = st[0].auto_model
    targets = {name: module for name, module in model.named_modules()
               if isinstance(module, torch.nn.Linear) and module.in_features != module.out_features}
    peaks: dict[str, torch.Tensor] = {}

    def recorder(name):
        def hook(_module, inputs, _output):
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(dim=0)
            peaks[name] = torch.maximum(peaks[name], x) if name in peaks else x
        return hook

    handles = [module.register_forward_hook(recorder(name)) for name, module in targets.items()]
    try:
        st.encode(texts, batch_size=16, convert_to_numpy=True)
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        for name, linear in targets.items():
            if name not in peaks:  # a layer the forward pass never reached (a pooler head)
                continue
            weight_peak = linear.weight.abs().amax(dim=0).clamp(min=1e-5)  # per input channel
            scale = (peaks[name].clamp(min=1e-5) ** alpha / weight_peak ** (1 - alpha)).clamp(min=1e-5)
            linear.weight.mul_(scale[None, :])
            parent_name, _, attr = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attr, Smoothed(linear, 1.0 / scale))
    return sum(1 for name in targets if name in peaks)

