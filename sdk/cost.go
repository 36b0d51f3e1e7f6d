package sdk

// Cost is what a configured stage's work costs in evaluations of dF/dx (one
// evaluation for one sample is one image-step). A stage declares it during
// Configure with Config.DeclareCost, so that `ebmflow validate` can say what
// an iteration and a whole run will cost before anything runs; a stage that
// declares nothing is shown as of unknown cost.
type Cost struct {
	// GradsPerRow is, for a sampler, the dF/dx evaluations per chain of a
	// Sample call with its configured steps: L for Langevin, L+1 for MALA.
	GradsPerRow int `json:"grads_per_row,omitempty"`
	// Draws are the Sample calls the stage makes through its sampler links
	// (a diagnostics stage drawing short-run samples, say).
	Draws []Draw `json:"draws,omitempty"`
}

// Draw is a periodic Sample call through a sampler link: Rows chains at
// every iteration t with t % Every == 0.
type Draw struct {
	// Link is the stage(sampler) attribute the calls go through.
	Link  string `json:"link"`
	Rows  int    `json:"rows"`
	Every int    `json:"every"`
}

// DeclareCost, called during Configure, declares what the stage's work
// costs; the SDK's server sends it to the host with the shapes.
func (c *Config) DeclareCost(cost Cost) { c.cost = &cost }

// DeclaredCost returns what DeclareCost declared, or nil.
func (c *Config) DeclaredCost() *Cost { return c.cost }
