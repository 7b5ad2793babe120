// Cholesky factors (small_cholesky) of a batch of N x N Hermitian positive definite matrices
// (N <= 32), or solves A X = B by them (small_cholesky_solve), in one launch: one warp per matrix.
//
// A is staged through shared memory (read along its unit-stride axis, coalesced); lane i then
// holds row i of L, the lower triangle of A (lower) or of conj(Aᵀ) (upper), in registers.  Step k
// takes the updated diagonal from lane k, and every lane scales its column-k element by its
// inverse square root and subtracts l_ik conj(l_jk), read with a shuffle, from its elements
// j <= i.  small_cholesky writes the factor back through shared memory in C order, transposed:
// f[j][i] = l_ij (lower: Lᵀ, whose column-major reading is L) or conj(l_ij) (upper: U = Lᴴ),
// zero below the diagonal.  small_cholesky_solve solves each right-hand side by L y = b (rows of
// L in hand) and Lᴴ x = y (the rows of Lᴴ, columns of L, brought through shared memory) and
// writes x only.
//
// info[m] = k + 1 for the first step k whose diagonal is not positive (or not a number), as
// potrf reports it, else 0; with nonfinite (check_finite's info code; 0: no test), nonfinite where
// a (either triangle) holds an inf or a NaN, else nonfinite - 1 where b does (report_nonfinite).
//
// Compiled by NVRTC with -DGPM_N=<1..32> and -DGPM_TYPE=<0: float, 1: double, 2: complex
// float, 3: complex double>.  Every parameter is 8 bytes wide (the host packs them alike).

#ifndef GPM_N
#error "GPM_N (the matrix order, 1 to 32) must be defined"
#endif
#define N GPM_N
#define FULL 0xffffffffu

#include "small_values.cuh"

// Row `lane` of L into r, from the named triangle of the staged tile; returns potrf's info and
// sets *diagonal* to l_ii (1 for lanes past N).  Every loop unrolled: r stays in registers.
__device__ __forceinline__ int factor(value (&r)[N], const value* tile, bool lower, int lane, real& diagonal) {
#pragma unroll
    for (int j = 0; j < N; ++j)
        r[j] = lane < N && j <= lane ? (lower ? tile[lane * (N + 1) + j] : conjugate(tile[j * (N + 1) + lane])) : zero();
    int failed = 0;
    diagonal = 1;
#pragma unroll
    for (int k = 0; k < N; ++k) {
        const real d = real_part(shfl(r[k], k));
        if (!(d > 0) && !failed) failed = k + 1;
        const real root = sqrt(d);
        if (lane == k) {
            r[k] = of_real(root);
            diagonal = root;
        }
        if (lane > k) r[k] = scaled(r[k], 1 / root);
#pragma unroll
        for (int j = k + 1; j < N; ++j) {
            const value ljk = shfl(r[k], j);
            if (lane >= j) r[j] = sub_mul(r[j], r[k], conjugate(ljk));
        }
    }
    return failed;
}

// This warp's matrix of a, staged and factored: row `lane` of L, l_ii and the tile; info written.
struct Factor {
    value r[N];
    real diagonal;
    value* tile;
};
__device__ __forceinline__ Factor factored(const value* a, long long batch, long long row, long long col, bool lower,
                                          int* info, unsigned char* shared, const Warp& w) {
    Factor l;
    l.tile = staged(a, batch, row, col, shared, w);
    const int failed = factor(l.r, l.tile, lower, w.lane, l.diagonal);
    if (w.lane == 0) info[w.m] = failed;
    return l;
}

extern "C" __global__ void __launch_bounds__(32 * WARPS, 4)
small_cholesky(const value* __restrict__ a, long long a_batch, long long a_row, long long a_col,
               value* __restrict__ f, int* __restrict__ info, long long nonfinite, long long count, long long lower) {
    extern __shared__ unsigned char shared[];
    const Warp w = this_warp();
    if (w.m >= count) return;  // a whole warp leaves together
    Factor l = factored(a, a_batch, a_row, a_col, lower, info, shared, w);
    const int lane = w.lane;
    report_nonfinite(info, w.m, nonfinite, !nonfinite || tile_finite(l.tile, lane), true, lane);

    // Write f through the tile: f[j][i] = l_ij (or its conjugate), zero where j > i.
    __syncwarp();
#pragma unroll
    for (int j = 0; j < N; ++j)
        if (lane < N) l.tile[j * (N + 1) + lane] = j <= lane ? (lower ? l.r[j] : conjugate(l.r[j])) : zero();
    __syncwarp();
    value* fm = f + w.m * N * N;
    for (int e = lane; e < N * N; e += 32) fm[e] = l.tile[(e / N) * (N + 1) + e % N];
}

extern "C" __global__ void __launch_bounds__(32 * WARPS, 4)
small_cholesky_solve(const value* __restrict__ a, long long a_batch, long long a_row, long long a_col,
                     const value* __restrict__ b, long long b_batch, long long b_row, long long b_col,
                     value* __restrict__ x, long long x_batch, long long x_row, long long x_col,
                     int* __restrict__ info, long long nonfinite, long long count, long long nrhs, long long lower) {
    extern __shared__ unsigned char shared[];
    const Warp w = this_warp();
    if (w.m >= count) return;  // a whole warp leaves together
    Factor l = factored(a, a_batch, a_row, a_col, lower, info, shared, w);
    const int lane = w.lane;
    const bool a_finite = !nonfinite || tile_finite(l.tile, lane);  // (before the tile is reused)
    bool b_finite = true;
    const real inverse = 1 / l.diagonal;
    const value* bm = b + w.m * b_batch;
    value* xm = x + w.m * x_batch;
#pragma unroll 1
    for (long long c = 0; c < nrhs; ++c) {  // L y = b; y goes to x
        value y = lane < N ? bm[lane * b_row + c * b_col] : zero();
        b_finite = b_finite && finite(y);
#pragma unroll
        for (int k = 0; k < N; ++k) {
            if (lane == k) y = scaled(y, inverse);
            const value yk = shfl(y, k);
            if (lane > k) y = sub_mul(y, l.r[k], yk);
        }
        if (lane < N) xm[lane * x_row + c * x_col] = y;
    }
    // l.r becomes row `lane` of Lᴴ: l.r[k] = conj(l_k,lane) for k >= lane
    __syncwarp();
#pragma unroll
    for (int j = 0; j < N; ++j)
        if (lane < N) l.tile[lane * (N + 1) + j] = l.r[j];
    __syncwarp();
#pragma unroll
    for (int k = 0; k < N; ++k) l.r[k] = lane < N && k >= lane ? conjugate(l.tile[k * (N + 1) + lane]) : zero();
#pragma unroll 1
    for (long long c = 0; c < nrhs; ++c) {  // Lᴴ x = y
        value y = lane < N ? xm[lane * x_row + c * x_col] : zero();
#pragma unroll
        for (int k = N - 1; k >= 0; --k) {
            if (lane == k) y = scaled(y, inverse);
            const value xk = shfl(y, k);
            if (lane < k) y = sub_mul(y, l.r[k], xk);
        }
        if (lane < N) xm[lane * x_row + c * x_col] = y;
    }
    report_nonfinite(info, w.m, nonfinite, a_finite, b_finite, lane);
}
