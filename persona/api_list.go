package persona

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// list answers GET /personas (Reader.List) with a page of the caller's personas and a
// nextToken that continues the listing.
func (r *Reader) list(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	q := ListQuery{UserID: user, Limit: DefaultLimit}
	params := req.QueryStringParameters
	if v, ok := params["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "limit must be a whole number from 1 to %d", MaxLimit)
		}
		q.Limit = n
	}
	if v, ok := params["status"]; ok {
		if !Status(v).Valid() {
			return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "status must be one of requested, provisioning, ready, failed")
		}
		q.Status = Status(v)
	}
	if v, ok := params["nextToken"]; ok {
		cur, err := decodeToken(v, user, q.Status)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusBadRequest, CodeInvalidNextToken, "nextToken is not one this API gave for this listing; start again without it")
		}
		q.After = &cur
	}
	page, err := r.Store.List(ctx, q)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	body := ListResponse{Personas: page.Personas}
	if body.Personas == nil {
		body.Personas = []Persona{}
	}
	if page.Next != nil {
		body.NextToken = encodeToken(*page.Next, user, q.Status)
	}
	return jsonResponse(http.StatusOK, body), nil
}

// token is the decoded form of a nextToken. It is not a secret: the listing always
// reads the caller's own partition, so a forged position can only move within the
// caller's own personas. The checksum makes an altered or truncated token, or one
// from another user or status filter, a 400 rather than a silently wrong page.
type token struct {
	PersonaID string `json:"p"`
	CreatedAt string `json:"c"`
	Sum       string `json:"s"`
}

func tokenSum(c Cursor, user string, status Status) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{user, string(status), c.PersonaID, c.CreatedAt}, "\x00")))
	return hex.EncodeToString(sum[:12])
}

func encodeToken(c Cursor, user string, status Status) string {
	body, _ := json.Marshal(token{PersonaID: c.PersonaID, CreatedAt: c.CreatedAt, Sum: tokenSum(c, user, status)})
	return base64.RawURLEncoding.EncodeToString(body)
}

func decodeToken(s, user string, status Status) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var t token
	if err := dec.Decode(&t); err != nil {
		return Cursor{}, err
	}
	c := Cursor{PersonaID: t.PersonaID, CreatedAt: t.CreatedAt}
	if t.Sum != tokenSum(c, user, status) {
		return Cursor{}, errors.New("checksum mismatch")
	}
	if _, err := time.Parse(TimeLayout, c.CreatedAt); err != nil || c.PersonaID == "" {
		return Cursor{}, errors.New("not a listing position")
	}
	return c, nil
}
