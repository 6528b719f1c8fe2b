#include "floating_point.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
// MXCSR bit 15: flush-to-zero (denormal results become 0); bit 6: denormals-are-zero
// (denormal inputs read as 0).
#define BNLAB_FTZ_DAZ 0x8040u
unsigned long long bnlab_fp_control(void) { return _mm_getcsr(); }
void bnlab_set_fp_control(unsigned long long word) { _mm_setcsr((unsigned int)word); }
void bnlab_flush_denormals(void) { _mm_setcsr(_mm_getcsr() | BNLAB_FTZ_DAZ); }
void bnlab_keep_denormals(void) { _mm_setcsr(_mm_getcsr() & ~BNLAB_FTZ_DAZ); }
int bnlab_denormals_flushed(void) { return (_mm_getcsr() & BNLAB_FTZ_DAZ) == BNLAB_FTZ_DAZ; }
#elif defined(__aarch64__)
// FPCR bit 24 (FZ): denormal inputs and results are flushed to zero.
#define BNLAB_FZ (1ull << 24)
unsigned long long bnlab_fp_control(void) { unsigned long long w; __asm__ volatile("mrs %0, fpcr" : "=r"(w)); return w; }
void bnlab_set_fp_control(unsigned long long word) { __asm__ volatile("msr fpcr, %0" : : "r"(word)); }
void bnlab_flush_denormals(void) { bnlab_set_fp_control(bnlab_fp_control() | BNLAB_FZ); }
void bnlab_keep_denormals(void) { bnlab_set_fp_control(bnlab_fp_control() & ~BNLAB_FZ); }
int bnlab_denormals_flushed(void) { return (bnlab_fp_control() & BNLAB_FZ) != 0; }
#else
#error "bnlab: flush-to-zero is implemented for x86-64 and AArch64 only"
#endif
