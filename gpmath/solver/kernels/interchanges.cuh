// getrf's row interchanges as one permutation.
//
// getrf's pivots say "swap rows i and ipiv[i] - 1, for i = 0, 1, ..., n - 1": a chain in which
// each swap may move what an earlier one moved.  compose_interchanges writes, in shared memory,
// where[i] = the row of the factored matrix that ends in row i of P A (so (P b)[i] = b[where[i]]).
// Every thread of the block calls it; the first composes the chain, all wait for it.
// Pivots are int64, 1-based (cusolverDnXgetrf's).

static __device__ void compose_interchanges(int* where, const long long* __restrict__ pivots, int rows) {
    for (int i = threadIdx.x; i < rows; i += blockDim.x) where[i] = i;
    __syncthreads();
    if (threadIdx.x == 0) {
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
}
