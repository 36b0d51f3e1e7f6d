# quickstart.hcl: a first look at ebmflow on MNIST. Short-run non-convergent
# learning from noise: every iteration starts 64 Langevin chains from
# uniform noise, runs them for 30 steps on the current energy (a small
# VanillaNet, n_f = 16, on 28x28 digits), and takes an Adam step that pulls
# the energy of real digits down and of the chains' samples up. Within a few
# hundred iterations the sample grids in RUNDIR/samples/ move from noise
# toward digit strokes (Adam 1e-4, data noise 0.03, eps = 0.01 as the
# reference's non-convergent configuration, but far fewer steps and a smaller
# net so that it fits in minutes).
#
# Takes about 2 minutes on 2 cores (200 iterations of about 0.5 s). With only
# 30 steps per chain the energy keeps steepening: r_t grows and, run several
# hundred iterations longer, the short-run dynamics become unstable (d_st
# and r_t blow up). For longer training use mnist-nonconvergent.hcl (150
# steps) or the convergent recipe in mnist-convergent.hcl. Everything it
# needs comes through the Go module proxy, MNIST included.
#
#   go build -o bin/ ./cmd/ebmflow ./plugins/... && bin/ebmflow run pipelines/quickstart.hcl

variable "iterations" {
  type    = number
  default = 200
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
  initial = 0.0001
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
  plugin  = "diag-oscillation"
  every   = 50
  data    = stage.data
  sampler = stage.sampler
  # one image quality evaluation, at the end: 500 short-run samples
  # against held-out test digits (about 4% of the run)
  quality_every   = var.iterations
  quality_samples = 500
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
