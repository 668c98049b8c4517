package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/photobench/photobench/internal/atomicfile"
)

// entries lists dir's names, failing the test if it cannot.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		perm os.FileMode
		opts func(tmp string) []atomicfile.Option
	}{
		{"defaults", 0o644, func(string) []atomicfile.Option { return nil }},
		{"private", 0o600, func(string) []atomicfile.Option { return nil }},
		{"temp dir, no sync", 0o600, func(tmp string) []atomicfile.Option {
			return []atomicfile.Option{atomicfile.TempDir(tmp), atomicfile.Sync(false)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tmp := filepath.Join(root, "tmp")
			if err := os.Mkdir(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "a", "b", "file")
			for _, content := range []string{"first", "second, longer"} { // a new file, then a replacement
				if err := atomicfile.Write(path, []byte(content), tt.perm, tt.opts(tmp)...); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil || string(got) != content {
					t.Fatalf("read %q, %v; want %q", got, err, content)
				}
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tt.perm {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tt.perm)
			}
			if names := entries(t, filepath.Dir(path)); len(names) != 1 {
				t.Errorf("%s holds %q, want the file alone", filepath.Dir(path), names)
			}
			if names := entries(t, tmp); len(names) != 0 {
				t.Errorf("temp dir holds %q, want nothing", names)
			}
		})
	}
}

// A write that fails leaves the old content and no temporary file.
func TestWriteFailureKeepsTheOldFile(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "file")
	if err := atomicfile.Write(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory where the file should go makes the rename fail.
	dir := filepath.Join(root, "dir")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(dir, []byte("new"), 0o644); err == nil {
		t.Error("writing over a non-empty directory succeeded")
	}
	if err := atomicfile.Write(path, []byte("new"), 0o644, atomicfile.TempDir(filepath.Join(root, "missing"))); err == nil {
		t.Error("writing through a missing temp dir succeeded")
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "old" {
		t.Errorf("read %q, %v; want the old content", got, err)
	}
	if names := entries(t, root); len(names) != 2 {
		t.Errorf("%s holds %q, want the file and the directory alone", root, names)
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.json")
	if err := atomicfile.WriteJSON(path, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if want := "{\n  \"a\": 1\n}\n"; err != nil || string(got) != want {
		t.Errorf("read %q, %v; want %q", got, err, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("stat %v, %v; want mode 0644", st, err)
	}
}
