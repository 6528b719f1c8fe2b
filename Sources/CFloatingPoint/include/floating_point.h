// The processor's floating-point control bits that Swift cannot reach: flush-to-zero and
// denormals-are-zero (x86-64 MXCSR bits 15 and 6; AArch64 FPCR bit 24, which does both).
// Only Sources/TensorCore/FloatingPointMode.swift calls these.
#ifndef BNLAB_FLOATING_POINT_H
#define BNLAB_FLOATING_POINT_H

/// Sets flush-to-zero and denormals-are-zero on the calling thread.
void bnlab_flush_denormals(void);
/// Clears both on the calling thread (the processor's default).
void bnlab_keep_denormals(void);
/// 1 when both are set on the calling thread, 0 otherwise.
int bnlab_denormals_flushed(void);
/// The calling thread's control word (MXCSR or FPCR), to save and restore it.
unsigned long long bnlab_fp_control(void);
void bnlab_set_fp_control(unsigned long long word);

#endif
