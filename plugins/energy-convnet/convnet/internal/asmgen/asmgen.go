// Package asmgen generates the convnet's assembly: ind_amd64.s, the
// indirect convolution, direct filter-gradient and first-layer
// input-gradient micro-kernels, and kernel_amd64.s, the GEMM micro-kernel
// (each in AVX-512 and AVX2 variants), whose unrolled register lists are
// easier to read as the loops here than as 900 lines of assembly. `go
// generate` in plugins/energy-convnet/convnet runs gen_asm.go, which writes
// the files; TestAssemblyIsGenerated fails when a file is not what it
// writes. It is a library, not a command, so that building ./plugins/...
// puts no generator in bin/.
package asmgen

import (
	"fmt"
	"strings"
)

var b strings.Builder

// e writes one line of assembly.
func e(line string) { b.WriteString(line + "\n") }

// Generate returns the text of ind_amd64.s.
func Generate() string {
	b.Reset()
	indKernels()
	wgKernels()
	firstKernel()
	return b.String()
}

// Files are the files asmgen writes, by name, with their generators.
var Files = map[string]func() string{"ind_amd64.s": Generate, "kernel_amd64.s": GenerateKern}

func indKernels() {
	e("//go:build !purego")
	e("")
	e("#include \"textflag.h\"")
	e("")
	e("// Field offsets of indCall (ind.go): arow 0, crow 64, toff 128, nt 136, nc 144,")
	e("// b 152, bias 160, init 168, act 176, slope 184.")
	e("")
	e("// func indAVX512(p *indCall)")
	e("//")
	e("// One 8x32 tile of the indirect convolution kernel (see indGo): sixteen")
	e("// accumulators Z0-Z15 (row r in Z(2r), Z(2r+1)), B rows in Z16, Z17, A")
	e("// broadcasts in Z18-Z25 read through the row pointers R8-R15 at the byte")
	e("// offset BX (tap offset plus channel).")
	e("TEXT ·indAVX512(SB), NOSPLIT, $0-8")
	e("\tMOVQ p+0(FP), AX")
	e("\tMOVQ 168(AX), BX")
	e("\tCMPQ BX, $1")
	e("\tJEQ i512bias")
	e("\tCMPQ BX, $2")
	e("\tJEQ i512load")
	for i := 0; i < 16; i++ {
		e(fmt.Sprintf("\tVXORPS Z%v, Z%v, Z%v", i, i, i))
	}
	e("\tJMP i512main")
	e("i512bias:")
	e("\tMOVQ 160(AX), SI")
	e("\tVMOVUPS 0(SI), Z0")
	e("\tVMOVUPS 64(SI), Z1")
	for r := 1; r < 8; r++ {
		e(fmt.Sprintf("\tVMOVAPS Z0, Z%v", 2*r))
		e(fmt.Sprintf("\tVMOVAPS Z1, Z%v", 2*r+1))
	}
	e("\tJMP i512main")
	e("i512load:")
	for r := 0; r < 8; r++ {
		e(fmt.Sprintf("\tMOVQ %v(AX), SI", 64+8*r))
		e(fmt.Sprintf("\tVMOVUPS 0(SI), Z%v", 2*r))
		e(fmt.Sprintf("\tVMOVUPS 64(SI), Z%v", 2*r+1))
	}
	e("i512main:")
	regs := []string{"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"}
	for r := 0; r < 8; r++ {
		e(fmt.Sprintf("\tMOVQ %v(AX), %v", 8*r, regs[r]))
	}
	e("\tMOVQ 128(AX), SI")
	e("\tMOVQ 136(AX), DX")
	e("\tMOVQ 152(AX), DI")
	e("\tTESTQ DX, DX")
	e("\tJZ i512fin")
	e("i512tap:")
	e("\tMOVQ 0(SI), BX")
	e("\tADDQ $8, SI")
	e("\tMOVQ 144(AX), CX")
	e("\tTESTQ CX, CX")
	e("\tJZ i512next")
	e("i512ch:")
	e("\tVMOVUPS 0(DI), Z16")
	e("\tVMOVUPS 64(DI), Z17")
	for r := 0; r < 8; r++ {
		e(fmt.Sprintf("\tVBROADCASTSS (%v)(BX*1), Z%v", regs[r], 18+r))
	}
	for r := 0; r < 8; r++ {
		e(fmt.Sprintf("\tVFMADD231PS Z16, Z%v, Z%v", 18+r, 2*r))
		e(fmt.Sprintf("\tVFMADD231PS Z17, Z%v, Z%v", 18+r, 2*r+1))
	}
	e("\tADDQ $4, BX")
	e("\tADDQ $128, DI")
	e("\tDECQ CX")
	e("\tJNZ i512ch")
	e("i512next:")
	e("\tDECQ DX")
	e("\tJNZ i512tap")
	e("i512fin:")
	e("\tMOVQ 176(AX), BX")
	e("\tTESTQ BX, BX")
	e("\tJZ i512store")
	e("\t// LeakyReLU as max(0, z) + slope*min(0, z); z as the second operand")
	e("\t// of VMAXPS/VMINPS so that a NaN passes through.")
	e("\tVBROADCASTSS 184(AX), Z16")
	e("\tVXORPS Z17, Z17, Z17")
	for i := 0; i < 16; i++ {
		e(fmt.Sprintf("\tVMAXPS Z%v, Z17, Z18", i))
		e(fmt.Sprintf("\tVMINPS Z%v, Z17, Z%v", i, i))
		e(fmt.Sprintf("\tVFMADD213PS Z18, Z16, Z%v", i))
	}
	e("i512store:")
	for r := 0; r < 8; r++ {
		e(fmt.Sprintf("\tMOVQ %v(AX), SI", 64+8*r))
		e(fmt.Sprintf("\tVMOVUPS Z%v, 0(SI)", 2*r))
		e(fmt.Sprintf("\tVMOVUPS Z%v, 64(SI)", 2*r+1))
	}
	e("\tVZEROUPPER")
	e("\tRET")
	e("")
	e("// func indAVX2(p *indCall, part int)")
	e("//")
	e("// A quarter of the tile of indAVX512: rows 4*(part/2) .. +3, columns")
	e("// 16*(part%2) .. +15, with accumulators Y0-Y7, B in Y8, Y9 and A broadcasts")
	e("// in Y10-Y13; R13 is the byte offset of the first row pointer, R12 that of")
	e("// the first column.")
	e("TEXT ·indAVX2(SB), NOSPLIT, $0-16")
	e("\tMOVQ p+0(FP), AX")
	e("\tMOVQ part+8(FP), R12")
	e("\tMOVQ R12, R13")
	e("\tSHRQ $1, R13")
	e("\tSHLQ $5, R13")
	e("\tANDQ $1, R12")
	e("\tSHLQ $6, R12")
	e("\tMOVQ 168(AX), BX")
	e("\tCMPQ BX, $1")
	e("\tJEQ i2bias")
	e("\tCMPQ BX, $2")
	e("\tJEQ i2load")
	for i := 0; i < 8; i++ {
		e(fmt.Sprintf("\tVXORPS Y%v, Y%v, Y%v", i, i, i))
	}
	e("\tJMP i2main")
	e("i2bias:")
	e("\tMOVQ 160(AX), SI")
	e("\tADDQ R12, SI")
	e("\tVMOVUPS 0(SI), Y0")
	e("\tVMOVUPS 32(SI), Y1")
	for r := 1; r < 4; r++ {
		e(fmt.Sprintf("\tVMOVAPS Y0, Y%v", 2*r))
		e(fmt.Sprintf("\tVMOVAPS Y1, Y%v", 2*r+1))
	}
	e("\tJMP i2main")
	e("i2load:")
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tMOVQ %v(AX)(R13*1), SI", 64+8*r))
		e("\tADDQ R12, SI")
		e(fmt.Sprintf("\tVMOVUPS 0(SI), Y%v", 2*r))
		e(fmt.Sprintf("\tVMOVUPS 32(SI), Y%v", 2*r+1))
	}
	e("i2main:")
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tMOVQ %v(AX)(R13*1), %v", 8*r, regs[r]))
	}
	e("\tMOVQ 128(AX), SI")
	e("\tMOVQ 136(AX), DX")
	e("\tMOVQ 152(AX), DI")
	e("\tADDQ R12, DI")
	e("\tTESTQ DX, DX")
	e("\tJZ i2fin")
	e("i2tap:")
	e("\tMOVQ 0(SI), BX")
	e("\tADDQ $8, SI")
	e("\tMOVQ 144(AX), CX")
	e("\tTESTQ CX, CX")
	e("\tJZ i2next")
	e("i2ch:")
	e("\tVMOVUPS 0(DI), Y8")
	e("\tVMOVUPS 32(DI), Y9")
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tVBROADCASTSS (%v)(BX*1), Y%v", regs[r], 10+r))
	}
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tVFMADD231PS Y8, Y%v, Y%v", 10+r, 2*r))
		e(fmt.Sprintf("\tVFMADD231PS Y9, Y%v, Y%v", 10+r, 2*r+1))
	}
	e("\tADDQ $4, BX")
	e("\tADDQ $128, DI")
	e("\tDECQ CX")
	e("\tJNZ i2ch")
	e("i2next:")
	e("\tDECQ DX")
	e("\tJNZ i2tap")
	e("i2fin:")
	e("\tMOVQ 176(AX), BX")
	e("\tTESTQ BX, BX")
	e("\tJZ i2store")
	e("\tVBROADCASTSS 184(AX), Y8")
	e("\tVXORPS Y9, Y9, Y9")
	for i := 0; i < 8; i++ {
		e(fmt.Sprintf("\tVMAXPS Y%v, Y9, Y10", i))
		e(fmt.Sprintf("\tVMINPS Y%v, Y9, Y%v", i, i))
		e(fmt.Sprintf("\tVFMADD213PS Y10, Y8, Y%v", i))
	}
	e("i2store:")
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tMOVQ %v(AX)(R13*1), SI", 64+8*r))
		e("\tADDQ R12, SI")
		e(fmt.Sprintf("\tVMOVUPS Y%v, 0(SI)", 2*r))
		e(fmt.Sprintf("\tVMOVUPS Y%v, 32(SI)", 2*r+1))
	}
	e("\tVZEROUPPER")
	e("\tRET")
}

func wgKernels() {
	e("")
	e("// Field offsets of wgCall (wg.go): aoff 0, bases 8, kc 16, b 24, bstride 32,")
	e("// c 40, load 48.")
	e("")
	e("// func wgAVX512(p *wgCall)")
	e("//")
	e("// One 8x32 tile of the direct filter-gradient kernel (see wgGo): row r,")
	e("// column j accumulates sum over k of bases[k][aoff/4 + r] * b[k*bstride/4 + j];")
	e("// accumulators Z0-Z15 (row r in Z(2r), Z(2r+1)), B in Z16, Z17, A")
	e("// broadcasts in Z18-Z25.")
	e("TEXT ·wgAVX512(SB), NOSPLIT, $0-8")
	e("\tMOVQ p+0(FP), AX")
	e("\tMOVQ 40(AX), R8")
	e("\tMOVQ 48(AX), BX")
	e("\tTESTQ BX, BX")
	e("\tJZ w512zero")
	for i := 0; i < 16; i++ {
		e(fmt.Sprintf("\tVMOVUPS %v(R8), Z%v", 64*i, i))
	}
	e("\tJMP w512main")
	e("w512zero:")
	for i := 0; i < 16; i++ {
		e(fmt.Sprintf("\tVXORPS Z%v, Z%v, Z%v", i, i, i))
	}
	e("w512main:")
	e("\tMOVQ 0(AX), SI")
	e("\tMOVQ 8(AX), BX")
	e("\tMOVQ 16(AX), CX")
	e("\tMOVQ 24(AX), DI")
	e("\tMOVQ 32(AX), DX")
	e("\tTESTQ CX, CX")
	e("\tJZ w512store")
	e("w512loop:")
	e("\tMOVQ (BX), R9")
	e("\tADDQ $8, BX")
	e("\tADDQ SI, R9")
	e("\tVMOVUPS 0(DI), Z16")
	e("\tVMOVUPS 64(DI), Z17")
	e("\tADDQ DX, DI")
	for r := 0; r < 8; r++ {
		e(fmt.Sprintf("\tVBROADCASTSS %v(R9), Z%v", 4*r, 18+r))
	}
	for r := 0; r < 8; r++ {
		e(fmt.Sprintf("\tVFMADD231PS Z16, Z%v, Z%v", 18+r, 2*r))
		e(fmt.Sprintf("\tVFMADD231PS Z17, Z%v, Z%v", 18+r, 2*r+1))
	}
	e("\tDECQ CX")
	e("\tJNZ w512loop")
	e("w512store:")
	for i := 0; i < 16; i++ {
		e(fmt.Sprintf("\tVMOVUPS Z%v, %v(R8)", i, 64*i))
	}
	e("\tVZEROUPPER")
	e("\tRET")
	e("")
	e("// func wgAVX2(p *wgCall, part int)")
	e("//")
	e("// A quarter of the tile of wgAVX512: rows 4*(part/2) .. +3, columns")
	e("// 16*(part%2) .. +15; R12 is the byte offset of the first column, R13")
	e("// that of the first row in A (4 bytes a row) and R10 in C (128 a row).")
	e("TEXT ·wgAVX2(SB), NOSPLIT, $0-16")
	e("\tMOVQ p+0(FP), AX")
	e("\tMOVQ part+8(FP), R12")
	e("\tMOVQ R12, R13")
	e("\tSHRQ $1, R13")
	e("\tMOVQ R13, R10")
	e("\tSHLQ $4, R13")
	e("\tSHLQ $9, R10")
	e("\tANDQ $1, R12")
	e("\tSHLQ $6, R12")
	e("\tMOVQ 40(AX), R8")
	e("\tADDQ R10, R8")
	e("\tADDQ R12, R8")
	e("\tMOVQ 48(AX), BX")
	e("\tTESTQ BX, BX")
	e("\tJZ w2zero")
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tVMOVUPS %v(R8), Y%v", 128*r, 2*r))
		e(fmt.Sprintf("\tVMOVUPS %v(R8), Y%v", 128*r+32, 2*r+1))
	}
	e("\tJMP w2main")
	e("w2zero:")
	for i := 0; i < 8; i++ {
		e(fmt.Sprintf("\tVXORPS Y%v, Y%v, Y%v", i, i, i))
	}
	e("w2main:")
	e("\tMOVQ 0(AX), SI")
	e("\tADDQ R13, SI")
	e("\tMOVQ 8(AX), BX")
	e("\tMOVQ 16(AX), CX")
	e("\tMOVQ 24(AX), DI")
	e("\tADDQ R12, DI")
	e("\tMOVQ 32(AX), DX")
	e("\tTESTQ CX, CX")
	e("\tJZ w2store")
	e("w2loop:")
	e("\tMOVQ (BX), R9")
	e("\tADDQ $8, BX")
	e("\tADDQ SI, R9")
	e("\tVMOVUPS 0(DI), Y8")
	e("\tVMOVUPS 32(DI), Y9")
	e("\tADDQ DX, DI")
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tVBROADCASTSS %v(R9), Y%v", 4*r, 10+r))
	}
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tVFMADD231PS Y8, Y%v, Y%v", 10+r, 2*r))
		e(fmt.Sprintf("\tVFMADD231PS Y9, Y%v, Y%v", 10+r, 2*r+1))
	}
	e("\tDECQ CX")
	e("\tJNZ w2loop")
	e("w2store:")
	for r := 0; r < 4; r++ {
		e(fmt.Sprintf("\tVMOVUPS Y%v, %v(R8)", 2*r, 128*r))
		e(fmt.Sprintf("\tVMOVUPS Y%v, %v(R8)", 2*r+1, 128*r+32))
	}
	e("\tVZEROUPPER")
	e("\tRET")
}

func firstKernel() {
	e("")
	e("// func firstGradAVX512(out *float32, gzp *float32, bases *int64, n int, toff *int64, nt int, w *float32, o int)")
	e("//")
	e("// The input gradient of a one-channel layer (see inputGradFirst): for each")
	e("// pixel i < n (n a multiple of 4), out[i] = sum over taps t < nt and")
	e("// filters j < o (o a multiple of 16) of gzp[(bases[i]+toff[t])/4 + j] *")
	e("// w[t*o + j]. Four pixels at a time, one 16-lane accumulator each (Z0-Z3),")
	e("// reduced to a scalar in a fixed order at the end.")
	e("TEXT ·firstGradAVX512(SB), NOSPLIT, $0-64")
	e("\tMOVQ out+0(FP), DI")
	e("\tMOVQ bases+16(FP), BX")
	e("\tMOVQ n+24(FP), CX")
	e("\tSHRQ $2, CX")
	e("\tJZ fgdone")
	e("fgpix:")
	e("\tMOVQ gzp+8(FP), SI")
	e("\tMOVQ 0(BX), R8")
	e("\tADDQ SI, R8")
	e("\tMOVQ 8(BX), R9")
	e("\tADDQ SI, R9")
	e("\tMOVQ 16(BX), R10")
	e("\tADDQ SI, R10")
	e("\tMOVQ 24(BX), R11")
	e("\tADDQ SI, R11")
	e("\tVXORPS Z0, Z0, Z0")
	e("\tVXORPS Z1, Z1, Z1")
	e("\tVXORPS Z2, Z2, Z2")
	e("\tVXORPS Z3, Z3, Z3")
	e("\tMOVQ toff+32(FP), R12")
	e("\tMOVQ nt+40(FP), R13")
	e("\tMOVQ w+48(FP), R14")
	e("fgtap:")
	e("\tMOVQ 0(R12), AX")
	e("\tADDQ $8, R12")
	e("\tMOVQ o+56(FP), DX")
	e("\tSHRQ $4, DX")
	e("fgchunk:")
	e("\tVMOVUPS 0(R14), Z16")
	e("\tVFMADD231PS (R8)(AX*1), Z16, Z0")
	e("\tVFMADD231PS (R9)(AX*1), Z16, Z1")
	e("\tVFMADD231PS (R10)(AX*1), Z16, Z2")
	e("\tVFMADD231PS (R11)(AX*1), Z16, Z3")
	e("\tADDQ $64, R14")
	e("\tADDQ $64, AX")
	e("\tDECQ DX")
	e("\tJNZ fgchunk")
	e("\tDECQ R13")
	e("\tJNZ fgtap")
	for i := 0; i < 4; i++ {
		e(fmt.Sprintf("\tVEXTRACTF64X4 $1, Z%v, Y8", i))
		e(fmt.Sprintf("\tVADDPS Y8, Y%v, Y%v", i, i))
		e(fmt.Sprintf("\tVEXTRACTF128 $1, Y%v, X8", i))
		e(fmt.Sprintf("\tVADDPS X8, X%v, X%v", i, i))
		e(fmt.Sprintf("\tVMOVHLPS X%v, X%v, X8", i, i))
		e(fmt.Sprintf("\tVADDPS X8, X%v, X%v", i, i))
		e(fmt.Sprintf("\tVMOVSHDUP X%v, X8", i))
		e(fmt.Sprintf("\tVADDSS X8, X%v, X%v", i, i))
		e(fmt.Sprintf("\tVMOVSS X%v, %v(DI)", i, 4*i))
	}
	e("\tADDQ $16, DI")
	e("\tADDQ $32, BX")
	e("\tDECQ CX")
	e("\tJNZ fgpix")
	e("fgdone:")
	e("\tVZEROUPPER")
	e("\tRET")
}
