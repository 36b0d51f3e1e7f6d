# mnist-convergent.hcl: convergent maximum-likelihood learning of MNIST with
# the appendix's recipe: the scaled energy U = F / (eps^2/2) (so the Langevin
# update is x <- x - dF/dx + eps z), SGD without momentum, the learning rate
# annealed from 0.05 to 0.0005 over 100,000 updates (appendix B), data noise
# eps_data = 2 eps (appendix C), eps = 7.5e-3, L = 500 steps from a
# persistent bank of one chain per training image. Long runs from the
# trained model should keep realistic digits, and the diagnostics should
# show weak oscillation with r_t settling in [0.08, 0.15].
#
# The reference's convergent MNIST config uses its NonlocalNet; ebmflow's
# energy-convnet has the VanillaNet, used here (reference.md "Networks").
#
# Set -var data_noise_factor=0 to remove the data noise: appendix C predicts
# that learning then collapses (d_st -> -infinity).
#
# Cost: 500 x 100 = 50,000 image-steps of dF/dx per iteration; see
# docs/performance.md. Shrink it with -var, e.g.
#   ebmflow run -var iterations=200 -var steps=20 -var subset=1000 pipelines/mnist-convergent.hcl

variable "iterations" {
  type    = number
  default = 100000
}

variable "steps" {
  type    = number
  default = 500
}

variable "n_f" {
  type    = number
  default = 32
}

variable "size" {
  type        = number
  default     = 32
  description = "image side in pixels: 32 (the reference's), 28 (native) or 64 (upsampled bilinearly)"
}

variable "batch" {
  type    = number
  default = 100
}

variable "subset" {
  type        = number
  default     = 0
  description = "use only the first N training images (0: all 60,000); the bank has one chain per image"
}

variable "data_noise_factor" {
  type        = number
  default     = 2
  description = "eps_data = data_noise_factor * eps (appendix C uses 2; 0 removes the data noise)"
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

variable "lr_initial" {
  type        = number
  default     = 0.05
  description = "learning rate of the first update, annealed to 0.0005 over 100,000 updates (appendix B)"
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
  epsilon = 0.0075
}

schedule "lr" {
  type    = "exp"
  initial = var.lr_initial
  # (0.0005 / initial)^(1 / 100000): initial at the first update, 0.0005 after 100,000.
  decay = pow(0.0005 / var.lr_initial, 1 / 100000)
  min   = 0.0005
}

stage "data" {
  plugin     = "data-mnist"
  size       = var.size
  resize     = "bilinear"
  data_noise = var.data_noise_factor * local.epsilon
  subset     = var.subset
}

stage "energy" {
  plugin     = "energy-convnet"
  net        = "vanilla"
  channels   = 1
  image_size = var.size
  n_f        = var.n_f
  epsilon    = local.epsilon
  optimizer  = "sgd"
}

stage "sampler" {
  plugin  = "sampler-langevin"
  energy  = stage.energy
  data    = stage.data
  epsilon = local.epsilon
  steps   = var.steps
  batch   = var.batch
  init    = "persistent"
}

stage "diagnostics" {
  plugin        = "diag-oscillation"
  data          = stage.data
  sampler       = stage.sampler
  quality_every = var.quality_every
  # the evaluation's chains come from the bank, which holds one per image
  quality_samples = var.subset > 0 ? min(var.quality_samples, var.subset) : var.quality_samples
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
