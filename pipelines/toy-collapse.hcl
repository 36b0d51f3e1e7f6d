# toy-collapse.hcl: appendix C on a toy analogue. Learning without data
# noise collapses when the data lie on a set of lower dimension: the
# Langevin samples spread by at least eps in every direction, the data do
# not, so the energy keeps deepening its wells at the data and
# d_st = U(X+) - U(X-) runs to minus infinity. Data noise of sd
# eps_data = 2 eps (appendix C's choice) gives the data a spread wider than
# the sampler's and d_st stays near 0.
#
# The recipe is toy-gmm.hcl's convergent one (the toy MLP energy, SGD at
# 0.1, eps = 0.125, a persistent bank of 10,000 chains) on a degenerate
# data set: points (the gmm's 8 means with sd 0, a finite point set like a
# training set of images) or segment (x uniform on [-1, 1], y = 0, one
# constant coordinate). d_st per iteration is in metrics.jsonl, and
# diagnostics.png plots it; diag-oscillation flags "collapse". These sets
# have no density in the plane, so the density diagnostic (TV, density.png)
# is not configured here. A collapsing run stops with an error when F
# overflows to NaN (on_nonfinite = "stop"); its metrics up to then stay.
#
# Run (collapse):    ebmflow run -out runs/collapse-0 pipelines/toy-collapse.hcl
# Run (data noise):  ebmflow run -out runs/collapse-2 -var data_noise_factor=2 pipelines/toy-collapse.hcl
# Small: ebmflow run -var iterations=200 -var steps=50 pipelines/toy-collapse.hcl
#
# Cost: toy-gmm's convergent recipe, about 0.03 s per iteration on an idle
# machine (500 Langevin steps of 100 chains). Without data noise segment
# collapsed (F overflowed) at 236-282 iterations and points at 695-900, in
# 3 seeds each; with eps_data = 2 eps none did in 3,000 (docs/results.md,
# "Appendix C on a toy analogue").

variable "dataset" {
  type        = string
  default     = "points"
  description = "degenerate data: points (the 8 gmm means, sd 0) or segment (x uniform on [-1, 1], y = 0)"
  validation {
    condition     = contains(["points", "segment"], var.dataset)
    error_message = "dataset must be points or segment."
  }
}

variable "data_noise_factor" {
  type        = number
  default     = 0
  description = "eps_data = factor * eps: 0 for no data noise (collapse), 2 for appendix C's choice"
  validation {
    condition     = var.data_noise_factor >= 0
    error_message = "data_noise_factor must be >= 0."
  }
}

variable "iterations" {
  type        = number
  default     = 3000
  description = "training iterations; a collapsing run stops earlier, when F overflows (on_nonfinite = stop)"
}

variable "steps" {
  type        = number
  default     = 500
  description = "Langevin steps per iteration (the reference's convergent toy recipe: 500)"
}

variable "checkpoint_every" {
  type    = number
  default = 500
}

variable "keep_checkpoints" {
  type        = number
  default     = 3
  description = "checkpoints kept (the newest); more to score the energy at many iterations with ebmflow score"
}

variable "sample_every" {
  type        = number
  default     = 500
  description = "iterations between sample plots and diagnostics reports"
}

variable "seed" {
  type    = number
  default = 123
}

locals {
  epsilon = 0.125
}

schedule "lr" {
  type    = "constant"
  initial = 0.1
}

stage "data" {
  plugin     = "data-mnist"
  dataset    = var.dataset
  data_noise = var.data_noise_factor * local.epsilon
}

stage "energy" {
  plugin    = "energy-convnet"
  net       = "toy"
  epsilon   = local.epsilon
  optimizer = "sgd"
}

stage "sampler" {
  plugin    = "sampler-langevin"
  energy    = stage.energy
  epsilon   = local.epsilon
  steps     = var.steps
  batch     = 100
  init      = "persistent"
  bank_size = 10000
}

# Classified every 50 iterations from 100 records on, and diagnostics.png
# rewritten every 100, since a collapse can end a run within a few hundred
# iterations (segment: about 250).
stage "diagnostics" {
  plugin       = "diag-oscillation"
  epsilon      = local.epsilon
  every        = 50
  min_records  = 100
  report_every = 100
}

train {
  iterations       = var.iterations
  seed             = var.seed
  batch            = 100
  checkpoint_every = var.checkpoint_every
  keep_checkpoints = var.keep_checkpoints
  sample_every     = var.sample_every
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [stage.diagnostics]
}
