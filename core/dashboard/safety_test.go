package dashboard

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathsOutsideAreRefused: .., absolute paths, symlinks pointing out
// of the served folder and files the dashboard does not show are refused;
// a symlink inside the folder works; nothing but GET and HEAD is answered.
func TestPathsOutsideAreRefused(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "runs")
	secret := filepath.Join(base, "secret")
	writeRun(t, filepath.Join(root, "r"), 10, 10, nil)
	writeRun(t, secret, 10, 10, nil) // a run folder outside the served one
	os.WriteFile(filepath.Join(base, "secret.png"), []byte("secret"), 0o644)
	os.MkdirAll(filepath.Join(root, "r", "samples"), 0o755)
	os.WriteFile(filepath.Join(root, "r", "samples", "negatives-000000010.png"), []byte("png"), 0o644)
	os.MkdirAll(filepath.Join(root, "r", "checkpoints", "000000010"), 0o755)
	os.WriteFile(filepath.Join(root, "r", "checkpoints", "000000010", "energy.safetensors"), []byte("weights"), 0o644)
	must(t, os.Symlink(filepath.Join(base, "secret.png"), filepath.Join(root, "r", "samples", "abs-000000001.png")))
	must(t, os.Symlink("../../../secret.png", filepath.Join(root, "r", "samples", "rel-000000002.png")))
	must(t, os.Symlink("negatives-000000010.png", filepath.Join(root, "r", "samples", "inside-000000003.png")))
	must(t, os.Symlink(secret, filepath.Join(root, "linked")))
	must(t, os.Symlink("../secret", filepath.Join(root, "rellinked")))
	_, hs := serve(t, root)

	file := func(id, p string) string {
		return hs.URL + "/file?id=" + url.QueryEscape(id) + "&path=" + url.QueryEscape(p)
	}
	refused := map[string]string{
		"dotdot path":             file("0/r", "../../secret.png"),
		"dotdot in the middle":    file("0/r", "samples/../../../secret.png"),
		"absolute path":           file("0/r", filepath.Join(base, "secret.png")),
		"dotdot id":               file("0/..", "secret.png"),
		"absolute id":             file("0/"+secret, "manifest.json"),
		"unknown root":            file("7/r", "manifest.json"),
		"absolute symlink":        file("0/r", "samples/abs-000000001.png"),
		"relative symlink out":    file("0/r", "samples/rel-000000002.png"),
		"symlinked run folder":    file("0/linked", "manifest.json"),
		"relative symlinked run":  file("0/rellinked", "manifest.json"),
		"a checkpoint":            file("0/r", "checkpoints/000000010/energy.safetensors"),
		"backslashes":             file("0/r", `samples\..\..\..\secret.png`),
		"metrics of a dotdot id":  hs.URL + "/api/metrics?id=" + url.QueryEscape("0/../secret"),
		"run page of a symlink":   hs.URL + "/api/run?id=" + url.QueryEscape("0/linked"),
		"compare with a dotdot":   hs.URL + "/api/compare?metric=d_st&ids=" + url.QueryEscape("0/r,0/../secret"),
		"metrics of an absolute":  hs.URL + "/api/metrics?id=" + url.QueryEscape("0/"+secret),
		"static file outside":     hs.URL + "/../../secret.png",
		"static dotdot (encoded)": hs.URL + "/%2e%2e/%2e%2e/secret.png",
	}
	for name, u := range refused {
		code, body := get(t, u, nil)
		if code < 400 || body == "secret" || strings.Contains(body, "train {}") {
			t.Errorf("%s: %s answered %d %q", name, u, code, body)
		}
		t.Logf("%s: %d %s", name, code, strings.TrimSpace(body))
	}
	if code, body := get(t, file("0/r", "samples/inside-000000003.png"), nil); code != 200 || body != "png" {
		t.Errorf("a symlink inside the folder: %d %q", code, body)
	}
	if code, body := get(t, file("0/r", "samples/negatives-000000010.png"), nil); code != 200 || body != "png" {
		t.Errorf("a sample grid: %d %q", code, body)
	}
	var l RunList
	get(t, hs.URL+"/api/runs", &l)
	if len(l.Runs) != 1 || l.Runs[0].Name != "r" {
		t.Errorf("the scan followed a symlink: %+v", l.Runs)
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		req, _ := http.NewRequest(method, hs.URL+"/api/runs", nil)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", method, r.StatusCode)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
