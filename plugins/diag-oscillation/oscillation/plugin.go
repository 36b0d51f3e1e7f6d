package oscillation

import (
	"sync"

	"github.com/ebmflow/ebmflow/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Plugin is the diag-oscillation diagnostics stage. Its methods are safe for
// concurrent use.
type Plugin struct {
	mu     sync.Mutex
	opts   options
	stage  string
	runDir string

	// hist holds every finite record seen, oldest first; the window is its tail.
	hist history
	// lastT is the iteration of the last record received (finite or not).
	lastT     int
	nonFinite int

	// Event state as of the last refresh.
	known  bool
	class  Class
	rState int

	// dens is the density diagnostic, nil when energy and data are not set.
	dens *density
	// qual is the image quality diagnostic, nil unless data (of images)
	// and sampler are set.
	qual *imageQuality

	// scratch buffers reused by the statistics refresh.
	sc scratch
}

// history is the d_st / r_t series with its iteration numbers.
type history struct {
	T, D, R []float64
}

func (h *history) len() int { return len(h.D) }

func (h *history) tail(n int) history {
	lo := max(0, h.len()-n)
	return history{T: h.T[lo:], D: h.D[lo:], R: h.R[lo:]}
}

// New returns an unconfigured plugin with the default options.
func New() *Plugin {
	p := &Plugin{opts: defaultOptions()}
	p.reset()
	return p
}

// reset clears the series and the event state.
func (p *Plugin) reset() {
	p.hist = history{}
	p.lastT, p.nonFinite = 0, 0
	p.known, p.class, p.rState = false, NotStationary, 0
	p.dens = nil
	p.qual = nil
}

// Info returns the plugin's name, kind and version.
func (p *Plugin) Info() sdk.Info {
	return sdk.Info{
		Name:        "diag-oscillation",
		Kind:        sdk.KindDiagnostics,
		Version:     Version,
		Protocol:    sdk.ProtocolVersion,
		Description: "d_st / r_t diagnostics: oscillation classes, 2x2 figure, 2-D density total variation, image sample quality (MMD to held-out data, saturation)",
	}
}

var _ sdk.Diagnoser = (*Plugin)(nil)
