// The row interchanges of LU factorisations applied to their right-hand sides: y = P b.
//
// cuSOLVER's getrs applies getrf's chain of interchanges with one thread reading the pivots from
// global memory (0.4-0.6 ms at n = 4096).  Here one block handles one matrix: it composes the
// permutation in shared memory (interchanges.cuh), then every thread gathers y[i] = b[where[i]],
// for every column.
//
// Compiled by NVRTC with -DGPM_BYTES=<4, 8 or 16> (the element size; values are moved, not read).
// Every parameter is 8 bytes wide; pivots are int64, 1-based (cusolverDnXgetrf's).

#if GPM_BYTES == 4
typedef unsigned int element;
#elif GPM_BYTES == 8
typedef unsigned long long element;
#elif GPM_BYTES == 16
struct element { unsigned long long low, high; };
#else
#error "GPM_BYTES (the element size) must be 4, 8 or 16"
#endif

#include "interchanges.cuh"

extern "C" __global__ void __launch_bounds__(256)
lu_permute(const element* __restrict__ b, long long b_matrix, long long ldb,
           element* __restrict__ y, long long y_matrix, long long ldy,
           const long long* __restrict__ ipiv, long long n, long long nrhs) {
    extern __shared__ int where[];  // n entries
    const long long m = blockIdx.x;
    compose_interchanges(where, ipiv + m * n, (int)n);
    const element* bm = b + m * b_matrix;
    element* ym = y + m * y_matrix;
    for (long long c = 0; c < nrhs; ++c)
        for (int i = threadIdx.x; i < n; i += blockDim.x) ym[c * ldy + i] = bm[c * ldb + where[i]];
}
