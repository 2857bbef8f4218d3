package queues

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The SQS JSON protocol (awsJson1_0), as the AWS SDK for Go v2 speaks it.

type jsonAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

func fromJSONAttributes(in map[string]jsonAttribute) (map[string]Attribute, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]Attribute, len(in))
	for name, a := range in {
		if a.DataType == "" {
			return nil, invalid("The message attribute '%s' must contain a non-empty attribute type.", name)
		}
		out[name] = Attribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	}
	return out, nil
}

func toJSONAttributes(in map[string]Attribute) map[string]jsonAttribute {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]jsonAttribute, len(in))
	for name, a := range in {
		out[name] = jsonAttribute{DataType: a.DataType, StringValue: a.StringValue, BinaryValue: a.BinaryValue}
	}
	return out
}

func (b *Broker) serveSQS(w http.ResponseWriter, r *http.Request, op string) {
	res, err := b.sqsOperation(r, op)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{code: "InvalidParameterValue", message: err.Error(), sender: true}
		}
		party := "Sender"
		status := http.StatusBadRequest
		if !ae.sender && ae.code != "QueueDoesNotExist" {
			party, status = "Receiver", http.StatusInternalServerError
		}
		w.Header().Set("x-amzn-query-error", ae.code+";"+party)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + ae.code, "message": ae.message})
		return
	}
	json.NewEncoder(w).Encode(res)
}

func decode(r *http.Request, into any) error {
	if err := json.NewDecoder(r.Body).Decode(into); err != nil {
		return &apiError{code: "InvalidParameterValue", message: fmt.Sprintf("malformed request body: %v", err), sender: true}
	}
	return nil
}

func (b *Broker) sqsOperation(r *http.Request, op string) (any, error) {
	switch op {
	case "GetQueueUrl":
		var in struct{ QueueName string }
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		if _, ok := b.queue(in.QueueName); !ok {
			return nil, &apiError{code: "QueueDoesNotExist", message: "The specified queue does not exist."}
		}
		return map[string]string{"QueueUrl": b.QueueURL(in.QueueName)}, nil
	case "GetQueueAttributes":
		var in struct {
			QueueUrl       string
			AttributeNames []string
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		q, err := b.queueByURL(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		all := b.queueAttributes(q)
		out := map[string]string{}
		for _, n := range in.AttributeNames {
			if n == "All" {
				out = all
				break
			}
			if v, ok := all[n]; ok {
				out[n] = v
			}
		}
		return map[string]any{"Attributes": out}, nil
	case "SendMessage":
		var in struct {
			QueueUrl               string
			MessageBody            string
			MessageAttributes      map[string]jsonAttribute
			MessageGroupId         string
			MessageDeduplicationId string
			DelaySeconds           int
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		q, err := b.queueByURL(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		attrs, err := fromJSONAttributes(in.MessageAttributes)
		if err != nil {
			return nil, err
		}
		out, err := b.send(q, sendInput{Body: in.MessageBody, Attributes: attrs, GroupID: in.MessageGroupId, DeduplicationID: in.MessageDeduplicationId, DelaySeconds: in.DelaySeconds})
		if err != nil {
			return nil, err
		}
		res := map[string]string{"MessageId": out.MessageID, "MD5OfMessageBody": md5Hex(in.MessageBody)}
		if s := md5OfAttributes(attrs); s != "" {
			res["MD5OfMessageAttributes"] = s
		}
		if out.SequenceNumber != "" {
			res["SequenceNumber"] = out.SequenceNumber
		}
		return res, nil
	case "ReceiveMessage":
		return b.receiveOperation(r)
	case "DeleteMessage":
		var in struct{ QueueUrl, ReceiptHandle string }
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		q, err := b.queueByURL(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		return struct{}{}, b.delete(q, in.ReceiptHandle)
	case "DeleteMessageBatch":
		var in struct {
			QueueUrl string
			Entries  []struct{ Id, ReceiptHandle string }
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		q, err := b.queueByURL(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		if len(in.Entries) == 0 {
			return nil, &apiError{code: "EmptyBatchRequest", message: "There should be at least one DeleteMessageBatchRequestEntry in the request.", sender: true}
		}
		type failed struct {
			Id, Code, Message string
			SenderFault       bool
		}
		successful := []map[string]string{}
		failures := []failed{}
		for _, e := range in.Entries {
			if err := b.delete(q, e.ReceiptHandle); err != nil {
				var ae *apiError
				errors.As(err, &ae)
				failures = append(failures, failed{Id: e.Id, Code: ae.code, Message: ae.message, SenderFault: true})
				continue
			}
			successful = append(successful, map[string]string{"Id": e.Id})
		}
		return map[string]any{"Successful": successful, "Failed": failures}, nil
	case "ChangeMessageVisibility":
		var in struct {
			QueueUrl, ReceiptHandle string
			VisibilityTimeout       int
		}
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		q, err := b.queueByURL(in.QueueUrl)
		if err != nil {
			return nil, err
		}
		if in.VisibilityTimeout < 0 || in.VisibilityTimeout > 43200 {
			return nil, invalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", in.VisibilityTimeout)
		}
		return struct{}{}, b.changeVisibility(q, in.ReceiptHandle, time.Duration(in.VisibilityTimeout)*time.Second)
	}
	return nil, &apiError{code: "UnsupportedOperation", message: fmt.Sprintf("the local SQS does not implement %s", op), sender: true}
}

func (b *Broker) receiveOperation(r *http.Request) (any, error) {
	var in struct {
		QueueUrl                    string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             int
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q, err := b.queueByURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	if max < 1 || max > 10 {
		return nil, invalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
	}
	if in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > 20 {
		return nil, invalid("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", in.WaitTimeSeconds)
	}
	visibility := q.def.VisibilityTimeoutSeconds
	if in.VisibilityTimeout != nil {
		visibility = *in.VisibilityTimeout
	}
	got := b.receive(r.Context(), q, max, time.Duration(visibility)*time.Second, time.Duration(in.WaitTimeSeconds)*time.Second)
	sysNames := append(in.AttributeNames, in.MessageSystemAttributeNames...)
	type jsonMessage struct {
		MessageId              string
		ReceiptHandle          string
		MD5OfBody              string
		Body                   string
		Attributes             map[string]string        `json:",omitempty"`
		MessageAttributes      map[string]jsonAttribute `json:",omitempty"`
		MD5OfMessageAttributes string                   `json:",omitempty"`
	}
	msgs := []jsonMessage{}
	for _, m := range got {
		attrs := pickAttributes(m.Attributes, in.MessageAttributeNames)
		msgs = append(msgs, jsonMessage{
			MessageId:              m.MessageID,
			ReceiptHandle:          m.ReceiptHandle,
			MD5OfBody:              md5Hex(m.Body),
			Body:                   m.Body,
			Attributes:             pickSystem(m.SystemAttributes, sysNames),
			MessageAttributes:      toJSONAttributes(attrs),
			MD5OfMessageAttributes: md5OfAttributes(attrs),
		})
	}
	return map[string]any{"Messages": msgs}, nil
}

// pickAttributes keeps the message attributes a receive asked for: "All", ".*",
// exact names, or name prefixes ending in ".*".
func pickAttributes(attrs map[string]Attribute, names []string) map[string]Attribute {
	out := map[string]Attribute{}
	for name, a := range attrs {
		for _, want := range names {
			if want == "All" || want == ".*" || want == name ||
				(strings.HasSuffix(want, ".*") && strings.HasPrefix(name, strings.TrimSuffix(want, "*"))) {
				out[name] = a
				break
			}
		}
	}
	return out
}

func pickSystem(attrs map[string]string, names []string) map[string]string {
	out := map[string]string{}
	for _, want := range names {
		if want == "All" {
			return attrs
		}
		if v, ok := attrs[want]; ok {
			out[want] = v
		}
	}
	return out
}
