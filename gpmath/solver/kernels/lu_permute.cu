// The row interchanges of LU factorisations applied to their right-hand sides: y = P b.
//
// getrf's pivots say "swap rows i and ipiv[i] - 1, for i = 0, 1, ..., n - 1": a chain in which
// each swap may move what an earlier one moved, which cuSOLVER's getrs applies with one thread
// reading the pivots from global memory (0.4-0.6 ms at n = 4096).  Here one block handles one
// matrix: its first thread composes the permutation in shared memory (where[i] = the row of b that
// ends in row i), then every thread gathers y[i] = b[where[i]], for every column.
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

extern "C" __global__ void __launch_bounds__(256)
lu_permute(const element* __restrict__ b, long long b_matrix, long long ldb,
           element* __restrict__ y, long long y_matrix, long long ldy,
           const long long* __restrict__ ipiv, long long n, long long nrhs) {
    extern __shared__ int where[];  // n entries
    const long long m = blockIdx.x;
    const long long* pivots = ipiv + m * n;
    for (int i = threadIdx.x; i < n; i += blockDim.x) where[i] = i;
    __syncthreads();
    if (threadIdx.x == 0) {
        const int rows = (int)n;
#pragma unroll 16
        for (int i = 0; i < rows; ++i) {  // the pivot loads do not depend on the chain: unrolled, they overlap
            int p = (int)pivots[i] - 1;
            if (p < i || p >= rows) p = i;  // getrf's pivots satisfy i <= p < n; a bad one (lu_solve takes
                                            // the caller's) swaps nothing rather than write out of bounds
            const int kept = where[i];
            where[i] = where[p];
            where[p] = kept;
        }
    }
    __syncthreads();
    const element* bm = b + m * b_matrix;
    element* ym = y + m * y_matrix;
    for (long long c = 0; c < nrhs; ++c)
        for (int i = threadIdx.x; i < n; i += blockDim.x) ym[c * ldy + i] = bm[c * ldb + where[i]];
}
