package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File is one file of a content volume.
type File struct {
	Data []byte
	Mode int32
}

// Layout of a content volume, as the kubelet writes it so that programs
// watching for "..data" changes work unchanged:
//
//	..2026_11_22_10_00_00.123456789/   the current generation (real files)
//	..data -> ..2026_11_22_10_00_00.123456789
//	key -> ..data/key                  one link per top-level name
//
// A new generation is written in full, then "..data" is switched to it by
// renaming a fresh link over it (atomic), so a reader sees either the old
// or the new set of files, never a mix.
const (
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
)

// writeAtomic makes dir hold exactly files. It writes nothing when the
// current generation already matches.
func writeAtomic(dir string, files map[string]File, now time.Time) error {
	for p := range files {
		if err := validatePayloadPath(p); err != nil {
			return err
		}
	}
	oldGen, err := os.Readlink(filepath.Join(dir, dataDirName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dataDirName, err)
	}
	if oldGen != "" {
		same, err := generationMatches(filepath.Join(dir, oldGen), files)
		if err != nil {
			return err
		}
		if same {
			return linkTopLevel(dir, files)
		}
	}

	genPath, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return fmt.Errorf("create generation directory: %w", err)
	}
	if err := os.Chmod(genPath, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", genPath, err)
	}
	if err := writeGeneration(genPath, files); err != nil {
		_ = os.RemoveAll(genPath)
		return err
	}
	tmpLink := filepath.Join(dir, newDataDirName)
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(genPath), tmpLink); err != nil {
		_ = os.RemoveAll(genPath)
		return fmt.Errorf("link new generation: %w", err)
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, dataDirName)); err != nil {
		_ = os.Remove(tmpLink)
		_ = os.RemoveAll(genPath)
		return fmt.Errorf("switch %s: %w", dataDirName, err)
	}
	if err := linkTopLevel(dir, files); err != nil {
		return err
	}
	return removeStale(dir, files)
}

// validatePayloadPath refuses paths that would leave the volume or clash
// with the layout's own names.
func validatePayloadPath(p string) error {
	if p == "" {
		return fmt.Errorf("invalid file path %q: must not be empty", p)
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("invalid file path %q: must be relative", p)
	}
	if len(p) > 4096 {
		return fmt.Errorf("invalid file path %q: longer than 4096 bytes", p)
	}
	if strings.HasPrefix(p, "..") {
		return fmt.Errorf("invalid file path %q: must not start with '..'", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return fmt.Errorf("invalid file path %q: must not contain '..'", p)
		}
		if len(el) > 255 {
			return fmt.Errorf("invalid file path %q: element longer than 255 bytes", p)
		}
	}
	return nil
}

func writeGeneration(gen string, files map[string]File) error {
	for p, f := range files {
		full := filepath.Join(gen, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.WriteFile(full, f.Data, fs.FileMode(f.Mode)&fs.ModePerm); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		// WriteFile's mode passes through the umask; set it exactly.
		if err := os.Chmod(full, fs.FileMode(f.Mode)&fs.ModePerm); err != nil {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// generationMatches reports whether gen holds exactly files, contents and
// modes alike.
func generationMatches(gen string, files map[string]File) (bool, error) {
	seen := 0
	mismatch := errors.New("mismatch")
	err := filepath.WalkDir(gen, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(gen, path)
		if err != nil {
			return err
		}
		want, ok := files[rel]
		if !ok {
			return mismatch
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != fs.FileMode(want.Mode)&fs.ModePerm {
			return mismatch
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(data, want.Data) {
			return mismatch
		}
		seen++
		return nil
	})
	if errors.Is(err, mismatch) || errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read current generation: %w", err)
	}
	return seen == len(files), nil
}

// topLevel returns the first path element of every file.
func topLevel(files map[string]File) map[string]bool {
	names := map[string]bool{}
	for p := range files {
		names[strings.SplitN(p, "/", 2)[0]] = true
	}
	return names
}

func linkTopLevel(dir string, files map[string]File) error {
	for name := range topLevel(files) {
		link := filepath.Join(dir, name)
		target := filepath.Join(dataDirName, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
	}
	return nil
}

// removeStale removes top-level links to names no longer written and
// every generation but the current one (the previous one, and any left by
// an interrupted write).
func removeStale(dir string, files map[string]File) error {
	want := topLevel(files)
	cur, _ := os.Readlink(filepath.Join(dir, dataDirName))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read volume directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == dataDirName || name == cur:
		case strings.HasPrefix(name, ".."):
			if e.IsDir() {
				if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
					return fmt.Errorf("remove old generation %s: %w", name, err)
				}
			}
		case e.Type()&fs.ModeSymlink != 0 && !want[name]:
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("remove stale link %s: %w", name, err)
			}
		}
	}
	return nil
}
