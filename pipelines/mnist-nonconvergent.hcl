# mnist-nonconvergent.hcl: the reference's non-convergent short-run learning
# (reference.md "non-convergent" row, here on MNIST): VanillaNet(n_f = 32) on
# 32x32 digits, Adam 1e-4 on d_st, eps = 0.01, L = 150 Langevin steps from
# uniform noise every iteration (no persistent bank), data noise 3e-2,
# 100,000 iterations. Short-run samples look like digits early; long runs
# from the same model oversaturate (ebmflow sample), and the diagnostics
# should show strong oscillation (appendix D).
#
# Cost: 150 x 100 = 15,000 image-steps of dF/dx per iteration; see
# docs/performance.md for this machine's rate. Use -var to shrink it:
#   ebmflow run -var iterations=200 -var steps=20 -var subset=1000 pipelines/mnist-nonconvergent.hcl

variable "iterations" {
  type    = number
  default = 100000
}

variable "steps" {
  type    = number
  default = 150
}

variable "n_f" {
  type    = number
  default = 32
}

variable "batch" {
  type    = number
  default = 100
}

variable "subset" {
  type        = number
  default     = 0
  description = "use only the first N training images (0: all 60,000)"
}

variable "checkpoint_every" {
  type    = number
  default = 1000
}

variable "sample_every" {
  type        = number
  default     = 100
  description = "iterations between sample grids and diagnostics reports"
}

variable "quality_every" {
  type        = number
  default     = 1000
  description = "iterations between image quality evaluations (MMD^2 of short-run samples to held-out test digits, saturated pixels)"
}

variable "quality_samples" {
  type        = number
  default     = 1000
  description = "short-run samples per image quality evaluation (and size of each held-out set)"
}

variable "seed" {
  type    = number
  default = 123
}

locals {
  epsilon  = 0.01
  eps_data = 0.03
}

schedule "lr" {
  type    = "constant"
  initial = 0.0001
}

stage "data" {
  plugin     = "data-mnist"
  size       = 32
  resize     = "bilinear"
  data_noise = local.eps_data
  subset     = var.subset
}

stage "energy" {
  plugin    = "energy-convnet"
  net       = "vanilla"
  channels  = 1
  n_f       = var.n_f
  epsilon   = local.epsilon
  optimizer = "adam"
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
  plugin          = "diag-oscillation"
  data            = stage.data
  sampler         = stage.sampler
  quality_every   = var.quality_every
  quality_samples = var.quality_samples
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
