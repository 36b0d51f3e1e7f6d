# quickstart.hcl: a first look at ebmflow on MNIST. Short-run non-convergent
# learning from noise: every iteration starts 64 Langevin chains from
# uniform noise, runs them for 30 steps on the current energy (a small
# VanillaNet, n_f = 16, on 28x28 digits), and takes an Adam step that pulls
# the energy of real digits down and of the chains' samples up. Within a few
# hundred iterations the sample grids in RUNDIR/samples/ move from noise
# toward digit strokes.
#
# Takes 6 to 10 minutes on 2 cores (450 iterations; about 1 s each with the
# machine to itself). Everything it needs comes through the Go module proxy,
# MNIST included.
#
#   go build -o bin/ ./cmd/ebmflow ./plugins/... && bin/ebmflow run pipelines/quickstart.hcl

variable "iterations" {
  type    = number
  default = 450
}

variable "steps" {
  type    = number
  default = 30
}

variable "n_f" {
  type    = number
  default = 16
}

variable "batch" {
  type    = number
  default = 64
}

variable "subset" {
  type        = number
  default     = 0
  description = "use only the first N training images (0: all 60,000)"
}

variable "checkpoint_every" {
  type    = number
  default = 100
}

variable "sample_every" {
  type    = number
  default = 50
}

variable "seed" {
  type    = number
  default = 1
}

locals {
  epsilon = 0.01
}

schedule "lr" {
  type    = "constant"
  initial = 0.0003
}

stage "data" {
  plugin     = "data-mnist"
  size       = 28
  data_noise = 0.03
  subset     = var.subset
}

stage "energy" {
  plugin     = "energy-convnet"
  net        = "vanilla"
  image_size = 28
  n_f        = var.n_f
  epsilon    = local.epsilon
  optimizer  = "adam"
}

stage "sampler" {
  plugin  = "sampler-langevin"
  energy  = stage.energy
  epsilon = local.epsilon
  steps   = var.steps
  batch   = var.batch
  init    = "uniform"
}

stage "diagnostics" {
  plugin = "diag-oscillation"
  every  = 50
}

train {
  iterations       = var.iterations
  seed             = var.seed
  batch            = var.batch
  checkpoint_every = var.checkpoint_every
  sample_every     = var.sample_every
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [stage.diagnostics]
}
