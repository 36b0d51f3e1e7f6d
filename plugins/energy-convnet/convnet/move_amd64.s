//go:build !purego

#include "textflag.h"

// func gatherRows32(dst, src *float32, bases *int, n, off int)
//
// For i < n: dst[32i : 32i+32] = src[bases[i]+off : ... +32], with
// SSE moves (baseline amd64).
TEXT ·gatherRows32(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ bases+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ off+32(FP), DX
	LEAQ (SI)(DX*4), SI
	TESTQ CX, CX
	JZ grdone
grloop:
	MOVQ (BX), AX
	LEAQ (SI)(AX*4), AX
	MOVUPS 0(AX), X0
	MOVUPS 16(AX), X1
	MOVUPS 32(AX), X2
	MOVUPS 48(AX), X3
	MOVUPS 64(AX), X4
	MOVUPS 80(AX), X5
	MOVUPS 96(AX), X6
	MOVUPS 112(AX), X7
	MOVUPS X0, 0(DI)
	MOVUPS X1, 16(DI)
	MOVUPS X2, 32(DI)
	MOVUPS X3, 48(DI)
	MOVUPS X4, 64(DI)
	MOVUPS X5, 80(DI)
	MOVUPS X6, 96(DI)
	MOVUPS X7, 112(DI)
	ADDQ $8, BX
	ADDQ $128, DI
	DECQ CX
	JNZ grloop
grdone:
	RET

// func strideRows8x(dst, src *float32, n, stride int)
//
// For i < n: dst[8i : 8i+8] = src[i*stride : i*stride+8].
TEXT ·strideRows8x(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	TESTQ CX, CX
	JZ srdone
srloop:
	MOVUPS 0(SI), X0
	MOVUPS 16(SI), X1
	MOVUPS X0, 0(DI)
	MOVUPS X1, 16(DI)
	ADDQ DX, SI
	ADDQ $32, DI
	DECQ CX
	JNZ srloop
srdone:
	RET

// func leakyGradAVX2(dst, gs, y *float32, n int, slope float32)
//
// For i < n (a multiple of 8): dst[i] = y[i] > 0 ? gs[i] : gs[i]*slope, the
// factor chosen by a blend on the comparison (a NaN y takes the slope, as
// in gradAt.at).
TEXT ·leakyGradAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ gs+8(FP), DX
	MOVQ y+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS slope+32(FP), Y4
	VXORPS Y2, Y2, Y2
	SHRQ $3, CX
	JZ lgdone
lgloop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VCMPPS $0x1e, Y2, Y0, Y3
	VMULPS Y1, Y4, Y5
	VBLENDVPS Y3, Y1, Y5, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ lgloop
lgdone:
	VZEROUPPER
	RET

// func sumRowsAVX2(dst, src *float32, rows, c int)
//
// dst[j] = sum over r < rows of src[r*c + j], for j < c (c a multiple of 8,
// rows >= 1): eight channels at a time, even and odd rows in two
// accumulators added at the end.
TEXT ·sumRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ c+24(FP), DX
	MOVQ DX, R9
	SHLQ $2, R9
	SHRQ $3, DX
srchan:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ SI, AX
	MOVQ R8, CX
srrow2:
	CMPQ CX, $2
	JLT srrow1
	VADDPS (AX), Y0, Y0
	VADDPS (AX)(R9*1), Y1, Y1
	LEAQ (AX)(R9*2), AX
	SUBQ $2, CX
	JMP srrow2
srrow1:
	TESTQ CX, CX
	JZ srstore
	VADDPS (AX), Y0, Y0
srstore:
	VADDPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ DX
	JNZ srchan
	VZEROUPPER
	RET
