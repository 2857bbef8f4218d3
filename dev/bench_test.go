package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// reportPercentiles adds p50 and p99 in milliseconds to the benchmark's results.
func reportPercentiles(b *testing.B, samples []time.Duration) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	at := func(q float64) float64 {
		return float64(samples[int(q*float64(len(samples)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkGetPersonas compares GET /personas through the local API with the same
// event sent straight to the list function's emulator, for a user with 5 personas.
func BenchmarkGetPersonas(b *testing.B) {
	requireTools(b)
	root := copyModule(b, e2ePackages...)
	s := startStage(b, root, "bench", io.Discard, time.Time{})
	api := client{t: b, base: s.APIURL}
	tok := devToken(b, "user-bench")
	for i := range 5 {
		if status, body := api.do("POST", "/personas", tok, "application/json", `{"name":"P`+strconv.Itoa(i)+`","instructions":"x"}`); status != 202 {
			b.Fatalf("seeding: %d %s", status, body)
		}
	}
	b.Run("local API", func(b *testing.B) {
		req, _ := http.NewRequest("GET", s.APIURL+"/personas", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		samples := make([]time.Duration, 0, b.N)
		for b.Loop() {
			begin := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
			samples = append(samples, time.Since(begin))
		}
		reportPercentiles(b, samples)
	})
	b.Run("bare handler", func(b *testing.B) {
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "GET /personas", RawPath: "/personas", Headers: map[string]string{},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RouteKey: "GET /personas", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/personas"},
				Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
					JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "user-bench"}},
				},
			},
		}
		payload, _ := json.Marshal(ev)
		samples := make([]time.Duration, 0, b.N)
		for b.Loop() {
			begin := time.Now()
			out, err := s.Invoke(context.Background(), "persona-bench-list", payload)
			if err != nil {
				b.Fatal(err)
			}
			if !bytes.Contains(out, []byte(`"statusCode":200`)) {
				b.Fatalf("answer %s", out)
			}
			samples = append(samples, time.Since(begin))
		}
		reportPercentiles(b, samples)
	})
}

// BenchmarkHotReload measures the time from saving a handler to its new code answering.
func BenchmarkHotReload(b *testing.B) {
	requireTools(b)
	root := copyModule(b, e2ePackages...)
	s := startStage(b, root, "reload", io.Discard, time.Time{})
	file := filepath.Join(root, "dev", "testdata", "hello", "main.go")
	src, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	api := client{t: b, base: s.APIURL}
	samples := make([]time.Duration, 0, b.N)
	n := 0
	for b.Loop() {
		n++
		want := "hello edit " + strconv.Itoa(n)
		saved := time.Now()
		if err := os.WriteFile(file, bytes.Replace(src, []byte("hello v1"), []byte(want), 1), 0o644); err != nil {
			b.Fatal(err)
		}
		for {
			if _, body := api.do("GET", "/hello", "", "", ""); body == want {
				break
			}
			if time.Since(saved) > 30*time.Second {
				b.Fatal("the edit was not picked up within 30s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		samples = append(samples, time.Since(saved))
	}
	reportPercentiles(b, samples)
}

// BenchmarkStartToFirstRequest measures dev's start, once built, to the first answered request.
func BenchmarkStartToFirstRequest(b *testing.B) {
	requireTools(b)
	root := copyModule(b, e2ePackages...)
	start := func() (*Session, time.Duration) {
		begin := time.Now()
		s, err := Start(context.Background(), Options{
			Root: root, Program: "go run .", Port: -1, Log: io.Discard,
			Secrets: mapSecrets{"/persona/_fallback/MyApiKey": "k"},
		}, personaStack(b, "first"))
		if err != nil {
			b.Fatal(err)
		}
		if status, _ := (client{t: b, base: s.APIURL}).do("GET", "/personas", devToken(b, "u"), "", ""); status != 200 {
			b.Fatalf("first request: %d", status)
		}
		return s, time.Since(begin)
	}
	// The first start compiles everything; a developer pays that once.
	s, _ := start()
	s.Close()
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		s, took := start()
		samples = append(samples, took)
		s.Close()
	}
	reportPercentiles(b, samples)
}
