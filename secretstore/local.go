package secretstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// LocalDir is the folder, relative to the repository root, that holds local secret files.
// It is listed in .gitignore.
const LocalDir = ".secrets"

// Local keeps values in JSON files under a folder, one file per parameter path:
// parameter /persona/dev/MyApiKey lives in <dir>/persona/dev.json under the key MyApiKey.
// Files are readable by their owner only (0600).
type Local struct {
	dir string
}

// NewLocal returns a store that keeps its files under dir.
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// Get implements Store.
func (l *Local) Get(_ context.Context, parameters []string) (map[string]string, error) {
	out := map[string]string{}
	files := map[string]map[string]string{}
	for _, p := range parameters {
		file, key, err := l.locate(p)
		if err != nil {
			return nil, err
		}
		values, ok := files[file]
		if !ok {
			if values, err = readFile(file); err != nil {
				return nil, err
			}
			files[file] = values
		}
		if v, ok := values[key]; ok {
			out[p] = v
		}
	}
	return out, nil
}

// Present implements Store.
func (l *Local) Present(ctx context.Context, parameters []string) (map[string]bool, error) {
	values, err := l.Get(ctx, parameters)
	if err != nil {
		return nil, err
	}
	present := make(map[string]bool, len(values))
	for p := range values {
		present[p] = true
	}
	return present, nil
}

// Put implements Store. Each file is replaced in one rename, so a file is never half written.
func (l *Local) Put(_ context.Context, values map[string]string) error {
	files := map[string]map[string]string{}
	for p, v := range values {
		file, key, err := l.locate(p)
		if err != nil {
			return err
		}
		contents, ok := files[file]
		if !ok {
			if contents, err = readFile(file); err != nil {
				return err
			}
			files[file] = contents
		}
		contents[key] = v
	}
	for file, contents := range files {
		if err := writeFile(file, contents); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, parameter string) (bool, error) {
	file, key, err := l.locate(parameter)
	if err != nil {
		return false, err
	}
	contents, err := readFile(file)
	if err != nil {
		return false, err
	}
	if _, ok := contents[key]; !ok {
		return false, nil
	}
	delete(contents, key)
	return true, writeFile(file, contents)
}

func (l *Local) locate(parameter string) (file, key string, err error) {
	dir, key := path.Split(parameter)
	if !strings.HasPrefix(parameter, "/") || path.Clean(parameter) != parameter || key == "" || dir == "/" {
		return "", "", fmt.Errorf("secret parameter %q is not a path like /app/stage/Name", parameter)
	}
	return filepath.Join(l.dir, filepath.FromSlash(strings.Trim(dir, "/"))+".json"), key, nil
}

func readFile(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading local secrets: %w", err)
	}
	values := map[string]string{}
	if err := json.Unmarshal(data, &values); err != nil {
		// The decoder's message may quote file contents, which are secret.
		return nil, fmt.Errorf("local secrets file %s is not a JSON object of strings: fix or delete it", file)
	}
	return values, nil
}

func writeFile(file string, values map[string]string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("creating local secrets folder: %w", err)
	}
	data, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding local secrets: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing local secrets: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600; chmod again in case a umask or filesystem differs.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing local secrets: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing local secrets: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing local secrets: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("writing local secrets: %w", err)
	}
	return nil
}
