// The value types of gpmath's one-warp-a-matrix kernels and their staging of a matrix (included by
// them after N is defined; gpmath inlines it before NVRTC compiles): GPM_TYPE 0: float, 1: double,
// 2: complex float, 3: complex double.  "real" is the type of a magnitude; "value", of an element.

#ifndef GPM_SMALL_VALUES
#define GPM_SMALL_VALUES
#ifndef FULL
#define FULL 0xffffffffu
#define WARPS (sizeof(value) > 8 ? 2 : 4)  // matrices a block, a warp each (the host computes the same)
#endif

#if GPM_TYPE == 0 || GPM_TYPE == 2
typedef float real;
#else
typedef double real;
#define WARPS (sizeof(value) > 8 ? 2 : 4)  // matrices a block, a warp each (the host computes the same)
#endif

__device__ __forceinline__ float absolute(float v) { return fabsf(v); }
__device__ __forceinline__ double absolute(double v) { return fabs(v); }
__device__ __forceinline__ real infinity() {
    return sizeof(real) == 4 ? __int_as_float(0x7f800000) : __longlong_as_double(0x7ff0000000000000LL);
}

#if GPM_TYPE >= 2
struct value { real re, im; };
__device__ __forceinline__ value make(real re, real im) { value v; v.re = re; v.im = im; return v; }
__device__ __forceinline__ value zero() { return make(0, 0); }
__device__ __forceinline__ value shfl(value v, int lane) {
    return make(__shfl_sync(FULL, v.re, lane), __shfl_sync(FULL, v.im, lane));
}
__device__ __forceinline__ real magnitude(value v) { return absolute(v.re) + absolute(v.im); }
__device__ __forceinline__ value mul(value a, value b) {
    return make(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
__device__ __forceinline__ value sub_mul(value c, value a, value b) {  // c - a b
    return make(c.re - (a.re * b.re - a.im * b.im), c.im - (a.re * b.im + a.im * b.re));
}
__device__ __forceinline__ value conjugate(value v) { return make(v.re, -v.im); }
__device__ __forceinline__ real real_part(value v) { return v.re; }
__device__ __forceinline__ value of_real(real v) { return make(v, 0); }
__device__ __forceinline__ value scaled(value v, real s) { return make(v.re * s, v.im * s); }
__device__ __forceinline__ bool finite(value v) { return isfinite(v.re) && isfinite(v.im); }
__device__ __forceinline__ value reciprocal(value v) {  // Smith's algorithm: no overflow in |v|^2
    if (absolute(v.re) >= absolute(v.im)) {
        real r = v.im / v.re, d = v.re + v.im * r;
        return make(1 / d, -r / d);
    }
    real r = v.re / v.im, d = v.im + v.re * r;
    return make(r / d, -1 / d);
}
#else
typedef real value;
__device__ __forceinline__ value zero() { return 0; }
__device__ __forceinline__ value shfl(value v, int lane) { return __shfl_sync(FULL, v, lane); }
__device__ __forceinline__ real magnitude(value v) { return absolute(v); }
__device__ __forceinline__ value mul(value a, value b) { return a * b; }
__device__ __forceinline__ value sub_mul(value c, value a, value b) { return c - a * b; }
__device__ __forceinline__ value conjugate(value v) { return v; }
__device__ __forceinline__ real real_part(value v) { return v; }
__device__ __forceinline__ value of_real(real v) { return v; }
__device__ __forceinline__ value scaled(value v, real s) { return v * s; }
__device__ __forceinline__ value reciprocal(value v) { return 1 / v; }
__device__ __forceinline__ bool finite(value v) { return isfinite(v); }
#endif

#define WARPS (sizeof(value) > 8 ? 2 : 4)  // matrices a block, a warp each (the host computes the same)

// A thread's lane, its warp in the block and the warp's matrix (blockIdx.x WARPS + warp).
struct Warp {
    int lane, warp;
    long long m;
};
__device__ __forceinline__ Warp this_warp() {
    const int warp = threadIdx.x >> 5;
    return Warp{int(threadIdx.x & 31), warp, (long long)blockIdx.x * WARPS + warp};
}

// This warp's N x N tile of the block's dynamic shared memory (rows of N + 1), holding its matrix
// of a (element strides: batch, row, column), read along its unit-stride axis (coalesced).
__device__ __forceinline__ value* staged(const value* a, long long batch, long long row, long long col,
                                         unsigned char* shared, const Warp& w) {
    value* tile = reinterpret_cast<value*>(shared) + w.warp * N * (N + 1);
    const value* am = a + w.m * batch;
    const int lane = w.lane;
    for (int e = lane; e < N * N; e += 32) {
        const int i = col == 1 ? e / N : e % N, j = col == 1 ? e % N : e / N;
        tile[i * (N + 1) + j] = am[i * row + j * col];
    }
    __syncwarp();
    return tile;
}

// Whether every element of the warp's staged tile is finite (every lane of the warp calls it).
__device__ __forceinline__ bool tile_finite(const value* tile, int lane) {
    bool ok = true;
    for (int e = lane; e < N * N; e += 32) ok = ok && finite(tile[(e / N) * (N + 1) + e % N]);
    return __all_sync(FULL, ok);
}

// check_finite's report (nonfinite: the info code for a; 0: no test): info[m] = nonfinite for a
// matrix whose a holds an inf or a NaN, else nonfinite - 1 where its b does (lane 0 writes, after
// the factorization's info, which it replaces).
__device__ __forceinline__ void report_nonfinite(int* info, long long m, long long nonfinite, bool a_finite,
                                                 bool b_finite, int lane) {
    const bool b_all = __all_sync(FULL, b_finite);
    if (lane == 0 && nonfinite && !(a_finite && b_all)) info[m] = (int)(a_finite ? nonfinite - 1 : nonfinite);
}
#endif
