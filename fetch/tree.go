package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
)

// findModuleDir walks up from dir to the nearest directory holding go.mod,
// never above stop when stop is not "".
func findModuleDir(dir, stop string) (string, error) {
	for d := dir; ; {
		if fi, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && fi.Mode().IsRegular() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d || d == stop {
			break
		}
		d = parent
	}
	return "", &NoModuleError{Dir: dir}
}

// NoModuleError says that a local directory is not inside a Go module.
type NoModuleError struct{ Dir string }

func (e *NoModuleError) Error() string {
	return fmt.Sprintf("no go.mod found in %s or any parent", e.Dir)
}

// importPath returns the import path of pkgDir inside the module at modDir.
func importPath(modDir, pkgDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(modDir, "go.mod"))
	if err != nil {
		return "", err
	}
	mod := modfile.ModulePath(data)
	if mod == "" {
		return "", fmt.Errorf("%s: no module statement", filepath.Join(modDir, "go.mod"))
	}
	rel, err := filepath.Rel(modDir, pkgDir)
	if err != nil {
		return "", err
	}
	if rel == "." {
		return mod, nil
	}
	return path.Join(mod, filepath.ToSlash(rel)), nil
}

// within reports whether p is root or inside it (both cleaned, absolute).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveSubdir returns the real directory root/sub, refusing anything that
// leaves root through "..", an absolute name or a symlink.
func resolveSubdir(root, sub string) (string, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	if sub == "" {
		return realRoot, nil
	}
	if err := checkSubdir(sub); err != nil {
		return "", err
	}
	// os.Root refuses any symlink on the way that leads out of the root,
	// even one whose target beyond the root does not exist.
	r, err := os.OpenRoot(realRoot)
	if err != nil {
		return "", err
	}
	_, err = r.Stat(filepath.FromSlash(sub))
	r.Close()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("subdirectory %q not found", sub)
		}
		return "", fmt.Errorf("subdirectory %q leaves the fetched tree", sub)
	}
	p, err := filepath.EvalSymlinks(filepath.Join(realRoot, filepath.FromSlash(sub)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("subdirectory %q not found", sub)
		}
		return "", fmt.Errorf("subdirectory %q: %w", sub, err)
	}
	if !within(realRoot, p) {
		return "", fmt.Errorf("subdirectory %q leaves the fetched tree", sub)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("subdirectory %q is not a directory", sub)
	}
	return p, nil
}

// copyTree copies the regular files and directories of src into dst (which
// must not exist), making everything writable by the user. Symlinks and
// other special files are refused: module zips never contain them.
//
// Not os.CopyFS: it copies symlinks instead of refusing them, and it creates
// files 0666 and directories 0777 less the umask instead of the source's
// permissions plus u+rw and 0755.
func copyTree(dst, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.Mkdir(target, 0o755)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return copyFile(target, p, info.Mode().Perm()|0o600)
		default:
			return fmt.Errorf("copy %s: not a regular file", p)
		}
	})
}

func copyFile(dst, src string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// makeWritable adds u+w (and u+x on directories) throughout dir, so that the
// checkout can be prepared (go.mod and go.sum completed) and removed later.
func makeWritable(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := info.Mode().Perm() | 0o600
		if d.IsDir() {
			want |= 0o100
		}
		if want != info.Mode().Perm() {
			return os.Chmod(p, want)
		}
		return nil
	})
}

// hashTree returns "sha256:<hex>" over a readable manifest of dir: one line
// per regular file (content hash, executable bit, path) and per symlink
// (target, path). .git is left out.
func hashTree(dir string) (string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("link %q %q", t, rel))
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			sum, err := fileSHA256(p)
			if err != nil {
				return err
			}
			kind := "file"
			if info.Mode()&0o100 != 0 {
				kind = "exec"
			}
			lines = append(lines, fmt.Sprintf("%s %s %q", kind, sum, rel))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l+"\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isEmptyDir reports whether dir is missing or has no entries.
func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err != nil || len(entries) == 0
}
