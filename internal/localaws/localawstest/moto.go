package localawstest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/personabackend/app/internal/localaws"
)

// ResetMoto empties moto's server srv of everything tests stored, so that tests that
// share one server, one after another, each start from nothing.
func ResetMoto(ctx context.Context, srv *localaws.Server) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.Endpoint+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("resetting moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("resetting moto: %s", resp.Status)
	}
	return nil
}
