package mnist

import "github.com/ebmflow/ebmflow/sdk"

// Version is the plugin's version.
const Version = "0.1.0"

// Data sets of the dataset attribute.
const (
	DatasetMNIST = "mnist"
	DatasetGMM   = "gmm"
	DatasetRings = "rings"
	// DatasetPoints and DatasetSegment are degenerate 2-D sets (appendix
	// C's toy analogue): no density in the plane.
	DatasetPoints  = "points"
	DatasetSegment = "segment"
)

// Sampling orders of the sampling attribute.
const (
	SamplingUniform = "uniform"
	SamplingEpoch   = "epoch"
)

// DefaultStream is the stream used by a NextRequest without a name.
const DefaultStream = "positives"

// Info returns the plugin's name, kind and version.
func (p *Plugin) Info() sdk.Info {
	return sdk.Info{
		Name:        "data-mnist",
		Kind:        sdk.KindData,
		Version:     Version,
		Description: "MNIST from IDX files with data noise, and the 2-D toy sets gmm, rings, points and segment",
	}
}

// Schema returns the attributes of a data-mnist stage block.
func (p *Plugin) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "dataset", Type: sdk.TypeString, Default: DatasetMNIST, Enum: []string{DatasetMNIST, DatasetGMM, DatasetRings, DatasetPoints, DatasetSegment},
			Doc: "mnist (default), or a 2-D toy set: gmm (8 Gaussians, sd 0.15, on the unit circle) or rings (4 rings at radii 1..4, radial sd 0.15), or a degenerate one without a density (appendix C): points (the gmm's 8 means, sd 0) or segment (x uniform on [-1, 1], y = 0)"},
		{Name: "dir", Type: sdk.TypeString, Default: "",
			Doc: "folder holding the four MNIST files (train-images-idx3-ubyte[.gz] and so on); default: the cache, filled from the Go module " + ModulePath},
		{Name: "cache_dir", Type: sdk.TypeString, Default: "",
			Doc: "cache folder for the MNIST files (default $XDG_CACHE_HOME/ebmflow/mnist or ~/.cache/ebmflow/mnist)"},
		{Name: "split", Type: sdk.TypeString, Default: "train", Enum: []string{"train", "test"},
			Doc: "MNIST split: train (60,000 images, default) or test (10,000)"},
		{Name: "size", Type: sdk.TypeInt, Default: 32.0,
			Bounds: sdk.Between(28, 64), Doc: "image side in pixels: 28 (native), 32 (default) or 64; see resize"},
		{Name: "resize", Type: sdk.TypeString, Default: ResizeBilinear, Enum: []string{ResizeBilinear, ResizePad},
			Doc: "how 28 becomes 32 or 64: bilinear (default, torchvision Resize on a tensor, align_corners=False) or pad (2 or 18 pixels of -1 each side)"},
		{Name: "digits", Type: sdk.TypeListNumber, Default: []any{},
			Bounds: sdk.Between(0, 9), Doc: "keep only images of these digits (default: all)"},
		{Name: "subset", Type: sdk.TypeInt, Default: 0.0,
			Bounds: sdk.Between(0, 70000), Doc: "keep the first N images after the digit filter (default 0: all)"},
		{Name: "data_noise", Type: sdk.TypeNumber, Default: 0.0,
			Bounds: sdk.Between(0, 100), Doc: "sd eps_data of the Gaussian noise added to every drawn sample (MNIST: in pixel units of [-1, 1]; toy sets: in the plane's units): x+ = x_j + eps_data*Q (default 0)"},
		{Name: "sampling", Type: sdk.TypeString, Default: SamplingUniform, Enum: []string{SamplingUniform, SamplingEpoch},
			Doc: "MNIST draw order: uniform (with replacement, the reference's, default) or epoch (a fresh permutation each pass)"},
		{Name: "batch_size", Type: sdk.TypeInt, Default: 100.0,
			Bounds: sdk.Between(1, maxBatch), Doc: "samples per Next call that asks for 0 (default 100)"},
		{Name: "dtype", Type: sdk.TypeString, Default: "float32", Enum: []string{"float32", "float64"},
			Doc: "element type of the samples (default float32)"},
	}}
}
