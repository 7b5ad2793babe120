// The a posteriori test of a Cholesky QR factorisation M = Q R2 R1 (lstsq's "gelsy" route,
// _cuda_lstsq.py): from the Gram matrix E = Qᴴ Q (an n × n column-major matrix, as cuBLAS gemm
// writes it; its upper triangle is read) and the two upper-triangular factors R1 and R2, three
// values that the host reads after the stream's sync:
//   report[0] = max |E_ij - δ_ij| over i <= j  (how far Q is from orthonormal columns),
//   report[1] = max_j |R1_jj R2_jj|            (R's diagonal is the product of theirs),
//   report[2] = max_j 1 / |R1_jj R2_jj|        (so that min/max needs maxima alone).
// Each is a nonnegative real kept as its bits, which order as unsigned integers do: a block reduces
// its columns and takes one atomicMax per value, into `report` zeroed before the launch.  A NaN
// has larger bits than any finite value or infinity, so a NaN anywhere fails the test.
//
// Compiled by NVRTC with -DGPM_REAL=<4 or 8> and -DGPM_COMPLEX=<0 or 1>.  Every parameter is 8
// bytes wide; `n` counts elements.  Blocks of BLOCK threads take the columns in a grid stride.

#include "elements.cuh"

#define BLOCK 256

#if GPM_REAL == 4
typedef unsigned int bits_t;
__device__ bits_t as_bits(real v) { return __float_as_uint(v); }
#else
typedef unsigned long long bits_t;
__device__ bits_t as_bits(real v) { return (bits_t)__double_as_longlong(v); }
#endif

#if GPM_COMPLEX
__device__ real modulus(const element& v) { return hypot(v.re, v.im); }
__device__ real excess(const element& v, bool diagonal) { return hypot(v.re - (diagonal ? 1 : 0), v.im); }
#else
__device__ real modulus(element v) { return fabs(v); }
__device__ real excess(element v, bool diagonal) { return fabs(v - (diagonal ? 1 : 0)); }
#endif

__device__ bits_t block_max(bits_t value, bits_t* shared) {
    shared[threadIdx.x] = value;
    __syncthreads();
    for (int half = BLOCK / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half && shared[threadIdx.x + half] > shared[threadIdx.x])
            shared[threadIdx.x] = shared[threadIdx.x + half];
        __syncthreads();
    }
    bits_t result = shared[0];
    __syncthreads();
    return result;
}

extern "C" __global__ void __launch_bounds__(BLOCK)
orthogonality_report(const element* __restrict__ e, const element* __restrict__ r1, const element* __restrict__ r2,
                     long long n, bits_t* __restrict__ report) {
    __shared__ bits_t shared[BLOCK];
    bits_t worst = 0, largest = 0, inverse = 0;  // the bits of 0.0
    for (long long j = blockIdx.x; j < n; j += gridDim.x) {
        const element* column = e + j * n;
        for (long long i = threadIdx.x; i <= j; i += BLOCK) {
            bits_t b = as_bits(excess(column[i], i == j));
            if (b > worst) worst = b;
        }
        if (threadIdx.x == 0) {
            real d = modulus(r1[j * (n + 1)]) * modulus(r2[j * (n + 1)]);
            bits_t bd = as_bits(d), bi = as_bits((real)1 / d);
            if (d != d) bd = bi = as_bits(d);  // NaN: both values fail
            if (bd > largest) largest = bd;
            if (bi > inverse) inverse = bi;
        }
    }
    worst = block_max(worst, shared);
    if (threadIdx.x == 0) {
        atomicMax(&report[0], worst);
        atomicMax(&report[1], largest);
        atomicMax(&report[2], inverse);
    }
}
