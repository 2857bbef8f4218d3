// Command synth measures synthesis: a warm `make synth` of all stages against the
// bare-jsii floor (bench/floor) in the same run, a warm synth that writes HCL too,
// a cold synth with empty build caches, and the size of each function's zip.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("runs", 5, "timed runs of the floor and of the warm synth")
	cold := flag.Bool("cold", true, "also time a synth with empty build caches (about 2 minutes)")
	flag.Parse()
	if err := run(*runs, *cold); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(runs int, cold bool) error {
	tmp, err := os.MkdirTemp("", "synth-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	floorBin := filepath.Join(tmp, "floor")
	if out, err := exec.Command("go", "build", "-o", floorBin, "./bench/floor").CombinedOutput(); err != nil {
		return fmt.Errorf("building the floor app: %v\n%s", err, out)
	}
	floorOut := filepath.Join(tmp, "floor.out")

	// One untimed synth so the warm runs find built functions.
	if _, err := command("make", "-s", "synth"); err != nil {
		return err
	}
	var floor, warm, hcl []time.Duration
	rebuilt := 0
	for i := 0; i < runs; i++ {
		d, err := timed(floorBin, floorOut)
		if err != nil {
			return err
		}
		floor = append(floor, d)
		start := time.Now()
		out, err := command("make", "-s", "synth")
		if err != nil {
			return err
		}
		warm = append(warm, time.Since(start))
		n, err := rebuiltCount(out)
		if err != nil {
			return err
		}
		rebuilt += n
		start = time.Now()
		cmd := exec.Command("./bin/persona", "synth", "--hcl")
		cmd.Env = append(os.Environ(), "CDKTF_OUTDIR="+filepath.Join(tmp, "hcl-out"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("synth --hcl: %v\n%s", err, out)
		}
		hcl = append(hcl, time.Since(start))
	}
	fmt.Printf("bare-jsii floor (1 provider, 1 resource): median %s  (runs %s)\n", median(floor), list(floor))
	fmt.Printf("warm make synth, all stages:               median %s  (runs %s)\n", median(warm), list(warm))
	fmt.Printf("ratio warm/floor:                          %.2fx (goal <= 1.3x)\n", median(warm).Seconds()/median(floor).Seconds())
	fmt.Printf("warm synth --hcl (JSON and HCL), all stages: median %s  (runs %s)\n", median(hcl), list(hcl))
	fmt.Printf("functions rebuilt by warm synths:          %d (goal 0)\n", rebuilt)

	if cold {
		coldDir := filepath.Join(tmp, "cold")
		cmd := exec.Command("./bin/persona", "synth")
		cmd.Env = append(os.Environ(),
			"BUILD_CACHE_DIR="+filepath.Join(coldDir, "lambda"),
			"GOCACHE="+filepath.Join(coldDir, "gocache"),
			"CDKTF_OUTDIR="+filepath.Join(coldDir, "out"))
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("cold synth: %v\n%s", err, out)
		}
		fmt.Printf("cold synth (empty Go and function caches): %s\n", time.Since(start).Round(100*time.Millisecond))
	}

	zips, err := filepath.Glob(".build/lambda/linux-arm64/*/*/bootstrap.zip")
	if err != nil {
		return err
	}
	sort.Strings(zips)
	for _, z := range zips {
		info, err := os.Stat(z)
		if err != nil {
			return err
		}
		fmt.Printf("zip %-40s %.2f MB (goal < 4 MB)\n", strings.TrimPrefix(filepath.Dir(z), ".build/lambda/linux-arm64/"), float64(info.Size())/(1<<20))
	}
	return nil
}

func command(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

func timed(name string, args ...string) (time.Duration, error) {
	start := time.Now()
	_, err := command(name, args...)
	return time.Since(start), err
}

var rebuiltPattern = regexp.MustCompile(`(\d+) rebuilt`)

func rebuiltCount(out string) (int, error) {
	m := rebuiltPattern.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("synth did not say how many functions it rebuilt:\n%s", out)
	}
	return strconv.Atoi(m[1])
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(10 * time.Millisecond)
}

func list(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(10 * time.Millisecond).String()
	}
	return strings.Join(parts, " ")
}
