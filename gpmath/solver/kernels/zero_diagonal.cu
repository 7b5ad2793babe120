// LAPACK trtrs's info for a batch of triangular matrices, before cuBLAS's trsm divides by their
// diagonals: 1 + the index of the first diagonal entry that is exactly zero, or 0.  One block a
// matrix (a warp for every 32 entries, up to 1024 threads: four loads a thread at n = 4096): its threads
// read the diagonal in strides and keep the smallest index of a zero.
//
// Compiled by NVRTC with -DGPM_REAL=<4 or 8> (float or double) and -DGPM_COMPLEX=<0 or 1>.
// Every parameter is 8 bytes wide; `matrix` (the step between matrices, 0 for one matrix read by
// every block) and `n` count elements.

#include "elements.cuh"

#if GPM_COMPLEX
__device__ bool is_zero(const element& v) { return v.re == 0 && v.im == 0; }
#else
__device__ bool is_zero(element v) { return v == 0; }
#endif

extern "C" __global__ void __launch_bounds__(1024)
zero_diagonal(const element* __restrict__ a, long long matrix, long long n, int* __restrict__ info) {
    __shared__ int first;
    if (threadIdx.x == 0) first = (int)n;
    __syncthreads();
    const element* am = a + blockIdx.x * matrix;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        if (is_zero(am[i * (n + 1)])) {  // later entries of this thread's stride cannot come first
            atomicMin(&first, (int)i);
            break;
        }
    }
    __syncthreads();
    if (threadIdx.x == 0) info[blockIdx.x] = first < n ? first + 1 : 0;
}
