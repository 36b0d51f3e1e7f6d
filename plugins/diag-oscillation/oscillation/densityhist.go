package oscillation

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ebmflow/ebmflow/sdk"
)

// DensityHistoryDir is the folder of the run folder that keeps a copy of
// density.png for every iteration the density was evaluated at, as
// density-NNNNNNNNN.png (ebmflow serve shows them with a slider).
const DensityHistoryDir = "density"

// writeDensity draws the last density evaluation (made at iteration t)
// once and writes it as density.png and as its copy in DensityHistoryDir.
func (p *Plugin) writeDensity(t int) error {
	var png bytes.Buffer
	if err := writeDensityFigure(&png, p.dens, p.stage); err != nil {
		return fmt.Errorf("write %s: %w", DensityFile, err)
	}
	if err := sdk.WriteFileAtomic(filepath.Join(p.runDir, DensityFile), png.Bytes(), 0o644); err != nil {
		return err
	}
	hist := filepath.Join(p.runDir, DensityHistoryDir)
	if err := os.MkdirAll(hist, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", hist, err)
	}
	return sdk.WriteFileAtomic(filepath.Join(hist, fmt.Sprintf("density-%09d.png", t)), png.Bytes(), 0o644)
}
