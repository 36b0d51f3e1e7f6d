# ci.hcl: a small, fast pipeline for reproducibility checks. CI runs it and
# then `ebmflow verify` on its run folder, which reruns it from the manifest
# and fails on any difference, bit for bit. Every stage kind takes part: the
# 8-Gaussian data, the toy MLP energy (SGD), the persistent Langevin sampler
# and the oscillation and density diagnostics. About 10 s on 2 cores.
#
#   ebmflow run -out runs/ci pipelines/ci.hcl && ebmflow verify runs/ci

variable "iterations" {
  type    = number
  default = 60
}

schedule "lr" {
  type    = "exp"
  initial = 0.1
  decay   = 0.99
  min     = 0.05
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
  plugin    = "sampler-langevin"
  energy    = stage.energy
  epsilon   = 0.125
  steps     = 20
  batch     = 100
  init      = "persistent"
  bank_size = 1000
}

stage "diagnostics" {
  plugin        = "diag-oscillation"
  energy        = stage.energy
  data          = stage.data
  epsilon       = 0.125
  every         = 10
  density_every = 30
  min_records   = 1000 # 60 iterations are too few to classify oscillation
}

train {
  iterations       = var.iterations
  seed             = 2026
  batch            = 100
  checkpoint_every = 20
  sample_every     = 30
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [stage.diagnostics]
}
