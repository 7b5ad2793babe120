// The two steps of the inverse from an LU factorisation that cuSOLVER and cuBLAS lack (the route
// of _cuda_inverse.py: P A = L U, inv(U) by trtri, X = inv(U) inv(L) by trsm, inv(A) = X P):
//
//   upper_part     x = the upper triangle (diagonal included) of the column-major n x n matrix at
//                  lu, zeros below it: the right-hand side of the trsm, whose strict lower part
//                  must be zero while lu's holds L.  A grid-stride loop over the n * n entries.
//   inverse_rows   order[where[i]] = i (int32, n entries) for getrf's pivots: the source row of
//                  each row of P^-1 b (one block; swap.cu's swap_last_two reads rows in this order).
//
// Compiled by NVRTC with -DGPM_REAL=<4 or 8> and -DGPM_COMPLEX=<0 or 1>.  Every parameter is 8
// bytes wide; pivots are int64, 1-based (cusolverDnXgetrf's).

#include "elements.cuh"
#include "interchanges.cuh"

extern "C" __global__ void __launch_bounds__(256)
upper_part(const element* __restrict__ lu, element* __restrict__ x, long long n) {
    const long long total = n * n;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const long long row = t % n, column = t / n;
        x[t] = row <= column ? lu[t] : element();
    }
}

extern "C" __global__ void __launch_bounds__(256)
inverse_rows(const long long* __restrict__ ipiv, int* __restrict__ order, long long n) {
    extern __shared__ int where[];  // n entries
    compose_interchanges(where, ipiv, (int)n);
    for (int i = threadIdx.x; i < n; i += blockDim.x) order[where[i]] = i;
}
