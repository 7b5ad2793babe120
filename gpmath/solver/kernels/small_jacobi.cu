// Eigen-decompositions of real symmetric matrices (GPM_SVD = 0) or singular value decompositions
// of real square matrices (GPM_SVD = 1), N x N with N <= 64, a batch in one launch: one block per
// matrix.
//
// Two-sided cyclic Jacobi in round-robin order: a sweep is M - 1 rounds (M = N rounded up to even;
// an odd N adds a dummy index, a zero row and column, which never rotates), and in each round the
// M / 2 disjoint pairs (i, j) rotate at once, A <- Jlᵀ A Jr, U <- U Jl, V <- V Jr, which zeroes
// a_ij and a_ji.  Symmetric: Jl = Jr, the inner rotation (|angle| <= pi/4).  SVD (Kogbetliantz):
// the exact 2 x 2 SVD, from the angles of its block's symmetric and antisymmetric parts.  A pair
// rotates while max(|a_ij|, |a_ji|) > max(TOL sqrt(|a_ii| |a_jj|), EPS max|A|) (else its a_ij and
// a_ji, below that, are set to zero); the iteration ends before a sweep in which no element is
// above that.  A is first scaled by a power of two so that max|A| lies in [1/2, 1).
//
// Layout: the indices sit in slots, the pairs of a round in slots (2p, 2p + 1), so that every
// thread's partners are the same in every round: index i of round k lies at position q (0 fixed,
// the others moving down by one each round, 1 wrapping to M - 1; positions q and M - 1 - q pair)
// and in slot 2q (the smaller of the two positions) or 2 (M - 1 - q) + 1 (the larger).  After a
// round every element moves to its index's slot of the next round, and after a sweep's M - 1
// rounds every index is back in its first slot.  Thread (p, c) holds slots (2p, c + L w) and
// (2p + 1, c + L w), w < W, of A (in shared memory, two buffers: dynamic, sized by the host), U
// and V (in registers; U and V keep their rows, their columns move with A's): a row pair has L
// lanes (the power of two >= M, at most 32), each with W = M / L columns (rounded up: 1 or 2).
//
// Per round: the M / 2 pair threads (warp 0) compute the rotations (the identity for a pair that
// does not rotate) from A; then each thread rotates its two rows (both in hand), its columns with
// those of its partner lane (a shuffle) and writes A at the next round's slots of its elements;
// U and V rotate the same way, and a second shuffle moves their columns to the next slots.
//
// Results, C order per matrix: symmetric: w ascending, v[r][k] the eigenvector of w[k];
// SVD: s descending, u[r][k] and vh[k][c] (u's columns signed so that s >= 0).  Vectors are
// written only where their pointer is not null.  info[m] = N + 1 if the sweeps did not converge
// (or A holds an infinity or NaN), else 0.
//
// Compiled by NVRTC with -DGPM_N=<1..64>, -DGPM_TYPE=<0: float, 1: double> and -DGPM_SVD=<0|1>.
// Every parameter is 8 bytes wide (the host packs them alike).

#ifndef GPM_N
#error "GPM_N (the matrix order, 1 to 64) must be defined"
#endif
#define N GPM_N
#define M (N + (N & 1))
#define PAIRS (M / 2)
#define L (M <= 2 ? 2 : M <= 4 ? 4 : M <= 8 ? 8 : M <= 16 ? 16 : 32)  // lanes a row pair
#define W ((M + L - 1) / L)                                         // columns a lane
#define ROW (L * W)                                                 // a row of A in shared memory
#define THREADS (((PAIRS * L + 31) / 32) * 32)                     // the host computes the same
#define MAX_SWEEPS 60  // 22 for the SVD of a 64 x 64 orthogonal matrix, the slowest case measured
#define FULL 0xffffffffu

#if GPM_TYPE == 0
typedef float real;
typedef float2 real2;
typedef unsigned int bits;
#define SIGN_BIT 0x80000000u
__device__ __forceinline__ real flipped(real v, bits sign) { return __int_as_float(__float_as_int(v) ^ sign); }
#define EPS 1.1920929e-7f
#define HUGE_VALUE 3.4028235e38f
__device__ __forceinline__ real fast_inverse_root(real v) { return rsqrtf(v); }
#else
typedef double real;
typedef double2 real2;
typedef unsigned long long bits;
#define SIGN_BIT 0x8000000000000000ull
__device__ __forceinline__ real flipped(real v, bits sign) {
    return __longlong_as_double(__double_as_longlong(v) ^ (long long)sign);
}
#define EPS 2.220446049250313e-16
#define HUGE_VALUE 1.7976931348623157e308
// 1 / sqrt(v) to within a few ulps for v in [1e-36, 1e36]: single precision's hardware estimate
// and two Newton steps (each doubles the correct bits), some 6 dependent FMAs instead of the long
// IEEE-rounded sequences of sqrt and division, which would dominate a round.
__device__ __forceinline__ real fast_inverse_root(real v) {
    real y = rsqrtf((float)v);
#pragma unroll
    for (int step = 0; step < 2; ++step) y = fma(0.5 * y, fma(-v * y, y, 1.0), y);
    return y;
}
#endif
#define TOL (32 * EPS)
// CUDA's math functions are overloaded for float: one set serves both types.
__device__ __forceinline__ real absolute(real v) { return fabs(v); }
__device__ __forceinline__ real larger(real p, real q) { return fmax(p, q); }
__device__ __forceinline__ real sign_of(real v) { return copysign(real(1), v); }
__device__ __forceinline__ real power_of_two_below(real v) { int e; frexp(v, &e); return ldexp(real(1), -e); }

// Slots and positions (see the layout above); a slot's index in a sweep's first round is its position.
__device__ __forceinline__ int position_of(int slot) { return slot & 1 ? M - 1 - (slot >> 1) : slot >> 1; }
__device__ __forceinline__ int slot_of(int q) { return q < M - 1 - q ? 2 * q : 2 * (M - 1 - q) + 1; }
__device__ __forceinline__ int next_slot(int slot) {
    const int q = position_of(slot);
    return slot_of(q == 0 ? 0 : q == 1 ? M - 1 : q - 1);
}
__device__ __forceinline__ int previous_slot(int slot) {
    const int q = position_of(slot);
    return slot_of(q == 0 ? 0 : q == M - 1 ? 1 : q + 1);
}

// Whether off-diagonal x, between diagonal elements w and z, is above the rotation threshold.
__device__ __forceinline__ bool above(real x, real w, real z, real floor2) {
    return x * x > larger(TOL * TOL * absolute(w * z), floor2);
}

// (cos, sin) of the angle of vector (p, q), taken with cos >= 0 (the angle in [-pi/2, pi/2]); the
// angle 0 for a vector shorter than 1e-18 (its angle is then negligible: see the threshold).
__device__ __forceinline__ real2 direction(real p, real q) {
    const real norm2 = p * p + q * q;
    if (!(norm2 > (real)1e-36)) return {1, 0};
    const real r = fast_inverse_root(norm2);
    return {absolute(p) * r, sign_of(p) * q * r};
}

// (cos, sin) of half the angle whose (cos, sin) are (C, S), the half in [-pi/2, pi/2]: from
// sqrt((1 + |C|) / 2), the larger of |cos| and |sin|, and sin(2x) = 2 sin(x) cos(x).
__device__ __forceinline__ real2 half_angle(real C, real S) {
    const real half = (1 + absolute(C)) / 2, root = fast_inverse_root(half);
    const real larger_part = half * root, smaller_part = S * root / 2;
    return C >= 0 ? real2{larger_part, smaller_part} : real2{absolute(smaller_part), sign_of(S) * larger_part};
}

// The rotations Jl = (cl, sl) and Jr = (cr, sr) that make Jlᵀ [[w, x], [y, z]] Jr diagonal: with
// B = e I + f K + g D + h S (I, the rotation K = [[0, 1], [-1, 0]], the reflections
// D = diag(1, -1) and S = [[0, 1], [1, 0]]) and angles b1 of (e, f), b2 of (g, h), the left angle
// is (b1 - b2) / 2 and the right one (-b1 - b2) / 2.  Two inverse square roots deep; symmetric
// (f = 0): the inner rotation, tan(2 theta) = 2x / (z - w), |theta| <= pi/4.
__device__ __forceinline__ void rotations(real w, real x, real y, real z, real2& left, real2& right) {
    const real2 b2 = direction(w - z, x + y);
#if GPM_SVD
    const real2 b1 = direction(w + z, x - y);
    const real cc = b1.x * b2.x, ss = b1.y * b2.y, sc = b1.y * b2.x, cs = b1.x * b2.y;
    left = half_angle(cc + ss, sc - cs);
    right = half_angle(cc - ss, -sc - cs);
#else
    left = right = half_angle(b2.x, -b2.y);
#endif
}

// The value of values[index] in lane *source* (every lane takes part).
__device__ __forceinline__ real pick(const real (&values)[W], int source, int index) {
    real found = __shfl_sync(FULL, values[0], source);
#pragma unroll
    for (int w = 1; w < W; ++w) {
        const real other = __shfl_sync(FULL, values[w], source);
        if (index == w) found = other;
    }
    return found;
}

// Rows x0 and x1 of U or V (a lane's columns, slots c + L w) turned by their pairs' rotations
// (the pair's first column negates the sine) and moved to their next round's slots: slot s takes
// the column turned at slot previous(s), in lane source[w], column from[w].
__device__ __forceinline__ void turn(real (&x0)[W], real (&x1)[W], const real2 (&rotation)[W], bits sign,
                                     const int (&source)[W], const int (&from)[W]) {
    real t0[W], t1[W];
#pragma unroll
    for (int w = 0; w < W; ++w) {
        const real s = flipped(rotation[w].y, sign);
        const real y0 = __shfl_xor_sync(FULL, x0[w], 1), y1 = __shfl_xor_sync(FULL, x1[w], 1);
        t0[w] = rotation[w].x * x0[w] + s * y0;
        t1[w] = rotation[w].x * x1[w] + s * y1;
    }
#pragma unroll
    for (int w = 0; w < W; ++w) {
        x0[w] = pick(t0, source[w], from[w]);
        x1[w] = pick(t1, source[w], from[w]);
    }
}

// Element (i, j) of matrix a (symmetric: from the named triangle).
__device__ __forceinline__ real element(const real* a, long long row, long long col, int i, int j, bool lower) {
    const bool mirrored = GPM_SVD == 0 && (lower ? i < j : i > j);
    return mirrored ? a[j * row + i * col] : a[i * row + j * col];
}

// |v|, a NaN counting as infinite.
__device__ __forceinline__ real magnitude(real v) { return v != v ? HUGE_VALUE * 2 : absolute(v); }

extern "C" __global__ void __launch_bounds__(THREADS)
small_jacobi(const real* __restrict__ a, long long a_batch, long long a_row, long long a_col,
             real* __restrict__ values, real* __restrict__ u, real* __restrict__ v,
             int* __restrict__ info, long long count, long long lower) {
    extern __shared__ __align__(16) unsigned char dynamic[];  // A's two buffers: 2 M ROW reals
    real* const buffers = reinterpret_cast<real*>(dynamic);
    __shared__ real2 turns[1 + GPM_SVD][PAIRS];  // (cos, sin) of each pair's rotations: left, right (SVD)
    real2* const left_rotation = turns[0];
    real2* const right_rotation = turns[GPM_SVD];
    __shared__ real largest[THREADS / 32];
    __shared__ real limits[2];  // the scale (a power of two; -1: A is not finite) and the floor

    const long long m = blockIdx.x;
    if (m >= count) return;
    const int t = threadIdx.x, pair = t / L, c = t % L, lane = t & 31;
    const int r0 = 2 * pair, r1 = r0 + 1;  // this thread's row slots, the pair's first and second
    const bool paired = pair < PAIRS;
    bool on[W];  // column slot c + L w: a slot of A
#pragma unroll
    for (int w = 0; w < W; ++w) on[w] = paired && c + L * w < M;

    // Load (symmetric: the named triangle, mirrored; the dummy index: zero) and find max|A|.
    const real* am = a + m * a_batch;
    real a0[W], a1[W], top = 0;
#pragma unroll
    for (int w = 0; w < W; ++w) {
        a0[w] = a1[w] = 0;
        if (on[w]) {
            const int i0 = position_of(r0), i1 = position_of(r1), j = position_of(c + L * w);
            if (j < N && i0 < N) a0[w] = element(am, a_row, a_col, i0, j, lower);
            if (j < N && i1 < N) a1[w] = element(am, a_row, a_col, i1, j, lower);
        }
        top = larger(top, larger(magnitude(a0[w]), magnitude(a1[w])));
    }
#pragma unroll
    for (int step = 16; step > 0; step >>= 1) top = larger(top, __shfl_xor_sync(FULL, top, step));
    if (lane == 0) largest[t / 32] = top;
    __syncthreads();
    if (t == 0) {
        for (int w = 1; w < THREADS / 32; ++w) top = larger(top, largest[w]);
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

    // Per thread and column, the same in every round: where its elements are read and written,
    // its pairs, where its columns of U and V come from, which element is its pair's off-diagonal;
    // and the sign of its columns' sines (the pair's first: -).
    const int rows = paired ? pair : 0, next0 = next_slot(paired ? r0 : 0), next1 = next_slot(paired ? r1 : 1);
    int own0[W], own1[W], out0[W], out1[W], half[W], source[W], from[W];
    bool zero0[W], zero1[W];
#pragma unroll
    for (int w = 0; w < W; ++w) {
        const int slot = c + L * w, previous = on[w] ? previous_slot(slot) : slot;
        own0[w] = on[w] ? r0 * ROW + slot : 0;
        own1[w] = on[w] ? r1 * ROW + slot : 0;
        out0[w] = next0 * ROW + (on[w] ? next_slot(slot) : 0);
        out1[w] = next1 * ROW + (on[w] ? next_slot(slot) : 0);
        half[w] = on[w] ? slot >> 1 : 0;
        source[w] = lane - c + previous % L;
        from[w] = previous / L;
        zero0[w] = slot == r1;
        zero1[w] = slot == r0;
    }
    const bits column_sign = c & 1 ? 0 : SIGN_BIT;

    real v0[W], v1[W];
#if GPM_SVD
    real u0[W], u1[W];
#endif
#pragma unroll
    for (int w = 0; w < W; ++w) {
        if (on[w]) {
            buffers[own0[w]] = a0[w] * scale;
            buffers[own1[w]] = a1[w] * scale;
        }
        v0[w] = r0 == c + L * w;
        v1[w] = r1 == c + L * w;
#if GPM_SVD
        u0[w] = v0[w];
        u1[w] = v1[w];
#endif
    }
    __syncthreads();
    int p = 0;  // the buffer holding A
    bool converged = false;
#pragma unroll 1
    for (int sweep = 0;; ++sweep) {
        bool off = false;  // an element of this thread above the threshold
        if (paired) {
            const real* const now = buffers + p * M * ROW;
            const real d0 = now[r0 * ROW + r0], d1 = now[r1 * ROW + r1];
#pragma unroll
            for (int w = 0; w < W; ++w) {
                const int slot = c + L * w;
                if (on[w]) {
                    const real dc = now[slot * ROW + slot];
                    off = off || (r0 != slot && above(now[own0[w]], d0, dc, floor2)) ||
                          (r1 != slot && above(now[own1[w]], d1, dc, floor2));
                }
            }
        }
        if (!__syncthreads_or(off)) {
            converged = true;
            break;
        }
        if (sweep == MAX_SWEEPS) break;
#pragma unroll 1
        for (int k = 0; k < M - 1; ++k) {
            const real* const now = buffers + p * M * ROW;
            real* const next = buffers + (p ^ 1) * M * ROW;
            if (t < PAIRS) {  // warp 0: one thread a pair decides and computes its rotations
                const real2 top_row = *(const real2*)(now + 2 * t * ROW + 2 * t);
                const real2 bottom_row = *(const real2*)(now + (2 * t + 1) * ROW + 2 * t);
                const real w = top_row.x, x = top_row.y, y = bottom_row.x, z = bottom_row.y;
                real2 left = {1, 0}, right = {1, 0};  // a pair that does not rotate: the identity
                if (above(x, w, z, floor2) || above(y, w, z, floor2)) rotations(w, x, y, z, left, right);
                left_rotation[t] = left;
#if GPM_SVD
                right_rotation[t] = right;
#endif
            }
            __syncthreads();
            // Rows: both in hand.  Columns: the partner lane's (same warp), then the next slots.
            const real2 rl = left_rotation[rows];
            real2 rr[W];
#pragma unroll
            for (int w = 0; w < W; ++w) {
                rr[w] = right_rotation[half[w]];
                const real b0 = now[own0[w]], b1 = now[own1[w]];
                const real l0 = rl.x * b0 - rl.y * b1, l1 = rl.y * b0 + rl.x * b1;
                const real q0 = __shfl_xor_sync(FULL, l0, 1), q1 = __shfl_xor_sync(FULL, l1, 1);
                const real sr = flipped(rr[w].y, column_sign);
                // the pair's own off-diagonal: zero (exactly, if it rotated; else below the threshold)
                const real n0 = zero0[w] ? 0 : rr[w].x * l0 + sr * q0, n1 = zero1[w] ? 0 : rr[w].x * l1 + sr * q1;
                if (on[w]) {
                    next[out0[w]] = n0;
                    next[out1[w]] = n1;
                }
            }
            turn(v0, v1, rr, column_sign, source, from);
#if GPM_SVD
            real2 ru[W];
#pragma unroll
            for (int w = 0; w < W; ++w) ru[w] = left_rotation[half[w]];
            turn(u0, u1, ru, column_sign, source, from);
#endif
            p ^= 1;
            __syncthreads();
        }
    }
    if (t == 0) info[m] = converged ? 0 : N + 1;

    // Sort (ties keep index order) and write.
    const real* const now = buffers + p * M * ROW;
    const long long base = m * N * N;
    const int i0 = position_of(r0), i1 = position_of(r1);
#pragma unroll
    for (int w = 0; w < W; ++w) {
        const int slot = c + L * w, j = position_of(slot);
        if (!on[w] || j >= N) continue;  // not a slot, or the dummy index
        const real d = now[slot * ROW + slot] / scale;
#if GPM_SVD
        const real key = absolute(d);
#else
        const real key = d;
#endif
        int rank = 0;
#pragma unroll 8
        for (int s = 0; s < M; ++s) {
            const int i = position_of(s);
            const real other = now[s * ROW + s] / scale;
#if GPM_SVD
            const real other_key = absolute(other);
            rank += i < N && (other_key > key || (other_key == key && i < j));
#else
            rank += i < N && (other < key || (other == key && i < j));
#endif
        }
        if (pair == 0) values[m * N + rank] = key;
        if (v == nullptr) continue;
#if GPM_SVD
        if (i0 < N) {
            u[base + i0 * N + rank] = d < 0 ? -u0[w] : u0[w];
            v[base + rank * N + i0] = v0[w];
        }
        if (i1 < N) {
            u[base + i1 * N + rank] = d < 0 ? -u1[w] : u1[w];
            v[base + rank * N + i1] = v1[w];
        }
#else
        if (i0 < N) v[base + i0 * N + rank] = v0[w];
        if (i1 < N) v[base + i1 * N + rank] = v1[w];
#endif
    }
}
