# toy-gmm-torch.hcl: pipelines/toy-gmm.hcl with the energy computed by
# torch-energy (PyTorch) in place of energy-convnet. The same seed draws the
# same initial weights in both, so the two runs start alike and differ only
# by floating-point rounding; docs/plugins-python.md compares their TV.
#
# Run (from the repository, after go build -o bin/ ./cmd/ebmflow ./plugins/...):
#   bin/ebmflow run examples/torch-energy/toy-gmm-torch.hcl
# Small: bin/ebmflow run -var iterations=200 -var steps=50 -var density_every=100 examples/torch-energy/toy-gmm-torch.hcl
# On a GPU: -var device=cuda (or auto).

plugin "torch-energy" {
  source = "ebmflow-plugin-torch-energy" # the script beside this file
}

variable "device" {
  type        = string
  default     = "cpu"
  description = "where PyTorch computes the energy: cpu, cuda or auto"
}

variable "mode" {
  type        = string
  default     = "convergent"
  description = "convergent (persistent bank, SGD) or nonconvergent (short-run from noise, Adam)"
  validation {
    condition     = contains(["convergent", "nonconvergent"], var.mode)
    error_message = "mode must be convergent or nonconvergent."
  }
}

variable "iterations" {
  type    = number
  default = 20000
}

variable "steps" {
  type        = number
  default     = 0
  description = "Langevin steps per iteration; 0 means the reference's (500 convergent, 100 non-convergent)"
}

variable "checkpoint_every" {
  type    = number
  default = 1000
}

variable "sample_every" {
  type        = number
  default     = 1000
  description = "iterations between sample grids and diagnostics reports"
}

variable "density_every" {
  type        = number
  default     = 1000
  description = "iterations between density evaluations (TV, density.png); they never change training"
}

variable "seed" {
  type    = number
  default = 123
}

locals {
  convergent = var.mode == "convergent"
  epsilon    = local.convergent ? 0.125 : 0.01
  steps      = var.steps > 0 ? var.steps : (local.convergent ? 500 : 100)
}

schedule "lr" {
  type    = "constant"
  initial = local.convergent ? 0.1 : 0.0001
}

stage "data" {
  plugin  = "data-mnist"
  dataset = "gmm"
}

stage "energy" {
  plugin    = "torch-energy"
  net       = "toy"
  epsilon   = local.epsilon
  optimizer = local.convergent ? "sgd" : "adam"
  device    = var.device
}

stage "sampler" {
  plugin    = "sampler-langevin"
  energy    = stage.energy
  epsilon   = local.epsilon
  steps     = local.steps
  batch     = 100
  init      = local.convergent ? "persistent" : "gaussian"
  bank_size = 10000
}

stage "diagnostics" {
  plugin        = "diag-oscillation"
  energy        = stage.energy
  data          = stage.data
  sampler       = stage.sampler
  epsilon       = local.epsilon
  density_every = var.density_every
}

train {
  iterations       = var.iterations
  seed             = var.seed
  batch            = 100
  checkpoint_every = var.checkpoint_every
  sample_every     = var.sample_every
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [stage.diagnostics]
}
