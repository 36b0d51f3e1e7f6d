// Package sweep runs one pipeline at many points of its variables: a grid
// and a list of explicit points, each point an ordinary ebmflow run in its
// own run folder under one sweep folder. Points run as subprocesses of the
// ebmflow binary, K at a time on this machine (the local executor), or as
// one Slurm job array (the slurm executor); ebmflow keeps no scheduler of
// its own.
//
// A sweep is declared in HCL, in the pipeline file itself or in a separate
// file:
//
//	sweep {
//	  name     = "eps"          # default: the file's base name
//	  parallel = 4              # points at once (default 2)
//	  grid {                    # every combination, the last variable fastest
//	    epsilon = [0.01, 0.1]
//	    lr      = [0.1, 0.01]
//	  }
//	  points = [                # explicit points, after the grid's
//	    { epsilon = 0.5, lr = 0.3 },
//	  ]
//	}
//
//	slurm {                     # the slurm executor's job (all optional)
//	  partition = "gpu"
//	  time      = "02:00:00"    # sbatch --time
//	  cpus      = 4             # --cpus-per-task (default 1)
//	  memory    = "8G"          # --mem
//	  gpus      = 1             # --gpus-per-task
//	  account   = "proj42"
//	  setup     = ["module load cuda"]   # shell lines before the run
//	  options   = ["--qos=short"]        # extra sbatch options
//	}
//
// The pipeline parser does not know these blocks: Split removes them and the
// points run the remaining text, written as pipeline.hcl in the sweep
// folder. The sweep folder holds:
//
//	sweep.json          the plan, the executor and every submission
//	pipeline.hcl        the pipeline without its sweep and slurm blocks
//	ebmflow.lock.hcl    the plugins pinned once for every point
//	vars/NAME.hcl       each point's variables (ebmflow run -var-file)
//	runs/NAME/          each point's run folder
//	logs/NAME.log       each point's output, every attempt appended
//	status/NAME.json    each point's last attempt: host, pids, job, exit code
//	job.sh              the Slurm batch script
//	results.{csv,md,png} what collect writes
package sweep
