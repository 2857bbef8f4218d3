package queues

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/internal/iamaction"
)

// ServeHTTP answers SQS requests (JSON protocol, X-Amz-Target AmazonSQS.*) and
// SNS requests (query protocol, form-encoded Action).
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS."); ok {
		b.serveSQS(w, r, op)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeSNSError(w, senderError("MalformedQueryString", "%v", err))
		return
	}
	switch op := r.PostForm.Get("Action"); op {
	case "Publish":
		action, err := iamaction.For("sns", op)
		if err != nil {
			writeSNSError(w, err)
			return
		}
		b.servePublish(w, r, action)
	default:
		writeSNSError(w, senderError("InvalidAction", "the local SNS does not implement %q", op))
	}
}

// servePublish publishes a message to a topic; action is the IAM action that
// authorizes it.
func (b *Broker) servePublish(w http.ResponseWriter, r *http.Request, action string) {
	f := r.PostForm
	arn := f.Get("TopicArn")
	if arn == "" {
		arn = f.Get("TargetArn")
	}
	if arn == "" {
		writeSNSError(w, snsInvalid("TopicArn or TargetArn Reason: no value for required parameter"))
		return
	}
	if b.authz != nil {
		if d := b.authz.Authorize(r, iam.Call{Action: action, Resource: arn}); d != nil {
			// SNS writes the service in capitals: "SNS:Publish".
			spelled := "SNS:" + strings.TrimPrefix(action, "sns:")
			writeSNSError(w, &apiError{code: "AuthorizationError", message: d.Message(spelled), status: http.StatusForbidden, sender: true})
			return
		}
	}
	attrs, err := formAttributes(f.Get)
	if err != nil {
		writeSNSError(w, err)
		return
	}
	out, err := b.publish(arn, publishInput{
		Message:         f.Get("Message"),
		Subject:         f.Get("Subject"),
		Attributes:      attrs,
		GroupID:         f.Get("MessageGroupId"),
		DeduplicationID: f.Get("MessageDeduplicationId"),
	})
	if err != nil {
		writeSNSError(w, err)
		return
	}
	type result struct {
		MessageID      string `xml:"MessageId"`
		SequenceNumber string `xml:"SequenceNumber,omitempty"`
	}
	writeXML(w, http.StatusOK, struct {
		XMLName   xml.Name `xml:"http://sns.amazonaws.com/doc/2010-03-31/ PublishResponse"`
		Result    result   `xml:"PublishResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}{Result: result{MessageID: out.MessageID, SequenceNumber: out.SequenceNumber}, RequestID: uuid.NewString()})
}

// formAttributes reads MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue,Value.BinaryValue}.
func formAttributes(get func(string) string) (map[string]Attribute, error) {
	var attrs map[string]Attribute
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := get(prefix + "Name")
		if name == "" {
			return attrs, nil
		}
		a := Attribute{DataType: get(prefix + "Value.DataType"), StringValue: get(prefix + "Value.StringValue")}
		if bv := get(prefix + "Value.BinaryValue"); bv != "" {
			data, err := base64.StdEncoding.DecodeString(bv)
			if err != nil {
				return nil, snsInvalidValue("The message attribute '%s' has an invalid binary value.", name)
			}
			a.BinaryValue = data
		}
		if attrs == nil {
			attrs = map[string]Attribute{}
		}
		attrs[name] = a
	}
}

func writeSNSError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{code: "InternalError", message: err.Error()}
	}
	typ := "Receiver"
	if ae.sender {
		typ = "Sender"
	}
	status := ae.httpStatus()
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	writeXML(w, status, struct {
		XMLName   xml.Name  `xml:"http://sns.amazonaws.com/doc/2010-03-31/ ErrorResponse"`
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}{Error: errorBody{Type: typ, Code: ae.code, Message: ae.message}, RequestID: uuid.NewString()})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(v)
}
