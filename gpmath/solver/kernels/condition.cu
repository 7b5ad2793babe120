// The elementwise steps of the reciprocal condition estimate (gpmath/solver/_condition.py's
// inverse_one_norms, as LAPACK's xLACN2) for host operands staged through the GPU: the vectors stay
// on the device between the solves that the route makes with its factors, and one copy brings the
// estimates back.  One block a matrix, BLOCK threads striding along its vector of n entries.
//
//   rcond_start   v = (1/n, ..., 1/n), or (alternating) Higham's v_i = (-1)^i (1 + i/(n-1))
//   rcond_absorb  s = sum |v_i| (times 2/(3n) for the alternating vector's solution); the matrix's
//                 estimate becomes s (first) or stays where it is >= s (else s: NaN propagates as
//                 NumPy's where(estimate >= s, estimate, s)); with signs, then v_i = sign(v_i)
//                 (v_i/|v_i|, 1 where v_i = 0)
//   rcond_unit    v = e_j, j the first index of the largest |v_i| (a NaN counts as largest, as
//                 NumPy's argmax)
//   rcond_norms   ‖A‖₁ of column-major n x n matrices before they are factored (the largest sum of
//                 |a_ij| down a column; with `hermitian`, of the Hermitian matrix whose lower
//                 triangle is stored), one warp a column, NORM_COLUMNS columns a block; the
//                 norms, zeroed before, take the largest by atomicMax on their bits (a
//                 non-negative real orders as its bits do, and a NaN above infinity: NumPy's amax)
//
// Compiled by NVRTC with -DGPM_REAL=<4 or 8> (float or double) and -DGPM_COMPLEX=<0 or 1>.  Every
// parameter is 8 bytes wide; vectors are contiguous, n entries a matrix.

#include "elements.cuh"

#if GPM_COMPLEX
static __device__ real magnitude(element v) { return hypot(v.re, v.im); }
static __device__ element make(real value) { return element{value, 0}; }
static __device__ element sign(element v) {
    const real m = magnitude(v);
    return m == 0 ? make(1) : element{v.re / m, v.im / m};
}
#else
static __device__ real magnitude(element v) { return fabs(v); }
static __device__ element make(real value) { return value; }
static __device__ element sign(element v) { return v == 0 ? (real)1 : v / fabs(v); }
#endif

#define BLOCK 256

extern "C" __global__ void __launch_bounds__(BLOCK)
rcond_start(element* __restrict__ v, long long n, long long alternating) {
    element* vm = v + blockIdx.x * n;
    for (long long i = threadIdx.x; i < n; i += BLOCK) {
        const real step = n > 1 ? (real)i / (real)(n - 1) : (real)i;
        vm[i] = make(alternating ? ((i & 1) ? -1 : 1) * (1 + step) : (real)1 / (real)n);
    }
}

extern "C" __global__ void __launch_bounds__(BLOCK)
rcond_absorb(element* __restrict__ v, long long n, real* __restrict__ estimate, long long first,
             long long alternating, long long signs) {
    __shared__ real partial[BLOCK];
    element* vm = v + blockIdx.x * n;
    real sum = 0;
    for (long long i = threadIdx.x; i < n; i += BLOCK) sum += magnitude(vm[i]);
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int half = BLOCK / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        const real s = alternating ? partial[0] * (real)2 / (real)(3 * n) : partial[0];
        const real held = estimate[blockIdx.x];
        estimate[blockIdx.x] = first ? s : (held >= s ? held : s);
    }
    if (signs)  // each thread rewrites the entries it summed
        for (long long i = threadIdx.x; i < n; i += BLOCK) vm[i] = sign(vm[i]);
}

// Whether entry (a, i) comes before (b, j) in NumPy's argmax order of magnitudes.
static __device__ bool before(real a, long long i, real b, long long j) {
    if (a != a) return b == b || i < j;  // a NaN: before any number, and before a later NaN
    if (b != b) return false;
    return a > b || (a == b && i < j);
}

extern "C" __global__ void __launch_bounds__(BLOCK)
rcond_unit(element* __restrict__ v, long long n) {
    __shared__ real best[BLOCK];
    __shared__ long long where[BLOCK];
    element* vm = v + blockIdx.x * n;
    real top = -1;
    long long at = n;
    for (long long i = threadIdx.x; i < n; i += BLOCK) {
        const real m = magnitude(vm[i]);
        if (at == n || before(m, i, top, at)) top = m, at = i;
    }
    best[threadIdx.x] = top, where[threadIdx.x] = at;
    __syncthreads();
    for (int half = BLOCK / 2; half > 0; half /= 2) {
        if (threadIdx.x < half && where[threadIdx.x + half] < n &&
            (where[threadIdx.x] == n ||
             before(best[threadIdx.x + half], where[threadIdx.x + half], best[threadIdx.x], where[threadIdx.x])))
            best[threadIdx.x] = best[threadIdx.x + half], where[threadIdx.x] = where[threadIdx.x + half];
        __syncthreads();
    }
    const long long j = where[0];
    for (long long i = threadIdx.x; i < n; i += BLOCK) vm[i] = make(i == j ? 1 : 0);
}

#define NORM_COLUMNS (BLOCK / 32)

#if GPM_REAL == 4
typedef unsigned int bits;
static __device__ bits as_bits(real v) { return __float_as_uint(v); }
#else
typedef unsigned long long bits;
static __device__ bits as_bits(real v) { return (bits)__double_as_longlong(v); }
#endif

extern "C" __global__ void __launch_bounds__(BLOCK)
rcond_norms(const element* __restrict__ a, long long n, long long hermitian, real* __restrict__ norms) {
    const long long groups = (n + NORM_COLUMNS - 1) / NORM_COLUMNS, m = blockIdx.x / groups;
    const long long j = blockIdx.x % groups * NORM_COLUMNS + threadIdx.x / 32;
    if (j >= n) return;
    const element* am = a + m * n * n;
    real sum = 0;
    for (long long i = threadIdx.x % 32; i < n; i += 32)  // entry (i, j); above the diagonal, (j, i)'s
        sum += magnitude(hermitian && i < j ? am[i * n + j] : am[j * n + i]);
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (threadIdx.x % 32 == 0) atomicMax((bits*)&norms[m], as_bits(sum));
}
