// The device copy of a staged host operand with its last two axes swapped (and conjugated): the
// host array's C-order bytes are uploaded as they are, and this kernel writes the column-major
// copy the solver routes factor, so that no transposing copy runs on the host (NumPy's takes
// about 150 ms for a 4096² float64 matrix; this, a fraction of a millisecond).
//
//   swap_last_two  dst[m][c][r] = src[m][order[r]][c] (conj with `conjugate`) for count matrices
//                  of rows x cols, both contiguous; `order` (int32, rows entries) may be null: the
//                  rows in their own order.  A 32 x 32 tile in shared memory per step, so that reads
//                  and writes are both coalesced; a grid-stride loop over every tile.
//
// Compiled by NVRTC with -DGPM_REAL=<4 or 8> (float or double) and -DGPM_COMPLEX=<0 or 1>.  Every
// parameter is 8 bytes wide.

#include "elements.cuh"

#define TILE 32
#define ROWS 8  // the block is TILE x ROWS threads; each moves TILE / ROWS entries a tile

static __device__ element conjugated(element v, long long conjugate) {
#if GPM_COMPLEX
    if (conjugate) v.im = -v.im;
#endif
    return v;
}

extern "C" __global__ void __launch_bounds__(TILE * ROWS)
swap_last_two(const element* __restrict__ src, element* __restrict__ dst, long long rows, long long cols,
              long long count, long long conjugate, const int* __restrict__ order) {
    __shared__ element tile[TILE][TILE + 1];
    const long long across = (cols + TILE - 1) / TILE, per = across * ((rows + TILE - 1) / TILE);
    const int x = threadIdx.x % TILE, y = threadIdx.x / TILE;
    for (long long t = blockIdx.x; t < per * count; t += gridDim.x) {
        const long long m = t / per, r0 = (t % per) / across * TILE, c0 = (t % per) % across * TILE;
        const element* s = src + m * rows * cols;
        element* d = dst + m * rows * cols;
        for (int i = y; i < TILE; i += ROWS)
            if (r0 + i < rows && c0 + x < cols) tile[i][x] = s[(order ? order[r0 + i] : r0 + i) * cols + c0 + x];
        __syncthreads();
        for (int i = y; i < TILE; i += ROWS)
            if (c0 + i < cols && r0 + x < rows) d[(c0 + i) * rows + r0 + x] = conjugated(tile[x][i], conjugate);
        __syncthreads();
    }
}
