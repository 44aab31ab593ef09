package registry

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzUnzip unpacks any bytes as a plugin archive. It must not panic,
// nothing is written outside the folder it unpacks into, nor anything
// but regular files at its top; and what it writes is, byte for byte, a
// top-level member of the archive.
func FuzzUnzip(f *testing.F) {
	good, err := zipFile("vigil-exporter-node_linux_amd64", []byte("\x7fELF a plugin"), true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(zipOf(f, map[string]string{"../escape": "x", "/abs": "y", `a\b`: "z", "dir/": "", "dir/nested": "n", "..": "d", "ok": "fine"}))
	f.Add(zipOf(f, map[string]string{"twice": "1"}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte("not a zip"))

	f.Fuzz(func(t *testing.T, archive []byte) {
		root := t.TempDir()
		path := filepath.Join(root, "plugin.zip")
		if err := os.WriteFile(path, archive, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(root, "unpacked")
		unzipErr := unzip(path, out)
		// The archive's members, and the content of those that read
		// whole: a file of a failed unzip may be cut short.
		members := map[string][]byte{}
		if zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive))); err == nil {
			for _, zf := range zr.File {
				if _, dup := members[zf.Name]; dup {
					continue
				}
				members[zf.Name] = nil
				if r, err := zf.Open(); err == nil {
					if b, err := io.ReadAll(io.LimitReader(r, 1<<20)); err == nil {
						members[zf.Name] = b
					}
					r.Close()
				}
			}
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			switch {
			case rel == "." || rel == "plugin.zip" || rel == "unpacked":
				return nil
			case filepath.Dir(rel) != "unpacked":
				t.Fatalf("unzip wrote %s, outside the folder it unpacks into", rel)
			case !d.Type().IsRegular():
				t.Fatalf("unzip wrote %s, of type %v, not a regular file", rel, d.Type())
			}
			got, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			want, ok := members[d.Name()]
			if !ok {
				t.Fatalf("unzip wrote %s, which is no member of the archive", rel)
			}
			if unzipErr == nil && !bytes.Equal(got, want) {
				t.Fatalf("unzip wrote %s as %q, the member holds %q", rel, got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// zipOf is an archive of the given members, in the order of their names;
// a name ending in "/" is a folder.
func zipOf(f *testing.F, members map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(members)) {
		w, err := zw.Create(name)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := io.WriteString(w, members[name]); err != nil {
			f.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}
