// The element types of gpmath's solver kernels compiled by NVRTC with -DGPM_REAL=<4 or 8> (float or
// double) and -DGPM_COMPLEX=<0 or 1>: `real`, and `element` (a struct of two reals for complex).

#if GPM_REAL == 4
typedef float real;
#elif GPM_REAL == 8
typedef double real;
#else
#error "GPM_REAL (the size of a real) must be 4 or 8"
#endif

#if GPM_COMPLEX
struct element { real re, im; };
#else
typedef real element;
#endif
