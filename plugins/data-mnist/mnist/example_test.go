package mnist

import "fmt"

// ExampleBilinear upsamples a 1x2 row to 1x4 the way torchvision's Resize
// does to a tensor: source coordinates (d + 0.5)/2 - 0.5, clamped at 0.
func ExampleBilinear() {
	fmt.Println(Bilinear(nil, 1, 4, []float64{-1, 1}, 1, 2))
	// Output: [-1 -0.5 0.5 1]
}
