// Solve A X = B for a batch of N x N matrices (N <= 32) in one launch: one warp per matrix.
//
// Lane i holds row i of A in registers.  LU with partial pivoting runs without moving rows:
// at step k the warp picks, among the rows not yet used as pivots, the one of largest |a[i][k]|
// (LAPACK's choice; |re| + |im| for complex, ties to the lower row), and every row below it
// subtracts its multiple of the pivot row, which it reads with a shuffle.  Each row keeps its
// multiplier in column k (the factor L) and the step at which it was the pivot, so after N
// steps a row with step s holds row s of U right of its multipliers.  The right-hand sides are
// then solved column by column, a forward and a back substitution in pivot order, and the row
// with step s writes x[s].  A matrix is read once and nothing but X and info is written.
//
// info[m] = k + 1 for the first step k whose pivot is exactly zero (as getrf reports it), else 0;
// with nonfinite (check_finite's info code; 0: no test), nonfinite where a holds an inf or a NaN,
// else nonfinite - 1 where b does (small_values.cuh's report_nonfinite).
//
// Compiled by NVRTC with -DGPM_N=<1..32> and -DGPM_TYPE=<0: float, 1: double, 2: complex
// float, 3: complex double>.  Every parameter is 8 bytes wide (the host packs them alike).

#ifndef GPM_N
#error "GPM_N (the matrix order, 1 to 32) must be defined"
#endif
#define N GPM_N
#define FULL 0xffffffffu

#include "small_values.cuh"

// The lane whose row holds the largest magnitude among the candidates (ties to the lower lane),
// and whether that magnitude is zero.  A magnitude's bits plus one order like the magnitude
// (non-negative IEEE values); non-candidates send 0.
struct Pivot { int lane; bool zero; };

__device__ __forceinline__ unsigned warp_max(unsigned key) {
#if __CUDA_ARCH__ >= 800
    return __reduce_max_sync(FULL, key);
#else
#pragma unroll
    for (int offset = 16; offset; offset >>= 1) key = max(key, __shfl_xor_sync(FULL, key, offset));
    return key;
#endif
}

__device__ __forceinline__ Pivot find_pivot(float magnitude, bool candidate) {
    const unsigned key = candidate ? __float_as_uint(magnitude) + 1u : 0u;
    const unsigned best = warp_max(key);
    return Pivot{__ffs(__ballot_sync(FULL, key == best)) - 1, best <= 1u};
}

__device__ __forceinline__ Pivot find_pivot(double magnitude, bool candidate) {
    const unsigned long long key = candidate ? (unsigned long long)__double_as_longlong(magnitude) + 1ull : 0ull;
    const unsigned high = (unsigned)(key >> 32), low = (unsigned)key;
    const unsigned best_high = warp_max(high);
    const unsigned best_low = warp_max(high == best_high ? low : 0u);
    return Pivot{__ffs(__ballot_sync(FULL, high == best_high && low == best_low)) - 1,
                 best_high == 0u && best_low <= 1u};
}

// r[k] for a k known only at run time: selects, so that r stays in registers.
__device__ __forceinline__ value pick(const value (&r)[N], int k) {
    value s = r[0];
#pragma unroll
    for (int j = 1; j < N; ++j)
        if (j == k) s = r[j];
    return s;
}

extern "C" __global__ void __launch_bounds__(32 * WARPS, 4)  // 16 warps an SM for 8-byte values, 8 for 16-byte ones
small_lu_solve(const value* __restrict__ a, long long a_batch, long long a_row, long long a_col,
               const value* __restrict__ b, long long b_batch, long long b_row, long long b_col,
               value* __restrict__ x, long long x_batch, long long x_row, long long x_col,
               int* __restrict__ info, long long nonfinite, long long count, long long nrhs) {
    extern __shared__ unsigned char shared[];
    const Warp w = this_warp();
    const int lane = w.lane;
    const long long m = w.m;
    if (m >= count) return;  // a whole warp leaves together

    const value* tile = staged(a, a_batch, a_row, a_col, shared, w);
    const bool a_finite = !nonfinite || tile_finite(tile, lane);
    value r[N];
#pragma unroll
    for (int j = 0; j < N; ++j) r[j] = lane < N ? tile[lane * (N + 1) + j] : zero();

    // Factor, every loop unrolled: column indices are constants and r stays in registers.
    int step = lane < N ? -1 : N;  // the step at which this row was the pivot (-1: not yet)
    int singular = 0;
#pragma unroll
    for (int k = 0; k < N; ++k) {
        real size = magnitude(r[k]);
        if (size != size) size = infinity();  // a NaN pivot wins (and propagates): the order stays total
        const Pivot pivot = find_pivot(size, step < 0);
        if (pivot.zero && !singular) singular = k + 1;
        if (lane == pivot.lane) step = k;
        const bool below = step < 0;
        const value head = shfl(r[k], pivot.lane);
        const value l = below && !pivot.zero ? mul(r[k], reciprocal(head)) : zero();
        if (below) r[k] = l;
#pragma unroll
        for (int j = k + 1; j < N; ++j) {
            const value u = shfl(r[j], pivot.lane);
            if (below) r[j] = sub_mul(r[j], l, u);
        }
    }
    if (lane == 0) info[m] = singular;
    const value inverse_diagonal = lane < N ? reciprocal(pick(r, step)) : zero();  // 1 / U[step][step]

    const value* bm = b + m * b_batch;
    value* xm = x + m * x_batch;
    bool b_finite = true;
#pragma unroll 1
    for (long long c = 0; c < nrhs; ++c) {
        value y = lane < N ? bm[lane * b_row + c * b_col] : zero();
        b_finite = b_finite && finite(y);
#pragma unroll
        for (int k = 0; k < N - 1; ++k) {  // L y = P b
            const value yk = shfl(y, __ffs(__ballot_sync(FULL, step == k)) - 1);
            if (step > k) y = sub_mul(y, r[k], yk);
        }
#pragma unroll
        for (int k = N - 1; k >= 0; --k) {  // U x = y
            if (step == k) y = mul(y, inverse_diagonal);
            if (k > 0) {
                const value xk = shfl(y, __ffs(__ballot_sync(FULL, step == k)) - 1);
                if (step < k) y = sub_mul(y, r[k], xk);
            }
        }
        if (lane < N) xm[step * x_row + c * x_col] = y;
    }
    report_nonfinite(info, m, nonfinite, a_finite, b_finite, lane);
}
