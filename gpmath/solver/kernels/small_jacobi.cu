// Eigen-decompositions of real symmetric matrices (GPM_SVD = 0) or singular value decompositions
// of real square matrices (GPM_SVD = 1), N x N with N <= 32, a batch in one launch: one block per
// matrix, thread (r, c) owning element (r, c) of A, U and V (rows padded to L lanes, L a power of
// two, so that a row lies in one warp).
//
// Two-sided cyclic Jacobi in round-robin order: a sweep is M - 1 rounds (M = N rounded up to even;
// an odd N adds a dummy index that never rotates), and in each round the N / 2 disjoint pairs
// (i, j) rotate at once, A <- Jlᵀ A Jr, U <- U Jl, V <- V Jr, which zeroes a_ij and a_ji.
// Symmetric: Jl = Jr, Rutishauser's rotation (|angle| <= pi/4).  SVD (Kogbetliantz): a rotation
// that makes the 2 x 2 block symmetric, then that rotation.  A pair rotates while
// max(|a_ij|, |a_ji|) > max(TOL sqrt(|a_ii| |a_jj|), EPS max|A|) (else its a_ij and a_ji, below
// that, are set to zero); a sweep in which no pair rotates ends the iteration.  A is first scaled
// by a power of two so that max|A| lies in [1/2, 1).
//
// Per round: the N / 2 pair threads (warp 0) compute the rotations (the identity for a pair that
// does not rotate) from A in shared memory; then each thread rotates its row with the row of its
// partner (one shared-memory read), its column with the column of its partner (a shuffle: same
// row, same warp) and its elements of U and V (shuffles: they never leave registers), and writes
// A into the other of two buffers.  The rotations are stored as (cos, sin) pairs, one 16-byte
// read (no bank conflicts) per thread and side.
//
// Results, C order per matrix: symmetric: w ascending, v[r][k] the eigenvector of w[k];
// SVD: s descending, u[r][k] and vh[k][c] (u's columns signed so that s >= 0).  Vectors are
// written only where their pointer is not null.  info[m] = N + 1 if the sweeps did not converge
// (or A holds an infinity or NaN), else 0.
//
// Compiled by NVRTC with -DGPM_N=<1..32>, -DGPM_TYPE=<0: float, 1: double> and -DGPM_SVD=<0|1>.
// Every parameter is 8 bytes wide (the host packs them alike).

#ifndef GPM_N
#error "GPM_N (the matrix order, 1 to 32) must be defined"
#endif
#define N GPM_N
#define M (N + (N & 1))
#define L (N <= 1 ? 1 : N <= 2 ? 2 : N <= 4 ? 4 : N <= 8 ? 8 : N <= 16 ? 16 : 32)  // lanes a row
#define THREADS (((N * L + 31) / 32) * 32)                                        // the host computes the same
#define MAX_SWEEPS 30
#define FULL 0xffffffffu

#if GPM_TYPE == 0
typedef float real;
typedef float2 real2;
#define EPS 1.1920929e-7f
#define HUGE_VALUE 3.4028235e38f
__device__ __forceinline__ real absolute(real v) { return fabsf(v); }
__device__ __forceinline__ real larger(real p, real q) { return fmaxf(p, q); }
__device__ __forceinline__ real sign_of(real v) { return copysignf(1.0f, v); }
__device__ __forceinline__ real power_of_two_below(real v) { int e; frexpf(v, &e); return ldexpf(1.0f, -e); }
__device__ __forceinline__ real fast_inverse_root(real v) { return rsqrtf(v); }
__device__ __forceinline__ real fast_reciprocal(real v) { return __frcp_rn(v); }
#else
typedef double real;
typedef double2 real2;
#define EPS 2.220446049250313e-16
#define HUGE_VALUE 1.7976931348623157e308
__device__ __forceinline__ real absolute(real v) { return fabs(v); }
__device__ __forceinline__ real larger(real p, real q) { return fmax(p, q); }
__device__ __forceinline__ real sign_of(real v) { return copysign(1.0, v); }
__device__ __forceinline__ real power_of_two_below(real v) { int e; frexp(v, &e); return ldexp(1.0, -e); }
// 1 / sqrt(v) and 1 / v to within a few ulps for v in [1e-36, 1e36]: single precision's hardware
// estimate and two Newton steps (each doubles the correct bits), some 8 dependent FMAs instead
// of the long IEEE-rounded sequences, which would dominate a round.
__device__ __forceinline__ real fast_inverse_root(real v) {
    real y = rsqrtf((float)v);
#pragma unroll
    for (int step = 0; step < 2; ++step) y = fma(0.5 * y, fma(-v * y, y, 1.0), y);
    return y;
}
__device__ __forceinline__ real fast_reciprocal(real v) {
    real y = __frcp_rn((float)v);
#pragma unroll
    for (int step = 0; step < 2; ++step) y = fma(y, fma(-v, y, 1.0), y);
    return y;
}
#endif
#define TOL (32 * EPS)

// The round-robin schedule: position 0 holds index 0; position q > 0 holds 1 + (q - 1 + k) mod
// (M - 1) in round k; positions q and M - 1 - q form pair min(q, M - 1 - q).
__device__ __forceinline__ int index_at(int q, int k) { return q == 0 ? 0 : 1 + (q - 1 + k) % (M - 1); }
__device__ __forceinline__ int position_of(int i, int k) {
    return i == 0 ? 0 : 1 + (i - 1 - k + (M - 1)) % (M - 1);
}

// Index i's partner in round k, packed: partner | pair << 8 | first << 16.
__device__ __forceinline__ int partner_of(int i, int k) {
    const int q = position_of(i, k), other = M - 1 - q;
    return index_at(other, k) | (q < other ? q : other) << 8 | (q < other) << 16;
}

// The rotations (cl, sl) and (cr, sr) that zero the off-diagonal of [[w, x], [y, z]].
__device__ __forceinline__ void rotations(real w, real x, real y, real z, real2& left, real2& right) {
    real c1 = 1, s1 = 0;
#if GPM_SVD
    const real p = w + z, q = x - y, norm2 = p * p + q * q;
    if (q != 0 && norm2 > (real)1e-36) {  // Rᵀ B symmetric: tan(phi) = q / p, cos(phi) >= 0 (a smaller q: negligible)
        const real scale = fast_inverse_root(norm2);
        c1 = absolute(p) * scale;
        s1 = sign_of(p) * q * scale;
        const real w1 = c1 * w - s1 * y, x1 = c1 * x - s1 * z, z1 = s1 * x + c1 * z;
        w = w1; x = x1; z = z1;
    }
#endif
    real c = 1, s = 0;
    if (x != 0) {  // t = tan(theta), |theta| <= pi/4: t = sign(d) 2x / (|d| + sqrt(d^2 + 4x^2))
        const real d = z - w, h = d * d + 4 * x * x;  // h > 4 floor^2: in the fast functions' range
        const real t = sign_of(d) * 2 * x * fast_reciprocal(absolute(d) + h * fast_inverse_root(h));
        c = fast_inverse_root(1 + t * t);
        s = t * c;
    }
    left.x = c1 * c - s1 * s;
    left.y = c1 * s + s1 * c;
    right.x = c;
    right.y = s;
}

extern "C" __global__ void __launch_bounds__(THREADS)
small_jacobi(const real* __restrict__ a, long long a_batch, long long a_row, long long a_col,
             real* __restrict__ values, real* __restrict__ u, real* __restrict__ v,
             int* __restrict__ info, long long count, long long lower) {
    __shared__ real A[2][N][N + 1];
    __shared__ int schedule[M - 1][M];
    __shared__ real2 left_rotation[M / 2], right_rotation[M / 2];  // (cos, sin) of each pair's rotations
    __shared__ int round_active, rotated;
    __shared__ real largest[N];
    __shared__ real limits[2];  // the scale (a power of two; -1: A is not finite) and the floor

    const long long m = blockIdx.x;
    if (m >= count) return;
    const int t = threadIdx.x, r = t / L, c = t % L, lane = t & 31;
    const bool owner = r < N && c < N;
    for (int e = t; e < (M - 1) * M; e += THREADS) schedule[e / M][e % M] = partner_of(e % M, e / M);

    // Load (symmetric: the named triangle, mirrored) and find max|A|, row by row.
    const real* am = a + m * a_batch;
    real value = 0;
    if (owner) {
        const bool mirrored = GPM_SVD == 0 && (lower ? r < c : r > c);
        value = mirrored ? am[c * a_row + r * a_col] : am[r * a_row + c * a_col];
        A[0][r][c] = value != value ? HUGE_VALUE * 2 : absolute(value);  // NaN counts as infinite
    }
    __syncthreads();
    if (owner && c == 0) {
        real top = 0;
        for (int j = 0; j < N; ++j) top = larger(top, A[0][r][j]);
        largest[r] = top;
    }
    __syncthreads();
    if (t == 0) {
        real top = 0;
        for (int i = 0; i < N; ++i) top = larger(top, largest[i]);
        const real scale = top > HUGE_VALUE ? -1 : (top > 0 ? power_of_two_below(top) : 1);
        limits[0] = scale;
        limits[1] = EPS * top * scale;  // max|A| after scaling is in [1/2, 1)
    }
    __syncthreads();
    const real scale = limits[0], floor2 = limits[1] * limits[1];
    if (scale < 0) {  // an infinity or NaN: no convergence
        if (t == 0) info[m] = N + 1;
        return;
    }
    real a_self = value * scale, v_self = r == c;
#if GPM_SVD
    real u_self = r == c;
#endif
    if (owner) A[0][r][c] = a_self;
    int p = 0;  // the buffer holding A

    bool converged = false;
#pragma unroll 1
    for (int sweep = 0; sweep < MAX_SWEEPS; ++sweep) {
        if (t == 0) rotated = 0;
        __syncthreads();
#pragma unroll 1
        for (int k = 0; k < M - 1; ++k) {
            if (t < 32) {  // warp 0: one thread a pair decides and computes its rotations
                bool go = false;
                if (t < M / 2) {
                    const int i = index_at(t, k), j = index_at(M - 1 - t, k);
                    real2 left = {1, 0}, right = {1, 0};  // a pair that does not rotate: the identity
                    if (i < N && j < N) {
                        const real w = A[p][i][i], x = A[p][i][j], y = A[p][j][i], z = A[p][j][j];
                        go = larger(x * x, y * y) > larger(TOL * TOL * absolute(w * z), floor2);
                        if (go) rotations(w, x, y, z, left, right);
                    }
                    left_rotation[t] = left;
                    right_rotation[t] = right;
                }
                const unsigned any = __ballot_sync(FULL, go);
                if (t == 0) {
                    round_active = any != 0;
                    if (any) rotated = 1;
                }
            }
            __syncthreads();
            if (round_active) {  // the same for every thread
                const int row = owner ? schedule[k][r] : r, col = owner ? schedule[k][c] : c;
                const int rr = row & 255, pr = (row >> 8) & 255, cc = col & 255, pc = (col >> 8) & 255;
                const bool row_on = owner && rr < N, col_on = owner && cc < N;  // else: the dummy index
                real left = a_self;  // row r of Jlᵀ A: cl a_r - sl a_partner (first) or cl a_r + sl a_partner
                if (row_on) {
                    const real2 l = left_rotation[pr];
                    left = l.x * a_self + (row >> 16 ? -l.y : l.y) * A[p][rr][c];
                }
                const int source = lane - c + (col_on ? cc : c);  // the partner column's thread (same warp)
                const real left_partner = __shfl_sync(FULL, left, source), v_partner = __shfl_sync(FULL, v_self, source);
#if GPM_SVD
                const real u_partner = __shfl_sync(FULL, u_self, source);
#endif
                a_self = left;
                if (col_on) {
                    const bool first = col >> 16;
                    const real2 rt = right_rotation[pc];
                    const real sr = first ? -rt.y : rt.y;
                    // the pair's own off-diagonal: zero (exactly, if it rotated; else below the threshold)
                    a_self = row_on && pr == pc && r != c ? 0 : rt.x * left + sr * left_partner;
                    v_self = rt.x * v_self + sr * v_partner;
#if GPM_SVD
                    const real2 lt = left_rotation[pc];
                    u_self = lt.x * u_self + (first ? -lt.y : lt.y) * u_partner;
#endif
                }
                p ^= 1;
                if (owner) A[p][r][c] = a_self;
            }
            __syncthreads();
        }
        if (!rotated) {  // read by every thread after the round's last barrier
            converged = true;
            break;
        }
        __syncthreads();
    }
    if (t == 0) info[m] = converged ? 0 : N + 1;
    if (!owner) return;

    // Sort (ties keep index order) and write.
    const real d = A[p][c][c] / scale;
#if GPM_SVD
    const real key = absolute(d);
#else
    const real key = d;
#endif
    int rank = 0;
#pragma unroll
    for (int k = 0; k < N; ++k) {
        const real other = A[p][k][k] / scale;
#if GPM_SVD
        const real other_key = absolute(other);
        rank += other_key > key || (other_key == key && k < c);
#else
        rank += other < key || (other == key && k < c);
#endif
    }
    const long long base = m * N * N;
    if (r == 0) values[m * N + rank] = key;
    if (v != nullptr) {
#if GPM_SVD
        u[base + r * N + rank] = d < 0 ? -u_self : u_self;
        v[base + rank * N + r] = v_self;
#else
        v[base + r * N + rank] = v_self;
#endif
    }
}
