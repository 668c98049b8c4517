package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A synced write flushes the directory that holds the new name, and the
// parent of every directory it made on the way; an unsynced one flushes
// none. What a power cut would keep is beyond a test's reach: this checks
// which directories are flushed.
func TestWriteSyncsDirectories(t *testing.T) {
	var synced []string
	real := syncDir
	syncDir = func(dir string) error { synced = append(synced, dir); return real(dir) }
	t.Cleanup(func() { syncDir = real })

	root := t.TempDir()
	tmp := filepath.Join(root, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		opts []Option
		want []string
	}{
		{"new directories", filepath.Join(root, "a", "b", "f"), []Option{TempDir(tmp)},
			[]string{filepath.Join(root, "a", "b"), filepath.Join(root, "a"), root}},
		{"existing directory", filepath.Join(root, "a", "b", "g"), []Option{TempDir(tmp)},
			[]string{filepath.Join(root, "a", "b")}},
		{"replacing a file", filepath.Join(root, "a", "b", "g"), nil,
			[]string{filepath.Join(root, "a", "b")}},
		{"no sync", filepath.Join(root, "c", "h"), []Option{Sync(false)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synced = nil
			if err := Write(tt.path, []byte("x"), 0o600, tt.opts...); err != nil {
				t.Fatal(err)
			}
			slices.Sort(synced)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(synced, want) {
				t.Errorf("synced %v, want %v", synced, want)
			}
		})
	}
}
