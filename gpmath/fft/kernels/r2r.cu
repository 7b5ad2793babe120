// The pre- and post-processing passes of gpmath's DCTs and DSTs (see gpmath/fft/_r2r_fused.py):
// each transform is one pre kernel, one cuFFT transform and one post kernel.  Every kernel takes
// rows of contiguous samples (one block a row, its threads striding along it) and the same eight
// 8-byte parameters:
//
//   src, dst    the pass's input and output rows (real or complex, as the kernel reads them)
//   rows, n     the number of rows and the transform's length N
//   sine        DST of types 2-4: the DCT's input signs and reversals folded into the indexing
//   scale, first, last
//               the factor of every sample, and those of the first and last "internal" sample (the
//               DCT's own indexing: orthogonalisation and SciPy's norm factor folded in)
//
// Index math (x the input, X its FFT; k, m the output and FFT indices):
//   type 2: v = [x0, x2, ..., x3, x1], rfft of N, z_k = 2 exp(-i pi k / 2N) V_k, y_k = Re z_k,
//           y_{N-k} = -Im z_k.
//   type 3: W_k = exp(i pi k / 2N) (x_k - i x_{N-k}) (x_N = 0), an unnormalised irfft of N, its
//           samples back in even/odd order.
//   type 4 (even N): z_m = (x_{2m} + i x_{N-1-2m}) exp(-i pi m / N), a complex FFT of N/2,
//           u_k = 2 exp(-i pi (4k+1) / 4N) U_k, y_{2k} = Re u_k, y_{N-1-2k} = -Im u_k.
//   DCT-I: v = [x0, ..., x_{N-1}, x_{N-2}, ..., x1] (the even extension, M = 2(N-1)), rfft of M,
//           y_k = Re V_k (k < N).
//   DST-I: v = [0, x0, ..., x_{N-1}, 0, -x_{N-1}, ..., -x0] (the odd extension, M = 2(N+1)), rfft
//           of M, y_k = -Im V_{k+1} (k < N).
//   DST-II(x) = reversed(DCT-II(s x)), DST-III(x) = s DCT-III(reversed x), DST-IV(x) =
//           reversed(DCT-IV(s x)), s = (1, -1, 1, ...).
//
// Compiled by NVRTC with -DGPM_REAL=<4 or 8> (float or double).

#if GPM_REAL == 4
typedef float real;
typedef float2 cplx;
static __device__ void sincos_pi(float t, float* s, float* c) { sincospif(t, s, c); }
#elif GPM_REAL == 8
typedef double real;
typedef double2 cplx;
static __device__ void sincos_pi(double t, double* s, double* c) { sincospi(t, s, c); }
#else
#error "GPM_REAL (the size of a real) must be 4 or 8"
#endif

#define R2R_KERNEL(name)                                                                                   \
    extern "C" __global__ void __launch_bounds__(1024) name(                                               \
        const void* __restrict__ src, void* __restrict__ dst, long long rows, long long n, long long sine, \
        double scale, double first, double last)
#define FOR_ROWS for (long long row = blockIdx.x; row < rows; row += gridDim.x)
#define FOR_ITEMS(i, count) for (long long i = threadIdx.x; i < (count); i += blockDim.x)

// The factor of internal sample i of n.
static __device__ real weight(long long i, long long n, double scale, double first, double last) {
    return (real)(i == 0 ? first : (i == n - 1 ? last : scale));
}

// Internal input sample j of a row, weighted (types 3 and 1: DST-III reads the row reversed).
static __device__ real load(const real* x, long long j, long long n, bool reversed, double first, double last) {
    return x[reversed ? n - 1 - j : j] * weight(j, n, 1.0, first, last);
}

// Internal output sample k of a row, weighted (DSTs of types 2 and 4 write it reversed, DST-III
// with alternating signs).
static __device__ void store(real* y, long long k, real value, long long n, long long sine, long long type, double scale,
                      double first, double last) {
    value *= weight(k, n, scale, first, last);
    if (sine && type == 3 && (k & 1)) value = -value;
    y[sine && type != 3 ? n - 1 - k : k] = value;
}

#ifndef GPM_CALLBACK  // the kernels of types 2 and 3 (the callbacks serve types 4 and 1 only)
// -- type 2 ------------------------------------------------------------------------------------
R2R_KERNEL(r2r_pre2) {
    const long long evens = (n + 1) / 2;
    FOR_ROWS {
        const real* x = (const real*)src + row * n;
        real* v = (real*)dst + row * n;
        FOR_ITEMS(m, n) {
            const bool odd = m >= evens;
            const real value = x[odd ? 2 * (n - 1 - m) + 1 : 2 * m];
            v[m] = sine && odd ? -value : value;
        }
    }
}

R2R_KERNEL(r2r_post2) {
    const long long half = n / 2 + 1;
    FOR_ROWS {
        const cplx* spectrum = (const cplx*)src + row * half;
        real* y = (real*)dst + row * n;
        FOR_ITEMS(k, half) {
            real s, c;
            sincos_pi((real)k / (real)(2 * n), &s, &c);
            const cplx v = spectrum[k];
            store(y, k, 2 * (v.x * c + v.y * s), n, sine, 2, scale, first, last);
            if (k > 0 && 2 * k < n) store(y, n - k, -2 * (v.y * c - v.x * s), n, sine, 2, scale, first, last);
        }
    }
}

// -- type 3 ------------------------------------------------------------------------------------
R2R_KERNEL(r2r_pre3) {
    const long long half = n / 2 + 1;
    FOR_ROWS {
        const real* x = (const real*)src + row * n;
        cplx* w = (cplx*)dst + row * half;
        FOR_ITEMS(k, half) {
            const real a = load(x, k, n, sine, first, last);
            const real b = k > 0 ? load(x, n - k, n, sine, first, last) : (real)0;
            real s, c;
            sincos_pi((real)k / (real)(2 * n), &s, &c);
            w[k] = cplx{a * c + b * s, a * s - b * c};
        }
    }
}

R2R_KERNEL(r2r_post3) {
    FOR_ROWS {
        const real* v = (const real*)src + row * n;
        real* y = (real*)dst + row * n;
        FOR_ITEMS(k, n) store(y, k, v[k & 1 ? n - 1 - k / 2 : k / 2], n, sine, 3, scale, first, last);
    }
}
#endif

// -- type 4 (even N) -----------------------------------------------------------------------------
// The complex FFT's input m of a row, from its pre-twiddle w = exp(-i pi m / N).
static __device__ cplx pre4(const real* x, long long m, long long n, long long sine, cplx w) {
    const real a = x[2 * m], b = sine ? -x[n - 1 - 2 * m] : x[n - 1 - 2 * m];
    return cplx{a * w.x - b * w.y, a * w.y + b * w.x};
}

// The outputs 2k and N-1-2k of a row from the complex FFT's output u_k and its post-twiddle
// w = 2 exp(-i pi (4k+1) / 4N).
static __device__ void post4(real* y, long long k, cplx u, long long n, long long sine, double scale, double first,
                             double last, cplx w) {
    store(y, 2 * k, u.x * w.x - u.y * w.y, n, sine, 4, scale, first, last);
    store(y, n - 1 - 2 * k, -(u.x * w.y + u.y * w.x), n, sine, 4, scale, first, last);
}

#ifndef GPM_CALLBACK  // (the callbacks read the twiddles from tables: gpmath/fft/_r2r_callback.py)
static __device__ cplx twiddle(real numerator, real denominator, real size) {  // size exp(-i pi num / den)
    real s, c;
    sincos_pi(numerator / denominator, &s, &c);
    return cplx{size * c, -size * s};
}

R2R_KERNEL(r2r_pre4) {
    const long long half = n / 2;
    FOR_ROWS {
        const real* x = (const real*)src + row * n;
        cplx* z = (cplx*)dst + row * half;
        FOR_ITEMS(m, half) z[m] = pre4(x, m, n, sine, twiddle((real)m, (real)n, 1));
    }
}

R2R_KERNEL(r2r_post4) {
    const long long half = n / 2;
    FOR_ROWS {
        const cplx* spectrum = (const cplx*)src + row * half;
        real* y = (real*)dst + row * n;
        FOR_ITEMS(k, half) {
            const cplx w = twiddle((real)(4 * k + 1), (real)(4 * n), 2);
            post4(y, k, spectrum[k], n, sine, scale, first, last, w);
        }
    }
}
#endif

// -- types 1: the even or odd extension and an rfft of M points --------------------------------
// DCT-I: M = 2(N-1), [x0, ..., x_{N-1}, x_{N-2}, ..., x1]; sample m of the extension.
static __device__ real dct1_input(const real* x, long long m, long long n, double first, double last) {
    return load(x, m < n ? m : 2 * (n - 1) - m, n, false, first, last);
}

// DST-I: M = 2(N+1), [0, x0, ..., x_{N-1}, 0, -x_{N-1}, ..., -x0]; sample m of the extension.
static __device__ real dst1_input(const real* x, long long m, long long n, double first, double last) {
    const long long j = m <= n ? m - 1 : 2 * n + 1 - m;  // m = 0, N+1: -1, N (zeros)
    const real value = j >= 0 && j < n ? load(x, j, n, false, first, last) : (real)0;
    return m > n ? -value : value;
}

#ifndef GPM_CALLBACK
R2R_KERNEL(r2r_pre_dct1) {
    const long long length = 2 * (n - 1);
    FOR_ROWS {
        const real* x = (const real*)src + row * n;
        real* v = (real*)dst + row * length;
        FOR_ITEMS(m, length) v[m] = dct1_input(x, m, n, first, last);
    }
}

// DCT-I: y_k = Re V_k, k < N (the rfft's N outputs).
R2R_KERNEL(r2r_post_dct1) {
    FOR_ROWS {
        const cplx* spectrum = (const cplx*)src + row * n;
        real* y = (real*)dst + row * n;
        FOR_ITEMS(k, n) store(y, k, spectrum[k].x, n, 0, 1, scale, first, last);
    }
}

R2R_KERNEL(r2r_pre_dst1) {
    const long long length = 2 * (n + 1);
    FOR_ROWS {
        const real* x = (const real*)src + row * n;
        real* v = (real*)dst + row * length;
        FOR_ITEMS(m, length) v[m] = dst1_input(x, m, n, first, last);
    }
}

// DST-I: y_k = -Im V_{k+1}, k < N (of the rfft's N+2 outputs).
R2R_KERNEL(r2r_post_dst1) {
    FOR_ROWS {
        const cplx* spectrum = (const cplx*)src + row * (n + 2);
        real* y = (real*)dst + row * n;
        FOR_ITEMS(k, n) store(y, k, -spectrum[k + 1].y, n, 0, 1, scale, first, last);
    }
}
#endif

// -- cuFFT LTO callbacks (gpmath/fft/_r2r_callback.py) ------------------------------------------
// Types 4 and 1 with the pre step inside cuFFT: the load callback computes the FFT's input from
// the caller's rows where the pre kernel would write it; for type 4 the store callback also writes
// the result where the post kernel would (type 1's FFT writes its spectrum, larger than the
// result, to a buffer of its own size: cuFFT may use an out-of-place output as scratch).  cuFFT
// passes the data pointers given to cufftXtExec and the offset of an element in the FFT's own
// batched layout (default strides: rows of L = N/2 complex points for type 4, of M real inputs
// for type 1).  Compiled once for the load side (GPM_CALLBACK=1) and, for type 4, once for the
// store side (2), with the transform fixed by GPM_TYPE (4 or 1), GPM_SINE, GPM_N and the side's
// factors GPM_SCALE, GPM_FIRST, GPM_LAST (double literals).  Type 4's caller info is the side's
// twiddle table, N/2 complex values (pre: exp(-i pi m / N); post: 2 exp(-i pi (4k+1) / 4N)),
// rounded from double precision: a load from cache instead of a sincospi per element.
#ifdef GPM_CALLBACK
#ifndef GPM_CALLBACK_LINKAGE  // C++ linkage, as NVIDIA's samples: cuFFT declares the callback it links by name
#define GPM_CALLBACK_LINKAGE
#endif
typedef unsigned long long offset_t;
#define CB_N ((long long)GPM_N)
#if GPM_TYPE == 4
#if GPM_CALLBACK == 1
GPM_CALLBACK_LINKAGE __device__ cplx gpm_r2r_load(void* data, offset_t offset, void* info, void* shared) {
    const long long row = offset / (CB_N / 2), m = offset - row * (CB_N / 2);
    return pre4((const real*)data + row * CB_N, m, CB_N, GPM_SINE, ((const cplx*)info)[m]);
}
#else
GPM_CALLBACK_LINKAGE __device__ void gpm_r2r_store(void* data, offset_t offset, cplx element, void* info, void* shared) {
    const long long row = offset / (CB_N / 2), k = offset - row * (CB_N / 2);
    const cplx w = ((const cplx*)info)[k];
    post4((real*)data + row * CB_N, k, element, CB_N, GPM_SINE, GPM_SCALE, GPM_FIRST, GPM_LAST, w);
}
#endif
#elif GPM_TYPE == 1 && GPM_CALLBACK == 1
#define CB_M (GPM_SINE ? 2 * (CB_N + 1) : 2 * (CB_N - 1))
GPM_CALLBACK_LINKAGE __device__ real gpm_r2r_load(void* data, offset_t offset, void* info, void* shared) {
    const long long row = offset / CB_M, m = offset - row * CB_M;
    const real* x = (const real*)data + row * CB_N;
    return GPM_SINE ? dst1_input(x, m, CB_N, GPM_FIRST, GPM_LAST) : dct1_input(x, m, CB_N, GPM_FIRST, GPM_LAST);
}
#else
#error "the callbacks: type 4 load and store (GPM_TYPE 4), type 1 load (GPM_TYPE 1, GPM_CALLBACK 1)"
#endif
#endif
