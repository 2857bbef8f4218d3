package persona

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// get answers GET /personas/{personaId} (Reader.Get) with one of the caller's personas.
func (r *Reader) get(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	// A missing persona, another user's and a malformed id get the same answer,
	// so that the ids of other users' personas cannot be probed.
	notFound := errorf(http.StatusNotFound, CodeNotFound, "you have no persona with this id; GET /personas lists yours")
	id := req.PathParameters["personaId"]
	if !validID(id) {
		log.InfoContext(ctx, "persona id is malformed")
		return events.APIGatewayV2HTTPResponse{}, notFound
	}
	log = log.With("personaId", id)
	p, err := r.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return events.APIGatewayV2HTTPResponse{}, notFound
	}
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if p.UserID != user {
		log.WarnContext(ctx, "persona of another user asked for")
		return events.APIGatewayV2HTTPResponse{}, notFound
	}
	return jsonResponse(http.StatusOK, GetResponse{Persona: p}), nil
}

// validID reports whether id has the form of the ids this API gives: a UUID in
// lowercase canonical form. Other forms name no persona and are not looked up.
func validID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
