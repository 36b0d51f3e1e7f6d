package main

import (
	"fmt"
	"maps"
	"slices"
)

const mb = 1 << 20

// order lists the processes in the tables.
var order = []string{"host", "sampler-langevin", "energy-convnet", "data-mnist", "diag-oscillation"}

func others(p peaks) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if !slices.Contains(order, k) {
			out = append(out, k)
		}
	}
	return out
}

func printText(r result) {
	fmt.Printf("size %dx%d: bank %.0f MB, checkpoint %.0f MB (load %s -> %s)\n", r.size, r.size, float64(r.bank)/mb, float64(r.ckpt)/mb, r.uptimeA, r.uptime)
	fmt.Printf("  disk: write %.0f MB/s (synced), read %.0f MB/s (O_DIRECT)\n", r.diskW/mb, r.diskR/mb)
	fmt.Printf("  checkpoint write %.3f s = %.0f MB/s (%.2fx the disk's time), load %.3f s = %.0f MB/s (%.2fx)\n",
		r.write, float64(r.ckpt)/r.write/mb, r.write/(float64(r.ckpt)/r.diskW),
		r.read, float64(r.ckpt)/r.read/mb, r.read/(float64(r.ckpt)/r.diskR))
	for _, phase := range []struct {
		name string
		p    peaks
	}{{"run", r.run}, {"resume", r.resume}} {
		fmt.Printf("  peak RSS, %s:", phase.name)
		for _, k := range append(slices.Clone(order), others(phase.p)...) {
			if v, ok := phase.p[k]; ok {
				fmt.Printf(" %s %.0f MB", k, float64(v)/mb)
			}
		}
		if s, ok := phase.p["sampler-langevin"]; ok {
			fmt.Printf(" (sampler/bank %.2f)", float64(s)/float64(r.bank))
		}
		fmt.Println()
	}
}

func printMarkdown(rs []result) {
	fmt.Println("| size | bank MB | phase | host | sampler | sampler / bank | energy | data | diagnostics |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		for _, phase := range []struct {
			name string
			p    peaks
		}{{"run", r.run}, {"resume", r.resume}} {
			p := phase.p
			fmt.Printf("| %dx%d | %.0f | %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.0f |\n", r.size, r.size, float64(r.bank)/mb, phase.name,
				float64(p["host"])/mb, float64(p["sampler-langevin"])/mb, float64(p["sampler-langevin"])/float64(r.bank),
				float64(p["energy-convnet"])/mb, float64(p["data-mnist"])/mb, float64(p["diag-oscillation"])/mb)
		}
	}
	fmt.Println()
	fmt.Println("| size | checkpoint MB | disk write MB/s | write s | write MB/s | write / disk time | disk read MB/s | load s | load MB/s | load / disk time | load average |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %dx%d | %.0f | %.0f | %.3f | %.0f | %.2f | %.0f | %.3f | %.0f | %.2f | %s -> %s |\n", r.size, r.size, float64(r.ckpt)/mb,
			r.diskW/mb, r.write, float64(r.ckpt)/r.write/mb, r.write/(float64(r.ckpt)/r.diskW),
			r.diskR/mb, r.read, float64(r.ckpt)/r.read/mb, r.read/(float64(r.ckpt)/r.diskR), r.uptimeA, r.uptime)
	}
}
