// The row order of P^-1 for the inverse from an LU factorisation (the route of _cuda_inverse.py:
// P A = L U, X = inv(U) inv(L) by cuBLAS's trsm, inv(A) = X P):
//
//   inverse_rows   order[where[i]] = i (int32, n entries) for getrf's pivots: the source row of
//                  each row of P^-1 b (one block; swap.cu's swap_last_two reads rows in this order).
//
// Every parameter is 8 bytes wide; pivots are int64, 1-based (cusolverDnXgetrf's).

#include "interchanges.cuh"

extern "C" __global__ void __launch_bounds__(256)
inverse_rows(const long long* __restrict__ ipiv, int* __restrict__ order, long long n) {
    extern __shared__ int where[];  // n entries
    compose_interchanges(where, ipiv, (int)n);
    for (int i = threadIdx.x; i < n; i += blockDim.x) order[where[i]] = i;
}
