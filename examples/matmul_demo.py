"""A short matmul demo: runs on the GPU when one is usable, else on the CPU, and says which."""

import numpy as np

import gpmath
from gpmath.blas import Matmul

rng = np.random.default_rng(0)
a = rng.standard_normal((256, 128)).astype(np.float32)
b = rng.standard_normal((128, 64)).astype(np.float32)
bias = rng.standard_normal(64).astype(np.float32)

with Matmul(a, b) as probe:  # where a plan of these NumPy operands runs, and why
    on_gpu = probe.device_id is not None
if on_gpu:
    where = "the GPU (cuBLASLt)"
elif gpmath.device_count() == 0:
    where = f"the CPU (NumPy), as no GPU is usable: {gpmath.show_config('dicts')['gpus']}"
else:
    where = ("the CPU (NumPy): automatic placement measured it faster for products this small "
             "(execution='cuda' forces the GPU)")
print(f"gpmath {gpmath.__version__} runs this demo on {where}")

d = gpmath.matmul(a, b, epilog="bias_relu", bias=bias)
expected = np.maximum(a.astype(np.float64) @ b + bias, 0)
print(f"relu(a @ b + bias): shape {d.shape}, max relative error {np.abs(d - expected).max() / np.abs(expected).max():.2e}")

with Matmul(a, b) as plan:  # plan once, execute many times
    plan.plan()
    for _ in range(3):
        a[:] = rng.standard_normal(a.shape)
        d = plan.execute()
    print(f"planned matmul: max relative error {np.abs(d - a.astype(np.float64) @ b).max() / np.abs(a @ b).max():.2e}")
print("cache:", gpmath.cache_info()["matmul"])
