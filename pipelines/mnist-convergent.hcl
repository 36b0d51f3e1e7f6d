# mnist-convergent.hcl: convergent maximum-likelihood learning of MNIST with
# the reference's convergent MNIST config (config_locker/mnist_convergent.json
# of point0bar1/ebm-anatomy): its NonlocalNet energy (n_f 32, 1x32x32), the
# scaled energy U = F / (eps^2/2) (so the Langevin update is
# x <- x - dF/dx + eps z), SGD without momentum at a constant learning rate
# of 0.01, eps = 7.5e-3, data noise eps_data = 0.015 = 2 eps (appendix C;
# the reference adds data_epsilon * N(0, I) to images in [-1, 1]), L = 500
# steps from a persistent bank of one chain per training image. Long runs
# from the trained model should keep realistic digits, and the diagnostics
# should show weak oscillation with r_t settling in [0.08, 0.15].
#
# The learning rate: the reference multiplies its SGD rate lr_init by
# eps^2/2 and its loss by 2/eps^2, so its step on the raw energy difference
# mean F(x+) - mean F(x-) is lr_init; energy-convnet's sgd steps on that
# same difference with the schedule's rate, so lr = lr_init = 0.01 (as
# toy-gmm.hcl's 0.1 is the reference toy config's lr_init).
#
# Options: -var net=vanilla for the VanillaNet; -var lr_schedule=anneal for
# appendix B's exponential anneal from lr to lr_final (0.0005) over
# anneal_updates (100,000) updates
# (the reference's data_config.json default, with lr=0.05); -var
# data_noise_factor=0 removes the data noise: appendix C predicts that
# learning then collapses (d_st -> -infinity); -var epsilon=0.015 gives
# the noise at which appendix A states r_t's band [0.08, 0.15].
#
# Cost: 500 x 100 = 50,000 image-steps of dF/dx per iteration; see
# docs/performance.md. Shrink it with -var, e.g.
#   ebmflow run -var iterations=200 -var steps=20 -var subset=1000 pipelines/mnist-convergent.hcl

variable "net" {
  type        = string
  default     = "nonlocal"
  description = "energy network: nonlocal (the reference's NonlocalNet for this config) or vanilla (VanillaNet)"
  validation {
    condition     = contains(["nonlocal", "vanilla"], var.net)
    error_message = "net must be nonlocal or vanilla."
  }
}

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
  description = "image side in pixels: 32 (the reference's; the only size of the nonlocal net), 28 (native) or 64 (upsampled bilinearly), for the vanilla net"
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

variable "epsilon" {
  type        = number
  default     = 0.0075
  description = "Langevin noise eps (the reference's 0.0075; appendix A states its r_t band [0.08, 0.15] for 0.015); the data noise is data_noise_factor * eps"
  validation {
    condition     = var.epsilon > 0
    error_message = "epsilon must be positive."
  }
}

variable "data_noise_factor" {
  type        = number
  default     = 2
  description = "eps_data = data_noise_factor * eps: 2 gives the reference's 0.015 (appendix C); 0 removes the data noise"
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

variable "lr" {
  type        = number
  default     = 0.01
  description = "SGD learning rate (the reference's lr_init): constant, or the first rate of the anneal"
}

variable "lr_schedule" {
  type        = string
  default     = "constant"
  description = "constant (the reference's config) or anneal (exponential, from lr to lr_final over anneal_updates updates, appendix B)"
  validation {
    condition     = contains(["constant", "anneal"], var.lr_schedule)
    error_message = "lr_schedule must be constant or anneal."
  }
}

variable "lr_final" {
  type        = number
  default     = 0.0005
  description = "with lr_schedule = anneal: the rate reached after anneal_updates updates and kept after (appendix B's 0.0005)"
  validation {
    condition     = var.lr_final > 0
    error_message = "lr_final must be positive."
  }
}

variable "anneal_updates" {
  type        = number
  default     = 100000
  description = "with lr_schedule = anneal: updates from lr to lr_final (appendix B's about 100,000)"
  validation {
    condition     = var.anneal_updates >= 1
    error_message = "anneal_updates must be at least 1."
  }
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
  epsilon = var.epsilon
  anneal  = var.lr_schedule == "anneal"
}

schedule "lr" {
  type    = local.anneal ? "exp" : "constant"
  initial = var.lr
  # (lr_final / lr)^(1 / anneal_updates): lr at the first update, lr_final
  # after anneal_updates (0 leaves decay and min unset for the constant
  # schedule).
  decay = local.anneal ? pow(var.lr_final / var.lr, 1 / var.anneal_updates) : 0
  min   = local.anneal ? var.lr_final : 0
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
  net        = var.net
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
