# mnist-torch.hcl: pipelines/quickstart.hcl with the VanillaNet energy
# computed by torch-energy (PyTorch): short-run non-convergent learning on
# MNIST at 28x28 (Adam 1e-4, eps = 0.01, 30 Langevin steps from uniform
# noise). On a CPU each Langevin step costs about what energy-convnet's does
# plus the crossing of the process boundary; on a GPU (-var device=cuda)
# the energy runs there while ebmflow orchestrates.
#
# Run: bin/ebmflow run examples/torch-energy/mnist-torch.hcl
# GPU: bin/ebmflow run -var device=cuda examples/torch-energy/mnist-torch.hcl

plugin "torch-energy" {
  source = "ebmflow-plugin-torch-energy" # the script beside this file
}

variable "device" {
  type        = string
  default     = "cpu"
  description = "where PyTorch computes the energy: cpu, cuda or auto"
}

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
  plugin     = "torch-energy"
  net        = "vanilla"
  image_size = 28
  n_f        = var.n_f
  epsilon    = local.epsilon
  optimizer  = "adam"
  device     = var.device
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
