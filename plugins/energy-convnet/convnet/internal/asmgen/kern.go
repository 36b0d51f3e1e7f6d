package asmgen

import "fmt"

// GenerateKern returns the text of kernel_amd64.s: the 8x32 GEMM
// micro-kernel kern, in AVX-512 (one pass of sixteen accumulators) and AVX2
// (four passes of 4 rows x 16 columns, eight accumulators each). Each pass
// is the same load-or-zero, multiply-add loop and store, which is why it is
// written once here.
func GenerateKern() string {
	b.Reset()
	e("//go:build !purego")
	e("")
	e("#include \"textflag.h\"")
	e("")
	e("// func kernAVX512(kc int, a, b, c *float32, load bool)")
	e("//")
	e("// c[i*32+j] (+)= sum_k a[k*8+i] * b[k*32+j] for i < 8, j < 32: sixteen")
	e("// accumulators Z0-Z15 (row i in Z(2i), Z(2i+1)), B rows in Z16, Z17, A")
	e("// broadcasts in Z18-Z25. kc >= 1.")
	e("TEXT ·kernAVX512(SB), NOSPLIT, $0-33")
	kernArgs()
	e("\tMOVBQZX load+32(FP), AX")
	kernPass(kernShape{reg: "Z", rows: 8, width: 64, label: "512"})
	e("\tVZEROUPPER")
	e("\tRET")
	e("")
	e("// func kernAVX2(kc int, a, b, c *float32, load bool)")
	e("//")
	e("// The same tile as kernAVX512 in four passes of 4 rows x 16 columns, each")
	e("// with eight accumulators Y0-Y7, B in Y8, Y9 and A broadcasts in Y10-Y13.")
	e("TEXT ·kernAVX2(SB), NOSPLIT, $0-33")
	e("\tMOVBQZX load+32(FP), AX")
	for p := range 4 {
		kernArgs()
		// Rows 4-7 start 4 floats further into each column of a, and 4 rows
		// of c further; columns 16-31 start 64 bytes further into b and c.
		rowHalf, colHalf := p/2, p%2
		if rowHalf == 1 {
			e("\tADDQ $16, SI")
		}
		if colHalf == 1 {
			e("\tADDQ $64, DI")
		}
		if off := rowHalf*4*128 + colHalf*64; off > 0 {
			e(fmt.Sprintf("\tADDQ $%d, DX", off))
		}
		kernPass(kernShape{reg: "Y", rows: 4, width: 32, label: fmt.Sprintf("2_%d", p)})
	}
	e("\tVZEROUPPER")
	e("\tRET")
	return b.String()
}

// kernArgs loads the arguments: kc into CX, a, b, c into SI, DI, DX.
func kernArgs() {
	e("\tMOVQ kc+0(FP), CX")
	e("\tMOVQ a+8(FP), SI")
	e("\tMOVQ b+16(FP), DI")
	e("\tMOVQ c+24(FP), DX")
}

// kernShape is one pass of the kernel: rows of c, each two vector
// registers of width bytes wide, in registers named reg.
type kernShape struct {
	reg   string // "Z" or "Y"
	rows  int
	width int // bytes per vector register
	label string
}

// kernPass writes one pass: load (load set) or zero the 2*rows
// accumulators, then for each k two B vectors and rows A broadcasts and
// 2*rows multiply-adds, then store the accumulators. Row r of c is 128
// bytes (32 floats) after row r-1.
func kernPass(s kernShape) {
	acc := 2 * s.rows
	r := func(i int) string { return fmt.Sprintf("%s%d", s.reg, i) }
	cOff := func(i int) int { return (i/2)*128 + (i%2)*s.width }
	e("\tTESTQ AX, AX")
	e("\tJZ zero" + s.label)
	for i := range acc {
		e(fmt.Sprintf("\tVMOVUPS %d(DX), %s", cOff(i), r(i)))
	}
	e("\tJMP loop" + s.label)
	e("zero" + s.label + ":")
	for i := range acc {
		e(fmt.Sprintf("\tVXORPS %s, %s, %s", r(i), r(i), r(i)))
	}
	e("loop" + s.label + ":")
	b0, b1 := r(acc), r(acc+1)
	e(fmt.Sprintf("\tVMOVUPS 0(DI), %s", b0))
	e(fmt.Sprintf("\tVMOVUPS %d(DI), %s", s.width, b1))
	for i := range s.rows {
		e(fmt.Sprintf("\tVBROADCASTSS %d(SI), %s", 4*i, r(acc+2+i)))
	}
	for i := range s.rows {
		a := r(acc + 2 + i)
		e(fmt.Sprintf("\tVFMADD231PS %s, %s, %s", b0, a, r(2*i)))
		e(fmt.Sprintf("\tVFMADD231PS %s, %s, %s", b1, a, r(2*i+1)))
	}
	e("\tADDQ $32, SI")
	e("\tADDQ $128, DI")
	e("\tDECQ CX")
	e("\tJNZ loop" + s.label)
	for i := range acc {
		e(fmt.Sprintf("\tVMOVUPS %s, %d(DX)", r(i), cOff(i)))
	}
}
