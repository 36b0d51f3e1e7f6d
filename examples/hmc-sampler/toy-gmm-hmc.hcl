# toy-gmm-hmc.hcl: the 8-Gaussian toy set learned with this example plugin as
# the sampler. Build the plugin next to ebmflow's (or put it on
# $EBMFLOW_PLUGIN_PATH) and run:
#
#   (cd examples/hmc-sampler && go build -o ../../bin/)
#   bin/ebmflow run examples/hmc-sampler/toy-gmm-hmc.hcl

variable "iterations" {
  type    = number
  default = 2000
}

schedule "lr" {
  type    = "constant"
  initial = 0.1
}

stage "data" {
  plugin  = "data-mnist"
  dataset = "gmm"
}

stage "energy" {
  plugin  = "energy-convnet"
  net     = "toy"
  epsilon = 0.125
}

stage "sampler" {
  plugin    = "hmc-sampler"
  energy    = stage.energy
  steps     = 10
  leapfrog  = 5
  step_size = 0.1
  batch     = 100
}

stage "diagnostics" {
  plugin        = "diag-oscillation"
  energy        = stage.energy
  data          = stage.data
  epsilon       = 0.125
  density_every = 500
}

train {
  iterations       = var.iterations
  seed             = 5
  batch            = 100
  checkpoint_every = 500
  sample_every     = 500
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [stage.diagnostics]
}
