package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Config is what Configure receives: the stage's decoded block, its seed and
// the stages it references.
type Config struct {
	// Stage is the stage's name in the pipeline.
	Stage string
	// Seed is the stage's seed, derived by the host from the run seed and the
	// stage name. Derive every random stream from it (see NewStream).
	Seed uint64
	// RunDir is the run folder where the stage may write files (figures,
	// reports). It is empty when the pipeline is only being validated.
	RunDir string
	// Values holds the block's attributes as JSON, defaults filled in.
	Values map[string]json.RawMessage
	// Upstream holds the shapes declared by the stages this block references,
	// by attribute name.
	Upstream map[string]Shapes
	// Schema is the plugin's schema, set by the SDK's server. When it is
	// set, Float, Int, String, Bool and Decode panic on a name it does not
	// have: a typo in plugin code fails at once instead of reading zero.
	Schema Schema

	links map[string]any

	observeTensors bool
	cost           *Cost
}

// ObserveTensors, called by a diagnostics stage during Configure, asks the
// host to send each Record's positives and negatives (Record.Pos, .Neg) to
// Observe. They are the tensors the iteration trained on: no resampling.
func (c *Config) ObserveTensors() { c.observeTensors = true }

// WantsTensors reports whether ObserveTensors was called; the SDK's server
// reads it after Configure.
func (c *Config) WantsTensors() bool { return c.observeTensors }

// Has reports whether the attribute has a value (set or defaulted).
func (c *Config) Has(name string) bool {
	v, ok := c.Values[name]
	return ok && !bytes.Equal(v, []byte("null"))
}

// known panics when the schema is set and has no attribute name.
func (c *Config) known(call, name string) {
	if len(c.Schema.Attributes) == 0 {
		return
	}
	if _, ok := c.Schema.Lookup(name); !ok {
		names := make([]string, len(c.Schema.Attributes))
		for i, a := range c.Schema.Attributes {
			names[i] = a.Name
		}
		panic(fmt.Sprintf("sdk: Config.%s(%q) in stage %q: the plugin's schema has no attribute %q (it has %v)", call, name, c.Stage, name, names))
	}
}

// Decode decodes the attribute into v (any type encoding/json accepts).
func (c *Config) Decode(name string, v any) error {
	c.known("Decode", name)
	raw, ok := c.Values[name]
	if !ok {
		return fmt.Errorf("attribute %q: not set", name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("attribute %q: %w", name, err)
	}
	return nil
}

// DecodeAll decodes the whole block into a struct whose json tags name the
// attributes.
func (c *Config) DecodeAll(v any) error {
	b, err := json.Marshal(c.Values)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Float returns a number attribute, or 0 if absent (optional, no default).
func (c *Config) Float(name string) float64 {
	c.known("Float", name)
	var f float64
	_ = c.Decode(name, &f)
	return f
}

// Int returns a whole-number attribute, or 0 if absent.
func (c *Config) Int(name string) int {
	c.known("Int", name)
	var f float64
	_ = c.Decode(name, &f)
	return int(f)
}

// String returns a string attribute, or "" if absent.
func (c *Config) String(name string) string {
	c.known("String", name)
	var s string
	_ = c.Decode(name, &s)
	return s
}

// Bool returns a bool attribute, or false if absent.
func (c *Config) Bool(name string) bool {
	c.known("Bool", name)
	var b bool
	_ = c.Decode(name, &b)
	return b
}

// Energy returns the energy stage referenced by the attribute (of type
// StageRef(KindEnergy)), reached through a connection the host brokers.
func (c *Config) Energy(attr string) (EnergyLink, error) {
	l, ok := c.links[attr].(EnergyLink)
	if !ok {
		return nil, fmt.Errorf("attribute %q: no energy stage linked", attr)
	}
	return l, nil
}

// Data returns the data stage referenced by the attribute (of type
// StageRef(KindData)), reached through a connection the host brokers.
func (c *Config) Data(attr string) (DataLink, error) {
	l, ok := c.links[attr].(DataLink)
	if !ok {
		return nil, fmt.Errorf("attribute %q: no data stage linked", attr)
	}
	return l, nil
}

// Sampler returns the sampler stage referenced by the attribute (of type
// StageRef(KindSampler)), reached through a connection the host brokers.
func (c *Config) Sampler(attr string) (SamplerLink, error) {
	l, ok := c.links[attr].(SamplerLink)
	if !ok {
		return nil, fmt.Errorf("attribute %q: no sampler stage linked", attr)
	}
	return l, nil
}

// SetLink attaches a linked stage to the config. The SDK's server calls it;
// tests that drive a plugin in-process may call it too.
func (c *Config) SetLink(attr string, link any) {
	if c.links == nil {
		c.links = map[string]any{}
	}
	c.links[attr] = link
}
