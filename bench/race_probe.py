"""A positive control for compute-sanitizer's kernel filter (``bench/sanitize.sh`` with
``SANITIZE_KERNELS``): one kernel, named like gpmath's small-matrix kernels, whose threads read
another thread's shared-memory write with no barrier between.

Run on a GPU with CuPy::

    compute-sanitizer --tool racecheck --kernel-name kns=small_ python3 bench/race_probe.py  # 1 hazard
    compute-sanitizer --tool racecheck --kernel-name kns=zzz_ python3 bench/race_probe.py    # 0 hazards

A filter that names the kernel must report the hazard; one that does not must not (H200,
2026-12-03: 1 and 0).
"""

import cupy as cp

SOURCE = r"""extern "C" __global__ void small_race_probe(float* out) {
    __shared__ float s[64];
    s[threadIdx.x] = threadIdx.x;
    out[threadIdx.x] = s[(threadIdx.x + 1) % 64];  // no barrier: reads another thread's write
}"""

if __name__ == "__main__":
    out = cp.zeros(64, cp.float32)
    cp.RawKernel(SOURCE, "small_race_probe")((1,), (64,), (out,))
    cp.cuda.Device().synchronize()
    print("probe ran")
