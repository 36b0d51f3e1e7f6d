package host

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ebmflow/ebmflow/sdk"
)

// Resolver finds a pipeline's plugin binaries and checks them against the
// lock file beside the pipeline. It is the one place that decides which
// binary serves a plugin name: every command that loads a pipeline, and
// `ebmflow init`, resolve through it.
type Resolver struct {
	// Dir is the pipeline's folder: relative sources and plugins/ are
	// looked up from it, and the lock file lives in it.
	Dir      string
	LockPath string
	// Upgrade accepts a binary whose hash differs from its pin and pins the
	// new hash (`ebmflow init -upgrade`); otherwise such a binary is refused.
	Upgrade bool

	// Mismatch is the last binary refused because its hash differs from
	// its pin, if any.
	Mismatch *ErrLockMismatch

	ctx   context.Context
	bins  map[string]Binary
	lock  *Lock
	dirty bool
}

// NewRunResolver resolves a run's plugins against the hashes its manifest
// records (pins, by plugin name; what names the manifest in messages)
// instead of a lock file: a resumed run continues only with the binaries
// it was made with. It writes nothing; Commit is a no-op.
func NewRunResolver(ctx context.Context, dir, what string, pins map[string]LockEntry) *Resolver {
	return &Resolver{Dir: dir, ctx: ctx, bins: map[string]Binary{}, lock: &Lock{Path: what, Plugins: pins, run: true}}
}

// NewResolver returns a Resolver for a pipeline in dir, reading the lock
// file there.
func NewResolver(ctx context.Context, dir string, upgrade bool) (*Resolver, error) {
	r := &Resolver{Dir: dir, LockPath: filepath.Join(dir, LockFileName), Upgrade: upgrade, ctx: ctx, bins: map[string]Binary{}}
	lock, diags := ReadLock(r.LockPath)
	if diags.HasErrors() {
		return nil, fmt.Errorf("lock file: %s", diags.Error())
	}
	r.lock = lock
	return r, nil
}

// Resolve finds the plugin name: at source when it is set (a plugin
// block's source, relative to Dir), else by discovery (Find). It hashes the
// binary, checks the hash against the lock file, runs its describe command
// and checks its protocol. A plugin not yet pinned, or (with Upgrade) pinned
// to another hash or version, is pinned in memory; Commit writes the lock
// file. A name is resolved once; later calls return the same binary. Errors
// name the binary's path but not always the plugin (an ErrLockMismatch
// does); callers say which stage or plugin failed.
func (r *Resolver) Resolve(name, source string) (Binary, error) {
	if b, ok := r.bins[name]; ok {
		return b, nil
	}
	var path string
	var err error
	if source != "" {
		path = source
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.Dir, path)
		}
	} else if path, err = Find(name, r.Dir); err != nil {
		return Binary{}, err
	}
	b := Binary{Name: name, Path: path}
	if b.SHA256, err = PluginSHA256(path); err != nil {
		return Binary{}, err
	}
	pinned, mismatch := r.lock.Check(b)
	if mismatch != nil && !r.Upgrade {
		r.Mismatch, _ = mismatch.(*ErrLockMismatch)
		return Binary{}, mismatch
	}
	if b.Description, err = DescribeBinary(r.ctx, path); err != nil {
		return Binary{}, err
	}
	if b.Description.Info.Protocol != sdk.ProtocolVersion {
		return Binary{}, fmt.Errorf("%s speaks plugin protocol %d; this ebmflow speaks %d",
			path, b.Description.Info.Protocol, sdk.ProtocolVersion)
	}
	if e := r.lock.Plugins[name]; !pinned || r.Upgrade && (e.SHA256 != b.SHA256 || e.Version != b.Description.Info.Version) {
		r.lock.Set(b)
		r.dirty = true
	}
	r.bins[name] = b
	return b, nil
}

// Binary returns a resolved binary (the zero Binary if name was not
// resolved).
func (r *Resolver) Binary(name string) Binary { return r.bins[name] }

// Binaries returns every resolved binary by plugin name.
func (r *Resolver) Binaries() map[string]Binary { return r.bins }

// Commit writes the lock file if anything was pinned since it was read.
// Commands that only check a pipeline (validate, graph, score) never call
// it; run, sweep and init do.
func (r *Resolver) Commit() error {
	if !r.dirty || r.lock.run {
		return nil
	}
	if err := r.lock.Write(); err != nil {
		return fmt.Errorf("write %s: %w", r.LockPath, err)
	}
	r.dirty = false
	return nil
}
