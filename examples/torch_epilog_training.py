"""A PyTorch training loop whose linear layers run as fused cuBLASLt matmuls with gpmath.

Each hidden layer's forward is one ``gpmath.matmul(x, w, epilog="bias_relu", bias=b)`` call
(product, bias and ReLU in one kernel on the GPU); a ``torch.autograd.Function`` supplies the
backward, also with gpmath matmuls (gpmath's results carry no autograd graph of their own).
A small MLP learns to separate two interleaved spirals, and a twin model with the same initial
weights trains with torch's own ``relu(x @ w + b)``: both must follow the same losses.  Tensors
live on torch's CUDA device when one is available, else on the CPU (gpmath then computes with
NumPy).  Exits with a message if torch is not installed.  Saves ``torch_epilog_training.png``
when matplotlib is installed.
"""

import sys

import numpy as np

try:
    import torch
except ImportError:
    print("torch is not installed: nothing to train")
    sys.exit(0)

import gpmath
from _plot import save_figure


class FusedLinear(torch.autograd.Function):
    """epilog(x @ w + b) through one gpmath.matmul call; the gradients through three more."""

    @staticmethod
    def forward(ctx, x, w, b, epilog):
        y = gpmath.matmul(x, w, epilog=epilog, bias=b)
        ctx.save_for_backward(x, w, y)
        ctx.relu = epilog == "bias_relu"
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w, y = ctx.saved_tensors
        if ctx.relu:
            grad = grad * (y > 0)
        return gpmath.matmul(grad, w.T), gpmath.matmul(x.T, grad), grad.sum(0), None


def fused_forward(params, x):
    *hidden, (w, b) = params
    for w_h, b_h in hidden:
        x = FusedLinear.apply(x, w_h, b_h, "bias_relu")
    return FusedLinear.apply(x, w, b, "bias")


def torch_forward(params, x):
    *hidden, (w, b) = params
    for w_h, b_h in hidden:
        x = torch.relu(x @ w_h + b_h)
    return x @ w + b


def spirals(n, generator):
    """Two interleaved spirals of n points each, with labels 0 and 1."""
    t = torch.linspace(0.3, 3 * np.pi, n)
    arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / (3 * np.pi)
    x = torch.cat([arm, -arm]) + 0.03 * torch.randn(2 * n, 2, generator=generator)
    return x, torch.cat([torch.zeros(n), torch.ones(n)]).long()


def train(forward, params, x, labels, steps=200):
    optimizer = torch.optim.Adam([p for layer in params for p in layer], lr=0.01)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(params, x), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"torch {torch.__version__} on {device}; gpmath computes on the {'GPU' if gpmath.device_count() else 'CPU'}")
generator = torch.Generator().manual_seed(0)
x, labels = spirals(200, generator)
x, labels = x.to(device), labels.to(device)
sizes = [2, 32, 32, 2]
init = [(torch.randn(m, n, generator=generator) * (2 / m) ** 0.5, torch.zeros(n)) for m, n in zip(sizes, sizes[1:])]


def fresh():
    return [tuple(p.clone().to(device).requires_grad_() for p in layer) for layer in init]


fused, plain = fresh(), fresh()
with torch.no_grad():
    assert torch.allclose(fused_forward(fused, x), torch_forward(plain, x), atol=1e-5)
fused_losses = train(fused_forward, fused, x, labels)
plain_losses = train(torch_forward, plain, x, labels)
with torch.no_grad():
    accuracy = (fused_forward(fused, x).argmax(1) == labels).float().mean().item()
print(f"loss {fused_losses[0]:.3f} -> {fused_losses[-1]:.4f} (torch's own forward: {plain_losses[-1]:.4f}); "
      f"training accuracy {accuracy:.1%}")
assert np.allclose(fused_losses[:50], plain_losses[:50], rtol=1e-3), "the twins should follow the same losses"
assert fused_losses[-1] < 0.1 and accuracy > 0.97


def draw(fig, axes):
    axes[0].semilogy(fused_losses, label="gpmath fused epilogs")
    axes[0].semilogy(plain_losses, "--", label="torch")
    axes[0].set(xlabel="step", ylabel="cross-entropy loss")
    axes[0].legend()
    grid = torch.linspace(-1.2, 1.2, 200)
    points = torch.cartesian_prod(grid, grid).to(device)
    with torch.no_grad():
        p = torch.softmax(fused_forward(fused, points), 1)[:, 1].reshape(200, 200).T.cpu()
    axes[1].contourf(grid, grid, p, levels=20, cmap="coolwarm", alpha=0.7)
    axes[1].scatter(*x.cpu().T, c=labels.cpu(), cmap="coolwarm", s=4)
    axes[1].set(title="decision function", aspect="equal", xticks=[], yticks=[])


save_figure("torch_epilog_training.png", draw, ncols=2, figsize=(9, 4))
