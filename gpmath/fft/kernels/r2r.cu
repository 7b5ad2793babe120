// The pre- and post-processing passes of gpmath's DCTs and DSTs (see gpmath/fft/_r2r_fused.py):
// each transform is one pre kernel, one cuFFT transform and one post kernel (type 4 of N/2 a power
// of two: one kernel, r2r_whole4, below).  Every kernel takes rows of contiguous samples (one block
// a row, its threads striding along it; r2r_whole4: rows a block) and the same eight 8-byte
// parameters (r2r_whole4: and its three twiddle tables):
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

#ifndef GPM_CALLBACK
// -- type 4 in one kernel (N/2 = L a power of two, 16 <= L <= 4096) -------------------------------
// L/8 threads a row, each holding 8 of the L complex points between passes: the row is
// read as pairs (x_2j, x_2j+1) into shared memory (x_2j the real part of FFT input j, x_2j+1 the
// imaginary part of input L-1-j: pre4's samples), its N/2-point FFT runs there as Stockham passes
// of radix 8 (a last of 4 or 2), the first applying the pre-twiddle as it reads, and the result is
// written as pairs (y_2q, y_2q+1) from FFT outputs q and L-1-q (post4's samples).  Pass of radix R
// over span p (the length of the transforms done so far): butterfly b < L/R, k = b mod p, reads
// points b + r L/R, multiplies point r by exp(-2 pi i r k / pR) (the roots table, exp(-2 pi i t / L),
// at t = r k L / pR), takes their R-point DFT and writes output r to (b - k) R + k + r p.  The real
// and imaginary parts lie in two arrays, one padding slot every 32 floats (16 doubles), so that the
// passes' strided accesses fall on distinct banks.  Tables as the callbacks': pre exp(-i pi m / N),
// post 2 exp(-i pi (4k+1) / 4N).
#if GPM_REAL == 4
#define PAD_SHIFT 5
#else
#define PAD_SHIFT 4
#endif
static __device__ __forceinline__ int padded(int i) { return i + (i >> PAD_SHIFT); }
static __device__ __forceinline__ cplx cmul(cplx a, cplx b) {
    return cplx{a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x};
}
static __device__ __forceinline__ cplx cadd(cplx a, cplx b) { return cplx{a.x + b.x, a.y + b.y}; }
static __device__ __forceinline__ cplx csub(cplx a, cplx b) { return cplx{a.x - b.x, a.y - b.y}; }
static __device__ __forceinline__ cplx minus_i(cplx a) { return cplx{a.y, -a.x}; }  // -i a

// The forward DFT of the R points u[0..R-1], in place (R = 2, 4, 8).
template <int R> static __device__ __forceinline__ void dft(cplx* u);
template <> __device__ __forceinline__ void dft<2>(cplx* u) {
    const cplx a = u[0], b = u[1];
    u[0] = cadd(a, b);
    u[1] = csub(a, b);
}
template <> __device__ __forceinline__ void dft<4>(cplx* u) {
    const cplx s = cadd(u[0], u[2]), d = csub(u[0], u[2]), t = cadd(u[1], u[3]), e = minus_i(csub(u[1], u[3]));
    u[0] = cadd(s, t);
    u[1] = cadd(d, e);
    u[2] = csub(s, t);
    u[3] = csub(d, e);
}
template <> __device__ __forceinline__ void dft<8>(cplx* u) {
    cplx even[4] = {u[0], u[2], u[4], u[6]}, odd[4] = {u[1], u[3], u[5], u[7]};
    dft<4>(even);
    dft<4>(odd);
    const real h = (real)0.70710678118654752440;  // exp(-i pi / 4) = h (1 - i)
    const cplx o1 = cplx{h * (odd[1].x + odd[1].y), h * (odd[1].y - odd[1].x)}, o2 = minus_i(odd[2]),
               o3 = cplx{h * (odd[3].y - odd[3].x), -h * (odd[3].x + odd[3].y)};  // exp(-3 i pi / 4) = -h (1 + i)
    u[0] = cadd(even[0], odd[0]);
    u[4] = csub(even[0], odd[0]);
    u[1] = cadd(even[1], o1);
    u[5] = csub(even[1], o1);
    u[2] = cadd(even[2], o2);
    u[6] = csub(even[2], o2);
    u[3] = cadd(even[3], o3);
    u[7] = csub(even[3], o3);
}

// One Stockham pass of radix R over span P on a row's shared arrays (see above), by its thread t
// of L/8; the first pass multiplies its inputs by the pre-twiddle.
template <int L, int R, int P>
static __device__ __forceinline__ void whole4_pass(real* re, real* im, int t, const cplx* pre, const cplx* roots) {
    constexpr int PER = 8 / R, T = L / 8, STRIDE = L / R, STEP = L / (P * R);  // (PER: butterflies a thread)
    cplx u[8];
#pragma unroll
    for (int c = 0; c < PER; ++c) {
        const int b = t + c * T;
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const int i = b + r * STRIDE;
            const cplx v = cplx{re[padded(i)], im[padded(i)]};
            u[c * R + r] = P == 1 ? cmul(v, pre[i]) : v;
        }
    }
    __syncthreads();
#pragma unroll
    for (int c = 0; c < PER; ++c) {
        const int b = t + c * T, k = b & (P - 1), j = (b - k) * R + k;
        if (P > 1) {  // exp(-2 pi i r k / PR): roots 1, 2 and 4 from the table, the others their products
            const cplx w1 = roots[k * STEP], w2 = R > 2 ? roots[2 * k * STEP] : w1;
            const cplx w4 = R > 4 ? roots[4 * k * STEP] : w1;
            const cplx w[8] = {w1, w1, w2, cmul(w1, w2), w4, cmul(w1, w4), cmul(w2, w4), cmul(cmul(w1, w2), w4)};
#pragma unroll
            for (int r = 1; r < R; ++r) u[c * R + r] = cmul(u[c * R + r], w[r]);
        }
        dft<R>(u + c * R);
#pragma unroll
        for (int r = 0; r < R; ++r) {
            re[padded(j + r * P)] = u[c * R + r].x;
            im[padded(j + r * P)] = u[c * R + r].y;
        }
    }
    __syncthreads();
}

// The passes from span P on: radix 8 while it fits, then 4 or 2.
template <int L, int P>
static __device__ __forceinline__ void whole4_passes(real* re, real* im, int t, const cplx* pre, const cplx* roots) {
    if constexpr (P < L) {
        constexpr int R = P * 8 <= L ? 8 : L / P;
        whole4_pass<L, R, P>(re, im, t, pre, roots);
        whole4_passes<L, P * R>(re, im, t, pre, roots);
    }
}

// Compiled for one length, L = GPM_HALF.  Blocks of G = blockDim.x / (L/8) rows, L/8 threads each:
// 256 threads (G = 2048 / L) up to L = 2048, three blocks a multiprocessor's registers (80 a thread;
// unbounded, the compiler took 100-128 and two blocks fit: 4096 rows of 4096 float32 took 0.092 ms
// on the H100 with two, 0.080 with three, 0.082 with four), then one row of 512.  The tables are read
// through plain pointers: with __restrict__ the compiler hoisted their loads out of the passes.
#ifdef GPM_HALF
extern "C" __global__ void __launch_bounds__(GPM_HALF > 2048 ? 512 : 256, GPM_HALF > 2048 ? 2 : 3) r2r_whole4(
    const void* __restrict__ src, void* __restrict__ dst, long long rows, long long n, long long sine, double scale,
    double first, double last, const void* pre_table, const void* post_table, const void* root_table) {
    constexpr int L = GPM_HALF, T = L / 8;
    extern __shared__ __align__(16) unsigned char shared[];
    const int t = threadIdx.x % T, slot = threadIdx.x / T, G = blockDim.x / T;
    const real factor = (real)scale;  // (type 4's output factors are one: first = last = scale)
    real* re = (real*)shared + 2 * slot * padded(L);
    real* im = re + padded(L);
    const cplx *pre = (const cplx*)pre_table, *post = (const cplx*)post_table, *roots = (const cplx*)root_table;
    for (long long base = (long long)blockIdx.x * G; base < rows; base += (long long)gridDim.x * G) {
        const long long row = base + slot;
        const bool live = row < rows;  // (a block's last rows may lie past the end: they only keep the barriers)
        const cplx* x = (const cplx*)src + row * L;  // the row as pairs (x_2j, x_2j+1)
        cplx* y = (cplx*)dst + row * L;
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const int j = t + i * T;
            const cplx v = live ? x[j] : cplx{0, 0};
            re[padded(j)] = v.x;
            im[padded(L - 1 - j)] = sine ? -v.y : v.y;
        }
        __syncthreads();
        whole4_passes<L, 1>(re, im, t, pre, roots);
        if (live) {
#pragma unroll
            for (int i = 0; i < 8; ++i) {  // y_2q, y_2q+1 from outputs q and L-1-q (a DST: reversed, post4's store)
                const int q = t + i * T, o = L - 1 - q;
                const cplx a = cmul(cplx{re[padded(q)], im[padded(q)]}, post[q]);
                const cplx b = cmul(cplx{re[padded(o)], im[padded(o)]}, post[o]);
                y[q] = sine ? cplx{-a.y * factor, b.x * factor} : cplx{a.x * factor, -b.y * factor};
            }
        }
        __syncthreads();  // (the next rows overwrite the arrays)
    }
}
#endif
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
