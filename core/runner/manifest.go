package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/schedule"
	"github.com/ebmflow/ebmflow/sdk"
)

// Version is ebmflow's version, recorded in manifests.
const Version = "0.1.0-dev"

// Manifest describes a run: what ran, with what, on what. It is written at
// the start of a run as manifest.json.
type Manifest struct {
	Created  time.Time `json:"created"`
	Pipeline struct {
		Path   string `json:"path"`
		Hash   string `json:"sha256"`
		Source string `json:"source"`
	} `json:"pipeline"`
	// Variables are the resolved variables as HCL expressions, with where
	// each value came from.
	Variables       map[string]string          `json:"variables"`
	VariableSources map[string]string          `json:"variable_sources"`
	Seed            uint64                     `json:"seed"`
	Stages          map[string]ManifestStage   `json:"stages"`
	Plugins         map[string]ManifestPlugin  `json:"plugins"`
	Train           *pipeline.Train            `json:"train"`
	Schedule        *schedule.Config           `json:"schedule,omitempty"`
	Ebmflow         map[string]string          `json:"ebmflow"`
	Extra           map[string]json.RawMessage `json:"extra,omitempty"`
}

// ManifestStage records one stage.
type ManifestStage struct {
	Plugin string `json:"plugin"`
	Kind   string `json:"kind"`
	Seed   uint64 `json:"seed"`
}

// ManifestPlugin records one plugin binary.
type ManifestPlugin struct {
	Path     string `json:"path"`
	SHA256   string `json:"sha256"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
}

// StageSeed is the seed a stage receives: derived from the run seed and the
// stage's name.
func StageSeed(seed uint64, stage string) uint64 { return sdk.DeriveSeed(seed, "stage:"+stage) }

func newManifest(p *pipeline.Pipeline, bins map[string]host.Binary) *Manifest {
	m := &Manifest{Created: time.Now().UTC(), Variables: map[string]string{}, VariableSources: p.VariableSources,
		Seed: p.Train.Seed, Stages: map[string]ManifestStage{}, Plugins: map[string]ManifestPlugin{}, Train: p.Train, Schedule: p.Schedule}
	m.Pipeline.Path, m.Pipeline.Hash, m.Pipeline.Source = p.Path, p.Hash, string(p.Source)
	for n, v := range p.Variables {
		m.Variables[n] = pipeline.RenderValue(v)
	}
	for _, s := range p.Order {
		m.Stages[s.Name] = ManifestStage{Plugin: s.Plugin, Kind: string(s.Kind), Seed: StageSeed(p.Train.Seed, s.Name)}
	}
	for n, b := range bins {
		m.Plugins[n] = ManifestPlugin{Path: b.Path, SHA256: b.SHA256, Version: b.Description.Info.Version, Protocol: b.Description.Info.Protocol}
	}
	m.Ebmflow = map[string]string{"version": Version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH, "revision": revision()}
	return m
}

func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", ""
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			rev = s.Value
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			dirty = "+dirty"
		}
	}
	return rev + dirty
}

func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return sdk.WriteFileAtomic(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644)
}

// ReadManifest reads a run folder's manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("run folder %s: manifest.json: %w", dir, err)
	}
	return &m, nil
}
