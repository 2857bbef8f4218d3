package queues

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// ServeHTTP answers SQS requests (JSON protocol, X-Amz-Target AmazonSQS.*) and
// SNS requests (query protocol, form-encoded Action).
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS."); ok {
		b.serveSQS(w, r, op)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeSNSError(w, &apiError{code: "MalformedQueryString", message: err.Error(), sender: true})
		return
	}
	switch action := r.PostForm.Get("Action"); action {
	case "Publish":
		b.servePublish(w, r)
	default:
		writeSNSError(w, &apiError{code: "InvalidAction", message: fmt.Sprintf("the local SNS does not implement %q", action), sender: true})
	}
}

func (b *Broker) servePublish(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	attrs, err := formAttributes(f.Get)
	if err != nil {
		writeSNSError(w, err)
		return
	}
	arn := f.Get("TopicArn")
	if arn == "" {
		arn = f.Get("TargetArn")
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
		if a.DataType == "" {
			return nil, &apiError{code: "ParameterValueInvalid", message: fmt.Sprintf("The message attribute '%s' must contain non-empty message attribute type.", name), sender: true}
		}
		if bv := get(prefix + "Value.BinaryValue"); bv != "" {
			data, err := base64.StdEncoding.DecodeString(bv)
			if err != nil {
				return nil, &apiError{code: "ParameterValueInvalid", message: fmt.Sprintf("The message attribute '%s' has an invalid binary value.", name), sender: true}
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
	typ, status := "Sender", http.StatusBadRequest
	switch {
	case ae.code == "NotFound":
		status = http.StatusNotFound
	case !ae.sender:
		typ, status = "Receiver", http.StatusInternalServerError
	}
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
